/*
 * conn.c — life of a full connection: allocation, the end of a connection
 * (ts_conn_done), RTT/RTO bookkeeping, readiness, and ts_sync(), the one
 * function that runs after every event on a connection.
 *
 * ts_sync(k) is rule 4 of the design: it re-keys the heap entry to the
 * minimum of the timer slots, puts the object on the output FIFO when it has
 * something to send, reports readiness changes, and in check builds runs
 * ts_conn_check(). Every input, expiry and API call ends with it.
 *
 * Cost: an idle ESTABLISHED connection is sizeof(ts_conn) bytes (no buffer
 * memory: byte queues hold chunks only while they hold data).
 */
#include "internal.h"

#include <stdlib.h>

ts_conn *ts_conn_alloc(ts_stack *s)
{
    ts_conn *c = ts_alloc(s, sizeof *c);
    if (!c)
        return NULL;
    c->c.kind = TS_K_FULL;
    c->c.state = TS_CLOSE;
    c->c.deadline = TS_NEVER;
    c->c.conn_id = ts_new_conn_id(s);
    c->t_send = c->t_delack = c->t_life = TS_NEVER;
    c->rtt_time = TS_NEVER;
    c->rto_us = TS_RTO_INIT_US;
    c->sndbuf = (uint32_t)TS_MAX(s->cfg.tcp_wmem[1], 65536);
    c->rcvbuf = (uint32_t)s->cfg.tcp_rmem[1];
    c->mss = 536;
    s->n_conns++;
    return c;
}

/* Releases everything the connection holds except its handle. */
void ts_conn_free(ts_stack *s, ts_conn *c)
{
    if (c->c.state == TS_LISTEN)
        ts_listen_remove(s, c);
    ts_hash_remove(s, &c->c);
    ts_out_remove(s, &c->c);
    ts_heap_update(s, &c->c, TS_NEVER);
    ts_conn_unbind(s, c);
    if (c->flags & TS_CF_ORPHAN)
        ts_conn_orphan_account(s, c, -1);
    ts_bq_free(s, &c->sndq);
    ts_bq_free(s, &c->rcvq);
    ts_ooo_free(s, c);
    s->n_conns--;
    ts_dealloc(s, c, sizeof *c);
}

/* Removes a child from its listener's accept queue, if it is on it. */
static void unlink_from_listener(ts_stack *s, ts_conn *c)
{
    ts_conn *l = c->listener, **pp;
    (void)s;
    if (!l)
        return;
    pp = &l->acc_head;
    while (*pp && *pp != c)
        pp = &(*pp)->acc_next;
    if (*pp) {
        *pp = c->acc_next;
        if (l->acc_tail == c) {
            ts_conn *t = l->acc_head;
            while (t && t->acc_next)
                t = t->acc_next;
            l->acc_tail = t;
        }
        l->acc_len--;
    }
    c->acc_next = NULL;
    c->listener = NULL;
}

/* Takes the local port for the connection (kind TS_PK_*). */
int ts_conn_bind_port(ts_stack *s, ts_conn *c, uint16_t port, int kind)
{
    int rc = ts_port_get(s, port, kind, !!(c->flags & TS_CF_REUSEADDR));
    if (rc)
        return rc;
    c->c.tuple.local.port = port;
    c->port_kind = (uint8_t)kind;
    c->flags |= TS_CF_BOUND;
    return 0;
}

void ts_conn_unbind(ts_stack *s, ts_conn *c)
{
    if (!(c->flags & TS_CF_BOUND))
        return;
    ts_port_put(s, c->c.tuple.local.port, c->port_kind, !!(c->flags & TS_CF_REUSEADDR));
    c->flags &= ~TS_CF_BOUND;
}

/* Linux's tcp_set_state(TCP_CLOSE) releases a port that connect() picked
 * (inet_put_port unless SOCK_BINDPORT_LOCK); an explicit bind stays. */
static void release_auto_port(ts_stack *s, ts_conn *c)
{
    if (c->port_kind == TS_PK_AUTO)
        ts_conn_unbind(s, c);
}

/* Stops everything a finished full socket was doing and takes it out of
 * the hash; frees it if no application holds it (an orphan, or a child
 * nobody accepted: Linux frees that with the listener's queue entry),
 * else keeps it CLOSED for the calls. Shared by ts_conn_done and
 * ts_conn_detach. */
static void retire(ts_stack *s, ts_conn *c)
{
    c->t_send = c->t_delack = c->t_life = TS_NEVER;
    c->send_timer = TS_ST_NONE;
    c->life_timer = TS_LT_NONE;
    c->flags &= ~(TS_CF_NEED_ACK | TS_CF_NEED_SYN | TS_CF_NEED_PROBE | TS_CF_RETRANS);
    ts_hash_remove(s, &c->c);
    ts_out_remove(s, &c->c);
    ts_heap_update(s, &c->c, TS_NEVER);
    ts_bq_free(s, &c->sndq);
    ts_ooo_free(s, c);
    c->snd_nxt = c->snd_max = c->snd_una;
    if (c->listener && !(c->flags & TS_CF_ACCEPTED)) {
        unlink_from_listener(s, c);
        c->flags |= TS_CF_ORPHAN;
        ts_conn_orphan_account(s, c, +1);
    }
    if (c->flags & TS_CF_ORPHAN) {
        ts_conn_free(s, c);
        return;
    }
    release_auto_port(s, c);
    ts_sync(s, &c->c);
}

/*
 * The connection lives on in a minisocket (timewait.c): the full socket
 * ends without a transition of its own — the minisocket carries the conn id
 * and reports the rest. This and ts_set_state are the only writers of a
 * state; this one only ever writes CLOSED into a socket being retired.
 */
void ts_conn_detach(ts_stack *s, ts_conn *c)
{
    c->c.state = TS_CLOSE;
    retire(s, c);
}

void ts_conn_orphan_account(ts_stack *s, ts_conn *c, int delta)
{
    (void)c;
    if (delta > 0)
        s->n_orphans++;
    else if (s->n_orphans)
        s->n_orphans--;
}

/*
 * The connection is over (Linux's tcp_done): it moves to CLOSED with the
 * given cause, stops its timers and leaves the hash. If the application
 * still holds a handle, the object stays, CLOSED, remembering err for the
 * calls; otherwise (orphan, or a child nobody accepted) it is freed.
 * The caller has already queued any RST.
 */
void ts_conn_done(ts_stack *s, ts_conn *c, int err, int cause)
{
    if (c->c.state != TS_CLOSE)
        ts_set_state(s, &c->c, TS_CLOSE, cause);
    c->end_err = err;
    if (err && !(c->flags & TS_CF_RST_REPORTED))
        c->err = err;
    if (c->connect_state == TS_CS_CONNECTING)
        c->connect_state = TS_CS_FAILED;
    retire(s, c);
}

/* ------------------------------------------------------------- RTT / RTO */

static uint32_t rto_min_us(const ts_stack *s) { return (uint32_t)s->cfg.tcp_rto_min_us; }
static uint32_t rto_max_us(const ts_stack *s) { return (uint32_t)s->cfg.tcp_rto_max_ms * 1000u; }

void ts_conn_init_rtt(ts_stack *s, ts_conn *c)
{
    (void)s;
    c->srtt_us = 0;
    c->rto_us = TS_RTO_INIT_US;
}

/*
 * Linux's tcp_rtt_estimator + tcp_set_rto (RFC 6298 with Linux's bounds,
 * Van Jacobson's fixed-point form): srtt is 8 x the smoothed RTT, mdev
 * 4 x the mean deviation; mdev_max is the largest mdev in the current
 * window of data and rttvar follows it down by 1/4 per window. First
 * sample: srtt = m, mdev = 2m; rttvar = max(mdev, rto_min); rto = srtt +
 * rttvar, at most tcp_rto_max (LINUX_BEHAVIOUR.md "RTO from the first RTT
 * sample": a 0 ms handshake gives exactly 200 ms).
 */
void ts_rtt_sample(ts_stack *s, ts_conn *c, uint64_t m_us)
{
    int64_t m = m_us > 0x3fffffff ? 0x3fffffff : (int64_t)m_us;
    uint32_t rmin = rto_min_us(s);
    if (c->srtt_us == 0) {
        c->srtt_us = (uint32_t)m << 3;
        c->mdev_us = (uint32_t)m << 1;
        c->mdev_max_us = TS_MAX(c->mdev_us, rmin);
        c->rttvar_us = c->mdev_max_us;
        c->rtt_win_seq = c->snd_max;
    } else {
        m -= (int64_t)(c->srtt_us >> 3);
        c->srtt_us = (uint32_t)((int64_t)c->srtt_us + m);
        if (m < 0) {
            m = -m;
            m -= (int64_t)(c->mdev_us >> 2);
            if (m > 0)
                m >>= 3; /* a smaller RTT moves the deviation less */
        } else {
            m -= (int64_t)(c->mdev_us >> 2);
        }
        c->mdev_us = (uint32_t)((int64_t)c->mdev_us + m);
        if (c->mdev_us > c->mdev_max_us) {
            c->mdev_max_us = c->mdev_us;
            if (c->mdev_max_us > c->rttvar_us)
                c->rttvar_us = c->mdev_max_us;
        }
        if (ts_seq_gt(c->snd_una, c->rtt_win_seq)) {
            if (c->mdev_max_us < c->rttvar_us)
                c->rttvar_us -= (c->rttvar_us - c->mdev_max_us) >> 2;
            c->rtt_win_seq = c->snd_max;
            c->mdev_max_us = rmin;
        }
    }
    if (c->srtt_us == 0)
        c->srtt_us = 1;
    c->rto_us = TS_MIN((c->srtt_us >> 3) + c->rttvar_us, rto_max_us(s));
}

uint32_t ts_now_ms_ts(const ts_stack *s, uint32_t off)
{
    return (uint32_t)(s->now / 1000u) + off;
}

/* ------------------------------------------------------------- readiness */

unsigned ts_conn_poll(ts_stack *s, ts_conn *c)
{
    unsigned ev = 0;
    int st = c->c.state;
    (void)s;
    if (st == TS_LISTEN)
        return c->acc_head ? (TS_POLLIN | TS_POLLRDNORM) : 0;
    if (c->err)
        ev |= TS_POLLERR;
    if ((c->flags & TS_CF_SHUT_WR) && (c->flags & (TS_CF_FIN_RCVD | TS_CF_SHUT_RD)))
        ev |= TS_POLLHUP;
    if (st == TS_CLOSE && c->connect_state != TS_CS_NONE)
        ev |= TS_POLLHUP;
    if (c->flags & (TS_CF_FIN_RCVD | TS_CF_SHUT_RD))
        ev |= TS_POLLIN | TS_POLLRDNORM | TS_POLLRDHUP;
    if (c->rcvq.len)
        ev |= TS_POLLIN | TS_POLLRDNORM;
    if (st == TS_SYN_SENT || st == TS_SYN_RECV)
        return ev;
    if (st == TS_CLOSE && c->connect_state == TS_CS_NONE)
        return ev | TS_POLLOUT | TS_POLLWRNORM | TS_POLLHUP;
    if (!(c->flags & TS_CF_SHUT_WR)) {
        if (c->sndq.len < c->sndbuf)
            ev |= TS_POLLOUT | TS_POLLWRNORM;
    } else {
        ev |= TS_POLLOUT | TS_POLLWRNORM;
    }
    if (st == TS_CLOSE)
        ev |= TS_POLLOUT | TS_POLLWRNORM;
    return ev;
}

/* ------------------------------------------------------------- sync */

static uint64_t conn_deadline(const ts_conn *c)
{
    return ts_time_min(c->t_send, ts_time_min(c->t_delack, c->t_life));
}

void ts_sync(ts_stack *s, ts_skc *k)
{
    int has_out = 0;
    if (k->kind == TS_K_FULL) {
        ts_conn *c = (ts_conn *)k;
        ts_check_probe_timer(s, c);
        ts_heap_update(s, k, conn_deadline(c));
        has_out = c->c.state != TS_CLOSE && ts_conn_has_output(s, c);
        if (c->handle.index) {
            unsigned ev = ts_conn_poll(s, c);
            ts_slot *sl = &s->slots[c->handle.index];
            if (ev != sl->last_events) {
                unsigned newly = ev & ~sl->last_events;
                sl->last_events = ev;
                if (newly)
                    ts_ev_ready(s, c->handle, ev);
            }
        }
        /* a child that became ready wakes its listener */
        if (c->listener && c->listener->handle.index) {
            ts_conn *l = c->listener;
            unsigned ev = ts_conn_poll(s, l);
            ts_slot *sl = &s->slots[l->handle.index];
            if (ev != sl->last_events) {
                unsigned newly = ev & ~sl->last_events;
                sl->last_events = ev;
                if (newly)
                    ts_ev_ready(s, l->handle, ev);
            }
        }
    } else if (k->kind == TS_K_REQ) {
        ts_req *r = (ts_req *)k;
        ts_heap_update(s, k, r->t_synack);
        has_out = r->need_synack;
    } else {
        ts_tw *tw = (ts_tw *)k;
        ts_heap_update(s, k, tw->t_tw);
        has_out = tw->reply != TS_TWR_NONE;
    }
    if (has_out)
        ts_out_push(s, k);
    else
        ts_out_remove(s, k);
#ifdef TS_CONN_CHECK
    ts_conn_check(s, k);
#endif
}

/* ------------------------------------------------------------- invariants */

#define INV(cond)                                                                   \
    do {                                                                            \
        if (!(cond)) {                                                              \
            ts_log(s, "invariant failed: %s (conn %u, %s)", #cond, k->conn_id,      \
                   ts_state_name(k->state));                                        \
            abort();                                                                \
        }                                                                           \
    } while (0)

static void check_full(ts_stack *s, ts_skc *k, const ts_conn *c)
{
    uint32_t extra = 0;
    int st = c->c.state;
    INV(k->deadline == conn_deadline(c));
    /* the SYN holds iss until it is acked, also in FIN_WAIT_1 after a
     * close() in a simultaneous open's SYN_RECEIVED (RFC 9293 §3.10.4) */
    if (st == TS_SYN_SENT || st == TS_SYN_RECV || c->snd_una == c->iss)
        extra++;
    if (c->flags & TS_CF_FIN_SENT)
        extra++;
    if (st != TS_CLOSE && st != TS_LISTEN) {
        INV(ts_seq_le(c->snd_una, c->snd_nxt));
        INV(ts_seq_le(c->snd_nxt, c->snd_max));
        INV(ts_seq_le(c->snd_max, c->snd_una + c->sndq.len + extra));
        INV(c->rcvq.len <= c->rcvbuf + 65535u);
        INV(k->hashed);
    }
    switch ((enum ts_state)st) {
    case TS_LISTEN:
        INV(!k->hashed);
        INV(c->sndq.len == 0 && c->rcvq.len == 0);
        break;
    case TS_SYN_SENT:
        INV(c->send_timer == TS_ST_SYN);
        INV(c->sndq.len == 0);
        break;
    case TS_SYN_RECV:
    case TS_ESTABLISHED:
    case TS_CLOSE_WAIT:
        break;
    case TS_FIN_WAIT1:
    case TS_CLOSING:
    case TS_LAST_ACK:
        INV(c->flags & TS_CF_SHUT_WR);
        break;
    case TS_FIN_WAIT2:
        INV(c->flags & TS_CF_FIN_SENT);
        INV(c->snd_una == c->snd_max);
        break;
    case TS_CLOSE:
        INV(!k->hashed);
        INV(k->deadline == TS_NEVER);
        INV(!(c->flags & TS_CF_ORPHAN));
        break;
    case TS_TIME_WAIT:
    case TS_NEW_SYN_RECV:
    case TS_STATE_MAX:
        INV(0); /* full sockets never hold these */
        break;
    }
}

void ts_conn_check(ts_stack *s, ts_skc *k)
{
    if (k->heap_idx) {
        INV(k->heap_idx <= s->heap_len && s->heap[k->heap_idx - 1] == k);
        INV(k->deadline != TS_NEVER);
    } else {
        INV(k->deadline == TS_NEVER);
    }
    if (k->kind == TS_K_FULL)
        check_full(s, k, (const ts_conn *)k);
    else if (k->kind == TS_K_REQ)
        INV(k->state == TS_NEW_SYN_RECV && k->hashed);
    else
        INV((k->state == TS_TIME_WAIT || k->state == TS_FIN_WAIT2) && k->hashed);
}
