/*
 * rstack.c — the recording layer around a stack (rstack.h).
 *
 * Order in the record: a call's record is written after the call returns
 * (its result is part of it), so the hook values and transitions the call
 * produced come just before it. The replayer relies on that: it collects
 * HOOK and TRANS records until the next call record, makes the call with
 * the collected hook values, and compares the transitions it produced.
 *
 * Hooks are delivered at the end of the stack call that queued them (the
 * header's rule), inside that call, so they land in the right group.
 */
#include "drv/rstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ts_rstack {
    ts_stack *s;
    ts_rec_writer *w;
    ts_hooks user_hooks;
    void *user;
    uint64_t now;
};

/* -------------------------------------------------------------- the hooks */

static uint32_t rs_isn(void *u, const ts_tuple *t, uint64_t now_us)
{
    ts_rstack *r = u;
    uint32_t v = r->user_hooks.isn ? r->user_hooks.isn(r->user, t, now_us) : 0;
    ts_rec_put_hook(r->w, now_us, TS_REC_HOOK_ISN, t, v);
    return v;
}

static uint32_t rs_port_offset(void *u, const ts_tuple *t)
{
    ts_rstack *r = u;
    uint32_t v = r->user_hooks.port_offset ? r->user_hooks.port_offset(r->user, t) : 0;
    ts_rec_put_hook(r->w, r->now, TS_REC_HOOK_PORT, t, v);
    return v;
}

static uint32_t rs_ts_offset(void *u, const ts_tuple *t)
{
    ts_rstack *r = u;
    uint32_t v = r->user_hooks.ts_offset ? r->user_hooks.ts_offset(r->user, t) : 0;
    ts_rec_put_hook(r->w, r->now, TS_REC_HOOK_TSOFF, t, v);
    return v;
}

static void rs_transition(void *u, const ts_transition_ev *ev)
{
    ts_rstack *r = u;
    ts_rec_put_trans(r->w, ev);
    if (r->user_hooks.on_transition)
        r->user_hooks.on_transition(r->user, ev);
}

static void rs_segment(void *u, const ts_segment_ev *ev)
{
    ts_rstack *r = u;
    if (r->user_hooks.on_segment)
        r->user_hooks.on_segment(r->user, ev);
}

static void rs_ready(void *u, ts_sock s, unsigned events)
{
    ts_rstack *r = u;
    if (r->user_hooks.on_ready)
        r->user_hooks.on_ready(r->user, s, events);
}

static void rs_log(void *u, const char *msg)
{
    ts_rstack *r = u;
    if (r->user_hooks.log)
        r->user_hooks.log(r->user, msg);
}

/* Every setting by its sysctl name, so a replay builds the same config
 * whatever the struct's layout in the build that reads it. */
static void put_config(ts_rec_writer *w, const ts_config *cfg)
{
    const char *name;
    char val[128], line[256];
    for (size_t i = 0; (name = ts_config_name(i)) != NULL; i++) {
        if (ts_config_get(cfg, name, val, sizeof val) != 0)
            continue;
        int n = snprintf(line, sizeof line, "%s=%s", name, val);
        if (n > 0 && (size_t)n < sizeof line)
            ts_rec_put(w, TS_REC_CONFIG, 0, line, (size_t)n, NULL, 0);
    }
}

ts_rstack *ts_rs_new(const ts_config *cfg, const ts_hooks *hooks, void *user,
                     ts_rec_writer *w)
{
    ts_rstack *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (hooks)
        memcpy(&r->user_hooks, hooks,
               hooks->size && hooks->size < sizeof r->user_hooks ? hooks->size
                                                                : sizeof r->user_hooks);
    r->user = user;
    r->w = w;
    ts_hooks h;
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.isn = rs_isn;
    h.port_offset = rs_port_offset;
    h.ts_offset = rs_ts_offset;
    h.on_transition = rs_transition;
    h.on_segment = rs_segment;
    h.on_ready = rs_ready;
    h.log = rs_log;
    r->s = ts_stack_new(cfg, &h, r);
    if (!r->s) {
        free(r);
        return NULL;
    }
    if (w)
        put_config(w, ts_stack_config(r->s));
    return r;
}

void ts_rs_free(ts_rstack *r)
{
    if (!r)
        return;
    ts_stack_free(r->s);
    free(r);
}

ts_stack *ts_rs_stack(ts_rstack *r)
{
    return r->s;
}

uint64_t ts_rs_now(const ts_rstack *r)
{
    return r->now;
}

ts_rec_writer *ts_rs_writer(ts_rstack *r)
{
    return r->w;
}

/* ----------------------------------------------------------- the engine */

int ts_rs_add_addr(ts_rstack *r, uint32_t ip)
{
    int rc = ts_stack_add_addr(r->s, ip);
    uint8_t p[4] = { (uint8_t)ip, (uint8_t)(ip >> 8), (uint8_t)(ip >> 16), (uint8_t)(ip >> 24) };
    if (rc == 0)
        ts_rec_put(r->w, TS_REC_ADDR, r->now, p, sizeof p, NULL, 0);
    return rc;
}

int ts_rs_input(ts_rstack *r, uint64_t now_us, const uint8_t *pkt, size_t len)
{
    r->now = now_us;
    int rc = ts_stack_input(r->s, now_us, pkt, len);
    uint8_t p[4] = { (uint8_t)rc, (uint8_t)((unsigned)rc >> 8), (uint8_t)((unsigned)rc >> 16),
                     (uint8_t)((unsigned)rc >> 24) };
    ts_rec_put(r->w, TS_REC_INPUT, now_us, p, sizeof p, pkt, len);
    return rc;
}

size_t ts_rs_output(ts_rstack *r, uint64_t now_us, uint8_t *buf)
{
    r->now = now_us;
    size_t n = ts_stack_output(r->s, now_us, buf, TS_RS_BUF);
    ts_rec_put(r->w, TS_REC_OUTPUT, now_us, buf, n, NULL, 0);
    return n;
}

void ts_rs_advance(ts_rstack *r, uint64_t now_us)
{
    r->now = now_us;
    ts_stack_advance(r->s, now_us);
    ts_rec_put(r->w, TS_REC_ADVANCE, now_us, NULL, 0, NULL, 0);
}

/* ------------------------------------------------------------ the calls */

static ts_rec_call call0(uint32_t op, ts_sock sk)
{
    ts_rec_call c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.sk = sk;
    return c;
}

static void put(ts_rstack *r, const ts_rec_call *c, const void *data, size_t len)
{
    ts_rec_put_call(r->w, r->now, c, data, len);
}

int ts_rs_socket(ts_rstack *r, ts_sock *out)
{
    ts_sock none = { 0, 0 };
    ts_rec_call c = call0(TS_OP_SOCKET, none);
    int rc = ts_socket(r->s, out);
    c.ret = rc;
    if (rc == 0)
        c.out = *out;
    put(r, &c, NULL, 0);
    return rc;
}

int ts_rs_bind(ts_rstack *r, ts_sock sk, const ts_addr *local)
{
    ts_rec_call c = call0(TS_OP_BIND, sk);
    c.addr = *local;
    c.ret = ts_bind(r->s, sk, local);
    put(r, &c, NULL, 0);
    return (int)c.ret;
}

int ts_rs_listen(ts_rstack *r, ts_sock sk, int backlog)
{
    ts_rec_call c = call0(TS_OP_LISTEN, sk);
    c.a0 = backlog;
    c.ret = ts_listen(r->s, sk, backlog);
    put(r, &c, NULL, 0);
    return (int)c.ret;
}

int ts_rs_connect(ts_rstack *r, ts_sock sk, const ts_addr *remote)
{
    ts_rec_call c = call0(TS_OP_CONNECT, sk);
    c.addr = *remote;
    c.ret = ts_connect(r->s, sk, remote);
    put(r, &c, NULL, 0);
    return (int)c.ret;
}

int ts_rs_accept(ts_rstack *r, ts_sock listener, ts_sock *out, ts_addr *peer)
{
    ts_rec_call c = call0(TS_OP_ACCEPT, listener);
    ts_addr p = { 0, 0 };
    int rc = ts_accept(r->s, listener, out, &p);
    c.ret = rc;
    if (rc == 0) {
        c.out = *out;
        c.out_addr = p;
        if (peer)
            *peer = p;
    }
    put(r, &c, NULL, 0);
    return rc;
}

long ts_rs_send(ts_rstack *r, ts_sock sk, const void *buf, size_t len)
{
    ts_rec_call c = call0(TS_OP_SEND, sk);
    c.ret = ts_send(r->s, sk, buf, len);
    /* Only what the stack took is data the replay needs; the rest stays
     * the application's (len is kept in a0 for the record's reader). */
    c.a0 = len > INT32_MAX ? INT32_MAX : (int32_t)len;
    put(r, &c, buf, c.ret > 0 ? (size_t)c.ret : 0);
    return (long)c.ret;
}

long ts_rs_recv(ts_rstack *r, ts_sock sk, void *buf, size_t len)
{
    ts_rec_call c = call0(TS_OP_RECV, sk);
    c.a0 = len > INT32_MAX ? INT32_MAX : (int32_t)len;
    c.a1 = buf == NULL;
    c.ret = ts_recv(r->s, sk, buf, len);
    if (buf && c.ret > 0)
        c.aux = ts_rec_hash(buf, (size_t)c.ret);
    put(r, &c, NULL, 0);
    return (long)c.ret;
}

int ts_rs_shutdown(ts_rstack *r, ts_sock sk, int how)
{
    ts_rec_call c = call0(TS_OP_SHUTDOWN, sk);
    c.a0 = how;
    c.ret = ts_shutdown(r->s, sk, how);
    put(r, &c, NULL, 0);
    return (int)c.ret;
}

int ts_rs_close(ts_rstack *r, ts_sock sk)
{
    ts_rec_call c = call0(TS_OP_CLOSE, sk);
    c.ret = ts_close(r->s, sk);
    put(r, &c, NULL, 0);
    return (int)c.ret;
}

int ts_rs_setsockopt(ts_rstack *r, ts_sock sk, int level, int opt, const void *val,
                     size_t len)
{
    ts_rec_call c = call0(TS_OP_SETSOCKOPT, sk);
    c.a0 = level;
    c.a1 = opt;
    c.a2 = val == NULL;
    c.ret = ts_setsockopt(r->s, sk, level, opt, val, len);
    put(r, &c, val, val ? len : 0);
    return (int)c.ret;
}

int ts_rs_setsockopt_int(ts_rstack *r, ts_sock sk, int level, int opt, int val)
{
    return ts_rs_setsockopt(r, sk, level, opt, &val, sizeof val);
}

int ts_rs_getsockopt(ts_rstack *r, ts_sock sk, int level, int opt, void *val, size_t *len)
{
    ts_rec_call c = call0(TS_OP_GETSOCKOPT, sk);
    c.a0 = level;
    c.a1 = opt;
    c.a2 = len ? (int32_t)(*len < 256 ? *len : 256) : 0; /* options are small */
    size_t l = (size_t)c.a2;
    uint8_t tmp[256];
    c.ret = ts_getsockopt(r->s, sk, level, opt, tmp, &l);
    if (c.ret == 0) {
        c.aux = ts_rec_hash(tmp, l);
        if (val && len) {
            memcpy(val, tmp, l < *len ? l : *len);
            *len = l;
        }
    }
    put(r, &c, NULL, 0);
    return (int)c.ret;
}

int ts_rs_sysctl(ts_rstack *r, const char *name, const char *value, char *err,
                 size_t errlen)
{
    ts_sock none = { 0, 0 };
    ts_rec_call c = call0(TS_OP_SYSCTL, none);
    char data[512];
    size_t nl = strlen(name), vl = strlen(value);
    c.ret = ts_stack_sysctl(r->s, name, value, err, errlen);
    if (nl + vl + 2 <= sizeof data) {
        memcpy(data, name, nl + 1);
        memcpy(data + nl + 1, value, vl + 1);
        put(r, &c, data, nl + vl + 2);
    }
    return (int)c.ret;
}
