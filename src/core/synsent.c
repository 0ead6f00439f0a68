/*
 * synsent.c — decisions of SYN_SENT (RFC 9293 §3.10.7.3; Linux's
 * tcp_rcv_synsent_state_process).
 *
 * ts_synsent_decide() reads the connection through a const pointer and
 * returns a disposition; ts_synsent_process() applies it:
 *   - ACK not acknowledging our SYN (ack <= snd_una or > snd_nxt): RST with
 *     seq = its ack (none for a RST), stay in SYN_SENT; if the SYN was not
 *     retransmitted yet, the SYN timer is re-armed to its minimum (Linux:
 *     TCP_TIMEOUT_MIN, 2 jiffies = 8 ms): LINUX_BEHAVIOUR.md "bad ACK in
 *     SYN_SENT";
 *   - RST with an acceptable ACK: CLOSED, ECONNREFUSED; a RST without ACK
 *     is ignored;
 *   - SYN+ACK acceptable: ESTABLISHED, ACK at once;
 *   - SYN alone: simultaneous open, SYN_RECEIVED, SYN-ACK with our ISN;
 *   - anything else: dropped.
 */
#include "internal.h"

int ts_synsent_decide(const ts_stack *s, const ts_conn *c, const ts_seg *g)
{
    (void)s;
    if (g->flags & TS_TH_ACK) {
        if (!ts_seq_gt(g->ack, c->snd_una) || ts_seq_gt(g->ack, c->snd_max))
            return TS_SD_BAD_ACK;
        if (g->flags & TS_TH_RST)
            return TS_SD_REFUSED;
        if (g->flags & TS_TH_SYN)
            return TS_SD_ESTABLISH;
        return TS_SD_IGNORE;
    }
    if (g->flags & TS_TH_RST)
        return TS_SD_IGNORE;
    if (g->flags & TS_TH_SYN)
        return TS_SD_SIMOPEN;
    return TS_SD_IGNORE;
}

/* Our send MSS from the peer's MSS option and our MTU, less the timestamp
 * option when in use (Linux's mss_cache). */
void ts_conn_set_mss(ts_stack *s, ts_conn *c, uint16_t peer_mss)
{
    uint32_t mss = TS_MIN((uint32_t)peer_mss, (uint32_t)(s->cfg.mtu - 40));
    c->peer_mss = peer_mss;
    if (c->flags & TS_CF_TS_OK)
        mss -= 12;
    if (mss < 48)
        mss = 48;
    c->mss = (uint16_t)mss;
    c->cwnd = 10u * mss; /* RFC 6928 initial window */
    c->ssthresh = 0x7fffffff;
}

/* Options of the peer's SYN or SYN-ACK: what both sides agreed on. */
static void take_syn_options(ts_stack *s, ts_conn *c, const ts_seg *g, int synack)
{
    c->flags &= ~(TS_CF_TS_OK | TS_CF_SACK_OK | TS_CF_WS_OK);
    if ((g->opt_present & TS_OPT_TS) && s->cfg.tcp_timestamps) {
        c->flags |= TS_CF_TS_OK;
        c->ts_recent = g->tsval;
        c->ts_recent_stamp = s->now;
    }
    if ((g->opt_present & TS_OPT_SACKOK) && s->cfg.tcp_sack)
        c->flags |= TS_CF_SACK_OK;
    if ((g->opt_present & TS_OPT_WSCALE) && s->cfg.tcp_window_scaling) {
        c->flags |= TS_CF_WS_OK;
        c->snd_wscale = g->wscale > 14 ? 14 : g->wscale;
    } else {
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
    (void)synack;
    ts_conn_set_mss(s, c, (g->opt_present & TS_OPT_MSS) ? g->mss : 536);
}

static void establish(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    take_syn_options(s, c, g, 1);
    c->irs = g->seq;
    c->rcv_nxt = g->seq + 1;
    ts_conn_rcv_win_init(s, c, ts_initial_window(s, (uint16_t)(s->cfg.mtu - 40)));
    c->snd_una = g->ack;
    c->bytes_acked = 1; /* our SYN (Linux tcp_snd_una_update) */
    c->snd_wnd = g->win; /* never scaled in a SYN */
    c->snd_wl1 = g->seq;
    c->snd_wl2 = g->ack;
    c->max_window = c->snd_wnd;
    if (c->rtt_time != TS_NEVER && !c->retransmits)
        ts_rtt_sample(s, c, s->now - c->rtt_time);
    else if ((c->flags & TS_CF_TS_OK) && g->tsecr)
        ts_rtt_sample(s, c, (uint64_t)(ts_now_ms_ts(s, c->ts_off) - g->tsecr) * 1000u);
    c->rtt_time = TS_NEVER;
    c->retransmits = 0;
    c->backoff = 0;
    c->retrans_stamp = 0;
    c->send_timer = TS_ST_NONE;
    c->t_send = TS_NEVER;
    c->rcv_tstamp = s->now;
    ts_set_state(s, &c->c, TS_ESTABLISHED, TS_CAUSE_RCV_SYNACK);
    c->connect_state = TS_CS_JUST_DONE;
    /* a SYN retransmission due but not yet pulled must not leave now */
    c->flags &= ~TS_CF_NEED_SYN;
    c->flags |= TS_CF_NEED_ACK;
    if (c->flags & TS_CF_KEEPALIVE)
        ts_keepalive_reset(s, c);
}

static void simultaneous_open(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    take_syn_options(s, c, g, 0);
    c->irs = g->seq;
    c->rcv_nxt = g->seq + 1;
    ts_conn_rcv_win_init(s, c, ts_initial_window(s, (uint16_t)(s->cfg.mtu - 40)));
    c->snd_wnd = g->win;
    c->snd_wl1 = g->seq;
    c->max_window = c->snd_wnd;
    c->flags |= TS_CF_SIMOPEN | TS_CF_NEED_SYN;
    /* the SYN-ACK reuses our ISN (snd_nxt back to iss) and the SYN's
     * timer, which keeps its deadline (Linux tcp_send_synack turns the
     * queued SYN into the SYN-ACK); its expiries in SYN_RECEIVED double
     * the RTO (tests/pkt/simultaneous_open_synack_retrans.pkt) */
    c->snd_nxt = c->iss;
    c->send_timer = TS_ST_RTO;
    ts_set_state(s, &c->c, TS_SYN_RECV, TS_CAUSE_RCV_SYN);
}

int ts_synsent_process(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    switch (ts_synsent_decide(s, c, g)) {
    case TS_SD_BAD_ACK:
        if (!(g->flags & TS_TH_RST))
            ts_send_rst_for(s, g, c->c.conn_id);
        if (c->retransmits == 0)
            c->t_send = ts_time_add(s->now, 8 * TS_MS);
        return TS_DROP_BAD_ACK;
    case TS_SD_REFUSED:
        ts_conn_done(s, c, TS_ECONNREFUSED, TS_CAUSE_RCV_RST);
        return 0;
    case TS_SD_ESTABLISH:
        establish(s, c, g);
        return 0;
    case TS_SD_SIMOPEN:
        simultaneous_open(s, c, g);
        return 0;
    case TS_SD_IGNORE:
    default:
        return TS_DROP_INVALID_STATE;
    }
}
