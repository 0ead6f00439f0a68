/*
 * scn_timing.c — the scenario kit's timing checks: when each state was
 * entered and when each segment left, to the microsecond of virtual time.
 *
 * Owns: a log of the trace events that carry a time worth checking (state
 * changes and segments sent), filled by the kit from its trace sink. The
 * checks compare a host's times with a list written in milliseconds, the
 * unit LINUX_BEHAVIOUR.md uses ("SYNs at 0, 1000, 2000 ... ms"), so a
 * scenario states Linux's schedule literally.
 *
 * The checks apply to a scenario run as designed (its own links, no
 * --loss, --delay, --sysctl or --limit override): another delay or
 * tunable moves every time, a shorter run cuts them off, and a failure
 * then would only say "you changed it".
 * Cost: 24 bytes per logged event; a scenario logs a few thousand at most.
 */
#include "drv/scenarios.h"

#include "core/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tl_ev {
    uint64_t t_us;
    uint32_t conn_id;
    uint8_t kind, host, flags;
    uint8_t from, to;     /* TS_TRACE_STATE: the states left and entered */
    uint32_t len;
} tl_ev;

struct scn_tlog {
    tl_ev *v;
    size_t n, cap;
};

scn_tlog *scn_tlog_new(void) { return calloc(1, sizeof(scn_tlog)); }

void scn_tlog_free(scn_tlog *l)
{
    if (!l)
        return;
    free(l->v);
    free(l);
}

void scn_tlog_add(scn_tlog *l, const ts_trace_ev *ev)
{
    tl_ev *e;
    if (!l || (ev->kind != TS_TRACE_STATE && ev->kind != TS_TRACE_TX))
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        tl_ev *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return; /* a lost entry makes a check fail, never crash */
        l->v = nv;
        l->cap = cap;
    }
    e = &l->v[l->n++];
    e->t_us = ev->t_us;
    e->conn_id = ev->conn_id;
    e->kind = (uint8_t)ev->kind;
    e->host = (uint8_t)ev->host;
    e->flags = ev->flags;
    e->from = (uint8_t)(ev->kind == TS_TRACE_STATE ? ev->from : 0);
    e->to = (uint8_t)(ev->kind == TS_TRACE_STATE ? ev->to : 0);
    e->len = ev->len;
}

/* "0 1000 2000.5" (ms) -> µs. Returns the count, or -1 when malformed or
 * longer than cap. */
static int parse_ms(const char *text, uint64_t *out, int cap)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        double v;
        while (*p == ' ')
            p++;
        if (!*p)
            return n;
        v = strtod(p, &end);
        if (end == p || v < 0 || n == cap)
            return -1;
        out[n++] = (uint64_t)(v * 1000.0 + 0.5);
        p = end;
    }
}

/* Appends " 1000" or " 1000.25" (ms) to buf, or " ..." once it is full. */
static void put_ms(char *buf, size_t cap, uint64_t us)
{
    size_t n = strlen(buf);
    if (n + 24 >= cap) {
        if (n + 5 < cap && strcmp(buf + n - (n >= 4 ? 4 : n), " ...") != 0)
            strcat(buf, " ...");
        return;
    }
    if (us % 1000)
        snprintf(buf + n, cap - n, " %llu.%03llu", (unsigned long long)(us / 1000),
                 (unsigned long long)(us % 1000));
    else
        snprintf(buf + n, cap - n, " %llu", (unsigned long long)(us / 1000));
}

enum { MAX_TIMES = 64 };

/* Compares got[0..ngot) with the written list; one failure line naming
 * what, the host, both lists. */
static void compare(ts_scn *s, int host, const char *what, const uint64_t *got, int ngot,
                    const char *want_ms)
{
    uint64_t want[MAX_TIMES];
    char g[200] = "", w[200] = "";
    int nwant = parse_ms(want_ms, want, MAX_TIMES), same = nwant == ngot;
    if (nwant < 0) {
        scn_expect(s, 0, "%s: bad time list '%s'", what, want_ms);
        return;
    }
    for (int i = 0; same && i < ngot; i++)
        same = got[i] == want[i];
    if (same) {
        scn_expect(s, 1, "%s", what);
        return;
    }
    for (int i = 0; i < ngot; i++)
        put_ms(g, sizeof g, got[i]);
    for (int i = 0; i < nwant; i++)
        put_ms(w, sizeof w, want[i]);
    scn_expect(s, 0, "%s: %s at%s ms, expected at%s ms", ts_sim_host_name(ts_scn_sim(s), host),
               what, ngot ? g : " (never)", nwant ? w : " (never)");
}

void scn_expect_tx_ms(ts_scn *s, int host, uint8_t flags, const char *want_ms)
{
    const scn_tlog *l = scn_tlog_of(s);
    uint64_t got[MAX_TIMES + 1];
    int n = 0;
    char what[48], fl[16];
    if (!scn_as_designed(s))
        return;
    for (size_t i = 0; l && i < l->n && n <= MAX_TIMES; i++)
        if (l->v[i].kind == TS_TRACE_TX && l->v[i].host == host && l->v[i].flags == flags)
            got[n++] = l->v[i].t_us;
    snprintf(what, sizeof what, "sent %s", ts_flags_str(flags, fl));
    compare(s, host, what, got, n, want_ms);
}

/* A listener the application closes (LISTEN -> CLOSED) is not one of the
 * connection events these checks are about. */
static int counted(const tl_ev *e, int host, int state)
{
    return e->kind == TS_TRACE_STATE && e->host == host && e->to == state &&
           !(e->from == TS_LISTEN && e->to == TS_CLOSE);
}

void scn_expect_state_ms(ts_scn *s, int host, int state, const char *want_ms)
{
    const scn_tlog *l = scn_tlog_of(s);
    uint64_t got[MAX_TIMES + 1];
    int n = 0;
    char what[48];
    if (!scn_as_designed(s))
        return;
    for (size_t i = 0; l && i < l->n && n <= MAX_TIMES; i++)
        if (counted(&l->v[i], host, state))
            got[n++] = l->v[i].t_us;
    snprintf(what, sizeof what, "entered %s", ts_state_name(state));
    compare(s, host, what, got, n, want_ms);
}

size_t scn_count_state(const ts_scn *s, int host, int state)
{
    const scn_tlog *l = scn_tlog_of(s);
    size_t n = 0;
    for (size_t i = 0; l && i < l->n; i++)
        if (counted(&l->v[i], host, state))
            n++;
    return n;
}
