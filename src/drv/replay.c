/*
 * replay.c — replaying a record on a fresh stack (replay.h).
 *
 * A record is read one group at a time: HOOK and TRANS records are
 * collected (the values to give back, the transitions to expect) until an
 * engine or call record (INPUT, OUTPUT, ADVANCE, CALL, ADDR), which is then
 * replayed and checked, in this order: hook values (asked for in the
 * recorded order, with the recorded kind and 4-tuple, and all of them
 * used), the call's own result or datagram, the transitions.
 *
 * Invariants: nothing read from the file is trusted before its length is
 * checked (ts_rec_get_* and the per-op checks below); sizes taken from the
 * file are capped (TS_REC_MAX_LEN) before they size a buffer; every
 * failure is a message, never an abort. The stack's hooks never call the
 * stack; they only fill the "got" lists compared after the call.
 */
#include "drv/replay.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"
#include "drv/rstack.h"

typedef struct hookval {
    int kind;
    ts_tuple t;
    uint32_t value;
} hookval;

typedef struct rp {
    const ts_replay_opts *o;
    ts_replay_stats st;
    ts_config cfg;
    ts_stack *s;
    hookval *hooks;
    size_t nhooks, hook_next, caphooks;
    ts_transition_ev *want, *got;
    size_t nwant, capwant, ngot, capgot;
    int oom;
    char hook_err[400];
    const ts_rec_item *it;
    uint8_t buf[TS_RS_BUF];
    uint8_t *scratch;
    size_t capscratch;
    char *msg;
    size_t msglen;
} rp;

/* ------------------------------------------------------------- messages */

static const char *hook_kind_name(int kind)
{
    switch (kind) {
    case TS_REC_HOOK_ISN: return "an ISN";
    case TS_REC_HOOK_PORT: return "a port offset";
    case TS_REC_HOOK_TSOFF: return "a timestamp offset";
    default: return "an unknown hook value";
    }
}

static void tuple_str(const ts_tuple *t, char *out, size_t n)
{
    snprintf(out, n, "%u.%u.%u.%u:%u > %u.%u.%u.%u:%u", t->local.ip >> 24,
             (t->local.ip >> 16) & 255, (t->local.ip >> 8) & 255, t->local.ip & 255,
             t->local.port, t->remote.ip >> 24, (t->remote.ip >> 16) & 255,
             (t->remote.ip >> 8) & 255, t->remote.ip & 255, t->remote.port);
}

/* "where: " + text, as the first line of msg. Returns DIFFERS. */
static int differ(rp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int differ(rp *p, const char *fmt, ...)
{
    int n = snprintf(p->msg, p->msglen,
                     "first difference at record #%llu (byte %llu, t=%llu.%06llu s, %s): ",
                     (unsigned long long)p->it->index, (unsigned long long)p->it->offset,
                     (unsigned long long)(p->it->t_us / 1000000),
                     (unsigned long long)(p->it->t_us % 1000000),
                     ts_rec_type_name(p->it->type));
    if (n < 0 || (size_t)n >= p->msglen)
        return TS_REPLAY_DIFFERS;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg + n, p->msglen - (size_t)n, fmt, ap);
    va_end(ap);
    return TS_REPLAY_DIFFERS;
}

static int bad_file(rp *p, const char *what)
{
    snprintf(p->msg, p->msglen, "record file is corrupt at record #%llu (byte %llu): %s",
             (unsigned long long)p->it->index, (unsigned long long)p->it->offset, what);
    return TS_REPLAY_BAD_FILE;
}

/* One datagram in tcpdump's words, or what it is when not a segment. */
static void pkt_str(const uint8_t *pkt, size_t len, char *out, size_t n)
{
    ts_seg seg;
    char fl[16];
    if (len == 0) {
        snprintf(out, n, "nothing");
        return;
    }
    if (ts_wire_parse(pkt, len, &seg) != TS_DROP_NONE) {
        snprintf(out, n, "%zu bytes (not a valid TCP segment)", len);
        return;
    }
    ts_tuple t = { { seg.src_ip, seg.src_port }, { seg.dst_ip, seg.dst_port } };
    char ts[64];
    tuple_str(&t, ts, sizeof ts);
    snprintf(out, n, "%s [%s] seq %u ack %u win %u len %u (%zu bytes)", ts,
             ts_flags_str(seg.flags, fl), seg.seq, seg.ack, seg.win, seg.len, len);
}

/* --------------------------------------------------------------- hooks */

static int hook_take(rp *p, int kind, const ts_tuple *t, uint32_t *value)
{
    char a[64], b[64];
    *value = 0;
    if (p->hook_err[0])
        return -1;
    tuple_str(t, a, sizeof a);
    if (p->hook_next >= p->nhooks) {
        snprintf(p->hook_err, sizeof p->hook_err,
                 "the stack asked for %s for %s, which the record does not have here",
                 hook_kind_name(kind), a);
        return -1;
    }
    const hookval *h = &p->hooks[p->hook_next++];
    if (h->kind != kind || memcmp(&h->t, t, sizeof *t) != 0) {
        tuple_str(&h->t, b, sizeof b);
        snprintf(p->hook_err, sizeof p->hook_err,
                 "the stack asked for %s for %s; the record has %s for %s",
                 hook_kind_name(kind), a, hook_kind_name(h->kind), b);
        return -1;
    }
    *value = h->value;
    return 0;
}

static ts_tuple norm_tuple(const ts_tuple *t)
{
    ts_tuple n;
    memset(&n, 0, sizeof n); /* padding: tuples are compared with memcmp */
    n.local = (ts_addr){ t->local.ip, t->local.port };
    n.remote = (ts_addr){ t->remote.ip, t->remote.port };
    return n;
}

static uint32_t rp_isn(void *u, const ts_tuple *t, uint64_t now_us)
{
    (void)now_us;
    uint32_t v;
    ts_tuple n = norm_tuple(t);
    hook_take(u, TS_REC_HOOK_ISN, &n, &v);
    return v;
}

static uint32_t rp_port_offset(void *u, const ts_tuple *t)
{
    uint32_t v;
    ts_tuple n = norm_tuple(t);
    hook_take(u, TS_REC_HOOK_PORT, &n, &v);
    return v;
}

static uint32_t rp_ts_offset(void *u, const ts_tuple *t)
{
    uint32_t v;
    ts_tuple n = norm_tuple(t);
    hook_take(u, TS_REC_HOOK_TSOFF, &n, &v);
    return v;
}

static int push_trans(ts_transition_ev **v, size_t *n, size_t *cap, const ts_transition_ev *ev)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        ts_transition_ev *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[*n] = *ev;
    (*v)[*n].sock = (ts_sock){ 0, 0 }; /* not recorded: not compared */
    (*v)[*n].tuple = norm_tuple(&ev->tuple);
    (*n)++;
    return 0;
}

static void emit(rp *p, ts_trace_ev *ev)
{
    if (p->o && p->o->on_event)
        p->o->on_event(p->o->event_user, ev);
}

static void rp_transition(void *u, const ts_transition_ev *tev)
{
    rp *p = u;
    ts_trace_ev ev;
    if (push_trans(&p->got, &p->ngot, &p->capgot, tev) < 0)
        p->oom = 1;
    ts_trace_from_transition(&ev, tev);
    emit(p, &ev);
}

static void rp_segment(void *u, const ts_segment_ev *sev)
{
    ts_trace_ev ev;
    ts_trace_from_segment(&ev, sev);
    emit(u, &ev);
}

/* ------------------------------------------------------------- checks */

static int check_hooks(rp *p)
{
    if (p->hook_err[0])
        return differ(p, "%s", p->hook_err);
    if (p->hook_next < p->nhooks) {
        char a[64];
        const hookval *h = &p->hooks[p->hook_next];
        tuple_str(&h->t, a, sizeof a);
        return differ(p, "the record gave %s for %s here, the replay never asked for it",
                      hook_kind_name(h->kind), a);
    }
    return 0;
}

static void trans_str(const ts_transition_ev *e, char *out, size_t n)
{
    char t[64];
    tuple_str(&e->tuple, t, sizeof t);
    snprintf(out, n, "conn %u %s -> %s (%s) at %llu.%06llu s, %s", e->conn_id,
             ts_state_name(e->from), ts_state_name(e->to), ts_cause_name(e->cause),
             (unsigned long long)(e->now_us / 1000000), (unsigned long long)(e->now_us % 1000000),
             t);
}

static int same_trans(const ts_transition_ev *a, const ts_transition_ev *b)
{
    return a->conn_id == b->conn_id && a->from == b->from && a->to == b->to &&
           a->cause == b->cause && a->now_us == b->now_us &&
           memcmp(&a->tuple, &b->tuple, sizeof a->tuple) == 0;
}

static int check_trans(rp *p)
{
    char a[160], b[160];
    if (p->oom)
        return differ(p, "out of memory while replaying");
    size_t n = p->nwant < p->ngot ? p->nwant : p->ngot;
    for (size_t i = 0; i < n; i++) {
        if (same_trans(&p->want[i], &p->got[i]))
            continue;
        trans_str(&p->want[i], a, sizeof a);
        trans_str(&p->got[i], b, sizeof b);
        return differ(p, "transition %zu: recorded %s; replay %s", i + 1, a, b);
    }
    if (p->nwant > n) {
        trans_str(&p->want[n], a, sizeof a);
        return differ(p, "recorded transition %s did not happen in the replay", a);
    }
    if (p->ngot > n) {
        trans_str(&p->got[n], b, sizeof b);
        return differ(p, "the replay made transition %s, not in the record", b);
    }
    return 0;
}

/* A group is done: the collected hook values and transitions are spent. */
static void group_reset(rp *p)
{
    p->nhooks = p->hook_next = 0;
    p->nwant = p->ngot = 0;
    p->hook_err[0] = '\0';
}

/* ------------------------------------------------------------- engine */

static int make_stack(rp *p)
{
    if (p->s)
        return 0;
    ts_hooks h;
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.isn = rp_isn;
    h.port_offset = rp_port_offset;
    h.ts_offset = rp_ts_offset;
    h.on_transition = rp_transition;
    h.on_segment = rp_segment;
    p->s = ts_stack_new(&p->cfg, &h, p);
    return p->s ? 0 : -1;
}

static int do_config(rp *p, const ts_rec_item *it)
{
    char line[256], err[256];
    if (p->s)
        return bad_file(p, "a setting after the run started");
    if (it->len == 0 || it->len >= sizeof line)
        return bad_file(p, "a setting of impossible length");
    memcpy(line, it->payload, it->len);
    line[it->len] = '\0';
    char *eq = strchr(line, '=');
    if (!eq || strlen(line) != it->len)
        return bad_file(p, "a setting that is not NAME=VALUE");
    *eq = '\0';
    /* A setting this build does not know was recorded by another version:
     * replaying without it could not reproduce the run. */
    if (ts_config_set(&p->cfg, line, eq + 1, err, sizeof err) != 0) {
        snprintf(p->msg, p->msglen, "record #%llu: cannot apply recorded setting: %s",
                 (unsigned long long)it->index, err);
        return TS_REPLAY_BAD_FILE;
    }
    return 0;
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}

static int do_input(rp *p, const ts_rec_item *it)
{
    if (it->len < 4)
        return bad_file(p, "an input record without its result");
    int want = (int)le32(it->payload);
    int got = ts_stack_input(p->s, it->t_us, it->payload + 4, it->len - 4);
    p->st.inputs++;
    int d = check_hooks(p);
    if (d)
        return d;
    if (got != want) {
        char s[200];
        pkt_str(it->payload + 4, it->len - 4, s, sizeof s);
        return differ(p, "datagram in %s: recorded verdict %s, replay %s", s,
                      want ? ts_drop_reason_name(-want) : "accepted",
                      got ? ts_drop_reason_name(-got) : "accepted");
    }
    return 0;
}

static int do_output(rp *p, const ts_rec_item *it)
{
    size_t n = ts_stack_output(p->s, it->t_us, p->buf, TS_RS_BUF);
    p->st.outputs++;
    p->st.datagrams_out += n > 0;
    int d = check_hooks(p);
    if (d)
        return d;
    if (n == it->len && memcmp(p->buf, it->payload, n) == 0)
        return 0;
    char a[200], b[200];
    size_t k = 0;
    while (k < n && k < it->len && p->buf[k] == it->payload[k])
        k++;
    pkt_str(it->payload, it->len, a, sizeof a);
    pkt_str(p->buf, n, b, sizeof b);
    return differ(p, "datagram out: recorded %s; replay %s (first differing byte: %zu)", a, b,
                  k);
}

static int scratch(rp *p, size_t n)
{
    if (n > TS_REC_MAX_LEN)
        n = TS_REC_MAX_LEN;
    if (n <= p->capscratch)
        return 0;
    uint8_t *ns = realloc(p->scratch, n);
    if (!ns)
        return -1;
    p->scratch = ns;
    p->capscratch = n;
    return 0;
}

/* Replays SEND: the application offered a0 bytes and the stack took ret;
 * the record holds the bytes taken. The same offer is made (the bytes past
 * those taken were never sent, so zeros stand in for them). */
static int call_send(rp *p, const ts_rec_call *c, const uint8_t *data, size_t dlen, int64_t *ret)
{
    size_t taken = c->ret > 0 ? (size_t)c->ret : 0;
    if (c->a0 < 0 || dlen != taken || (size_t)c->a0 < dlen)
        return bad_file(p, "a send record whose data does not match its lengths");
    if (scratch(p, (size_t)c->a0 ? (size_t)c->a0 : 1) < 0)
        return differ(p, "out of memory while replaying");
    size_t offer = (size_t)c->a0 < p->capscratch ? (size_t)c->a0 : p->capscratch;
    memcpy(p->scratch, data, dlen);
    memset(p->scratch + dlen, 0, offer - dlen);
    *ret = ts_send(p->s, c->sk, p->scratch, offer);
    return 0;
}

static int call_recv(rp *p, const ts_rec_call *c, int64_t *ret, uint64_t *aux)
{
    if (c->a0 < 0)
        return bad_file(p, "a recv record with a negative length");
    if (scratch(p, (size_t)c->a0 ? (size_t)c->a0 : 1) < 0)
        return differ(p, "out of memory while replaying");
    size_t len = (size_t)c->a0 < p->capscratch ? (size_t)c->a0 : p->capscratch;
    void *buf = c->a1 ? NULL : p->scratch;
    *ret = ts_recv(p->s, c->sk, buf, len);
    if (buf && *ret > 0)
        *aux = ts_rec_hash(buf, (size_t)*ret);
    return 0;
}

static int call_sysctl(rp *p, const uint8_t *data, size_t dlen, int64_t *ret)
{
    char err[256];
    const char *name = (const char *)data;
    size_t nl = dlen ? strnlen(name, dlen) : 0;
    if (nl == 0 || nl + 1 >= dlen || data[dlen - 1] != '\0' ||
        strlen(name + nl + 1) != dlen - nl - 2)
        return bad_file(p, "a sysctl call without NAME and VALUE");
    *ret = ts_stack_sysctl(p->s, name, name + nl + 1, err, sizeof err);
    return 0;
}

static int call_getsockopt(rp *p, const ts_rec_call *c, int64_t *ret, uint64_t *aux)
{
    uint8_t v[256];
    if (c->a2 < 0 || c->a2 > (int)sizeof v)
        return bad_file(p, "a getsockopt record with an impossible length");
    size_t l = (size_t)c->a2;
    *ret = ts_getsockopt(p->s, c->sk, c->a0, c->a1, v, &l);
    if (*ret == 0)
        *aux = ts_rec_hash(v, l);
    return 0;
}

/* Makes the call; *ret, *out, *peer, *aux as rstack.c records them. */
static int call_make(rp *p, const ts_rec_call *c, const uint8_t *data, size_t dlen,
                     int64_t *ret, ts_sock *out, ts_addr *peer, uint64_t *aux)
{
    switch (c->op) {
    case TS_OP_SOCKET: *ret = ts_socket(p->s, out); return 0;
    case TS_OP_BIND: *ret = ts_bind(p->s, c->sk, &c->addr); return 0;
    case TS_OP_LISTEN: *ret = ts_listen(p->s, c->sk, c->a0); return 0;
    case TS_OP_CONNECT: *ret = ts_connect(p->s, c->sk, &c->addr); return 0;
    case TS_OP_ACCEPT: *ret = ts_accept(p->s, c->sk, out, peer); return 0;
    case TS_OP_SEND: return call_send(p, c, data, dlen, ret);
    case TS_OP_RECV: return call_recv(p, c, ret, aux);
    case TS_OP_SHUTDOWN: *ret = ts_shutdown(p->s, c->sk, c->a0); return 0;
    case TS_OP_CLOSE: *ret = ts_close(p->s, c->sk); return 0;
    case TS_OP_SETSOCKOPT:
        *ret = ts_setsockopt(p->s, c->sk, c->a0, c->a1, c->a2 ? NULL : data, dlen);
        return 0;
    case TS_OP_GETSOCKOPT: return call_getsockopt(p, c, ret, aux);
    case TS_OP_SYSCTL: return call_sysctl(p, data, dlen, ret);
    default: return bad_file(p, "a call of unknown kind");
    }
}

static int do_call(rp *p, const ts_rec_item *it)
{
    ts_rec_call c;
    const uint8_t *data;
    size_t dlen;
    if (ts_rec_get_call(it, &c, &data, &dlen) < 0)
        return bad_file(p, "a call record too short for a call");
    int64_t ret = 0;
    ts_sock out = { 0, 0 };
    ts_addr peer = { 0, 0 };
    uint64_t aux = 0;
    int rc = call_make(p, &c, data, dlen, &ret, &out, &peer, &aux);
    p->st.calls++;
    if (rc)
        return rc;
    if ((rc = check_hooks(p)) != 0)
        return rc;
    const char *op = ts_rec_op_name(c.op);
    if (ret != c.ret)
        return differ(p, "%s on socket %u.%u: recorded result %lld (%s), replay %lld (%s)", op,
                      c.sk.index, c.sk.gen, (long long)c.ret,
                      c.ret < 0 ? ts_strerror((int)c.ret) : "ok", (long long)ret,
                      ret < 0 ? ts_strerror((int)ret) : "ok");
    int new_sock = (c.op == TS_OP_SOCKET || c.op == TS_OP_ACCEPT) && ret == 0;
    if (new_sock && (out.index != c.out.index || out.gen != c.out.gen))
        return differ(p, "%s: recorded socket %u.%u, replay %u.%u", op, c.out.index,
                      c.out.gen, out.index, out.gen);
    if (c.op == TS_OP_ACCEPT && ret == 0 &&
        (peer.ip != c.out_addr.ip || peer.port != c.out_addr.port))
        return differ(p, "ACCEPT: a different peer");
    if (aux != c.aux)
        return differ(p, "%s on socket %u.%u: different bytes returned", op, c.sk.index,
                      c.sk.gen);
    return 0;
}

static int do_engine(rp *p, const ts_rec_item *it, uint64_t *last_t)
{
    if (make_stack(p) < 0)
        return differ(p, "cannot make a stack (out of memory)");
    if (it->t_us < *last_t)
        return bad_file(p, "time goes backwards");
    *last_t = it->t_us;
    int rc;
    switch (it->type) {
    case TS_REC_ADDR:
        if (it->len != 4)
            return bad_file(p, "an address record of the wrong size");
        p->st.addr = p->st.addr ? p->st.addr : le32(it->payload);
        rc = ts_stack_add_addr(p->s, le32(it->payload)) != 0 ? differ(p, "cannot add the address") : 0;
        break;
    case TS_REC_INPUT: rc = do_input(p, it); break;
    case TS_REC_OUTPUT: rc = do_output(p, it); break;
    case TS_REC_ADVANCE:
        if (it->len)
            return bad_file(p, "an advance record with a payload");
        ts_stack_advance(p->s, it->t_us);
        p->st.advances++;
        rc = check_hooks(p);
        break;
    default: rc = do_call(p, it); break;
    }
    if (rc == 0)
        rc = check_trans(p);
    group_reset(p);
    return rc;
}

static int collect(rp *p, const ts_rec_item *it)
{
    if (it->type == TS_REC_TRANS) {
        ts_transition_ev ev;
        if (ts_rec_get_trans(it, &ev) < 0)
            return bad_file(p, "a transition record of the wrong size");
        if (push_trans(&p->want, &p->nwant, &p->capwant, &ev) < 0)
            return differ(p, "out of memory while replaying");
        p->st.transitions++;
        return 0;
    }
    hookval h;
    memset(&h, 0, sizeof h);
    ts_tuple t;
    if (ts_rec_get_hook(it, &h.kind, &t, &h.value) < 0)
        return bad_file(p, "a hook record of the wrong size");
    h.t = norm_tuple(&t);
    if (p->nhooks == p->caphooks) {
        size_t nc = p->caphooks ? p->caphooks * 2 : 16;
        hookval *nv = realloc(p->hooks, nc * sizeof *nv);
        if (!nv)
            return differ(p, "out of memory while replaying");
        p->hooks = nv;
        p->caphooks = nc;
    }
    p->hooks[p->nhooks++] = h;
    p->st.hooks++;
    return 0;
}

static int step(rp *p, const ts_rec_item *it, uint64_t *last_t)
{
    p->it = it;
    p->st.records++;
    p->st.t_end_us = it->t_us > p->st.t_end_us ? it->t_us : p->st.t_end_us;
    switch (it->type) {
    case TS_REC_CONFIG: return do_config(p, it);
    case TS_REC_HOOK:
    case TS_REC_TRANS: return collect(p, it);
    default: return do_engine(p, it, last_t);
    }
}

int ts_replay(ts_rec_reader *r, const ts_replay_opts *o, ts_replay_stats *st,
              char *msg, size_t msglen)
{
    rp *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(msg, msglen, "out of memory");
        return TS_REPLAY_DIFFERS;
    }
    p->o = o;
    p->msg = msg;
    p->msglen = msglen;
    ts_config_default(&p->cfg);
    ts_rec_item it;
    uint64_t last_t = 0;
    int rc;
    char err[256];
    for (;;) {
        int n = ts_rec_next(r, &it, err, sizeof err);
        if (n < 0) {
            snprintf(msg, msglen, "%s", err);
            rc = TS_REPLAY_BAD_FILE;
            break;
        }
        if (n == 0) {
            p->it = &it;
            rc = TS_REPLAY_SAME;
            if (p->nhooks || p->nwant)
                rc = bad_file(p, "hook values or transitions with no call after them");
            break;
        }
        if ((rc = step(p, &it, &last_t)) != 0)
            break;
    }
    if (st)
        *st = p->st;
    ts_stack_free(p->s);
    free(p->hooks);
    free(p->want);
    free(p->got);
    free(p->scratch);
    free(p);
    return rc;
}
