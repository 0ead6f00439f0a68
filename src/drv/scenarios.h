/*
 * scenarios.h — named simulations for `tcpstate sim NAME` and the tests.
 *
 * A scenario is one function reacting to a few events (set up hosts and
 * links; start at t=0; a socket became ready; a timer it set fired; the
 * end, where it checks the outcome) plus one row in the table in
 * scenarios.c. The kit below does the usual application work, so most
 * scenarios only say who listens, who connects, what each side sends and
 * when it closes, and what must have happened:
 *
 *   static void scn_lifecycle(ts_scn *s, const ts_scn_ev *ev)
 *   {
 *       static const scn_beh server = { .send = 1000, .send_after = 100,
 *                                       .close = SCN_CLOSE_ON_EOF };
 *       static const scn_beh client = { .send = 100, .expect = 1000,
 *                                       .close = SCN_CLOSE_AFTER_IO };
 *       if (ev->kind == TS_SCN_START) {
 *           scn_listen(s, SCN_SERVER, 80, &server, 1);
 *           scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
 *       } else if (ev->kind == TS_SCN_END) {
 *           scn_expect_path(s, SCN_CLIENT, "CLOSED SYN_SENT ESTABLISHED ...");
 *           scn_expect_io(s);
 *           scn_expect_gone(s);
 *       }
 *   }
 *
 * Every application action is a NOTE in the trace ("connect 192.0.2.2:80",
 * "recv 1000 bytes"), so the ladder shows why each segment left.
 */
#ifndef TS_DRV_SCENARIOS_H
#define TS_DRV_SCENARIOS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "tcpstate.h"
#include "drv/sim.h"

typedef struct ts_scn ts_scn;

enum ts_scn_kind {
    TS_SCN_SETUP = 1, /* before the stacks exist: scn_host, scn_cfg, scn_link */
    TS_SCN_START,     /* t = 0: open sockets */
    TS_SCN_READY,     /* a socket's readiness changed (after the kit acted) */
    TS_SCN_TIMER,     /* a scn_timer fired */
    TS_SCN_END        /* the run is over: check the outcome */
};

typedef struct ts_scn_ev {
    int kind;         /* enum ts_scn_kind */
    int host;         /* READY, TIMER */
    int peer;         /* READY: the kit's peer index, -1 if none */
    unsigned events;  /* READY */
    int timer;        /* TIMER: the id given to scn_timer (>= 0) */
} ts_scn_ev;

typedef void (*ts_scn_fn)(ts_scn *s, const ts_scn_ev *ev);

typedef struct ts_scenario {
    const char *name;
    const char *summary; /* one line: what happens */
    ts_scn_fn fn;
} ts_scenario;

/* The i-th scenario, NULL past the end; by name, NULL if unknown. */
const ts_scenario *ts_scenario_at(size_t i);
const ts_scenario *ts_scenario_find(const char *name);

typedef struct ts_scn_opts {
    uint64_t seed;
    int loss_set;          /* override every link's loss with loss (0..1) */
    double loss;
    int delay_set;         /* override every link's delay (µs) */
    uint64_t delay_us;
    const char *const *sysctl; /* "net.ipv4.NAME=VALUE", applied to every host */
    size_t nsysctl;
    ts_mem mem;            /* the stacks' allocator (tests: th_mem()) */
    uint64_t limit_us;     /* 0: the scenario's limit (default 24 h) */
    void (*on_event)(void *user, const ts_trace_ev *ev);
    void *event_user;
} ts_scn_opts;

/* Sets up hosts and links (runs the SETUP event, applies opts). NULL with
 * a one-line reason in err (a bad sysctl: ts_config_set's message). */
ts_scn *ts_scn_new(const ts_scenario *sc, const ts_scn_opts *opts, char *err, size_t errlen);
/* Runs to the end and checks. 0: every check passed; -1: see failure. */
int ts_scn_run(ts_scn *s);
const char *ts_scn_failure(const ts_scn *s); /* NULL when passed */
int ts_scn_checks(const ts_scn *s);          /* checks that passed */
int ts_scn_end_reason(const ts_scn *s);      /* enum ts_sim_end */
ts_sim *ts_scn_sim(ts_scn *s);
void ts_scn_free(ts_scn *s);

/* One line per connection: "client #1  CLOSED -> SYN_SENT -> ...". */
void ts_scn_print_paths(const ts_scn *s, FILE *out, const char *indent);
/* One line per connection that moved data: bytes each way, verified. */
void ts_scn_print_io(const ts_scn *s, FILE *out, const char *indent);
/* The link model's description: "delay 10 ms each way, no loss". */
void ts_scn_describe_links(const ts_scn *s, char *buf, size_t len);

/* ------------------------------------------------------------ the kit */

enum { SCN_CLIENT = 0, SCN_SERVER = 1 }; /* the default hosts */

enum scn_close {
    SCN_CLOSE_NEVER = 0,  /* the scenario closes (scn_close) */
    SCN_CLOSE_AFTER_IO,   /* once all is sent and `expect` bytes received */
    SCN_CLOSE_ON_EOF,     /* once all is sent and the peer's FIN was read */
    SCN_CLOSE_UNREAD      /* as soon as data arrives, without reading it (RST) */
};

/* A socket option set before connect() / listen() and on accepted
 * connections: { TS_SOL_SOCKET, TS_SO_KEEPALIVE, 1 }. For TS_SO_LINGER,
 * val is l_linger with l_onoff = 1. A zero level ends the list. */
typedef struct scn_sockopt {
    int level, opt, val;
} scn_sockopt;

#define SCN_MAX_OPTS 4

/* What the application does on one connection. */
typedef struct scn_beh {
    size_t send;          /* bytes of the check pattern to send */
    size_t send_after;    /* start sending once this many were received */
    size_t expect;        /* bytes it wants to receive */
    int close;            /* enum scn_close */
    uint64_t close_delay_us; /* think time before that close */
    scn_sockopt opt[SCN_MAX_OPTS];
} scn_beh;

/* SETUP only. Declares a host (index in declaration order; the addresses
 * follow: 192.0.2.1, .2, ...). Without any, a scenario gets "client" and
 * "server". */
int scn_host(ts_scn *s, const char *name);
ts_config *scn_cfg(ts_scn *s, int host);   /* tweak before the stack exists */
ts_sim_link *scn_link(ts_scn *s);          /* every direction (default 10 ms) */
void scn_limit(ts_scn *s, uint64_t limit_us);

/* Sockets. Each returns a peer index (>= 0) or a negative ts_err, noted. */
int scn_listen(ts_scn *s, int host, uint16_t port, const scn_beh *child, int accepts);
int scn_connect(ts_scn *s, int host, uint16_t lport, int to_host, uint16_t port,
                const scn_beh *b);
void scn_close(ts_scn *s, int peer);
/* Closes every connection (not listener) host's application holds. */
void scn_close_host(ts_scn *s, int host);
void scn_timer(ts_scn *s, uint64_t at_us, int host, int id);
/* Ends the run once this instant's work is done (TS_SCN_END follows). */
void scn_stop(ts_scn *s);
/* A host's stack, for calls the kit does not make (setsockopt, sysctl...). */
ts_stack *scn_stack(ts_scn *s, int host);
/* Changes the link from -> to (-1: every host) from now on, e.g. to cut a
 * peer off: { .loss = 1 }. 0 or TS_EINVAL. */
int scn_link_set(ts_scn *s, int from, int to, const ts_sim_link *link);

/* What a peer saw. */
typedef struct scn_peer_view {
    int host;
    ts_sock sk;
    size_t sent, rcvd;
    int eof;              /* read the peer's FIN */
    int err;              /* first error a call returned (negative ts_err), 0 none */
    int closed;
    int listener;
} scn_peer_view;
int scn_peer(const ts_scn *s, int peer, scn_peer_view *out); /* 0 or TS_EINVAL */
size_t scn_peer_count(const ts_scn *s);
/* The n-th connection peer (not listener) of host, in creation order; -1. */
int scn_nth_peer(const ts_scn *s, int host, int n);

/* Virtual time now. */
uint64_t scn_now(const ts_scn *s);
/* Scratch integers for the scenario's own state (zero at the start). */
#define SCN_NVARS 16
int *scn_vars(ts_scn *s);
/* The links neither lose, duplicate nor reorder: exact outcomes (paths,
 * counters, a RST that must arrive) can be checked. */
int scn_perfect(const ts_scn *s);

/* Checks: the first failure is kept, later checks still count. */
void scn_expect(ts_scn *s, int cond, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Some connection of host went through exactly these states (space
 * separated, the first being the state before its first transition).
 * Skipped (not failed) when links lose, duplicate or reorder: the path
 * may legitimately differ then (a lost ACK of a FIN skips FIN_WAIT_2). */
void scn_expect_path(ts_scn *s, int host, const char *path);
/* Every connection peer has sent all it meant to and received what it
 * expected (so far; no check recorded). */
int scn_io_done(const ts_scn *s);
/* Every peer sent all it meant to, got all it expected, intact, and saw no error. */
void scn_expect_io(ts_scn *s);
/* No host has any connection left. */
void scn_expect_gone(ts_scn *s);
/* peer's first error was err. */
void scn_expect_err(ts_scn *s, int peer, int err);
/* Counter (nstat name, "TcpExtTW") of host equals v. */
void scn_expect_counter(ts_scn *s, int host, const char *name, uint64_t v);

/* Timing (scn_timing.c). Times are lists of virtual milliseconds from the
 * start, "0 1000 2000" (fractions allowed: "20.5"), compared exactly, in
 * order; "" means never. Checked only for a run as designed: the
 * scenario's own links and no --loss, --delay, --sysctl or --limit
 * override. */
int scn_as_designed(const ts_scn *s);
/* host sent segments with exactly these flags (TS_TH_*) at these times. */
void scn_expect_tx_ms(ts_scn *s, int host, uint8_t flags, const char *want_ms);
/* host's connections entered state (enum ts_state) at these times (a
 * listener the application closes is left out). */
void scn_expect_state_ms(ts_scn *s, int host, int state, const char *want_ms);
/* How many times host's connections entered state. */
size_t scn_count_state(const ts_scn *s, int host, int state);
/* The kit's log of times (kept from its trace sink). */
typedef struct scn_tlog scn_tlog;
scn_tlog *scn_tlog_new(void);
void scn_tlog_free(scn_tlog *l);
void scn_tlog_add(scn_tlog *l, const ts_trace_ev *ev);
const scn_tlog *scn_tlog_of(const ts_scn *s);

#endif
