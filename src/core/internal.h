/*
 * internal.h — the core's private structures.
 *
 * Three kinds of object share a first member, ts_skc (as Linux's
 * sock_common): the full connection (ts_conn: listeners and every state
 * that carries data), the SYN_RECEIVED request minisocket (ts_req) and the
 * TIME_WAIT minisocket (ts_tw, which also holds an orphan in FIN_WAIT_2).
 * One hash of the 4-tuple finds all three; one timer heap orders them; one
 * output FIFO lists those with something to send.
 *
 * Invariants (checked by ts_conn_check() after every event in check builds):
 *   - skc->heap_idx != 0  <=>  skc->deadline != TS_NEVER, and the heap is ordered
 *     by (deadline, heap_seq);
 *   - a full connection's deadline is the minimum of its three timer slots;
 *   - snd_una <= snd_nxt <= snd_una + bytes in the send queue (+ SYN, FIN);
 *   - only ts_set_state() writes skc->state.
 */
#ifndef TS_INTERNAL_H
#define TS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcpstate.h"
#include "seq.h"
#include "wire.h"
#include "counters.h"

enum ts_kind { TS_K_FULL = 1, TS_K_REQ = 2, TS_K_TW = 3 };

typedef struct ts_skc {
    ts_tuple tuple;
    uint8_t state;        /* enum ts_state; written only by ts_set_state */
    uint8_t kind;         /* enum ts_kind */
    uint8_t hashed;       /* in the 4-tuple hash */
    uint8_t out_queued;   /* on the output FIFO */
    uint32_t conn_id;
    struct ts_skc *hnext; /* 4-tuple hash chain */
    struct ts_skc *out_next;
    uint32_t heap_idx;    /* 1-based position in the timer heap, 0: absent */
    uint32_t heap_seq;    /* insertion order (mod 2^32): ties fire in a fixed order */
    uint64_t deadline;    /* heap key; TS_NEVER: absent */
} ts_skc;

#define TS_SACK_RANGES 6

/* --- byte queue: chunks allocated while they hold data ------------------- */

typedef struct ts_chunk {
    struct ts_chunk *next;
    uint32_t cap, start, end; /* bytes [start, end) valid */
    uint8_t data[];
} ts_chunk;

typedef struct ts_bq {
    ts_chunk *head, *tail;
    uint32_t len;
} ts_bq;

/* --- the send timer slot: a tagged union of what is being retransmitted -- */
enum ts_send_timer {
    TS_ST_NONE = 0,
    TS_ST_SYN,       /* SYN_SENT: SYN retransmission */
    TS_ST_RTO,       /* data, SYN-ACK of a full SYN_RECEIVED, or FIN */
    TS_ST_PROBE,     /* zero-window probe */
    TS_ST_TLP        /* tail loss probe (tlp.c) */
};

/* --- the lifecycle slot ------------------------------------------------- */
enum ts_life_timer {
    TS_LT_NONE = 0,
    TS_LT_KEEPALIVE,
    TS_LT_FIN_WAIT2, /* orphan FIN_WAIT_2 (full socket, before it becomes a tw) */
    TS_LT_LINGER_CLOSE
};

/* Which errno the call table reports after the connection ended. */
typedef struct ts_conn ts_conn;
typedef struct ts_req ts_req;
typedef struct ts_ooo ts_ooo;

struct ts_conn {
    ts_skc c;
    ts_sock handle;          /* {0,0} when orphaned */
    ts_conn *listener;       /* for a child on the accept queue */
    ts_conn *acc_next;       /* accept queue link (child) */
    /* listener fields */
    ts_conn *acc_head, *acc_tail;
    ts_conn *lnext;          /* listener hash chain */
    ts_req *req_head;        /* pending requests */
    uint32_t acc_len;        /* established children waiting for accept */
    uint32_t req_count;      /* request minisockets pending */
    int backlog;
    uint64_t last_cookie;    /* + 1: last SYN cookie sent (Linux tcp_synq_overflow); 0: never */

    uint32_t flags;          /* TS_CF_* */
    uint8_t connect_state;   /* TS_CS_* for ts_connect's answers */
    uint8_t rcv_wscale, snd_wscale;
    uint8_t send_timer;      /* enum ts_send_timer */
    uint8_t life_timer;      /* enum ts_life_timer */
    uint8_t retransmits;     /* icsk_retransmits */
    uint8_t backoff;         /* icsk_backoff */
    uint8_t probes_out;      /* keepalive / zero-window probes unanswered */
    uint8_t dupacks;
    uint8_t quickack;        /* ACKs to send at once (Linux quick-ack mode) */
    uint8_t pingpong;
    uint8_t port_kind;       /* TS_PK_*: how the local port is held */
    uint8_t lrcvtime_set;    /* data was received once (Linux: icsk_ack.ato != 0) */
    int err;                 /* pending SO_ERROR (negative ts_err) */
    int end_err;             /* why the connection ended: calls report it */
    int err_soft;

    /* send sequence space (RFC 9293 §3.3.1) */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
    uint32_t snd_sml;        /* end of the last small segment sent (Nagle, output.c) */
    uint32_t max_window;
    uint32_t bytes_acked;    /* acked so far, saturating (RFC 5961 §5.2 bound) */
    uint16_t mss;            /* payload bytes per segment (options excluded) */
    uint16_t peer_mss;
    uint32_t cwnd, ssthresh; /* bytes */
    /* SACK scoreboard and recovery (sack.c) */
    struct { uint32_t l, r; } sacked[TS_SACK_RANGES];
    uint8_t nsacked, in_recovery;
    uint16_t rexmit_credit;
    uint32_t recover, rexmit_nxt;
    uint32_t tlp_high_seq, tlp_seg_start; /* tlp.c */
    uint8_t tlp_active;
    /* receive sequence space */
    uint32_t irs, rcv_nxt, rcv_wnd, rcv_wup;
    /* Linux's receive-window growth (output.c): the window never exceeds
     * rcv_ssthresh, which grows as full-size data arrives; rcv_mss is the
     * estimate of the peer's segment size */
    uint32_t rcv_ssthresh, rcv_mss;
    /* timestamps (RFC 7323) */
    uint32_t ts_recent, ts_off;
    uint64_t ts_recent_stamp;
    /* RTT (RFC 6298, Linux's estimator in µs) */
    uint32_t srtt_us;        /* 8 x smoothed RTT, 0: no sample yet */
    uint32_t mdev_us, mdev_max_us, rttvar_us, rto_us;
    uint32_t rtt_seq;        /* Karn: the sequence being timed */
    uint32_t rtt_win_seq;
    uint32_t rexmit_ts;      /* our TS clock at the last retransmission */
    uint8_t rexmit_ts_set;    /* end of the current RTT window (mdev_max reset) */
    uint64_t rtt_time;       /* when it was sent, TS_NEVER: nothing timed */
    uint64_t retrans_stamp;  /* first SYN (SYN_SENT) or first retransmission */
    uint64_t rcv_tstamp;     /* last segment received (keepalive idle) */
    uint64_t lsndtime;       /* last data sent */
    uint64_t last_oow_ack;   /* RFC 5961 / out-of-window ACK rate limit */
    uint64_t lrcvtime;       /* last data received (delayed ACK) */

    /* the three timer slots */
    uint64_t t_send, t_delack, t_life;

    /* buffers */
    ts_bq sndq;              /* bytes from snd_una on */
    ts_bq rcvq;              /* in-order bytes not yet read */
    ts_ooo *ooo;             /* out-of-order segments (ooo.c) */
    uint32_t ooo_bytes, ooo_last;
    uint32_t dsack_l, dsack_r; /* RFC 2883 D-SACK block for the next ACK */
    uint8_t dsack;             /* dsack_l/r pending (input.c sets, output.c sends once) */
    uint32_t sndbuf, rcvbuf;

    /* socket options */
    int keepidle, keepintvl, keepcnt;  /* seconds, count; 0: sysctl */
    int syncnt;              /* 0: sysctl */
    int user_timeout_ms;
    int linger2;             /* TCP_LINGER2 seconds; 0: tcp_fin_timeout; <0: none */
    int linger_onoff, linger_secs;
};

/* ts_conn.flags */
enum {
    TS_CF_BOUND = 1u << 0,      /* local address chosen */
    TS_CF_PORT_EXPLICIT = 1u << 1,
    TS_CF_ORPHAN = 1u << 2,     /* the application closed it */
    TS_CF_SHUT_RD = 1u << 3,
    TS_CF_SHUT_WR = 1u << 4,    /* app wants a FIN after the queued data */
    TS_CF_FIN_SENT = 1u << 5,   /* our FIN has a sequence number (snd_max includes it) */
    TS_CF_FIN_RCVD = 1u << 6,
    TS_CF_NEED_ACK = 1u << 7,   /* send an ACK now */
    TS_CF_NEED_RST = 1u << 8,   /* send RST and close */
    TS_CF_NEED_SYN = 1u << 9,   /* (re)send SYN or SYN-ACK */
    TS_CF_TS_OK = 1u << 10,
    TS_CF_SACK_OK = 1u << 11,
    TS_CF_WS_OK = 1u << 12,
    TS_CF_KEEPALIVE = 1u << 13,
    TS_CF_REUSEADDR = 1u << 14,
    TS_CF_NODELAY = 1u << 15,
    TS_CF_PASSIVE = 1u << 16,   /* born from a listener */
    TS_CF_ACCEPTED = 1u << 17,  /* handed out by ts_accept */
    TS_CF_RST_REPORTED = 1u << 18,
    TS_CF_NEED_PROBE = 1u << 19,/* keepalive probe / window probe */
    TS_CF_RETRANS = 1u << 20,   /* resend from snd_una (go-back-N after RTO) */
    TS_CF_SIMOPEN = 1u << 21,   /* SYN_RECEIVED through simultaneous open */
    TS_CF_WAS_LISTEN = 1u << 22, /* SYN_SENT entered from LISTEN */
    TS_CF_OOO_FIN = 1u << 23,   /* a queued FIN became in order */
    TS_CF_NEED_TLP = 1u << 24,  /* send the tail loss probe */
    TS_CF_SHUT_WR_DEFER = 1u << 25 /* shutdown(SHUT_WR) in SYN_RECEIVED: FIN once ESTABLISHED */
};

/* ts_conn.connect_state: Linux's answers to a repeated connect() */
enum { TS_CS_NONE = 0, TS_CS_CONNECTING, TS_CS_JUST_DONE, TS_CS_CONNECTED, TS_CS_FAILED, TS_CS_FAILED_REPORTED };

/* The SYN_RECEIVED request minisocket (Linux's request_sock). */
struct ts_req {
    ts_skc c;
    ts_conn *listener;
    ts_req *lnext;           /* the listener's list of requests */
    uint32_t iss, irs;
    uint32_t ts_recent, ts_off;
    uint16_t peer_mss;
    uint16_t peer_win;
    uint8_t snd_wscale, rcv_wscale;
    uint8_t opts;            /* TS_CF_TS_OK | SACK | WS bits, shifted: see reqsk.c */
    uint8_t num_timeout;     /* SYN-ACKs retransmitted */
    uint8_t need_synack;
    uint64_t t_synack;
    uint64_t synack_time;    /* first SYN-ACK, for the RTT sample */
    uint64_t last_dup;       /* duplicate-SYN rate limit */
};

/* The TIME_WAIT minisocket (Linux's inet_timewait_sock + tcp_timewait_sock).
 * state is TS_TIME_WAIT, or TS_FIN_WAIT2 for an orphan waiting for the FIN. */
typedef struct ts_tw {
    ts_skc c;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t ts_recent, ts_off;
    uint32_t ts_recent_stamp_ms; /* + 1; 0: no timestamps seen */
    uint32_t last_oow_ack_ms;    /* + 1; 0: never (rate limit of replies) */
    uint64_t t_tw;
    uint16_t rcv_win;        /* window field to advertise */
    uint8_t ts_ok;
    uint8_t reply;           /* TS_TWR_*: what to send */
    uint8_t rcv_wscale;
} ts_tw;

enum { TS_TWR_NONE = 0, TS_TWR_ACK = 1 };

/* Stateless replies (RST to no socket, RST from a listener): a small ring. */
#define TS_CTL_RING 64
typedef struct ts_ctl {
    ts_seg seg;
    uint32_t conn_id;
} ts_ctl;

/* Queued hook deliveries. */
enum { TS_EV_TRANSITION = 1, TS_EV_SEGMENT, TS_EV_READY };
typedef struct ts_event {
    int type;
    union {
        ts_transition_ev tr;
        ts_segment_ev seg;
        struct { ts_sock sock; unsigned events; } ready;
    } u;
} ts_event;

typedef struct ts_slot {
    ts_conn *conn;   /* NULL: free */
    uint32_t gen;
    uint32_t next_free;
    unsigned last_events; /* readiness last reported */
} ts_slot;

typedef struct ts_port {
    struct ts_port *next;
    uint16_t port;
    uint32_t n_listen, n_conn, n_noreuse, n_tw, n_auto;
} ts_port;

struct ts_stack {
    ts_config cfg;
    ts_hooks hooks;
    void *user;
    uint64_t now;
    size_t mem_live;
    uint32_t addrs[16];
    int naddrs;
    uint32_t next_conn_id;
    int in_hook;

    /* handles */
    ts_slot *slots;
    uint32_t nslots, free_slot;

    /* 4-tuple hash of every kind; listeners in their own hash by port */
    ts_skc **hash;
    uint32_t hash_mask, hash_count;
    ts_conn *lhash[256]; /* listeners by port, chained through lnext */
    ts_port **phash;     /* bound ports */
    uint32_t phash_mask;

    /* timer heap */
    ts_skc **heap;
    uint32_t heap_len, heap_cap;
    uint32_t heap_seq;

    /* output */
    ts_skc *out_head, *out_tail;
    ts_ctl ctl[TS_CTL_RING];
    uint32_t ctl_head, ctl_len;

    /* events */
    ts_event *ev;
    uint32_t ev_len, ev_cap;

    /* counts */
    uint32_t n_orphans, n_tw, n_conns;
    uint32_t forced_isn;     /* TIME_WAIT reopen: ISN = old snd_nxt + 65537 */
    int forced_isn_set;
    uint32_t port_rover;
    uint64_t mib[TS_MIB_MAX];
    uint64_t drops[TS_DROP_MAX];
};

/* ---- stack.c: memory, handles, hash, heap, output fifo, events ------- */
void *ts_alloc(ts_stack *s, size_t n);
void ts_dealloc(ts_stack *s, void *p, size_t n);
int ts_addr_is_local(const ts_stack *s, uint32_t ip);
uint32_t ts_new_conn_id(ts_stack *s);
ts_conn *ts_conn_from_handle(ts_stack *s, ts_sock h);
int ts_handle_new(ts_stack *s, ts_conn *c);
void ts_handle_release(ts_stack *s, ts_conn *c);
void ts_hash_insert(ts_stack *s, ts_skc *k);
void ts_hash_remove(ts_stack *s, ts_skc *k);
ts_skc *ts_hash_lookup(ts_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
void ts_listen_insert(ts_stack *s, ts_conn *l);
void ts_listen_remove(ts_stack *s, ts_conn *l);
ts_conn *ts_listen_lookup(ts_stack *s, uint32_t laddr, uint16_t lport);
enum { TS_PK_CONN = 0, TS_PK_LISTEN = 1, TS_PK_TW = 2, TS_PK_AUTO = 3 };
int ts_port_get(ts_stack *s, uint16_t port, int kind, int reuse);
void ts_port_put(ts_stack *s, uint16_t port, int kind, int reuse);
ts_port *ts_port_find(ts_stack *s, uint16_t port);
void ts_heap_update(ts_stack *s, ts_skc *k, uint64_t deadline);
void ts_out_push(ts_stack *s, ts_skc *k);
void ts_out_remove(ts_stack *s, ts_skc *k);
ts_seg *ts_ctl_push(ts_stack *s, uint32_t conn_id);
void ts_ev_transition(ts_stack *s, ts_skc *k, ts_sock h, int from, int to, int cause);
void ts_ev_segment(ts_stack *s, int kind, uint32_t conn_id, const ts_seg *seg, int reason);
void ts_ev_ready(ts_stack *s, ts_sock h, unsigned events);
void ts_ev_flush(ts_stack *s);
void ts_log(ts_stack *s, const char *fmt, ...);
#define TS_MIB_INC(s, m) ((s)->mib[(m)]++)

/* ---- bq.c -------------------------------------------------------------- */
uint32_t ts_bq_append(ts_stack *s, ts_bq *q, const uint8_t *p, uint32_t n, uint32_t limit);
uint32_t ts_bq_peek(const ts_bq *q, uint32_t off, uint8_t *out, uint32_t n);
void ts_bq_consume(ts_stack *s, ts_bq *q, uint32_t n);
void ts_bq_free(ts_stack *s, ts_bq *q);

/* ---- ooo.c ------------------------------------------------------------- */
int ts_ooo_insert(ts_stack *s, ts_conn *c, uint32_t seq, const uint8_t *p, uint32_t len, int fin);
int ts_ooo_drain(ts_stack *s, ts_conn *c);
void ts_ooo_free(ts_stack *s, ts_conn *c);
int ts_ooo_sack(const ts_conn *c, ts_seg *g, int max);

/* ---- sack.c ------------------------------------------------------------ */
void ts_sack_update(ts_stack *s, ts_conn *c, const ts_seg *g);
void ts_sack_clean(ts_conn *c);
uint32_t ts_sack_bytes(const ts_conn *c);
uint32_t ts_sack_skip(const ts_conn *c, uint32_t seq);
uint32_t ts_sack_next_left(const ts_conn *c, uint32_t seq, uint32_t limit);
int ts_sack_next_hole(const ts_conn *c, uint32_t *seq, uint32_t *len);
void ts_sack_on_dupack(ts_stack *s, ts_conn *c);
void ts_sack_on_advance(ts_conn *c);
uint32_t ts_dupthresh(const ts_conn *c);

/* ---- tlp.c ------------------------------------------------------------- */
int ts_tlp_schedule(ts_stack *s, ts_conn *c, int advancing_rto);
void ts_set_xmit_timer(ts_stack *s, ts_conn *c, int advancing_rto);
void ts_tlp_fire(ts_stack *s, ts_conn *c);
void ts_tlp_on_ack(ts_conn *c, uint32_t ack);

/* ---- state.c ----------------------------------------------------------- */
/* What the caller must do after a transition. */
enum ts_set_result { TS_SR_OK = 0, TS_SR_CLOSED = 1 };
int ts_set_state(ts_stack *s, ts_skc *k, int new_state, int cause);
int ts_transition_allowed(int from, int to, int cause);
int ts_state_public(int state);

/* ---- conn.c: life of full connections --------------------------------- */
ts_conn *ts_conn_alloc(ts_stack *s);
void ts_conn_free(ts_stack *s, ts_conn *c);
void ts_conn_done(ts_stack *s, ts_conn *c, int err, int cause);
void ts_conn_detach(ts_stack *s, ts_conn *c);
void ts_conn_unbind(ts_stack *s, ts_conn *c);
int ts_conn_bind_port(ts_stack *s, ts_conn *c, uint16_t port, int kind);
void ts_sync(ts_stack *s, ts_skc *k);
void ts_conn_check(ts_stack *s, ts_skc *k);
void ts_conn_init_rtt(ts_stack *s, ts_conn *c);
void ts_rtt_sample(ts_stack *s, ts_conn *c, uint64_t m_us);
int ts_oow_rate_limited(ts_stack *s, uint64_t *last, int mib);
uint32_t ts_initial_window(const ts_stack *s, uint16_t mss);
uint8_t ts_initial_wscale(const ts_stack *s);
void ts_conn_set_mss(ts_stack *s, ts_conn *c, uint16_t peer_mss);
uint32_t ts_now_ms_ts(const ts_stack *s, uint32_t off);
uint32_t ts_conn_user_timeout_us(const ts_conn *c);
unsigned ts_conn_poll(ts_stack *s, ts_conn *c);
void ts_conn_orphan_account(ts_stack *s, ts_conn *c, int delta);

/* ---- output.c ---------------------------------------------------------- */
size_t ts_output_conn(ts_stack *s, ts_conn *c, uint8_t *buf, size_t cap);
size_t ts_output_req(ts_stack *s, ts_req *r, uint8_t *buf, size_t cap);
size_t ts_output_tw(ts_stack *s, ts_tw *tw, uint8_t *buf, size_t cap);
int ts_conn_has_output(const ts_stack *s, const ts_conn *c);
void ts_check_probe_timer(ts_stack *s, ts_conn *c);
uint16_t ts_conn_rcv_win_field(ts_stack *s, ts_conn *c);
uint32_t ts_conn_rcv_space(const ts_conn *c);
uint32_t ts_conn_rcv_full_space(const ts_conn *c);
uint32_t ts_conn_select_window(const ts_conn *c);
void ts_conn_rcv_win_init(ts_stack *s, ts_conn *c, uint32_t rcv_wnd);
void ts_conn_rcv_grow(ts_stack *s, ts_conn *c, uint32_t len);
void ts_send_rst_for(ts_stack *s, const ts_seg *in, uint32_t conn_id);
void ts_send_ack_now(ts_stack *s, ts_conn *c);
/* api.c: Linux tcp_close_state (close or shutdown(SHUT_WR): FIN_WAIT_1 or
 * LAST_ACK, the FIN queued); 0 when the connection closed instead */
int ts_close_state(ts_stack *s, ts_conn *c, int cause);
void ts_conn_flush_ack(ts_stack *s, ts_conn *c);
void ts_conn_send_rst(ts_stack *s, ts_conn *c);
void ts_conn_send_fin_now(ts_stack *s, ts_conn *c);
void ts_rearm_rto(ts_stack *s, ts_conn *c);
void ts_schedule_delack(ts_stack *s, ts_conn *c);

/* ---- input.c / listen.c / synsent.c / reqsk.c / timewait.c ------------ */
/* Dispositions of the per-state decision functions (DESIGN.md rule 2:
 * decide, then apply). Here rather than in each .c file so that
 * tests/test_decide.c can check the decisions as tables. */
enum ts_listen_disp {
    TS_LD_IGNORE_RST = 1, /* a RST to a listener is dropped */
    TS_LD_SEND_RST,       /* any ACK: <SEQ=SEG.ACK><CTL=RST> */
    TS_LD_NO_SYN,         /* neither SYN nor ACK nor RST: dropped */
    TS_LD_QUEUE_FULL,     /* accept queue full: SYN dropped */
    TS_LD_BACKLOG_FULL,   /* too many requests, no cookies: SYN dropped */
    TS_LD_SYNQ_QUARTER,   /* no cookies, last quarter of max_syn_backlog: dropped */
    TS_LD_COOKIE,         /* SYN cookie: a stateless SYN-ACK */
    TS_LD_NEW_REQUEST     /* SYN admitted: request + SYN-ACK */
};

enum ts_synsent_disp {
    TS_SD_BAD_ACK = 1,    /* ACK not of our SYN: RST (unless RST), stay */
    TS_SD_REFUSED,        /* RST with an acceptable ACK: CLOSED, ECONNREFUSED */
    TS_SD_IGNORE,         /* RST without ACK, ACK without SYN, ...: dropped */
    TS_SD_ESTABLISH,      /* acceptable SYN-ACK: ESTABLISHED, ACK */
    TS_SD_SIMOPEN         /* SYN alone: SYN_RECEIVED, SYN-ACK with our ISN */
};

enum ts_req_disp {
    TS_RD_DUP_SYN = 1,    /* the SYN again: SYN-ACK now, timer restarted */
    TS_RD_DUP_SYN_LIMITED,/* the same within tcp_invalid_ratelimit: dropped */
    TS_RD_BAD_ACK_RST,    /* ack != iss + 1: RST from the listener, request stays */
    TS_RD_OUT_OF_WINDOW,  /* out of window: ACK (none for a RST), dropped */
    TS_RD_OOW_LIMITED,    /* the same, rate-limited: dropped */
    TS_RD_RST_DROP,       /* in-window RST: request dropped silently */
    TS_RD_SYN_RESET,      /* in-window new SYN: RST, request dropped */
    TS_RD_NO_ACK,         /* no ACK bit: dropped */
    TS_RD_OVERFLOW,       /* accept queue full: ACK dropped, request stays */
    TS_RD_OVERFLOW_RST,   /* the same with tcp_abort_on_overflow: RST, dropped */
    TS_RD_CHILD           /* the right ACK: a full connection is born */
};

enum ts_tw_disp {
    TS_TWD_ACK = 1,       /* send an ACK */
    TS_TWD_ACK_RESTART,   /* send an ACK and restart the timer */
    TS_TWD_LIMITED,       /* an ACK was due but rate-limited */
    TS_TWD_ABSORB,        /* silently consumed */
    TS_TWD_KILL,          /* RST: the entry dies */
    TS_TWD_RST,           /* answer with RST and die */
    TS_TWD_FIN,           /* FIN_WAIT_2 -> TIME_WAIT */
    TS_TWD_SYN,           /* reopen through the listener */
    TS_TWD_ABSORB_RESTART, /* silently consumed, and the timer restarts */
    TS_TWD_LIMITED_RESTART /* ACK rate-limited, but the timer restarts */
};

int ts_input_seg(ts_stack *s, const ts_seg *seg);
int ts_listen_process(ts_stack *s, ts_conn *l, const ts_seg *seg);
int ts_synsent_process(ts_stack *s, ts_conn *c, const ts_seg *seg);
int ts_established_process(ts_stack *s, ts_conn *c, const ts_seg *seg);
int ts_req_process(ts_stack *s, ts_req *r, const ts_seg *seg);
void ts_req_expire(ts_stack *s, ts_req *r);
void ts_req_free(ts_stack *s, ts_req *r, int cause, int to_state);
ts_conn *ts_req_to_child(ts_stack *s, ts_req *r, const ts_seg *seg);
int ts_req_child(ts_stack *s, ts_req *r, const ts_seg *g, uint32_t rcv_wnd);
/* syncookie.c */
int ts_cookies_on(const ts_stack *s);
uint32_t ts_cookie_isn(const ts_stack *s, const ts_tuple *t, uint32_t seq, uint16_t *mss);
uint16_t ts_cookie_check(const ts_stack *s, const ts_tuple *t, uint32_t seq, uint32_t cookie);
uint32_t ts_cookie_tsval(uint64_t now_ms, int ws_ok, uint8_t snd_wscale, int sack_ok);
void ts_cookie_send_synack(ts_stack *s, ts_conn *l, const ts_seg *g);
int ts_cookie_ack(ts_stack *s, ts_conn *l, const ts_seg *g);
ts_req *ts_req_create(ts_stack *s, ts_conn *l, const ts_seg *g);
void ts_req_send_ack(ts_stack *s, ts_req *r);
uint16_t ts_req_rcv_window(const ts_stack *s, const ts_req *r);
int ts_req_decide(const ts_stack *s, const ts_req *r, const ts_seg *g);
int ts_listen_decide(const ts_stack *s, const ts_conn *l, const ts_seg *g);
int ts_tw_decide(const ts_stack *s, const ts_tw *tw, const ts_seg *g);
int ts_synsent_decide(const ts_stack *s, const ts_conn *c, const ts_seg *g);
int ts_tw_process(ts_stack *s, ts_tw *tw, const ts_seg *seg);
void ts_tw_expire(ts_stack *s, ts_tw *tw);
void ts_tw_free(ts_stack *s, ts_tw *tw);
int ts_tw_enter(ts_stack *s, ts_conn *c, int state, int cause, uint64_t tmo);
#define TS_TW_SYN_REOPEN (-2)
uint64_t ts_fin_time_us(const ts_stack *s, const ts_conn *c);
void ts_reset_listener_reqs(ts_stack *s, ts_conn *l);

/* ---- timer.c ----------------------------------------------------------- */
void ts_timer_fire(ts_stack *s, ts_skc *k);
void ts_conn_rearm(ts_stack *s, ts_conn *c);
uint64_t ts_model_timeout(uint32_t boundary, uint64_t rto_base_us, uint64_t rto_max_us);
uint64_t ts_keepalive_time_us(const ts_stack *s, const ts_conn *c);
void ts_keepalive_reset(ts_stack *s, ts_conn *c);
void ts_keepalive_rearm(ts_stack *s, ts_conn *c);

/* ---- misc -------------------------------------------------------------- */
#define TS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TS_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TS_RTO_INIT_US 1000000u
#define TS_MAX_QUICKACKS 16

#endif
