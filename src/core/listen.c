/*
 * listen.c — decisions of a LISTEN socket (RFC 9293 §3.10.7.2; Linux's
 * tcp_rcv_state_process LISTEN case and tcp_conn_request).
 *
 * ts_listen_decide() reads the listener through a const pointer and returns
 * a disposition; ts_listen_process() applies it. A SYN that is admitted
 * creates a request minisocket (reqsk.c), not a full connection.
 *
 * Limits (Linux tcp_conn_request; LINUX_BEHAVIOUR.md "LISTEN", "accept
 * queue full"), in Linux's order:
 *   1. tcp_syncookies = 2, or the request queue full (MORE pending requests
 *      than the backlog, inet_csk_reqsk_queue_is_full: on 6.18 listen(fd, 1)
 *      admits 2 requests, the 3rd SYN gets a cookie): a SYN cookie
 *      (TCPReqQFullDoCookies) when cookies are on, else the SYN is dropped
 *      (TCPReqQFullDrop, ListenDrops);
 *   2. the accept queue full (MORE established children than the backlog;
 *      listen(fd, 0) still admits one): dropped (ListenOverflows,
 *      ListenDrops);
 *   3. without cookies, a request that would leave less than a quarter of
 *      tcp_max_syn_backlog free is dropped (ListenDrops only; Linux spares
 *      peers its TCP metrics prove alive, tcpstate keeps no metrics).
 * Cookies are on when tcp_syncookies >= 1 and the driver gave a
 * cookie_hash hook (syncookie.c). A SYN reopening a TIME_WAIT 4-tuple
 * (forced ISN) skips rules 1 and 3, as Linux's `!isn`.
 */
#include "internal.h"

static int want_cookie(const ts_stack *s, const ts_conn *l)
{
    if (s->forced_isn_set)
        return 0;
    return s->cfg.tcp_syncookies == 2 || l->req_count > (uint32_t)l->backlog;
}

int ts_listen_decide(const ts_stack *s, const ts_conn *l, const ts_seg *g)
{
    if (g->flags & TS_TH_RST)
        return TS_LD_IGNORE_RST;
    if (g->flags & TS_TH_ACK)
        return TS_LD_SEND_RST;
    if (!(g->flags & TS_TH_SYN) || (g->flags & TS_TH_FIN))
        return TS_LD_NO_SYN;
    if (want_cookie(s, l) && !ts_cookies_on(s))
        return TS_LD_BACKLOG_FULL;
    if (l->acc_len > (uint32_t)l->backlog)
        return TS_LD_QUEUE_FULL;
    if (want_cookie(s, l))
        return TS_LD_COOKIE;
    if (!s->forced_isn_set && !ts_cookies_on(s) &&
        (int64_t)s->cfg.tcp_max_syn_backlog - l->req_count < (s->cfg.tcp_max_syn_backlog >> 2))
        return TS_LD_SYNQ_QUARTER;
    return TS_LD_NEW_REQUEST;
}

int ts_listen_process(ts_stack *s, ts_conn *l, const ts_seg *g)
{
    switch (ts_listen_decide(s, l, g)) {
    case TS_LD_IGNORE_RST:
        return TS_DROP_INVALID_STATE;
    case TS_LD_SEND_RST: {
        int rc = ts_cookie_ack(s, l, g);
        if (rc >= 0)
            return rc;
        ts_send_rst_for(s, g, l->c.conn_id);
        return TS_DROP_INVALID_STATE;
    }
    case TS_LD_NO_SYN:
        return TS_DROP_TCP_FLAGS;
    case TS_LD_QUEUE_FULL:
        if (want_cookie(s, l))
            TS_MIB_INC(s, TS_MIB_TCPReqQFullDoCookies);
        TS_MIB_INC(s, TS_MIB_ListenOverflows);
        TS_MIB_INC(s, TS_MIB_ListenDrops);
        return TS_DROP_LISTEN_OVERFLOW;
    case TS_LD_BACKLOG_FULL:
        TS_MIB_INC(s, TS_MIB_TCPReqQFullDrop);
        TS_MIB_INC(s, TS_MIB_ListenDrops);
        return TS_DROP_SYN_BACKLOG;
    case TS_LD_SYNQ_QUARTER:
        TS_MIB_INC(s, TS_MIB_ListenDrops);
        return TS_DROP_SYN_BACKLOG;
    case TS_LD_COOKIE:
        TS_MIB_INC(s, TS_MIB_TCPReqQFullDoCookies);
        ts_cookie_send_synack(s, l, g);
        return 0;
    case TS_LD_NEW_REQUEST:
    default:
        break;
    }
    if (!ts_req_create(s, l, g)) {
        TS_MIB_INC(s, TS_MIB_ListenDrops);
        return TS_DROP_NOMEM;
    }
    return 0;
}

/* Closing a listener resets every child not yet accepted (Linux
 * inet_csk_listen_stop -> tcp_disconnect: RST). Pending requests are only
 * dropped, silently: Linux leaves them in the hash and frees them when
 * their SYN-ACK timer or the peer's next segment finds the listener gone
 * (reqsk_timer_handler, tcp_v4_rcv); the peer's ACK then meets no socket
 * and gets <SEQ=SEG.ACK><CTL=RST>. RFC 9293 §3.10.4 allows the reset;
 * Linux does not send it (tests/pkt/listen_close_pending_request.pkt). */
void ts_reset_listener_reqs(ts_stack *s, ts_conn *l)
{
    while (l->req_head)
        ts_req_free(s, l->req_head, TS_CAUSE_LISTEN_CLOSE, TS_CLOSE);
    while (l->acc_head) {
        ts_conn *c = l->acc_head;
        ts_conn_send_rst(s, c);
        ts_conn_done(s, c, TS_ECONNRESET, TS_CAUSE_APP_ABORT);
    }
}
