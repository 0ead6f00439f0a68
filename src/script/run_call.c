/*
 * run_call.c — system call lines (PACKETDRILL.md 3): script descriptors to
 * live ones, evaluating arguments into a ts_call, the blocking call S...E
 * (2.2, one at a time, like packetdrill's syscall thread), checking the
 * result, errno, returned values and return time, and the bookkeeping that
 * ties calls to tracked connections (socket, listen, connect, accept,
 * close: 4.7).
 *
 * Invariants: a script descriptor names at most one open connection; the
 * pending call's event stays valid (it points into the script) until it
 * completes or the script ends; results are checked in packetdrill's order:
 * return value, errno, returned values, then return time.
 */
#include "script/run_int.h"

#include <errno.h>
#include <string.h>

#include "tcpstate.h"

#define PEND_WAIT_US 1000000  /* packetdrill waits 1 s for a blocking call */
#define PEND_STEP_US 1000

static int call_is(const ts_call_spec *c, const char *name) { return strcmp(c->name, name) == 0; }

static run_conn *conn_by_fd(run_state *st, long long script_fd)
{
    for (size_t k = st->nconns; k-- > 0;)
        if (st->conns[k].fd_open && st->conns[k].script_fd == script_fd)
            return &st->conns[k];
    return NULL;
}

static int live_fd(run_state *st, const ts_event *e, long long script_fd, int *out)
{
    run_conn *c = conn_by_fd(st, script_fd);
    if (!c)
        return run_fail(st, e->line, "%s(): unable to find a socket with script fd %lld",
                        e->call->name, script_fd);
    *out = c->live_fd;
    return 0;
}

/* ------------------------------------------------------------ arguments */

static int build_arg(run_state *st, const ts_event *e, int i, ts_call_arg *a)
{
    const ts_call_spec *c = e->call;
    const ts_expr *x = c->args[i];
    const ts_call_info *ci = ts_call_lookup(c->name);
    memset(a, 0, sizeof *a);
    switch (x->kind) {
    case TS_EX_ELLIPSIS:
        a->kind = TS_ARG_ELLIPSIS;
        return 0;
    case TS_EX_INT:
        a->kind = TS_ARG_INT;
        a->i = x->i;
        if (i == 1 && x->i == 0 && (call_is(c, "read") || call_is(c, "write") ||
                                    call_is(c, "send") || call_is(c, "recv")))
            a->kind = TS_ARG_NULL;
        if (ci && i == ci->fd_arg) {
            int fd = -1;
            if (live_fd(st, e, x->i, &fd) < 0)
                return -1;
            a->i = fd;
        }
        return 0;
    case TS_EX_STRING:
        a->kind = TS_ARG_STRING;
        a->str = x->s;
        a->strlen = x->slen;
        return 0;
    case TS_EX_LINGER:
        a->kind = TS_ARG_LINGER;
        a->onoff = (int)x->items[0]->i;
        a->linger = (int)x->items[1]->i;
        return 0;
    case TS_EX_LIST:
        if (call_is(c, "poll")) {
            a->kind = TS_ARG_POLLFDS;
            a->npoll = x->nitems;
            for (int k = 0; k < x->nitems && k < TS_POLL_MAX; k++) {
                const ts_expr *pf = x->items[k];
                int fd = (int)pf->items[0]->i;
                if (fd >= 0 && live_fd(st, e, fd, &fd) < 0)
                    return -1;
                a->poll[k].fd = fd;
                a->poll[k].events = (short)pf->items[1]->i;
            }
            return 0;
        }
        a->kind = TS_ARG_INTLIST;
        a->i = x->nitems ? x->items[0]->i : 0;
        return 0;
    }
    return run_fail(st, e->line, "%s(): argument %d has a kind the runner cannot pass",
                    c->name, i + 1);
}

static int build_call(run_state *st, const ts_event *e, ts_call *k)
{
    memset(k, 0, sizeof *k);
    k->name = e->call->name;
    k->nargs = e->call->nargs;
    k->blocking = e->call->blocking;
    for (int i = 0; i < k->nargs; i++)
        if (build_arg(st, e, i, &k->args[i]) < 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------- checking */

static void result_str(const ts_call_result *res, char *buf, size_t cap)
{
    if (res->ret == -1) {
        const char *n = ts_errno_name(res->err);
        snprintf(buf, cap, "-1 %s (%s)", n ? n : "E?", ts_errno_text(res->err));
    } else {
        snprintf(buf, cap, "%lld", res->ret);
    }
}

static int check_values(run_state *st, const ts_event *e, const ts_call_result *res)
{
    const ts_call_spec *c = e->call;
    if (call_is(c, "getsockopt")) {
        const ts_expr *v = c->args[3];
        long long want_len = c->args[4]->items[0]->i;
        if ((long long)res->vallen != want_len)
            return run_fail(st, e->line, "getsockopt(): expected optlen %lld, got %zu", want_len,
                            res->vallen);
        if (v->kind == TS_EX_STRING) {
            if (res->vallen < v->slen || memcmp(res->val, v->s, v->slen) != 0)
                return run_fail(st, e->line, "getsockopt(): expected \"%s\", got \"%.*s\"",
                                v->s, (int)res->vallen, (const char *)res->val);
        } else {
            int got = 0;
            memcpy(&got, res->val, res->vallen < sizeof got ? res->vallen : sizeof got);
            if (got != (int)v->items[0]->i)
                return run_fail(st, e->line, "getsockopt(): expected value %lld, got %d",
                                v->items[0]->i, got);
        }
    } else if (call_is(c, "poll")) {
        const ts_expr *l = c->args[0];
        for (int k = 0; k < l->nitems && k < TS_POLL_MAX; k++) {
            const ts_expr *rev = l->items[k]->items[2];
            unsigned want = rev ? (unsigned)rev->i : 0, got = (unsigned short)res->revents[k];
            if (want != got) {
                char w[96], g[96];
                ts_poll_bits_str(want, w, sizeof w);
                ts_poll_bits_str(got, g, sizeof g);
                return run_fail(st, e->line, "poll(): fd %lld: expected revents %s, got %s",
                                l->items[k]->items[0]->i, w, g);
            }
        }
    }
    return 0;
}

/* Return value (any fd for socket/accept), errno, returned values. */
static int check_result(run_state *st, const ts_event *e, const ts_call_result *res,
                        int64_t start, int64_t end)
{
    const ts_call_spec *c = e->call;
    char got[128];
    int64_t t = (int64_t)(res->t_end > st->t0 ? res->t_end - st->t0 : 0);
    result_str(res, got, sizeof got);
    if (c->blocking)
        snprintf(st->r->script, sizeof st->r->script, "%.6f...%.6f %s", start / 1e6,
                 end / 1e6, e->text);
    else
        snprintf(st->r->script, sizeof st->r->script, "%.6f %s", start / 1e6, e->text);
    snprintf(st->r->actual, sizeof st->r->actual, "%s() = %s, returned at %.6f s", c->name,
             got, t / 1e6);
    int fd_call = call_is(c, "socket") || call_is(c, "accept");
    int ok = (fd_call && c->ret >= 0) ? res->ret >= 0 : res->ret == c->ret;
    if (!ok)
        return run_fail(st, e->line, "%s(): expected result %lld, got %s at %.6f s", c->name,
                        c->ret, got, t / 1e6);
    if (c->has_errno && res->err != c->err) {
        const char *n = ts_errno_name(res->err);
        return run_fail(st, e->line, "%s(): expected errno %s (%s), got %s%s%s%s at %.6f s",
                        c->name, c->errno_name, ts_errno_text(c->err),
                        res->err ? (n ? n : "E?") : "no error", res->err ? " (" : "",
                        res->err ? ts_errno_text(res->err) : "", res->err ? ")" : "", t / 1e6);
    }
    return check_values(st, e, res);
}

/* --------------------------------------------------------- bookkeeping */

static int track_socket(run_state *st, const ts_event *e, const ts_call_result *res)
{
    const ts_call_spec *c = e->call;
    if (conn_by_fd(st, c->ret))
        return run_fail(st, e->line, "duplicate fd %lld in script", c->ret);
    run_conn *n = run_conn_new(st);
    if (!n)
        return run_fail(st, e->line, "out of memory");
    n->state = CS_NEW;
    n->script_fd = (int)c->ret;
    n->live_fd = (int)res->ret;
    n->fd_open = 1;
    return 0;
}

/* packetdrill's run_syscall_accept: the newest passive connection whose
 * SYN-ACK the script expected, checked against the peer the stack gives. */
static int track_accept(run_state *st, const ts_event *e, const ts_call_result *res)
{
    const ts_call_spec *c = e->call;
    if (conn_by_fd(st, c->ret))
        return run_fail(st, e->line, "duplicate fd %lld in script", c->ret);
    for (size_t k = st->nconns; k-- > 0;) {
        run_conn *n = &st->conns[k];
        if ((n->state != CS_SYNACK_SENT && n->state != CS_SYNACK_ACKED) || n->accepted)
            continue;
        if (res->vallen >= 8) {
            uint16_t port = (uint16_t)(res->val[2] << 8 | res->val[3]);
            uint32_t ip = (uint32_t)res->val[4] << 24 | (uint32_t)res->val[5] << 16 |
                          (uint32_t)res->val[6] << 8 | res->val[7];
            if (ip != n->rip || port != n->rport)
                return run_fail(st, e->line, "accept() returned the connection from port %u, "
                                "but the script's newest connection is from port %u", port,
                                n->rport);
        }
        n->accepted = 1;
        n->script_fd = (int)c->ret;
        n->live_fd = (int)res->ret;
        n->fd_open = 1;
        return 0;
    }
    return run_fail(st, e->line, "accept() returned a socket, but no connection of the script "
                    "has had its SYN-ACK line yet");
}

static int track(run_state *st, const ts_event *e, const ts_call_result *res)
{
    const ts_call_spec *c = e->call;
    if (call_is(c, "socket") && res->ret >= 0)
        return track_socket(st, e, res);
    if (call_is(c, "accept") && res->ret >= 0)
        return track_accept(st, e, res);
    if (call_is(c, "listen")) {
        run_conn *n = conn_by_fd(st, c->args[0]->i);
        if (n)
            n->state = CS_LISTENING;
    } else if (call_is(c, "close")) {
        run_conn *n = conn_by_fd(st, c->args[0]->i);
        if (n)
            n->fd_open = 0;
    } else if (call_is(c, "connect")) {
        /* tcpstate extension: a listener that connect() turned active (RFC
         * 9293 LISTEN -> SYN_SENT; Linux says EISCONN, so upstream never
         * sees it) starts an active open like a fresh socket, once the call
         * says it did (tests/pkt/listen_connect_syn_sent.pkt) */
        run_conn *n = conn_by_fd(st, c->args[0]->i);
        if (n && n->state == CS_LISTENING && (res->ret == 0 || res->err == EINPROGRESS)) {
            n->state = CS_CONNECTING;
            n->rip = st->cfg.remote_ip;
            n->rport = st->cfg.connect_port;
            n->lport = 0;
        }
    }
    return 0;
}

/* Before connect(): a fresh socket starts an active open towards
 * remote_ip:connect_port; AF_UNSPEC makes it fresh again. */
static void before_connect(run_state *st, const ts_event *e)
{
    run_conn *n = conn_by_fd(st, e->call->args[0]->i);
    if (!n)
        return;
    if (e->call->args[1]->kind == TS_EX_INT && e->call->args[1]->i == 0) {
        n->state = CS_NEW;
    } else if (n->state == CS_NEW) {
        n->state = CS_CONNECTING;
        n->rip = st->cfg.remote_ip;
        n->rport = st->cfg.connect_port;
        n->lport = 0;
    }
}

/* A finished call: the checks, the time of a blocking call's return, the
 * bookkeeping. */
static int complete(run_state *st, const ts_event *e, const ts_call_result *res,
                    int64_t start, int64_t end)
{
    char got[128];
    int64_t t = (int64_t)(res->t_end > st->t0 ? res->t_end - st->t0 : 0);
    result_str(res, got, sizeof got);
    run_trace_note(st, t, "line %d: %s() = %s", e->line, e->call->name, got);
    run_log(st, "%9.6f   %s() = %s\n", t / 1e6, e->call->name, got);
    if (check_result(st, e, res, start, end) < 0)
        return -1;
    if (e->call->blocking) {
        int64_t tol = run_tolerance(st, end, start, 1);
        if (t < end - tol || t > end + tol)
            return run_fail(st, e->line, "timing error: expected %s() to return at %.6f s, it "
                            "returned at %.6f s (tolerance %.6f s)", e->call->name, end / 1e6,
                            t / 1e6, tol / 1e6);
    }
    if (track(st, e, res) < 0)
        return -1;
    st->r->script[0] = st->r->actual[0] = '\0';
    return 0;
}

/* ---------------------------------------------------------- pending call */

int run_check_pending(run_state *st)
{
    ts_call_result res;
    if (!st->pend.active || st->failed)
        return 0;
    memset(&res, 0, sizeof res);
    if (st->ops->poll_call(st->t, &res) == 0)
        return 0;
    st->pend.active = 0;
    return complete(st, st->pend.ev, &res, st->pend.start, st->pend.end);
}

/* Lets time pass (at most until limit) for the pending call to return, as
 * packetdrill waits up to 1 s for its syscall thread. 0: nothing pending
 * any more; 1: still blocked at limit; -1: the script failed. */
int run_finish_pending(run_state *st, int64_t limit)
{
    while (st->pend.active) {
        if (run_check_pending(st) < 0)
            return -1;
        if (!st->pend.active)
            break;
        int64_t now = run_now(st);
        if (now >= limit)
            return 1;
        int64_t step = now + PEND_STEP_US < limit ? now + PEND_STEP_US : limit;
        st->ops->wait_until(st->t, st->t0 + (uint64_t)step);
    }
    return 0;
}

int run_call_event(run_state *st)
{
    const ts_event *e = st->ev;
    ts_call k;
    ts_call_result res;
    if (e->call->blocking && st->pend.active) {
        int r = run_finish_pending(st, run_now(st) + PEND_WAIT_US);
        if (r < 0)
            return -1;
        if (r > 0)
            return run_fail(st, e->line, "blocking system call while another blocking system "
                            "call (line %d) is already in progress", st->pend.ev->line);
    }
    if (run_wait_event(st, "system call start") < 0)
        return -1;
    /* a call still blocked after 1 s stays pending; this one runs anyway */
    if (!e->call->blocking && st->pend.active &&
        run_finish_pending(st, run_now(st) + PEND_WAIT_US) < 0)
        return -1;
    if (build_call(st, e, &k) < 0)
        return -1;
    if (call_is(e->call, "connect"))
        before_connect(st, e);
    memset(&res, 0, sizeof res);
    int done = st->ops->start_call(st->t, &k, &res);
    if (done)
        return complete(st, e, &res, st->sched, st->block_end);
    if (!e->call->blocking)
        return run_fail(st, e->line, "%s() blocked and nothing can wake it: write it as a "
                        "blocking call (S...E %s(...)) or make the socket non-blocking",
                        e->call->name, e->call->name);
    st->pend.active = 1;
    st->pend.ev = e;
    st->pend.start = st->sched;
    st->pend.end = st->block_end;
    run_trace_note(st, run_now(st), "line %d: %s() blocks", e->line, e->call->name);
    return 0;
}

/* The end of the script closes what the script left open (4.8). */
int run_close_fd(run_state *st, run_conn *c)
{
    ts_call k;
    ts_call_result res;
    memset(&k, 0, sizeof k);
    memset(&res, 0, sizeof res);
    k.name = "close";
    k.nargs = 1;
    k.args[0].kind = TS_ARG_INT;
    k.args[0].i = c->live_fd;
    c->fd_open = 0;
    if (st->ops->start_call(st->t, &k, &res) != 1 || res.ret != 0)
        return run_fail(st, 0, "end of script: close(%d) failed: %s", c->script_fd,
                        ts_errno_text(res.err));
    run_trace_note(st, run_now(st), "end: close(%d)", c->script_fd);
    return 0;
}
