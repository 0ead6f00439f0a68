/* fixture.c — see fixture.h. */
#include "fixture.h"

#include <stdio.h>

static uint32_t fx_isn(void *user, const ts_tuple *t, uint64_t now)
{
    (void)user; (void)t; (void)now;
    return 3000000000u; /* near the wrap: arithmetic must be modular */
}

/* SYN cookies: deterministic; which selects one of two keys */
static uint32_t fx_cookie_hash(void *user, const ts_tuple *t, uint32_t count, int which)
{
    uint32_t h = (t->local.ip * 2654435761u) ^ (t->remote.ip * 2246822519u) ^
                 ((uint32_t)t->local.port << 16 | t->remote.port) ^ (count * 3266489917u);
    (void)user;
    h ^= which ? 0x9e3779b9u : 0x7f4a7c15u;
    h *= 0x85ebca6bu;
    return h ^ (h >> 13);
}

static void fx_on_transition(void *user, const ts_transition_ev *ev)
{
    fx *f = user;
    f->transitions++;
    f->last_from = ev->from;
    f->last_to = ev->to;
    f->last_cause = ev->cause;
}

void fx_init_cfg(fx *f, const ts_config *cfg)
{
    ts_hooks h;
    memset(f, 0, sizeof *f);
    if (cfg)
        f->cfg = *cfg;
    else
        ts_config_default(&f->cfg);
    f->cfg.mem = th_mem();
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.isn = fx_isn;
    h.cookie_hash = fx_cookie_hash;
    h.on_transition = fx_on_transition;
    f->s = ts_stack_new(&f->cfg, &h, f);
    ts_stack_add_addr(f->s, FX_LOCAL);
    f->peer_port = 40000;
}

void fx_init(fx *f) { fx_init_cfg(f, NULL); }

void fx_free(fx *f)
{
    ts_stack_free(f->s);
    f->s = NULL;
}

ts_sock fx_listen(fx *f, uint16_t port)
{
    ts_sock l;
    ts_addr a = { FX_LOCAL, port };
    ts_socket(f->s, &l);
    ts_bind(f->s, l, &a);
    ts_listen(f->s, l, 16);
    f->local_port = port;
    return l;
}

ts_sock fx_connect(fx *f, uint16_t port)
{
    ts_sock c;
    ts_addr a = { FX_PEER, port };
    ts_socket(f->s, &c);
    ts_connect(f->s, c, &a);
    f->peer_port = port;
    return c;
}

int fx_send(fx *f, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, fx_opts o)
{
    static uint8_t zeros[65536];
    uint8_t buf[70000];
    ts_seg g;
    size_t n;
    memset(&g, 0, sizeof g);
    g.src_ip = FX_PEER;
    g.dst_ip = FX_LOCAL;
    g.src_port = f->peer_port;
    g.dst_port = f->local_port;
    g.flags = flags;
    g.seq = seq + FX_PEER_ISN;
    g.ack = ack + (f->isn_known ? f->stack_isn : 0);
    g.win = o.zero_win ? 0 : o.win ? o.win : 65535;
    if (o.mss) {
        g.opt_present |= TS_OPT_MSS;
        g.mss = o.mss;
    }
    if (o.has_ws) {
        g.opt_present |= TS_OPT_WSCALE;
        g.wscale = (uint8_t)o.wscale;
    }
    if (o.sackok)
        g.opt_present |= TS_OPT_SACKOK;
    if (o.ts) {
        g.opt_present |= TS_OPT_TS;
        g.tsval = o.tsval;
        g.tsecr = o.tsecr;
    }
    g.data = zeros;
    g.len = len > sizeof zeros ? (uint32_t)sizeof zeros : len;
    n = ts_wire_build(&g, buf, sizeof buf);
    return ts_stack_input(f->s, f->now, buf, n);
}

int fx_take(fx *f)
{
    size_t n = ts_stack_output(f->s, f->now, f->last_buf, sizeof f->last_buf);
    if (!n)
        return 0;
    if (ts_wire_parse(f->last_buf, n, &f->last) != 0)
        return 0;
    if (!f->isn_known && (f->last.flags & TS_TH_SYN)) {
        f->stack_isn = f->last.seq;
        f->isn_known = 1;
        f->local_port = f->last.src_port;
    }
    if (f->isn_known)
        f->last.seq -= f->stack_isn;
    if (f->last.flags & TS_TH_ACK)
        f->last.ack -= FX_PEER_ISN;
    return 1;
}

void fx_wait(fx *f, uint64_t ms)
{
    uint64_t end = f->now + ms * 1000u;
    for (;;) {
        uint64_t d = ts_stack_next_deadline(f->s);
        if (d > end)
            break;
        f->now = d > f->now ? d : f->now;
        ts_stack_advance(f->s, f->now);
    }
    f->now = end;
    ts_stack_advance(f->s, f->now);
}

uint64_t fx_next(fx *f, uint64_t limit_ms)
{
    uint64_t d = ts_stack_next_deadline(f->s), start = f->now;
    if (d == UINT64_MAX || d > f->now + limit_ms * 1000u)
        return UINT64_MAX;
    if (d > f->now)
        f->now = d;
    ts_stack_advance(f->s, f->now);
    return (f->now - start) / 1000u;
}

int fx_state(fx *f, ts_sock sk)
{
    ts_info i;
    if (ts_sock_info(f->s, sk, &i))
        return -1;
    return i.state;
}

uint64_t fx_ctr(fx *f, const char *name) { return ts_stack_counter_by_name(f->s, name); }

/* ---- helpers added for the per-state tests ------------------------------ */

int fx_drain(fx *f)
{
    int n = 0;
    while (fx_take(f))
        n++;
    return n;
}

ts_sock fx_open_passive(fx *f, uint16_t port, ts_sock *l)
{
    ts_sock c = { 0, 0 }, none = { 0, 0 };
    *l = fx_listen(f, port);
    TS_SEND(f, S, 0, 0, .mss = 1460);
    if (!fx_take(f) || f->last.flags != (S | A) || f->last.ack != 1)
        return none;
    TS_SEND(f, A, 1, 1);
    fx_drain(f);
    if (ts_accept(f->s, *l, &c, NULL) != 0)
        return none;
    return c;
}

ts_sock fx_open_active(fx *f, uint16_t port)
{
    ts_sock c = fx_connect(f, port), none = { 0, 0 };
    if (!fx_take(f) || f->last.flags != S)
        return none;
    TS_SEND(f, S | A, 0, 1, .mss = 1460);
    if (!fx_take(f) || f->last.flags != A || f->last.ack != 1)
        return none;
    if (ts_connect(f->s, c, &(ts_addr){ FX_PEER, port }) != 0) /* the "0 once" */
        return none;
    return c;
}

int fx_tuple_state(fx *f)
{
    ts_conn_summary v[64];
    size_t n = ts_stack_conns(f->s, v, 64);
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++)
        if (v[i].state != TS_CLOSE && v[i].tuple.local.ip == FX_LOCAL &&
            v[i].tuple.local.port == f->local_port && v[i].tuple.remote.ip == FX_PEER &&
            v[i].tuple.remote.port == f->peer_port)
            return v[i].state;
    return TS_CLOSE;
}

uint64_t fx_drops(fx *f, int reason) { return ts_stack_drops(f->s, reason); }

int fx_collect(fx *f, uint8_t flags, uint64_t *ms, int max, uint64_t limit_ms)
{
    uint64_t end = f->now + limit_ms * 1000u;
    int n = 0;
    for (;;) {
        uint64_t d;
        while (fx_take(f))
            if (f->last.flags == flags && n < max)
                ms[n++] = f->now / 1000u;
        d = ts_stack_next_deadline(f->s);
        if (d > end)
            break;
        f->now = d > f->now ? d : f->now;
        ts_stack_advance(f->s, f->now);
    }
    f->now = end;
    ts_stack_advance(f->s, f->now);
    return n;
}
