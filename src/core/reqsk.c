/*
 * reqsk.c — the SYN_RECEIVED request minisocket (Linux's request_sock,
 * state NEW_SYN_RECV) and its promotion to a full connection.
 *
 * A passive open costs sizeof(ts_req) until the handshake completes; only
 * the final ACK allocates a ts_conn (Linux's tcp_check_req ->
 * syn_recv_sock). The child inherits the request's conn id, so traces show
 * one connection LISTEN -> SYN_RECEIVED -> ESTABLISHED.
 *
 * Decisions (ts_req_decide, Linux tcp_check_req; LINUX_BEHAVIOUR.md
 * "SYN_RECEIVED"):
 *   - the SYN again (seq == irs): SYN-ACK at once, timer restarted at the
 *     same backoff step; further duplicates rate-limited (500 ms);
 *   - an ACK whose ack is not iss + 1: RST from the listener with seq = ack;
 *     the request survives;
 *   - out of window: an ACK (rate-limited), dropped;
 *   - an in-window RST: the request is dropped silently (SYN_RECEIVED ->
 *     LISTEN); an in-window SYN: RST and drop;
 *   - the right ACK: a child, unless the accept queue is full (then the ACK
 *     is dropped and the SYN-ACK retransmitted later, ListenOverflows;
 *     with tcp_abort_on_overflow=1, RST).
 * Timer (Linux reqsk_timer_handler): SYN-ACK at 1, 3, 7, 15, 31 s; dropped
 * at 63 s with tcp_synack_retries = 5 (the listener's TCP_SYNCNT wins).
 */
#include "internal.h"

/* The request's receive window (Linux tcp_openreq_init_rwin): the initial
 * window in whole segments of the MSS we will receive, which is 12 bytes
 * less when timestamps were agreed: 45 x 1448 = 65160 with them, 44 x 1460
 * = 64240 without (tests/pkt/listen_synack_window.pkt). */
uint16_t ts_req_rcv_window(const ts_stack *s, const ts_req *r)
{
    uint16_t mss = (uint16_t)(s->cfg.mtu - 40);
    if (r->opts & TS_OPT_TS)
        mss -= 12;
    return (uint16_t)ts_initial_window(s, mss);
}

static int req_oow_limited(const ts_stack *s, const ts_req *r, const ts_seg *g)
{
    uint64_t lim = (uint64_t)s->cfg.tcp_invalid_ratelimit * TS_MS;
    if (g->len && !(g->flags & TS_TH_SYN))
        return 0;
    return r->last_dup && s->now + 1 - r->last_dup < lim;
}

int ts_req_decide(const ts_stack *s, const ts_req *r, const ts_seg *g)
{
    uint32_t rcv_nxt = r->irs + 1;
    uint32_t end = g->seq + g->len + !!(g->flags & TS_TH_SYN) + !!(g->flags & TS_TH_FIN);
    uint8_t flg = g->flags & (TS_TH_SYN | TS_TH_ACK | TS_TH_RST | TS_TH_FIN);

    /* PAWS (RFC 7323 §5.3; Linux tcp_check_req -> tcp_paws_reject, a RST
     * included): an older TSval than the SYN's is treated as out of window */
    int paws = (r->opts & TS_OPT_TS) && (g->opt_present & TS_OPT_TS) && r->ts_recent &&
               (int32_t)(r->ts_recent - g->tsval) > 0;

    if (g->seq == r->irs && flg == TS_TH_SYN && !paws)
        return req_oow_limited(s, r, g) ? TS_RD_DUP_SYN_LIMITED : TS_RD_DUP_SYN;
    if ((g->flags & TS_TH_ACK) && g->ack != r->iss + 1)
        return TS_RD_BAD_ACK_RST;
    if (paws || !ts_in_window(g->seq, end, rcv_nxt, rcv_nxt + ts_req_rcv_window(s, r))) {
        if (g->flags & TS_TH_RST)
            return TS_RD_OUT_OF_WINDOW;
        return req_oow_limited(s, r, g) ? TS_RD_OOW_LIMITED : TS_RD_OUT_OF_WINDOW;
    }
    if (g->seq == r->irs)
        flg &= (uint8_t)~TS_TH_SYN; /* the SYN itself, truncated */
    if (flg & TS_TH_RST)
        return TS_RD_RST_DROP;
    if (flg & TS_TH_SYN)
        return TS_RD_SYN_RESET;
    if (!(flg & TS_TH_ACK))
        return TS_RD_NO_ACK;
    if (r->listener->acc_len > (uint32_t)r->listener->backlog)
        return s->cfg.tcp_abort_on_overflow ? TS_RD_OVERFLOW_RST : TS_RD_OVERFLOW;
    return TS_RD_CHILD;
}

static uint64_t req_timeout(const ts_stack *s, unsigned n)
{
    uint64_t t = (uint64_t)TS_RTO_INIT_US << (n > 20 ? 20 : n);
    uint64_t max = (uint64_t)s->cfg.tcp_rto_max_ms * TS_MS;
    return t < max ? t : max;
}

ts_req *ts_req_create(ts_stack *s, ts_conn *l, const ts_seg *g)
{
    ts_req *r = ts_alloc(s, sizeof *r);
    ts_tuple t;
    if (!r)
        return NULL;
    t.local.ip = g->dst_ip;
    t.local.port = g->dst_port;
    t.remote.ip = g->src_ip;
    t.remote.port = g->src_port;
    r->c.kind = TS_K_REQ;
    r->c.state = TS_LISTEN; /* born from the listener: LISTEN -> SYN_RECEIVED */
    r->c.tuple = t;
    r->c.deadline = TS_NEVER;
    r->c.conn_id = ts_new_conn_id(s);
    r->listener = l;
    r->irs = g->seq;
    if (s->forced_isn_set)
        r->iss = s->forced_isn;
    else
        r->iss = s->hooks.isn ? s->hooks.isn(s->user, &t, s->now) : 0;
    r->ts_off = s->hooks.ts_offset ? s->hooks.ts_offset(s->user, &t) : 0;
    r->peer_mss = (g->opt_present & TS_OPT_MSS) ? g->mss : 536;
    r->peer_win = g->win;
    if ((g->opt_present & TS_OPT_TS) && s->cfg.tcp_timestamps) {
        r->opts |= TS_OPT_TS;
        r->ts_recent = g->tsval;
    }
    if ((g->opt_present & TS_OPT_SACKOK) && s->cfg.tcp_sack)
        r->opts |= TS_OPT_SACKOK;
    if ((g->opt_present & TS_OPT_WSCALE) && s->cfg.tcp_window_scaling) {
        r->opts |= TS_OPT_WSCALE;
        r->snd_wscale = g->wscale > 14 ? 14 : g->wscale;
        r->rcv_wscale = ts_initial_wscale(s);
    }
    r->synack_time = TS_NEVER;
    r->need_synack = 1;
    r->t_synack = ts_time_add(s->now, req_timeout(s, 0));
    r->lnext = l->req_head;
    l->req_head = r;
    l->req_count++;
    ts_hash_insert(s, &r->c);
    ts_set_state(s, &r->c, TS_NEW_SYN_RECV, TS_CAUSE_RCV_SYN);
    ts_sync(s, &r->c);
    return r;
}

/* Unlinks and frees a request; with a cause, reports its end first. */
void ts_req_free(ts_stack *s, ts_req *r, int cause, int to_state)
{
    ts_conn *l = r->listener;
    if (cause)
        ts_set_state(s, &r->c, to_state, cause);
    if (l) {
        ts_req **pp = &l->req_head;
        while (*pp && *pp != r)
            pp = &(*pp)->lnext;
        if (*pp)
            *pp = r->lnext;
        l->req_count--;
    }
    ts_hash_remove(s, &r->c);
    ts_out_remove(s, &r->c);
    ts_heap_update(s, &r->c, TS_NEVER);
    ts_dealloc(s, r, sizeof *r);
}

/* Copies the socket options a child inherits from its listener (Linux's
 * sk_clone_lock copies the socket; TCP options come along). */
static void inherit_options(ts_conn *c, const ts_conn *l)
{
    c->flags |= l->flags & (TS_CF_KEEPALIVE | TS_CF_REUSEADDR | TS_CF_NODELAY);
    c->keepidle = l->keepidle;
    c->keepintvl = l->keepintvl;
    c->keepcnt = l->keepcnt;
    c->syncnt = l->syncnt; /* tests/pkt/sysctl_sockopt_inherited.pkt */
    c->user_timeout_ms = l->user_timeout_ms;
    c->linger2 = l->linger2;
    c->linger_onoff = l->linger_onoff;
    c->linger_secs = l->linger_secs;
}

ts_conn *ts_req_to_child(ts_stack *s, ts_req *r, const ts_seg *g)
{
    ts_conn *l = r->listener;
    ts_conn *c = ts_conn_alloc(s);
    (void)g;
    if (!c)
        return NULL;
    s->next_conn_id--; /* the child keeps the request's id */
    c->c.conn_id = r->c.conn_id;
    c->c.tuple = r->c.tuple;
    c->c.state = TS_SYN_RECV; /* the request's state, carried over: no event */
    c->flags |= TS_CF_BOUND | TS_CF_PORT_EXPLICIT | TS_CF_PASSIVE;
    inherit_options(c, l);
    c->iss = r->iss;
    c->irs = r->irs;
    c->snd_una = c->snd_sml = r->iss;
    c->snd_nxt = c->snd_max = r->iss + 1;
    c->rcv_nxt = r->irs + 1;
    ts_conn_rcv_win_init(s, c, ts_req_rcv_window(s, r));
    c->snd_wnd = r->peer_win;
    c->max_window = c->snd_wnd; /* tcp_create_openreq_child; bounds the MSS (output.c) */
    c->snd_wl1 = r->irs;
    c->ts_off = r->ts_off;
    c->ts_recent = r->ts_recent;
    c->ts_recent_stamp = s->now;
    if (r->opts & TS_OPT_TS)
        c->flags |= TS_CF_TS_OK;
    if (r->opts & TS_OPT_SACKOK)
        c->flags |= TS_CF_SACK_OK;
    if (r->opts & TS_OPT_WSCALE) {
        c->flags |= TS_CF_WS_OK;
        c->snd_wscale = r->snd_wscale;
        c->rcv_wscale = r->rcv_wscale;
    }
    ts_conn_set_mss(s, c, r->peer_mss);
    c->rcv_tstamp = s->now;
    if (r->synack_time != TS_NEVER && !r->num_timeout)
        ts_rtt_sample(s, c, s->now - r->synack_time);
    c->listener = l;
    /* Linux counts a passive open when the child is born
     * (tcp_create_openreq_child), not for the request */
    TS_MIB_INC(s, TS_MIB_PassiveOpens);
    ts_port_get(s, c->c.tuple.local.port, 0, !!(c->flags & TS_CF_REUSEADDR));
    /* the child takes the request's place in the hash */
    r->listener = NULL;
    l->req_count--;
    {
        ts_req **pp = &l->req_head;
        while (*pp && *pp != r)
            pp = &(*pp)->lnext;
        if (*pp)
            *pp = r->lnext;
    }
    ts_hash_remove(s, &r->c);
    ts_out_remove(s, &r->c);
    ts_heap_update(s, &r->c, TS_NEVER);
    ts_dealloc(s, r, sizeof *r);
    ts_hash_insert(s, &c->c);
    return c;
}

static void queue_child(ts_stack *s, ts_conn *l, ts_conn *c)
{
    (void)s;
    c->acc_next = NULL;
    if (l->acc_tail)
        l->acc_tail->acc_next = c;
    else
        l->acc_head = c;
    l->acc_tail = c;
    l->acc_len++;
}

/* rcv_wnd: 0, or the window a SYN-cookie child starts with (syncookie.c) */
int ts_req_child(ts_stack *s, ts_req *r, const ts_seg *g, uint32_t rcv_wnd)
{
    ts_conn *l = r->listener;
    uint32_t id = r->c.conn_id;
    ts_conn *c = ts_req_to_child(s, r, g);
    int rc;
    if (!c)
        return TS_DROP_NOMEM;
    if (rcv_wnd)
        ts_conn_rcv_win_init(s, c, rcv_wnd);
    rc = ts_established_process(s, c, g);
    /* the child may already be gone (a RST after data, say) */
    if (ts_hash_lookup(s, g->dst_ip, g->dst_port, g->src_ip, g->src_port) == &c->c &&
        c->c.conn_id == id) {
        /* Linux inet_csk_complete_hashdance: the child is queued at once,
         * whatever the segment then does to it, so no child ever points
         * at a listener without being on its queue (a listener's close
         * then finds it) */
        queue_child(s, l, c);
        if (c->flags & TS_CF_KEEPALIVE)
            ts_keepalive_reset(s, c);
        ts_sync(s, &c->c);
    }
    ts_sync(s, &l->c);
    return rc < 0 ? 0 : rc;
}

int ts_req_process(ts_stack *s, ts_req *r, const ts_seg *g)
{
    switch (ts_req_decide(s, r, g)) {
    case TS_RD_DUP_SYN:
        r->last_dup = s->now + 1;
        r->need_synack = 1;
        TS_MIB_INC(s, TS_MIB_TCPSynRetrans); /* Linux tcp_rtx_synack counts it */
        r->t_synack = ts_time_add(s->now, req_timeout(s, r->num_timeout));
        ts_sync(s, &r->c);
        return TS_DROP_INVALID_STATE;
    case TS_RD_DUP_SYN_LIMITED:
    case TS_RD_OOW_LIMITED:
        TS_MIB_INC(s, TS_MIB_TCPACKSkippedSynRecv);
        return TS_DROP_OUT_OF_WINDOW;
    case TS_RD_BAD_ACK_RST:
        /* the listener answers (tcp_rcv_state_process LISTEN: ACK -> RST) */
        ts_send_rst_for(s, g, r->c.conn_id);
        return TS_DROP_BAD_ACK;
    case TS_RD_OUT_OF_WINDOW:
        if (!(g->flags & TS_TH_RST)) {
            r->last_dup = s->now + 1;
            r->need_synack = 0;
            ts_req_send_ack(s, r);
        }
        return TS_DROP_OUT_OF_WINDOW;
    case TS_RD_RST_DROP:
        TS_MIB_INC(s, TS_MIB_EmbryonicRsts);
        ts_req_free(s, r, TS_CAUSE_RCV_RST, TS_LISTEN);
        return 0;
    case TS_RD_SYN_RESET:
        TS_MIB_INC(s, TS_MIB_EmbryonicRsts);
        ts_send_rst_for(s, g, r->c.conn_id);
        ts_req_free(s, r, TS_CAUSE_RCV_RST, TS_LISTEN);
        return TS_DROP_SYN_CHALLENGE;
    case TS_RD_NO_ACK:
        return TS_DROP_NO_ACK;
    case TS_RD_OVERFLOW:
        TS_MIB_INC(s, TS_MIB_ListenOverflows);
        TS_MIB_INC(s, TS_MIB_ListenDrops);
        return TS_DROP_LISTEN_OVERFLOW;
    case TS_RD_OVERFLOW_RST:
        /* Linux tcp_check_req: listen_overflow -> embryonic_reset, which
         * counts EmbryonicRsts too (measured on 6.18) */
        TS_MIB_INC(s, TS_MIB_ListenOverflows);
        TS_MIB_INC(s, TS_MIB_ListenDrops);
        TS_MIB_INC(s, TS_MIB_EmbryonicRsts);
        ts_send_rst_for(s, g, r->c.conn_id);
        ts_req_free(s, r, TS_CAUSE_LISTEN_OVERFLOW, TS_LISTEN);
        return TS_DROP_LISTEN_OVERFLOW;
    case TS_RD_CHILD:
    default:
        break;
    }
    return ts_req_child(s, r, g, 0);
}

/* An ACK from the request (out-of-window segment): Linux's
 * tcp_v4_reqsk_send_ack, seq = iss + 1, ack = irs + 1. */
void ts_req_send_ack(ts_stack *s, ts_req *r)
{
    ts_seg *g = ts_ctl_push(s, r->c.conn_id);
    if (!g)
        return;
    g->src_ip = r->c.tuple.local.ip;
    g->src_port = r->c.tuple.local.port;
    g->dst_ip = r->c.tuple.remote.ip;
    g->dst_port = r->c.tuple.remote.port;
    g->flags = TS_TH_ACK;
    g->seq = r->iss + 1;
    g->ack = r->irs + 1;
    /* not a SYN: the window is scaled (tcp_v4_reqsk_send_ack; rcv_wscale
     * is 0 unless window scaling was agreed) */
    g->win = (uint16_t)(ts_req_rcv_window(s, r) >> r->rcv_wscale);
    if (r->opts & TS_OPT_TS) {
        g->opt_present |= TS_OPT_TS;
        g->tsval = ts_now_ms_ts(s, r->ts_off);
        g->tsecr = r->ts_recent;
    }
}

/* The SYN-ACK timer (Linux reqsk_timer_handler). */
void ts_req_expire(ts_stack *s, ts_req *r)
{
    int max = r->listener && r->listener->syncnt ? r->listener->syncnt
                                                  : s->cfg.tcp_synack_retries;
    /* tcp_syn_ack_timeout counts every expiry, the last one included */
    TS_MIB_INC(s, TS_MIB_TCPTimeouts);
    if (r->num_timeout >= max) {
        ts_req_free(s, r, TS_CAUSE_TIMER_SYNACK, TS_LISTEN);
        return;
    }
    r->num_timeout++;
    TS_MIB_INC(s, TS_MIB_TCPSynRetrans);
    r->need_synack = 1;
    r->t_synack = ts_time_add(s->now, req_timeout(s, r->num_timeout));
    ts_sync(s, &r->c);
}
