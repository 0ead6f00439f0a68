/*
 * run_int.h — what the runner's files share: the run state, the tracked
 * connections (PACKETDRILL.md 4.6, 4.7) and the packet codec.
 */
#ifndef TS_SCRIPT_RUN_INT_H
#define TS_SCRIPT_RUN_INT_H

#include <stdint.h>
#include <stdio.h>

#include "script/run.h"

/* packetdrill's socket states, as far as a TCP script needs them. */
enum run_conn_state {
    CS_NEW = 1,          /* socket() */
    CS_LISTENING,        /* listen() */
    CS_CONNECTING,       /* connect() on a fresh socket */
    CS_SYN_SENT,         /* a "> S" line while connecting */
    CS_SYN_ACKED,        /* the "< S." answering it */
    CS_PASSIVE_RCVD,     /* created by an inbound line */
    CS_SYNACK_SENT,      /* its "> S." line */
    CS_SYNACK_ACKED      /* an inbound line with ACK after that */
};

#define RUN_TSMAP 64

typedef struct run_conn {
    int state;
    int script_fd, live_fd, fd_open, accepted;
    uint32_t lip, rip;           /* live addresses, host order */
    uint16_t lport, rport;       /* 0: not known yet */
    uint32_t R;                  /* peer ISN (script = live) */
    uint32_t L, Ls;              /* stack ISN live, as written */
    struct { uint32_t script, live; } ts[RUN_TSMAP];
    int nts;
    int found_first_ts;
    uint32_t first_script_val, first_actual_val;
    /* live TCP fields kept to build the final RST (4.8) */
    int have_inj, have_out;
    uint32_t inj_seq, inj_ack, inj_len;
    uint16_t inj_win;
    unsigned inj_flags;
    uint32_t out_seq, out_ack;
    unsigned out_flags;
} run_conn;

/* One IPv4/TCP datagram, decoded. */
typedef struct run_pkt {
    uint32_t sip, dip;
    uint16_t sport, dport;
    uint8_t tos, ttl;
    int ihl;                     /* bytes */
    int ip_csum_ok;
    uint32_t seq, ack;
    unsigned flags;              /* TS_TH_* | TS_PKT_AE */
    unsigned res;                /* the other three reserved bits */
    uint16_t win, urg;
    uint8_t opt[40];
    int optlen;
    uint32_t len;                /* payload bytes */
    int nonzero;                 /* payload has a byte that is not 0 */
    uint64_t when;               /* µs, target time */
} run_pkt;

/* The blocking call in flight (at most one, as packetdrill's thread). */
typedef struct run_pending {
    int active;
    const ts_event *ev;
    int64_t start, end;          /* scheduled start and return, script µs */
} run_pending;

typedef struct run_state {
    const ts_script *s;
    const ts_target_ops *ops;
    ts_target *t;
    ts_target_cfg cfg;
    long tol_us;
    double tol_pct;
    int strict_segments, ts_ecr_scaled;
    long ts_tick_usecs;
    int virtual_time;
    uint64_t t0;                 /* target time of the start instant */
    run_conn *conns;
    size_t nconns, capconns;
    int under_test;              /* index into conns, -1: none */
    uint16_t next_port;
    /* the event being run */
    const ts_event *ev;
    int64_t sched, sched_end;    /* script µs */
    int64_t block_end;           /* S...E calls: E resolved */
    int have_prev;
    int64_t prev_sched;
    run_pending pend;
    ts_run_result *r;
    FILE *log;
    int verbose;
    int failed;
} run_state;

/* run.c */
int64_t run_now(run_state *st);                   /* script µs */
int64_t run_tolerance(const run_state *st, int64_t t, int64_t t_prev, int have_prev);
int run_fail(run_state *st, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void run_trace_note(run_state *st, int64_t t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void run_trace_pkt(run_state *st, int64_t t, int from_stack, const run_pkt *p);
int run_wait_event(run_state *st, const char *what);
void run_log(run_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* run_packet.c */
int run_packet_event(run_state *st);
int run_reset_conn(run_state *st, run_conn *c);
run_conn *run_conn_new(run_state *st);
int run_pkt_parse(const uint8_t *b, size_t n, run_pkt *p, char *err, size_t errlen);
void run_opts_str(const uint8_t *opt, int len, char *buf, size_t cap);

/* run_call.c */
int run_call_event(run_state *st);
int run_check_pending(run_state *st);            /* after every event */
int run_finish_pending(run_state *st, int64_t limit_us);
int run_close_fd(run_state *st, run_conn *c);

#endif
