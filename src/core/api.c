/*
 * api.c — the socket calls. Each takes its answer in each state from the
 * (state x call) table at the top of state.c, after reporting a pending
 * error first (Linux's sock_error: once), and ends with ts_sync() and the
 * delivery of queued hooks.
 *
 * Every call validates its handle ({index, generation}: a stale one gives
 * TS_EBADF) and its arguments, and returns TS_EBUSY from inside a hook.
 */
#include "internal.h"

#define API_ENTER(s, h, c)                                 \
    ts_conn *c;                                            \
    if (!(s))                                              \
        return TS_EINVAL;                                  \
    if ((s)->in_hook)                                      \
        return TS_EBUSY;                                   \
    c = ts_conn_from_handle((s), (h));                     \
    if (!c)                                                \
        return TS_EBADF

/* Finishes a call: sync the connection, deliver hooks, return rc. */
static long api_done(ts_stack *s, ts_conn *c, long rc)
{
    if (c)
        ts_sync(s, &c->c);
    ts_ev_flush(s);
    return rc;
}

/* Linux sock_error(): the pending error, once. */
static int take_err(ts_conn *c)
{
    int e = c->err;
    c->err = 0;
    if (e)
        c->flags |= TS_CF_RST_REPORTED;
    return e;
}

int ts_socket(ts_stack *s, ts_sock *out)
{
    ts_conn *c;
    if (!s || !out)
        return TS_EINVAL;
    if (s->in_hook)
        return TS_EBUSY;
    c = ts_conn_alloc(s);
    if (!c)
        return TS_ENOMEM;
    if (ts_handle_new(s, c)) {
        ts_conn_free(s, c);
        return TS_ENOMEM;
    }
    *out = c->handle;
    return 0;
}

/* ------------------------------------------------------------- ports */

static int bind_conflict(ts_stack *s, uint16_t port, int reuse)
{
    ts_port *p = ts_port_find(s, port);
    if (!p)
        return 0;
    if (p->n_listen)
        return 1;
    if (p->n_noreuse || (!reuse && (p->n_conn || p->n_auto)))
        return 1;
    if (p->n_tw && !reuse)
        return 1;
    return 0;
}

static int ephemeral_bind(ts_stack *s, ts_conn *c)
{
    uint32_t lo = (uint32_t)s->cfg.ip_local_port_range[0];
    uint32_t n = (uint32_t)s->cfg.ip_local_port_range[1] - lo + 1;
    uint32_t off = s->hooks.port_offset ? s->hooks.port_offset(s->user, &c->c.tuple) : 0;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(lo + (off + s->port_rover + i) % n);
        if (!ts_port_find(s, port)) {
            s->port_rover += i + 1;
            return ts_conn_bind_port(s, c, port, TS_PK_CONN);
        }
    }
    return TS_EADDRINUSE;
}

int ts_bind(ts_stack *s, ts_sock h, const ts_addr *local)
{
    int rc;
    API_ENTER(s, h, c);
    if (!local)
        return TS_EINVAL;
    if ((c->flags & TS_CF_BOUND) || c->c.state != TS_CLOSE)
        return TS_EINVAL;
    if (local->ip && !ts_addr_is_local(s, local->ip))
        return TS_EADDRNOTAVAIL;
    c->c.tuple.local.ip = local->ip;
    if (local->port == 0) {
        rc = ephemeral_bind(s, c);
    } else {
        if (bind_conflict(s, local->port, !!(c->flags & TS_CF_REUSEADDR)))
            return TS_EADDRINUSE;
        rc = ts_conn_bind_port(s, c, local->port, TS_PK_CONN);
    }
    if (rc == 0)
        c->flags |= TS_CF_PORT_EXPLICIT;
    return (int)api_done(s, c, rc);
}

int ts_listen(ts_stack *s, ts_sock h, int backlog)
{
    int rc;
    API_ENTER(s, h, c);
    if (backlog < 0 || backlog > s->cfg.somaxconn)
        backlog = s->cfg.somaxconn; /* Linux caps at somaxconn */
    if (c->c.state == TS_LISTEN) {
        c->backlog = backlog; /* listen() again changes the backlog */
        return (int)api_done(s, c, 0);
    }
    if (c->c.state != TS_CLOSE || c->connect_state != TS_CS_NONE)
        return TS_EINVAL;
    if (!(c->flags & TS_CF_BOUND)) {
        rc = ephemeral_bind(s, c);
        if (rc)
            return rc;
    }
    if (ts_listen_lookup(s, c->c.tuple.local.ip, c->c.tuple.local.port) &&
        ts_listen_lookup(s, c->c.tuple.local.ip, c->c.tuple.local.port)->c.tuple.local.ip ==
            c->c.tuple.local.ip)
        return TS_EADDRINUSE;
    /* the port is now held by a listener */
    ts_conn_unbind(s, c);
    rc = ts_conn_bind_port(s, c, c->c.tuple.local.port, TS_PK_LISTEN);
    if (rc)
        return rc;
    c->backlog = backlog;
    ts_set_state(s, &c->c, TS_LISTEN, TS_CAUSE_APP_LISTEN);
    ts_listen_insert(s, c);
    return (int)api_done(s, c, 0);
}

/* ------------------------------------------------------------- connect */

/* Linux tcp_twsk_unique(): may connect() take over a TIME_WAIT 4-tuple?
 * A bound port (twp == NULL in Linux) takes it whenever timestamps were in
 * use; a port being searched needs tcp_tw_reuse (2: loopback only) and a
 * last timestamp older than tcp_tw_reuse_delay. */
static int tw_reusable(ts_stack *s, const ts_tw *tw, int bound)
{
    int reuse = s->cfg.tcp_tw_reuse;
    uint32_t now_ms = (uint32_t)(s->now / TS_MS) + 1;
    if (reuse == 2)
        reuse = (tw->c.tuple.local.ip >> 24) == 127 && (tw->c.tuple.remote.ip >> 24) == 127;
    if (!tw->ts_recent_stamp_ms)
        return 0;
    if (bound)
        return 1;
    return reuse && (int32_t)(now_ms - (tw->ts_recent_stamp_ms + (uint32_t)s->cfg.tcp_tw_reuse_delay)) > 0;
}

/* 0: the 4-tuple is free (a reusable TIME_WAIT is taken over, *isn set). */
static int tuple_free(ts_stack *s, const ts_tuple *t, int bound, uint32_t *isn, int *have_isn,
                      ts_tw **tw_out)
{
    ts_skc *k = ts_hash_lookup(s, t->local.ip, t->local.port, t->remote.ip, t->remote.port);
    if (!k)
        return 0;
    if (k->kind == TS_K_TW && k->state == TS_TIME_WAIT && tw_reusable(s, (ts_tw *)k, bound)) {
        ts_tw *tw = (ts_tw *)k;
        uint32_t n = tw->snd_nxt + 65535 + 2;
        *isn = n ? n : 1;
        *have_isn = 1;
        *tw_out = tw;
        return 0;
    }
    return TS_EADDRNOTAVAIL;
}

static int pick_tuple(ts_stack *s, ts_conn *c, uint32_t *isn, int *have_isn, ts_tw **tw)
{
    uint32_t lo, n, off;
    if (!c->c.tuple.local.ip) {
        if (!s->naddrs)
            return TS_EADDRNOTAVAIL;
        c->c.tuple.local.ip = s->addrs[0];
    }
    if (c->flags & TS_CF_BOUND)
        return tuple_free(s, &c->c.tuple, 1, isn, have_isn, tw);
    lo = (uint32_t)s->cfg.ip_local_port_range[0];
    n = (uint32_t)s->cfg.ip_local_port_range[1] - lo + 1;
    off = s->hooks.port_offset ? s->hooks.port_offset(s->user, &c->c.tuple) : 0;
    /* RFC 6056 algorithm 3 shape: a keyed offset, then a linear search */
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(lo + (off + s->port_rover + i) % n);
        ts_port *p = ts_port_find(s, port);
        if (p && (p->n_listen || p->n_conn))
            continue; /* explicitly bound: not for connect */
        c->c.tuple.local.port = port;
        *tw = NULL;
        *have_isn = 0;
        if (tuple_free(s, &c->c.tuple, 0, isn, have_isn, tw) == 0) {
            s->port_rover += i + 1;
            return ts_conn_bind_port(s, c, port, TS_PK_AUTO);
        }
    }
    c->c.tuple.local.port = 0;
    return TS_EADDRNOTAVAIL;
}

static void start_syn(ts_stack *s, ts_conn *c, int cause)
{
    c->flags |= TS_CF_NEED_SYN;
    c->send_timer = TS_ST_SYN;
    c->rto_us = TS_RTO_INIT_US;
    /* the SYN timer and retrans_stamp start when the SYN leaves (output.c):
     * a driver may pull it later than connect() */
    c->t_send = TS_NEVER;
    c->retrans_stamp = 0;
    c->connect_state = TS_CS_CONNECTING;
    ts_set_state(s, &c->c, TS_SYN_SENT, cause);
}

static int connect_start(ts_stack *s, ts_conn *c, const ts_addr *remote)
{
    uint32_t isn = 0;
    int have_isn = 0, rc, was_listen = c->c.state == TS_LISTEN;
    ts_tw *tw = NULL;
    if (was_listen) {
        /* RFC 9293 §3.10.1: a passive socket may turn active (Linux says
         * EISCONN). The listener stops listening and keeps its port. */
        ts_reset_listener_reqs(s, c);
        ts_listen_remove(s, c);
        ts_conn_unbind(s, c);
        ts_conn_bind_port(s, c, c->c.tuple.local.port, TS_PK_CONN);
        c->flags |= TS_CF_WAS_LISTEN;
    }
    c->c.tuple.remote = *remote;
    rc = pick_tuple(s, c, &isn, &have_isn, &tw);
    if (rc) {
        memset(&c->c.tuple.remote, 0, sizeof c->c.tuple.remote);
        return rc;
    }
    c->ts_recent = 0;
    c->ts_recent_stamp = 0;
    if (tw) {
        TS_MIB_INC(s, TS_MIB_TWRecycled);
        /* tcp_twsk_unique hands the entry's ts_recent on (a stamp of 0
         * would read as none: at least 1 us) */
        c->ts_recent = tw->ts_recent;
        c->ts_recent_stamp = TS_MAX((uint64_t)(tw->ts_recent_stamp_ms - 1) * TS_MS, 1);
        ts_set_state(s, &tw->c, TS_CLOSE, TS_CAUSE_TW_REUSE);
        ts_tw_free(s, tw);
    }
    if (!have_isn)
        isn = s->hooks.isn ? s->hooks.isn(s->user, &c->c.tuple, s->now) : 0;
    c->iss = isn;
    c->snd_una = c->snd_nxt = c->snd_max = c->snd_sml = isn;
    c->ts_off = s->hooks.ts_offset ? s->hooks.ts_offset(s->user, &c->c.tuple) : 0;
    c->rcv_wscale = ts_initial_wscale(s);
    c->flags &= ~(TS_CF_FIN_SENT | TS_CF_FIN_RCVD | TS_CF_SHUT_WR | TS_CF_SHUT_RD |
                  TS_CF_RST_REPORTED);
    c->end_err = 0;
    c->err = 0;
    ts_conn_set_mss(s, c, 536);
    ts_hash_insert(s, &c->c);
    start_syn(s, c, TS_CAUSE_APP_CONNECT);
    return TS_EINPROGRESS;
}

int ts_connect(ts_stack *s, ts_sock h, const ts_addr *remote)
{
    int st;
    API_ENTER(s, h, c);
    if (!remote || !remote->ip || !remote->port)
        return TS_EINVAL;
    st = c->c.state;
    switch (c->connect_state) {
    case TS_CS_CONNECTED:
        return TS_EISCONN;
    case TS_CS_CONNECTING:
        if (st == TS_SYN_SENT || st == TS_SYN_RECV)
            return TS_EALREADY;
        /* fall through */
    case TS_CS_JUST_DONE:
    case TS_CS_FAILED:
    case TS_CS_FAILED_REPORTED:
        if (st == TS_CLOSE) {
            int e = take_err(c);
            c->connect_state = TS_CS_NONE;
            /* Linux __inet_stream_connect's sock_error path disconnects:
             * tcp_disconnect purges what was never read, so a new
             * connect() or listen() starts clean */
            ts_bq_free(s, &c->rcvq);
            return (int)api_done(s, c, e ? e : TS_ECONNABORTED);
        }
        c->connect_state = TS_CS_CONNECTED;
        return (int)api_done(s, c, 0);
    case TS_CS_NONE:
    default:
        break;
    }
    if (st == TS_LISTEN)
        return (int)api_done(s, c, connect_start(s, c, remote));
    if (st != TS_CLOSE || (c->flags & TS_CF_PASSIVE))
        return TS_EISCONN;
    return (int)api_done(s, c, connect_start(s, c, remote));
}

int ts_accept(ts_stack *s, ts_sock lh, ts_sock *out, ts_addr *peer)
{
    ts_conn *child;
    API_ENTER(s, lh, l);
    if (!out)
        return TS_EINVAL;
    if (l->c.state != TS_LISTEN)
        return TS_EINVAL;
    child = l->acc_head;
    if (!child)
        return TS_EAGAIN;
    if (ts_handle_new(s, child))
        return TS_ENOMEM;
    l->acc_head = child->acc_next;
    if (!l->acc_head)
        l->acc_tail = NULL;
    l->acc_len--;
    child->acc_next = NULL;
    child->listener = NULL;
    child->flags |= TS_CF_ACCEPTED;
    child->connect_state = TS_CS_CONNECTED;
    *out = child->handle;
    if (peer)
        *peer = child->c.tuple.remote;
    ts_sync(s, &child->c);
    return (int)api_done(s, l, 0);
}

/* ------------------------------------------------------------- data */

long ts_send(ts_stack *s, ts_sock h, const void *buf, size_t len)
{
    uint32_t n;
    int st;
    API_ENTER(s, h, c);
    if (!buf && len)
        return TS_EINVAL;
    st = c->c.state;
    /* tcp_sendmsg: wait for the handshake, then the error, then shutdown */
    if (st != TS_ESTABLISHED && st != TS_CLOSE_WAIT) {
        if (c->err)
            return api_done(s, c, take_err(c));
        if (st == TS_SYN_SENT || st == TS_SYN_RECV)
            return TS_EAGAIN;
        return api_done(s, c, TS_EPIPE);
    }
    if (c->err)
        return api_done(s, c, take_err(c));
    if (c->flags & TS_CF_SHUT_WR)
        return TS_EPIPE;
    if (len == 0)
        return 0;
    if (c->sndq.len >= c->sndbuf)
        return TS_EAGAIN;
    if (len > 0x7fffffff)
        len = 0x7fffffff;
    n = ts_bq_append(s, &c->sndq, buf, (uint32_t)len, c->sndbuf);
    if (n == 0)
        return TS_ENOMEM;
    return api_done(s, c, (long)n);
}

/* Reading frees room: a window that would at least double gets an update
 * now (Linux tcp_cleanup_rbuf: only while what is still offered is at
 * most half the full space, the new window as output.c would choose it). */
static void maybe_window_update(ts_stack *s, ts_conn *c)
{
    uint32_t adv = c->rcv_wup + c->rcv_wnd - c->rcv_nxt, nw;
    (void)s;
    if ((int32_t)adv < 0)
        adv = 0;
    if (c->c.state == TS_CLOSE || (c->flags & TS_CF_FIN_RCVD) ||
        2 * (uint64_t)adv > ts_conn_rcv_full_space(c))
        return;
    nw = ts_conn_select_window(c);
    if (nw && nw >= 2 * (uint64_t)adv)
        c->flags |= TS_CF_NEED_ACK;
}

long ts_recv(ts_stack *s, ts_sock h, void *buf, size_t len)
{
    uint32_t n;
    API_ENTER(s, h, c);
    if (c->c.state == TS_LISTEN)
        return TS_ENOTCONN;
    if (c->rcvq.len && len) {
        n = (uint32_t)TS_MIN((size_t)c->rcvq.len, len);
        ts_bq_peek(&c->rcvq, 0, buf, n);
        ts_bq_consume(s, &c->rcvq, n);
        maybe_window_update(s, c);
        return api_done(s, c, (long)n);
    }
    if (!len)
        return 0;
    /* tcp_recvmsg: done -> 0; error once; shutdown -> 0; never connected */
    if (c->flags & TS_CF_FIN_RCVD)
        return 0;
    if (c->err)
        return api_done(s, c, take_err(c));
    if (c->flags & TS_CF_SHUT_RD)
        return 0;
    /* CLOSED: 0 after the connection ended (tcp_done shut it down), but
     * ENOTCONN once a connect() or shutdown() disconnected it again
     * (tcp_disconnect clears the shutdown: connect_state is back to NONE),
     * as on a socket never connected (tests/pkt/syn_sent_shutdown.pkt,
     * syn_sent_rst_refused_nonblocking.pkt) */
    if (c->c.state == TS_CLOSE)
        return c->connect_state == TS_CS_NONE ? TS_ENOTCONN : 0;
    return TS_EAGAIN;
}

long ts_recv_pending(ts_stack *s, ts_sock h)
{
    API_ENTER(s, h, c);
    return (long)c->rcvq.len;
}

/* ------------------------------------------------------------- closing */

/* Linux tcp_close_state(): where a close or shutdown(SHUT_WR) leads, and
 * whether a FIN goes out. */
int ts_close_state(ts_stack *s, ts_conn *c, int cause)
{
    c->flags &= ~TS_CF_SHUT_WR_DEFER;
    switch ((enum ts_state)c->c.state) {
    case TS_ESTABLISHED:
    case TS_SYN_RECV:
        c->flags |= TS_CF_SHUT_WR;
        ts_set_state(s, &c->c, TS_FIN_WAIT1, cause);
        break;
    case TS_CLOSE_WAIT:
        c->flags |= TS_CF_SHUT_WR;
        ts_set_state(s, &c->c, TS_LAST_ACK, cause);
        break;
    case TS_SYN_SENT:
        ts_conn_done(s, c, 0, cause);
        return 0;
    case TS_FIN_WAIT1:
    case TS_FIN_WAIT2:
    case TS_CLOSING:
    case TS_LAST_ACK:
    case TS_TIME_WAIT:
    case TS_CLOSE:
    case TS_LISTEN:
    case TS_NEW_SYN_RECV:
    case TS_STATE_MAX:
        break;
    }
    /* the FIN's timer: RTO from now if nothing else is outstanding */
    if (c->flags & TS_CF_SHUT_WR && c->snd_una == c->snd_max && c->send_timer != TS_ST_RTO)
        ts_rearm_rto(s, c);
    return 1;
}

int ts_shutdown(ts_stack *s, ts_sock h, int how)
{
    int st;
    API_ENTER(s, h, c);
    if (how < TS_SHUT_RD || how > TS_SHUT_RDWR)
        return TS_EINVAL;
    st = c->c.state;
    if (st == TS_CLOSE) {
        if (how != TS_SHUT_WR)
            c->flags |= TS_CF_SHUT_RD;
        if (how != TS_SHUT_RD)
            c->flags |= TS_CF_SHUT_WR;
        return (int)api_done(s, c, TS_ENOTCONN);
    }
    if (st == TS_LISTEN) {
        if (how == TS_SHUT_WR)
            return 0;
        /* inet_shutdown: SHUT_RD on a listener disconnects it */
        ts_reset_listener_reqs(s, c);
        ts_listen_remove(s, c);
        ts_set_state(s, &c->c, TS_CLOSE, TS_CAUSE_APP_SHUTDOWN);
        ts_conn_unbind(s, c);
        return (int)api_done(s, c, 0);
    }
    if (st == TS_SYN_SENT) {
        /* inet_shutdown disconnects a connecting socket, nothing sent;
         * tcp_disconnect leaves ECONNRESET in SO_ERROR
         * (tests/pkt/syn_sent_shutdown.pkt) */
        ts_conn_done(s, c, 0, TS_CAUSE_APP_SHUTDOWN);
        c->err = TS_ECONNRESET;
        c->connect_state = TS_CS_NONE;
        return (int)api_done(s, c, 0);
    }
    if (how != TS_SHUT_WR)
        c->flags |= TS_CF_SHUT_RD;
    if (how != TS_SHUT_RD && !(c->flags & TS_CF_SHUT_WR)) {
        /* Linux 6.18 (measured) leaves a simultaneous-open
         * SYN_RECEIVED socket as it is and sends the FIN when the handshake
         * completes (tcp_rcv_state_process), so SYN_RECEIVED -> ESTABLISHED
         * -> FIN_WAIT_1 (tests/pkt/syn_recv_simopen_shutdown_deferred.pkt) */
        if (st == TS_SYN_RECV)
            c->flags |= TS_CF_SHUT_WR_DEFER;
        else
            ts_close_state(s, c, TS_CAUSE_APP_SHUTDOWN);
    }
    return (int)api_done(s, c, 0);
}

/* Linux's __tcp_close: unread data or SO_LINGER {1, 0} aborts with RST;
 * otherwise the normal close; then the socket becomes an orphan. */
static void close_conn(ts_stack *s, ts_conn *c)
{
    int st = c->c.state;
    /* no application owns it from here on (Linux sock_orphan): whatever
     * ends it below frees it */
    c->flags |= TS_CF_SHUT_RD | TS_CF_ORPHAN;
    ts_conn_orphan_account(s, c, +1);
    if (c->rcvq.len) {
        TS_MIB_INC(s, TS_MIB_TCPAbortOnClose);
        if (st != TS_SYN_SENT)
            ts_conn_send_rst(s, c);
        ts_conn_done(s, c, 0, TS_CAUSE_APP_ABORT);
        return;
    }
    if (c->linger_onoff && c->linger_secs == 0) {
        /* Linux counts a zero-linger close as TCPAbortOnData */
        TS_MIB_INC(s, TS_MIB_TCPAbortOnData);
        if (st == TS_ESTABLISHED || st == TS_CLOSE_WAIT || st == TS_FIN_WAIT1 ||
            st == TS_FIN_WAIT2 || st == TS_SYN_RECV)
            ts_conn_send_rst(s, c);
        ts_conn_done(s, c, 0, st == TS_SYN_SENT ? TS_CAUSE_APP_CLOSE : TS_CAUSE_APP_ABORT);
        return;
    }
    if (!(c->flags & TS_CF_SHUT_WR) || st == TS_SYN_SENT)
        if (!ts_close_state(s, c, TS_CAUSE_APP_CLOSE))
            return; /* closed and freed */
    if (c->c.state == TS_FIN_WAIT2) {
        if (c->linger2 < 0) {
            TS_MIB_INC(s, TS_MIB_TCPAbortOnLinger);
            ts_conn_send_rst(s, c);
            ts_conn_done(s, c, 0, TS_CAUSE_ORPHAN_LIMIT);
            return;
        } else {
            uint64_t tmo = ts_fin_time_us(s, c);
            uint64_t twlen = (uint64_t)s->cfg.tcpstate_timewait_len_ms * TS_MS;
            if (tmo > twlen) {
                c->life_timer = TS_LT_FIN_WAIT2;
                c->t_life = ts_time_add(s->now, tmo - twlen);
            } else {
                ts_tw_enter(s, c, TS_FIN_WAIT2, TS_CAUSE_APP_CLOSE, tmo);
                return;
            }
        }
    }
    if (s->n_orphans > (uint32_t)s->cfg.tcp_max_orphans) {
        /* tcp_check_oom at close: reset and free (TCPAbortOnMemory),
         * after the FIN close() just queued has left */
        TS_MIB_INC(s, TS_MIB_TCPAbortOnMemory);
        ts_conn_send_fin_now(s, c);
        ts_conn_send_rst(s, c);
        ts_conn_done(s, c, 0, TS_CAUSE_ORPHAN_LIMIT);
        return;
    }
    ts_sync(s, &c->c);
}

int ts_close(ts_stack *s, ts_sock h)
{
    int st;
    API_ENTER(s, h, c);
    st = c->c.state;
    ts_handle_release(s, c);
    if (st == TS_LISTEN) {
        ts_reset_listener_reqs(s, c);
        ts_listen_remove(s, c);
        ts_set_state(s, &c->c, TS_CLOSE, TS_CAUSE_APP_CLOSE);
        ts_conn_free(s, c);
    } else if (st == TS_CLOSE) {
        ts_conn_free(s, c);
    } else {
        close_conn(s, c);
    }
    ts_ev_flush(s);
    return 0;
}

unsigned ts_poll(ts_stack *s, ts_sock h)
{
    ts_conn *c = ts_conn_from_handle(s, h);
    if (!c)
        return TS_POLLNVAL;
    return ts_conn_poll(s, c);
}

int ts_sock_info(ts_stack *s, ts_sock h, ts_info *o)
{
    ts_conn *c = ts_conn_from_handle(s, h);
    if (!c)
        return TS_EBADF;
    if (!o)
        return TS_EINVAL;
    memset(o, 0, sizeof *o);
    o->state = ts_state_public(c->c.state);
    o->conn_id = c->c.conn_id;
    o->tuple = c->c.tuple;
    o->orphan = !!(c->flags & TS_CF_ORPHAN);
    o->iss = c->iss;
    o->irs = c->irs;
    o->snd_una = c->snd_una;
    o->snd_nxt = c->snd_nxt;
    o->snd_wnd = c->snd_wnd;
    o->rcv_nxt = c->rcv_nxt;
    o->rcv_wnd = c->rcv_wnd;
    o->mss = c->mss;
    o->rto_us = c->rto_us;
    o->srtt_us = c->srtt_us >> 3;
    o->rttvar_us = c->rttvar_us;
    o->retransmits = c->retransmits;
    o->backoff = c->backoff;
    o->probes = c->probes_out;
    o->cwnd = c->cwnd;
    o->ssthresh = c->ssthresh;
    o->snd_queued = c->sndq.len;
    o->rcv_queued = c->rcvq.len;
    o->wscale_ok = !!(c->flags & TS_CF_WS_OK);
    o->ts_ok = !!(c->flags & TS_CF_TS_OK);
    o->sack_ok = !!(c->flags & TS_CF_SACK_OK);
    o->snd_wscale = c->snd_wscale;
    o->rcv_wscale = c->rcv_wscale;
    o->error = c->err;
    return 0;
}
