/*
 * target_tcpstate.c — tcpstate as a script target, in virtual time.
 *
 * One ts_stack with the address local_ip and a clock in µs that starts at 0
 * and moves only when the runner lets time pass: wait_until() and receive()
 * step through the stack's timer deadlines in order (ts_stack_advance at
 * each), and after every step, injection or call the stack's output is
 * drained into a queue stamped with the virtual time it was sent. Nothing
 * ever sleeps.
 *
 * Script descriptors map to ts_sock handles (fds from 3 up, lowest free
 * first, as the kernel hands them out). Sockets block by default; a call
 * that would block (TS_EAGAIN, a connect in progress, a poll with nothing
 * ready) on a blocking socket becomes the pending call: it is retried after
 * every event (injection, timer step) and completes at the virtual time it
 * succeeds. A call not written S...E that would block stalls the run
 * instead: time moves through the stack's timers alone until it returns
 * (packetdrill's interpreter stalls the same way).
 *
 * Memory: the stack allocates through a counting ts_mem; after the script
 * ts_target_tcpstate_finish() frees the stack and reports what was not
 * given back. ISNs come from a counter (scripts use relative numbers).
 *
 * Invariants: t->now never goes backwards; the output queue is in send
 * order; at most one pending call.
 */
#include "script/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate.h"

#define TT_FD_MAX 1024
#define TT_PKT_MAX 65536
#define TT_IO_MAX (64u << 20)
#define TT_STEPS_MAX 10000000L  /* timer steps in one wait: a runaway timer */
#define TT_NEVER UINT64_MAX

/* Linux numbers the script passes (socket.h, fcntl.h, poll.h). */
enum { L_AF_INET = 2, L_SOCK_STREAM = 1, L_SOCK_NONBLOCK = 0x800, L_SOCK_CLOEXEC = 0x80000,
       L_O_RDWR = 2, L_O_NONBLOCK = 0x800, L_F_GETFD = 1, L_F_SETFD = 2, L_F_GETFL = 3,
       L_F_SETFL = 4, L_MSG_OOB = 1, L_MSG_PEEK = 2, L_MSG_DONTWAIT = 0x40,
       L_MSG_WAITALL = 0x100, L_EBADF = 9, L_EINVAL = 22, L_EMFILE = 24, L_EFAULT = 14,
       L_EPROTONOSUPPORT = 93, L_EOPNOTSUPP = 95, L_EAFNOSUPPORT = 97, L_ENOMEM = 12 };

typedef struct tt_out {
    uint64_t t;
    size_t len;
    uint8_t *data;
} tt_out;

typedef struct tt_fd {
    int used, nonblock;
    ts_sock sk;
} tt_fd;

typedef struct tt_call {
    ts_call c;
    int started;          /* connect: the SYN is out */
    long long moved;      /* write/send, recv MSG_WAITALL: bytes so far */
    uint64_t deadline;    /* poll: when its timeout ends */
} tt_call;

struct ts_target {
    ts_stack *stack;
    ts_target_cfg cfg;
    uint64_t now;
    size_t mem_live;
    uint32_t isn_next;
    tt_out *q;
    size_t qhead, qn, qcap;
    tt_fd fds[TT_FD_MAX];
    int pending, pend_done;
    tt_call pend;
    ts_call_result pend_res;
    uint8_t *zeros;
    size_t nzeros;
    uint8_t buf[TT_PKT_MAX];
};

/* ----------------------------------------------------------- allocator */

static void *tt_malloc(void *user, size_t n)
{
    ts_target *t = user;
    void *p = malloc(n);
    if (p)
        t->mem_live += n;
    return p;
}

static void tt_free(void *user, void *p, size_t n)
{
    ts_target *t = user;
    if (p) {
        t->mem_live -= n;
        free(p);
    }
}

static uint32_t tt_isn(void *user, const ts_tuple *tu, uint64_t now)
{
    ts_target *t = user;
    (void)tu;
    (void)now;
    return 1000000000u + 0x01000000u * t->isn_next++;
}

/* SYN cookies: a fixed mix of the 4-tuple and the counter, so runs repeat
 * exactly (scripts match cookie ISNs only through their mapping). */
static uint32_t tt_cookie_hash(void *user, const ts_tuple *tu, uint32_t count, int which)
{
    uint32_t w[5] = { tu->local.ip, tu->remote.ip, (uint32_t)tu->local.port << 16 | tu->remote.port,
                      count, (uint32_t)which };
    uint32_t h = 2166136261u;
    (void)user;
    for (int i = 0; i < 5; i++) {
        h = (h ^ w[i]) * 16777619u;
        h ^= h >> 15;
    }
    return h;
}

/* Which (from, to, cause) transitions the scripts of this process made:
 * process-wide on purpose, so one `tcpstate script --coverage DIR` run can
 * report how much of the transition table its scripts exercise. */
static uint8_t tt_cov[TS_STATE_MAX][TS_STATE_MAX][TS_CAUSE_MAX];

static void tt_transition(void *user, const ts_transition_ev *ev)
{
    (void)user;
    if (ev->from >= 0 && ev->from < TS_STATE_MAX && ev->to >= 0 && ev->to < TS_STATE_MAX &&
        ev->cause >= 0 && ev->cause < TS_CAUSE_MAX)
        tt_cov[ev->from][ev->to][ev->cause] = 1;
}

int ts_target_tcpstate_covered(int from, int to, int cause)
{
    if (from < 0 || from >= TS_STATE_MAX || to < 0 || to >= TS_STATE_MAX || cause < 0 ||
        cause >= TS_CAUSE_MAX)
        return 0;
    return tt_cov[from][to][cause];
}

static void tt_log(void *user, const char *msg)
{
    ts_target *t = user;
    if (t->cfg.verbose)
        printf("          tcpstate: %s\n", msg);
}

/* -------------------------------------------------------------- output */

static void queue_pkt(ts_target *t, const uint8_t *p, size_t n)
{
    if (t->qhead + t->qn == t->qcap) {
        if (t->qhead > 0) {
            memmove(t->q, t->q + t->qhead, t->qn * sizeof *t->q);
            t->qhead = 0;
        } else {
            size_t cap = t->qcap ? t->qcap * 2 : 64;
            tt_out *q = realloc(t->q, cap * sizeof *q);
            if (!q)
                return; /* lost: the runner then sees a missing packet */
            t->q = q;
            t->qcap = cap;
        }
    }
    uint8_t *d = malloc(n);
    if (!d)
        return;
    memcpy(d, p, n);
    t->q[t->qhead + t->qn++] = (tt_out){ t->now, n, d };
}

static void drain(ts_target *t)
{
    size_t n;
    while ((n = ts_stack_output(t->stack, t->now, t->buf, sizeof t->buf)) > 0)
        queue_pkt(t, t->buf, n);
}

static int attempt(ts_target *t, tt_call *k, ts_call_result *res);

/* After anything that may change the stack: collect what it sent, and let
 * the pending call try again. */
static void after_event(ts_target *t)
{
    drain(t);
    if (t->pending && !t->pend_done) {
        memset(&t->pend_res, 0, sizeof t->pend_res);
        if (attempt(t, &t->pend, &t->pend_res)) {
            t->pend_res.t_end = t->now;
            t->pend_done = 1;
            drain(t);
        }
    }
}

static uint64_t next_deadline(const ts_target *t, const tt_call *extra)
{
    uint64_t d = ts_stack_next_deadline(t->stack);
    if (t->pending && !t->pend_done && t->pend.deadline < d)
        d = t->pend.deadline;
    if (extra && extra->deadline < d)
        d = extra->deadline;
    return d;
}

/* Fires what is due at `when` (>= now). */
static void step_to(ts_target *t, uint64_t when)
{
    if (when > t->now)
        t->now = when;
    ts_stack_advance(t->stack, t->now);
    after_event(t);
}

/* ------------------------------------------------------------ lifecycle */

static int tt_open(ts_target **out, const ts_target_cfg *cfg, char *err, size_t errlen)
{
    ts_target *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->cfg = *cfg;
    ts_config c;
    ts_config_default(&c);
    c.mtu = cfg->mtu;
    c.mem.user = t;
    c.mem.malloc = tt_malloc;
    c.mem.free = tt_free;
    ts_hooks h;
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.isn = tt_isn;
    h.cookie_hash = tt_cookie_hash;
    h.log = tt_log;
    h.on_transition = tt_transition;
    t->stack = ts_stack_new(&c, &h, t);
    if (!t->stack || ts_stack_add_addr(t->stack, cfg->local_ip) < 0) {
        snprintf(err, errlen, "cannot create the stack%s", t->stack ? " address" : "");
        ts_stack_free(t->stack);
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

size_t ts_target_tcpstate_finish(ts_target *t)
{
    if (!t || !t->stack)
        return 0;
    ts_stack_free(t->stack);
    t->stack = NULL;
    return t->mem_live;
}

static void tt_close(ts_target *t)
{
    if (!t)
        return;
    ts_stack_free(t->stack);
    for (size_t i = 0; i < t->qn; i++)
        free(t->q[t->qhead + i].data);
    free(t->q);
    free(t->zeros);
    free(t);
}

static int tt_sysctl(ts_target *t, const char *name, const char *value, char *err,
                     size_t errlen)
{
    return ts_stack_sysctl(t->stack, name, value, err, errlen) < 0 ? -1 : 0;
}

static uint64_t tt_now(ts_target *t) { return t->now; }

/* Steps through the deadlines up to `limit`. A deadline the stack does not move past after firing it would spin
 * forever: after a few such steps the walk stops. */
static void advance_through(ts_target *t, uint64_t limit, tt_call *extra)
{
    int stuck = 0;
    for (long steps = 0; steps < TT_STEPS_MAX; steps++) {
        uint64_t d = next_deadline(t, extra);
        if (d > limit)
            return;
        step_to(t, d);
        if (next_deadline(t, extra) <= t->now) {
            if (++stuck > 100)
                return;
        } else {
            stuck = 0;
        }
    }
}

static void tt_wait_until(ts_target *t, uint64_t when)
{
    advance_through(t, when, NULL);
    step_to(t, when);
}

static int tt_inject(ts_target *t, const uint8_t *pkt, size_t len)
{
    int r = ts_stack_input(t->stack, t->now, pkt, len);
    if (r < 0 && t->cfg.verbose)
        printf("          tcpstate: dropped: %s\n", ts_drop_reason_name(-r));
    after_event(t);
    return 0;
}

static long tt_receive(ts_target *t, uint8_t *buf, size_t cap, uint64_t *when, uint64_t deadline)
{
    int stuck = 0;
    while (t->qn == 0) {
        uint64_t d = next_deadline(t, NULL);
        if (d == TT_NEVER || d > deadline) {
            if (deadline != TT_NEVER && deadline > t->now)
                step_to(t, deadline);
            if (t->qn == 0)
                return 0;
            break;
        }
        step_to(t, d);
        if (t->qn == 0 && next_deadline(t, NULL) <= t->now && ++stuck > 100)
            return -1;
    }
    tt_out o = t->q[t->qhead++];
    t->qn--;
    size_t n = o.len < cap ? o.len : cap;
    memcpy(buf, o.data, n);
    free(o.data);
    *when = o.t;
    return (long)n;
}

/* --------------------------------------------------------------- calls */

static long long arg_i(const ts_call *c, int i)
{
    return i < c->nargs ? c->args[i].i : 0;
}

/* -1 with errno from a negative ts_err (they are Linux errno, negated). */
static int fail_res(ts_call_result *res, int err)
{
    res->ret = -1;
    res->err = err < 0 ? -err : err;
    return 1;
}

static int ok_res(ts_call_result *res, long long v)
{
    res->ret = v;
    res->err = 0;
    return 1;
}

static tt_fd *fd_get(ts_target *t, long long fd)
{
    if (fd < 0 || fd >= TT_FD_MAX || !t->fds[fd].used)
        return NULL;
    return &t->fds[fd];
}

static int fd_alloc(ts_target *t, ts_sock sk, int nonblock)
{
    for (int fd = 3; fd < TT_FD_MAX; fd++)
        if (!t->fds[fd].used) {
            t->fds[fd] = (tt_fd){ 1, nonblock, sk };
            return fd;
        }
    return -1;
}

static int call_socket(ts_target *t, const ts_call *c, ts_call_result *res)
{
    long long dom = c->args[0].kind == TS_ARG_ELLIPSIS ? L_AF_INET : arg_i(c, 0);
    long long type = arg_i(c, 1), proto = arg_i(c, 2);
    if (dom != L_AF_INET)
        return fail_res(res, L_EAFNOSUPPORT);
    if ((type & ~(long long)(L_SOCK_NONBLOCK | L_SOCK_CLOEXEC)) != L_SOCK_STREAM ||
        (proto != 0 && proto != 6))
        return fail_res(res, L_EPROTONOSUPPORT);
    ts_sock sk;
    int r = ts_socket(t->stack, &sk);
    if (r < 0)
        return fail_res(res, r);
    int fd = fd_alloc(t, sk, (type & L_SOCK_NONBLOCK) != 0);
    if (fd < 0) {
        ts_close(t->stack, sk);
        return fail_res(res, L_EMFILE);
    }
    return ok_res(res, fd);
}

static int call_accept(ts_target *t, tt_fd *f, ts_call_result *res)
{
    ts_sock sk;
    ts_addr peer;
    int r = ts_accept(t->stack, f->sk, &sk, &peer);
    if (r == TS_EAGAIN && !f->nonblock)
        return 0;
    if (r < 0)
        return fail_res(res, r);
    int fd = fd_alloc(t, sk, 0); /* accept() does not pass O_NONBLOCK on */
    if (fd < 0) {
        ts_close(t->stack, sk);
        return fail_res(res, L_EMFILE);
    }
    /* the peer as a struct sockaddr_in: family (host order), port, address */
    memset(res->val, 0, 16);
    res->val[0] = L_AF_INET;
    res->val[2] = (uint8_t)(peer.port >> 8);
    res->val[3] = (uint8_t)peer.port;
    for (int i = 0; i < 4; i++)
        res->val[4 + i] = (uint8_t)(peer.ip >> (24 - 8 * i));
    res->vallen = 16;
    return ok_res(res, fd);
}

/* A blocking connect() waits for the handshake: ts_connect answers
 * EALREADY while it runs, then 0 or the error once (tcpstate.h). */
static int call_connect(ts_target *t, tt_fd *f, tt_call *k, ts_call_result *res)
{
    if (k->c.args[1].kind == TS_ARG_INT) /* AF_UNSPEC: disconnect, not in the API */
        return fail_res(res, L_EOPNOTSUPP);
    ts_addr to = { t->cfg.remote_ip, t->cfg.connect_port };
    int r = ts_connect(t->stack, f->sk, &to);
    if (!k->started && r == TS_EINPROGRESS) {
        k->started = 1;
        return f->nonblock ? fail_res(res, r) : 0;
    }
    if (k->started && r == TS_EALREADY)
        return 0;
    return r < 0 ? fail_res(res, r) : ok_res(res, 0);
}

/* close: with SO_LINGER {1, N} on a blocking socket, Linux's close()
 * sends the FIN and sleeps (sk_stream_wait_close) while the socket is in
 * FIN_WAIT_1, CLOSING or LAST_ACK, at most N seconds, then lets it go on
 * as an orphan. ts_close never blocks, so the target does the wait: the
 * FIN first (shutdown both ways, as __tcp_close marks the socket), the
 * close when the wait ends (tests/pkt/fin_wait_1_linger_*.pkt). Unread
 * data or a zero linger time close at once (RST), as in Linux. */
static int call_close(ts_target *t, tt_fd *f, tt_call *k, ts_call_result *res)
{
    ts_linger lg;
    size_t len = sizeof lg;
    ts_info i;
    if (!f->nonblock && ts_getsockopt(t->stack, f->sk, TS_SOL_SOCKET, TS_SO_LINGER, &lg, &len) == 0 &&
        lg.l_onoff && lg.l_linger > 0 && ts_recv_pending(t->stack, f->sk) == 0 &&
        ts_sock_info(t->stack, f->sk, &i) == 0) {
        if (!k->started) {
            k->started = 1;
            k->deadline = t->now + (uint64_t)lg.l_linger * 1000000u;
            if (i.state == TS_ESTABLISHED || i.state == TS_SYN_RECV || i.state == TS_CLOSE_WAIT) {
                ts_shutdown(t->stack, f->sk, TS_SHUT_RDWR);
                ts_sock_info(t->stack, f->sk, &i);
            }
        }
        if ((i.state == TS_FIN_WAIT1 || i.state == TS_CLOSING || i.state == TS_LAST_ACK) &&
            t->now < k->deadline)
            return 0; /* still lingering */
    }
    int r = ts_close(t->stack, f->sk);
    f->used = 0;
    return r < 0 ? fail_res(res, r) : ok_res(res, 0);
}

/* read/recv: the data is discarded (payloads are zeros anyway). */
static int call_recv(ts_target *t, tt_fd *f, tt_call *k, ts_call_result *res)
{
    long long n = arg_i(&k->c, 2), flags = strcmp(k->c.name, "recv") == 0 ? arg_i(&k->c, 3) : 0;
    int may_block = !f->nonblock && !(flags & L_MSG_DONTWAIT);
    if (flags & L_MSG_OOB)
        return fail_res(res, L_EINVAL);
    if (n < 0 || n > (long long)TT_IO_MAX)
        return fail_res(res, n < 0 ? L_EINVAL : L_ENOMEM);
    if ((flags & L_MSG_PEEK) && ts_recv_pending(t->stack, f->sk) > 0) {
        long p = ts_recv_pending(t->stack, f->sk);
        return ok_res(res, p < n ? p : n);
    }
    long r = ts_recv(t->stack, f->sk, NULL, (size_t)(n - k->moved));
    if (r > 0 && (flags & L_MSG_WAITALL) && may_block && k->moved + r < n) {
        k->moved += r;
        return 0;
    }
    if (r == TS_EAGAIN && may_block)
        return 0;
    if (r < 0)
        return k->moved ? ok_res(res, k->moved) : fail_res(res, (int)r);
    return ok_res(res, k->moved + r);
}

/* write/send: n zero bytes; a blocking socket waits until all are queued. */
static int call_send(ts_target *t, tt_fd *f, tt_call *k, ts_call_result *res)
{
    long long n = arg_i(&k->c, 2), flags = strcmp(k->c.name, "send") == 0 ? arg_i(&k->c, 3) : 0;
    int may_block = !f->nonblock && !(flags & L_MSG_DONTWAIT);
    if (n < 0 || n > (long long)TT_IO_MAX)
        return fail_res(res, n < 0 ? L_EINVAL : L_ENOMEM);
    if (k->c.args[1].kind == TS_ARG_NULL && n > 0)
        return fail_res(res, L_EFAULT);
    if ((size_t)n > t->nzeros) {
        uint8_t *z = calloc(1, (size_t)n);
        if (!z)
            return fail_res(res, L_ENOMEM);
        free(t->zeros);
        t->zeros = z;
        t->nzeros = (size_t)n;
    }
    long r = ts_send(t->stack, f->sk, t->zeros, (size_t)(n - k->moved));
    if (r > 0)
        k->moved += r;
    if (k->moved == n && r >= 0)
        return ok_res(res, n);
    if ((r == TS_EAGAIN || r >= 0) && may_block)
        return 0;
    if (k->moved > 0)
        return ok_res(res, k->moved);
    return fail_res(res, r < 0 ? (int)r : TS_EAGAIN);
}

static int call_sockopt(ts_target *t, tt_fd *f, const ts_call *c, ts_call_result *res)
{
    int level = (int)arg_i(c, 1), opt = (int)arg_i(c, 2), iv = (int)c->args[3].i, r;
    if (strcmp(c->name, "getsockopt") == 0) {
        long long want = arg_i(c, 4);
        size_t len = want < 0 ? 0 : want > (long long)sizeof res->val ? sizeof res->val
                                                                       : (size_t)want;
        r = ts_getsockopt(t->stack, f->sk, level, opt, res->val, &len);
        res->vallen = len;
        return r < 0 ? fail_res(res, r) : ok_res(res, 0);
    }
    ts_linger lg = { c->args[3].onoff, c->args[3].linger };
    const void *p = &iv;
    if (c->args[3].kind == TS_ARG_LINGER)
        p = &lg;
    else if (c->args[3].kind == TS_ARG_STRING)
        p = c->args[3].str;
    r = ts_setsockopt(t->stack, f->sk, level, opt, p, (size_t)arg_i(c, 4));
    return r < 0 ? fail_res(res, r) : ok_res(res, 0);
}

static int call_fcntl(tt_fd *f, const ts_call *c, ts_call_result *res)
{
    switch (arg_i(c, 1)) {
    case L_F_GETFL: return ok_res(res, L_O_RDWR | (f->nonblock ? L_O_NONBLOCK : 0));
    case L_F_SETFL: f->nonblock = (arg_i(c, 2) & L_O_NONBLOCK) != 0; return ok_res(res, 0);
    case L_F_GETFD: return ok_res(res, 0);
    case L_F_SETFD: return ok_res(res, 0);
    }
    return fail_res(res, L_EINVAL);
}

/* poll() blocks whatever O_NONBLOCK says, until something is ready or its
 * timeout (from the call's start) runs out. */
static int call_poll(ts_target *t, tt_call *k, ts_call_result *res)
{
    const ts_call_arg *a = &k->c.args[0];
    unsigned always = TS_POLLERR | TS_POLLHUP | TS_POLLNVAL;
    long long ready = 0, timeout = arg_i(&k->c, 2);
    for (int i = 0; i < a->npoll && i < TS_POLL_MAX; i++) {
        tt_fd *f = fd_get(t, a->poll[i].fd);
        unsigned ev = a->poll[i].fd < 0 ? 0 : !f ? TS_POLLNVAL : ts_poll(t->stack, f->sk);
        res->revents[i] = (short)(ev & ((unsigned)(unsigned short)a->poll[i].events | always));
        ready += res->revents[i] != 0;
    }
    if (ready || timeout == 0 || (k->deadline != TT_NEVER && t->now >= k->deadline))
        return ok_res(res, ready);
    if (k->deadline == TT_NEVER && timeout > 0 && !k->started)
        k->deadline = t->now + (uint64_t)timeout * 1000;
    k->started = 1;
    return 0;
}

/* One try at a call: 1 when it returned (res filled), 0 when it blocks. */
static int attempt(ts_target *t, tt_call *k, ts_call_result *res)
{
    const ts_call *c = &k->c;
    const char *n = c->name;
    if (strcmp(n, "socket") == 0)
        return call_socket(t, c, res);
    if (strcmp(n, "poll") == 0)
        return call_poll(t, k, res);
    tt_fd *f = fd_get(t, arg_i(c, 0));
    if (!f)
        return fail_res(res, L_EBADF);
    if (strcmp(n, "bind") == 0) {
        ts_addr a = { t->cfg.local_ip, t->cfg.bind_port };
        int r = ts_bind(t->stack, f->sk, &a);
        return r < 0 ? fail_res(res, r) : ok_res(res, 0);
    }
    if (strcmp(n, "listen") == 0) {
        int r = ts_listen(t->stack, f->sk, (int)arg_i(c, 1));
        return r < 0 ? fail_res(res, r) : ok_res(res, 0);
    }
    if (strcmp(n, "accept") == 0)
        return call_accept(t, f, res);
    if (strcmp(n, "connect") == 0)
        return call_connect(t, f, k, res);
    if (strcmp(n, "read") == 0 || strcmp(n, "recv") == 0)
        return call_recv(t, f, k, res);
    if (strcmp(n, "write") == 0 || strcmp(n, "send") == 0)
        return call_send(t, f, k, res);
    if (strcmp(n, "shutdown") == 0) {
        int r = ts_shutdown(t->stack, f->sk, (int)arg_i(c, 1));
        return r < 0 ? fail_res(res, r) : ok_res(res, 0);
    }
    if (strcmp(n, "close") == 0)
        return call_close(t, f, k, res);
    if (strcmp(n, "setsockopt") == 0 || strcmp(n, "getsockopt") == 0)
        return call_sockopt(t, f, c, res);
    if (strcmp(n, "fcntl") == 0)
        return call_fcntl(f, c, res);
    return fail_res(res, L_EOPNOTSUPP);
}

/* A call that would block but was not written S...E: time runs through
 * the stack's timers until it returns; 0 when no timer is left. */
static int stall(ts_target *t, tt_call *k, ts_call_result *res)
{
    int stuck = 0;
    for (long steps = 0; steps < TT_STEPS_MAX; steps++) {
        uint64_t d = next_deadline(t, k);
        if (d == TT_NEVER)
            return 0;
        step_to(t, d);
        memset(res, 0, sizeof *res);
        if (attempt(t, k, res)) {
            drain(t);
            res->t_end = t->now;
            return 1;
        }
        if (next_deadline(t, k) <= t->now && ++stuck > 100)
            return 0;
    }
    return 0;
}

static int tt_start_call(ts_target *t, const ts_call *c, ts_call_result *res)
{
    tt_call k;
    memset(&k, 0, sizeof k);
    k.c = *c;
    k.deadline = TT_NEVER;
    memset(res, 0, sizeof *res);
    int done = attempt(t, &k, res);
    after_event(t);
    if (done) {
        res->t_end = t->now;
        return 1;
    }
    if (!c->blocking || t->pending)
        return stall(t, &k, res);
    t->pending = 1;
    t->pend_done = 0;
    t->pend = k;
    return 0;
}

static int tt_poll_call(ts_target *t, ts_call_result *res)
{
    if (!t->pending || !t->pend_done)
        return 0;
    *res = t->pend_res;
    t->pending = t->pend_done = 0;
    return 1;
}

const ts_target_ops ts_target_tcpstate = {
    .name = "tcpstate",
    .open = tt_open,
    .close = tt_close,
    .sysctl = tt_sysctl,
    .now = tt_now,
    .wait_until = tt_wait_until,
    .inject = tt_inject,
    .receive = tt_receive,
    .start_call = tt_start_call,
    .poll_call = tt_poll_call,
};
