/*
 * ladder.h — traces of TCP exchanges and their two renderings: the ladder
 * diagram a person reads, and JSON Lines a program reads.
 *
 * A trace is a list of ts_trace_ev, in time order, recorded by whoever
 * drives the stacks (the simulator, the script runner). Hosts are columns,
 * named by a ts_trace_host table; an event names its host by index.
 *
 *   ts_ladder_render(stdout, &opts, evs, n);     whole list at once
 *
 * or incrementally (the simulator streams):
 *
 *   ts_ladder *l = ts_ladder_new(stdout, &opts);
 *   ts_ladder_head(l);  ts_ladder_event(l, &ev) ...;  ts_ladder_free(l);
 *
 * JSON Lines: ts_json_event() per event, ts_json_end() once at the end.
 */
#ifndef TS_DRV_LADDER_H
#define TS_DRV_LADDER_H

#include <stdint.h>
#include <stdio.h>
#include "tcpstate.h"

enum ts_trace_kind {
    TS_TRACE_STATE = 1, /* a connection changed state (from, to, cause) */
    TS_TRACE_TX,        /* host sent a segment */
    TS_TRACE_RX,        /* host received a segment and took it */
    TS_TRACE_DROP,      /* host's stack dropped a segment (reason) */
    TS_TRACE_LOST,      /* the network lost a segment host sent */
    TS_TRACE_DUP,       /* the network duplicated a segment host sent */
    TS_TRACE_NOTE       /* free text in host's column: "connect()", ... */
};

typedef struct ts_trace_ev {
    uint64_t t_us;
    int kind;          /* enum ts_trace_kind */
    int host;          /* index into ts_ladder_opts.hosts */
    uint32_t conn_id;  /* the host's connection id, 0 when none */
    /* TS_TRACE_STATE */
    int from, to, cause;
    /* segments: as on the wire (src sent it, dst is to receive it) */
    ts_addr src, dst;
    uint8_t flags;     /* TS_TH_* */
    uint32_t seq, ack, win, len;
    int reason;        /* TS_TRACE_DROP: enum ts_drop_reason */
    const char *note;  /* TS_TRACE_NOTE; only read during the call */
} ts_trace_ev;

typedef struct ts_trace_host {
    const char *name;  /* "client" */
    uint32_t ip;       /* host order; 0 if unknown */
} ts_trace_host;

typedef struct ts_ladder_opts {
    const ts_trace_host *hosts;
    size_t nhosts;     /* 1..TS_LADDER_MAX_HOSTS; more are drawn in the last column */
    int absolute;      /* raw seq/ack; default: relative to each direction's ISN */
    int hide_rx;       /* leave out arrival lines of segments taken normally */
} ts_ladder_opts;

#define TS_LADDER_MAX_HOSTS 8

typedef struct ts_ladder ts_ladder;

/* NULL on out of memory. out stays the caller's. */
ts_ladder *ts_ladder_new(FILE *out, const ts_ladder_opts *opts);
/* The column heads (host names and addresses) and a rule. */
void ts_ladder_head(ts_ladder *l);
void ts_ladder_event(ts_ladder *l, const ts_trace_ev *ev);

/* A trace event from the stack's hooks (host 0, time from the hook); the
 * caller sets host and anything else it knows. */
void ts_trace_from_transition(ts_trace_ev *ev, const ts_transition_ev *tev);
void ts_trace_from_segment(ts_trace_ev *ev, const ts_segment_ev *sev);
/* Writes any line held back (a TX waits one event to learn it was lost). */
void ts_ladder_flush(ts_ladder *l);
/* Flushes and frees; NULL is fine. */
void ts_ladder_free(ts_ladder *l);
/* Head, every event, flush: the list-taking form. */
void ts_ladder_render(FILE *out, const ts_ladder_opts *opts,
                      const ts_trace_ev *evs, size_t n);

/* One JSON line for ev (nothing for NOTE and DUP events, which the JSON
 * format does not have):
 *   {"t": 0.010000, "host": "server", "conn": 2, "from": "LISTEN", "to": "SYN_RECEIVED", "cause": "rcv SYN"}
 *   {"t": 0.000000, "host": "client", "ev": "tx", "conn": 1, "flags": "S", "seq": N, "ack": N, "win": N, "len": N}
 * drop lines add "reason": "OUT_OF_WINDOW" (stack) or "LINK_LOSS" (network). */
void ts_json_event(FILE *out, const ts_trace_host *hosts, size_t nhosts,
                   const ts_trace_ev *ev);

typedef struct ts_trace_conn {
    int host;
    uint32_t conn_id;
    int state;
} ts_trace_conn;
/* {"t": T, "ev": "end", "conns": [{"host": NAME, "conn": ID, "state": STATE}, ...]} */
void ts_json_end(FILE *out, const ts_trace_host *hosts, size_t nhosts, uint64_t t_us,
                 const ts_trace_conn *conns, size_t n);

#endif
