/*
 * input.c — segment arrival: parsing, demultiplexing, and the synchronized
 * states' one path, written as RFC 9293 §3.10.7.4's steps in order, each a
 * function, as Linux's tcp_validate_incoming -> tcp_ack -> tcp_data_queue /
 * tcp_fin:
 *
 *   step_paws     RFC 7323 §5 (PAWS), Linux tcp_paws_discard
 *   step_seq      first, check sequence number (RFC 9293 §3.10.7.4 "first")
 *   step_rst      second, check the RST bit (with RFC 5961 §3: exact or challenge)
 *   step_syn      fourth, check the SYN bit (RFC 5961 §4: challenge ACK)
 *   step_ack      fifth, check the ACK field (RFC 5961 §5 for old/unsent acks)
 *   step_data     seventh, process the segment text
 *   step_fin      eighth, check the FIN bit
 *
 * Each step returns STEP_GO (carry on), a drop reason (> 0: the segment is
 * discarded and counted), or STEP_DONE (the segment was consumed and the
 * connection may be gone: touch nothing after it).
 *
 * Invariant: the connection is synced (ts_sync) exactly once per segment,
 * by ts_input_seg, unless it was freed.
 */
#include "internal.h"

#define STEP_GO 0
#define STEP_DONE (-1)

/* ------------------------------------------------------------- helpers */

/* Linux's __tcp_oow_rate_limited: one reply per tcp_invalid_ratelimit ms.
 * last holds now + 1 (0: never). */
int ts_oow_rate_limited(ts_stack *s, uint64_t *last, int mib)
{
    uint64_t lim = (uint64_t)s->cfg.tcp_invalid_ratelimit * TS_MS;
    if (*last && s->now + 1 - *last < lim) {
        TS_MIB_INC(s, mib);
        return 1;
    }
    *last = s->now + 1;
    return 0;
}

/* tcp_oow_rate_limited: segments with data (and no SYN) are never limited,
 * they cannot be part of an ACK loop. */
static int oow_limited_seg(ts_stack *s, ts_conn *c, const ts_seg *g, int mib)
{
    if (g->len && !(g->flags & TS_TH_SYN))
        return 0;
    return ts_oow_rate_limited(s, &c->last_oow_ack, mib);
}

/* RFC 2883 D-SACK (Linux tcp_dsack_set): the next ACK reports the
 * duplicate range [l, r) as its first SACK block, once. */
static void dsack_set(ts_conn *c, uint32_t l, uint32_t r)
{
    if (!(c->flags & TS_CF_SACK_OK))
        return;
    c->dsack = 1;
    c->dsack_l = l;
    c->dsack_r = r;
}

/* Linux tcp_send_dupack: an ACK now; a segment carrying something below
 * rcv_nxt also gets a D-SACK of that part. */
static void send_dupack(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    uint32_t end = g->seq + g->len + !!(g->flags & TS_TH_FIN);
    (void)s;
    if (end != g->seq && ts_seq_lt(g->seq, c->rcv_nxt))
        dsack_set(c, g->seq, ts_seq_gt(end, c->rcv_nxt) ? c->rcv_nxt : end);
    c->flags |= TS_CF_NEED_ACK;
}

/* RFC 5961 §3.2/§4.2, Linux tcp_send_challenge_ack: rate-limited per
 * connection (tcp_invalid_ratelimit), no global limit in 6.18. */
static void challenge_ack(ts_stack *s, ts_conn *c)
{
    if (ts_oow_rate_limited(s, &c->last_oow_ack, TS_MIB_TCPACKSkippedChallenge))
        return;
    TS_MIB_INC(s, TS_MIB_TCPChallengeACK);
    c->flags |= TS_CF_NEED_ACK;
}

static uint32_t seg_end(const ts_seg *g)
{
    return g->seq + g->len + !!(g->flags & TS_TH_SYN) + !!(g->flags & TS_TH_FIN);
}

static uint32_t rcv_window(const ts_conn *c)
{
    int32_t w = (int32_t)(c->rcv_wup + c->rcv_wnd - c->rcv_nxt);
    return w < 0 ? 0 : (uint32_t)w;
}

/* tcp_reset(): the error depends on the state (ECONNREFUSED in SYN_SENT,
 * EPIPE in CLOSE_WAIT, ECONNRESET otherwise), then tcp_done(). */
static void conn_reset(ts_stack *s, ts_conn *c, int cause)
{
    int err = TS_ECONNRESET;
    if (c->c.state == TS_SYN_SENT)
        err = TS_ECONNREFUSED;
    else if (c->c.state == TS_CLOSE_WAIT)
        err = TS_EPIPE;
    ts_conn_done(s, c, err, cause);
}

/* ------------------------------------------------------------- steps */

/* RFC 7323 §5.3 / Linux tcp_paws_discard: a segment whose timestamp is
 * older than ts_recent is dropped (a RST silently, others with an ACK),
 * unless ts_recent is more than 24 days old. */
static int step_paws(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (!(c->flags & TS_CF_TS_OK) || !(g->opt_present & TS_OPT_TS))
        return STEP_GO;
    if ((int32_t)(g->tsval - c->ts_recent) >= 0)
        return STEP_GO;
    if (s->now - c->ts_recent_stamp >= 24ull * 86400 * TS_SEC)
        return STEP_GO;
    /* RFC 7323 §5.3 R1 and Linux tcp_validate_incoming: a RST is accepted
     * even if it fails PAWS (the sequence checks still apply); a SYN gets
     * the RFC 5961 challenge ACK instead of a dupack */
    if (g->flags & TS_TH_RST)
        return STEP_GO;
    if (g->flags & TS_TH_SYN) {
        TS_MIB_INC(s, TS_MIB_TCPSYNChallenge);
        challenge_ack(s, c);
        return TS_DROP_SYN_CHALLENGE;
    }
    TS_MIB_INC(s, TS_MIB_PAWSEstab);
    if (!oow_limited_seg(s, c, g, TS_MIB_TCPACKSkippedPAWS))
        send_dupack(s, c, g);
    return TS_DROP_PAWS;
}

/* Linux tcp_reset_check: in CLOSE_WAIT, LAST_ACK and CLOSING a RST at
 * rcv_nxt - 1 (the peer's FIN took one) also acts (tests/pkt/
 * close_wait_rst_minus_one.pkt). */
static int reset_check(const ts_conn *c, const ts_seg *g)
{
    return g->seq == c->rcv_nxt - 1 &&
           (TSF(c->c.state) & (TSF(TS_CLOSE_WAIT) | TSF(TS_LAST_ACK) | TSF(TS_CLOSING)));
}

/* RFC 9293 §3.10.7.4 first: acceptable if it overlaps the window (Linux
 * tcp_sequence: end >= rcv_wup and seq <= rcv_nxt + window). */
static int step_seq(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    uint32_t end = seg_end(g);
    if (!ts_seq_lt(end, c->rcv_wup) && !ts_seq_gt(g->seq, c->rcv_nxt + rcv_window(c)))
        return STEP_GO;
    if (g->flags & TS_TH_RST) {
        if (reset_check(c, g)) {
            conn_reset(s, c, TS_CAUSE_RCV_RST);
            return STEP_DONE;
        }
        return TS_DROP_RST_OUT_OF_WINDOW;
    }
    if (g->flags & TS_TH_SYN) {
        TS_MIB_INC(s, TS_MIB_TCPSYNChallenge);
        challenge_ack(s, c);
        return TS_DROP_SYN_CHALLENGE;
    }
    if (!oow_limited_seg(s, c, g, TS_MIB_TCPACKSkippedSeq))
        send_dupack(s, c, g);
    return TS_DROP_OUT_OF_WINDOW;
}

/* RFC 9293 §3.10.7.4 second + RFC 5961 §3.2: only a RST at exactly
 * rcv_nxt resets; any other in-window RST gets a challenge ACK. */
static int step_rst(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (!(g->flags & TS_TH_RST))
        return STEP_GO;
    if (g->seq == c->rcv_nxt || reset_check(c, g)) {
        conn_reset(s, c, TS_CAUSE_RCV_RST);
        return STEP_DONE;
    }
    challenge_ack(s, c);
    return TS_DROP_RST_CHALLENGE;
}

/* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK.
 * Exception (Linux): in a simultaneous-open SYN_RECEIVED, the peer's
 * retransmitted SYN-ACK that acks our SYN passes. */
static int step_syn(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (!(g->flags & TS_TH_SYN))
        return STEP_GO;
    if (c->c.state == TS_SYN_RECV && (g->flags & TS_TH_ACK) && g->seq + 1 == c->rcv_nxt &&
        g->ack == c->snd_max) /* snd_max: our SYN-ACK may not have left yet */
        return STEP_GO;
    TS_MIB_INC(s, TS_MIB_TCPSYNChallenge);
    challenge_ack(s, c);
    return TS_DROP_SYN_CHALLENGE;
}

/* Window update rule of RFC 9293 §3.10.7.4 (SND.WL1/SND.WL2), as Linux's
 * tcp_may_update_window. */
static void update_window(ts_conn *c, const ts_seg *g)
{
    uint32_t nwin = (uint32_t)g->win << c->snd_wscale;
    if (ts_seq_gt(g->ack, c->snd_una) || ts_seq_gt(g->seq, c->snd_wl1) ||
        (g->seq == c->snd_wl1 && nwin > c->snd_wnd)) {
        c->snd_wnd = nwin;
        c->snd_wl1 = g->seq;
        c->snd_wl2 = g->ack;
        if (nwin > c->max_window)
            c->max_window = nwin;
    }
}

static void rtt_from_ack(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    /* RFC 7323 §4: a timestamp echo is a valid sample even for a
     * retransmitted segment (Karn's rule applies to clock timing only) --
     * but only an echo of a segment sent at or after our last
     * retransmission: an older one (the peer echoing TS.Recent of data it
     * took long ago, in a duplicate ACK) measures the loss, not the path,
     * and would inflate the RTO without bound (cf. RFC 3522's Eifel test) */
    if ((c->flags & TS_CF_TS_OK) && (g->opt_present & TS_OPT_TS) && g->tsecr &&
        (!c->rexmit_ts_set || (int32_t)(g->tsecr - c->rexmit_ts) >= 0)) {
        uint32_t now_ts = ts_now_ms_ts(s, c->ts_off);
        int32_t d = (int32_t)(now_ts - g->tsecr);
        if (d >= 0 && c->rtt_time != TS_NEVER && ts_seq_ge(g->ack, c->rtt_seq) &&
            !c->retransmits) {
            /* prefer the exact clock when we timed this very segment */
            ts_rtt_sample(s, c, s->now - c->rtt_time);
            c->rtt_time = TS_NEVER;
            return;
        }
        if (d >= 0) {
            ts_rtt_sample(s, c, (uint64_t)d * 1000u);
            c->rtt_time = TS_NEVER;
            return;
        }
    }
    if (c->rtt_time != TS_NEVER && ts_seq_ge(g->ack, c->rtt_seq) && !c->retransmits) {
        ts_rtt_sample(s, c, s->now - c->rtt_time);
        c->rtt_time = TS_NEVER;
    }
}

static void cwnd_on_ack(ts_conn *c, uint32_t acked)
{
    if (c->cwnd < c->ssthresh)
        c->cwnd += TS_MIN(acked, (uint32_t)c->mss);
    else
        c->cwnd += TS_MAX(1u, (uint32_t)c->mss * c->mss / TS_MAX(c->cwnd, 1u));
}

/* Forward progress: drop acked bytes, take an RTT sample, reset the
 * retransmission state (Linux tcp_clean_rtx_queue + tcp_ack). Returns 1 if
 * our FIN is now acknowledged. */
static int ack_advance(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    uint32_t acked = g->ack - c->snd_una, bytes = acked;
    int fin_acked = 0;
    if (c->c.state == TS_SYN_RECV && bytes) {
        bytes--; /* our SYN */
    }
    if ((c->flags & TS_CF_FIN_SENT) && g->ack == c->snd_max) {
        fin_acked = 1;
        if (bytes)
            bytes--;
    }
    if (bytes > c->sndq.len)
        bytes = c->sndq.len;
    rtt_from_ack(s, c, g);
    ts_bq_consume(s, &c->sndq, bytes);
    {
        /* a passive child starts with snd_una past its SYN in Linux
         * (tcp_create_openreq_child): its SYN is never counted */
        uint32_t counted = acked - (c->c.state == TS_SYN_RECV && (c->flags & TS_CF_PASSIVE));
        c->bytes_acked = c->bytes_acked + counted < c->bytes_acked ? UINT32_MAX
                                                                    : c->bytes_acked + counted;
    }
    c->snd_una = g->ack;
    ts_tlp_on_ack(c, g->ack);
    if (ts_seq_lt(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una;
    cwnd_on_ack(c, acked);
    c->retransmits = 0;
    c->backoff = 0;
    c->dupacks = 0;
    c->err_soft = 0;
    if (c->snd_una == c->snd_max) {
        c->retrans_stamp = 0;
        if (c->send_timer == TS_ST_RTO || c->send_timer == TS_ST_TLP) {
            c->send_timer = TS_ST_NONE;
            c->t_send = TS_NEVER;
        }
    } else {
        ts_set_xmit_timer(s, c, 1); /* RTO, or a tail loss probe (tlp.c) */
    }
    return fin_acked;
}

/* A duplicate ACK (RFC 5681 §2: no data, same window, something in
 * flight): counted, and loss recovery may start (sack.c). */
static void dupack(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (g->len || (g->flags & (TS_TH_SYN | TS_TH_FIN)) || c->snd_una == c->snd_max)
        return;
    if (((uint32_t)g->win << c->snd_wscale) != c->snd_wnd)
        return;
    c->dupacks++;
    ts_sack_on_dupack(s, c);
}

/* fin_acked in FIN_WAIT_1: Linux tcp_rcv_state_process's FIN_WAIT1 case. */
static int fin_wait1_acked(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (g->flags & TS_TH_FIN && g->seq == c->rcv_nxt && g->len == 0)
        return STEP_GO; /* FIN+ACK of our FIN: step_fin goes straight to TIME_WAIT */
    if (!(c->flags & TS_CF_ORPHAN)) {
        ts_set_state(s, &c->c, TS_FIN_WAIT2, TS_CAUSE_RCV_ACK);
        return STEP_GO;
    }
    if (c->linger2 < 0) {
        /* TCP_LINGER2 < 0: no FIN_WAIT_2 at all; the ACK of our FIN is
         * answered with RST (LINUX_BEHAVIOUR.md "TCP_LINGER2 < 0") */
        ts_set_state(s, &c->c, TS_FIN_WAIT2, TS_CAUSE_RCV_ACK);
        TS_MIB_INC(s, TS_MIB_TCPAbortOnData);
        ts_send_rst_for(s, g, c->c.conn_id);
        ts_conn_done(s, c, 0, TS_CAUSE_ORPHAN_LIMIT);
        return STEP_DONE;
    }
    if (g->len && ts_seq_gt(g->seq + g->len, c->rcv_nxt)) {
        /* out-of-order FIN or data after close(): abort */
        ts_set_state(s, &c->c, TS_FIN_WAIT2, TS_CAUSE_RCV_ACK);
        TS_MIB_INC(s, TS_MIB_TCPAbortOnData);
        ts_send_rst_for(s, g, c->c.conn_id);
        ts_conn_done(s, c, TS_ECONNRESET, TS_CAUSE_RCV_DATA_CLOSED);
        return STEP_DONE;
    }
    ts_set_state(s, &c->c, TS_FIN_WAIT2, TS_CAUSE_RCV_ACK);
    {
        uint64_t tmo = ts_fin_time_us(s, c);
        uint64_t twlen = (uint64_t)s->cfg.tcpstate_timewait_len_ms * TS_MS;
        if (tmo > twlen) {
            c->life_timer = TS_LT_FIN_WAIT2;
            c->t_life = ts_time_add(s->now, tmo - twlen);
        } else if (g->flags & TS_TH_FIN) {
            c->life_timer = TS_LT_FIN_WAIT2;
            c->t_life = ts_time_add(s->now, tmo);
        } else {
            ts_tw_enter(s, c, TS_FIN_WAIT2, TS_CAUSE_RCV_ACK, tmo);
            return STEP_DONE;
        }
    }
    return STEP_GO;
}

/* The ACK of our SYN-ACK in a simultaneous-open SYN_RECEIVED: the
 * connection is established (RFC 9293 §3.10.7.4 SYN-RECEIVED STATE). */
static void synrecv_acked(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    c->snd_wnd = (uint32_t)g->win << c->snd_wscale;
    c->snd_wl1 = g->seq;
    c->snd_wl2 = g->ack;
    c->max_window = c->snd_wnd;
    ack_advance(s, c, g);
    c->flags &= ~TS_CF_NEED_SYN; /* a SYN-ACK retransmission not yet pulled */
    ts_set_state(s, &c->c, TS_ESTABLISHED, TS_CAUSE_RCV_ACK);
    if (c->connect_state == TS_CS_CONNECTING)
        c->connect_state = TS_CS_JUST_DONE;
    if (c->flags & TS_CF_KEEPALIVE)
        ts_keepalive_reset(s, c);
    /* a shutdown(SHUT_WR) made in SYN_RECEIVED takes effect now */
    if (c->flags & TS_CF_SHUT_WR_DEFER)
        ts_close_state(s, c, TS_CAUSE_APP_SHUTDOWN);
}

/* Our FIN is acknowledged: where each closing state goes next. */
static int our_fin_acked(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    switch ((enum ts_state)c->c.state) {
    case TS_FIN_WAIT1:
        return fin_wait1_acked(s, c, g);
    case TS_CLOSING:
        ts_tw_enter(s, c, TS_TIME_WAIT, TS_CAUSE_RCV_ACK, 0);
        return STEP_DONE;
    case TS_LAST_ACK:
        ts_conn_done(s, c, 0, TS_CAUSE_RCV_ACK);
        return STEP_DONE;
    case TS_ESTABLISHED:
    case TS_SYN_SENT:
    case TS_SYN_RECV:
    case TS_FIN_WAIT2:
    case TS_TIME_WAIT:
    case TS_CLOSE:
    case TS_CLOSE_WAIT:
    case TS_LISTEN:
    case TS_NEW_SYN_RECV:
    case TS_STATE_MAX:
        break;
    }
    return STEP_GO;
}

/* RFC 9293 §3.10.7.4 fifth: the ACK field. */
static int step_ack(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    int fin_acked = 0;
    if (!(g->flags & TS_TH_ACK))
        return TS_DROP_NO_ACK;
    if (ts_seq_gt(g->ack, c->snd_max)) {
        /* ACK of something not yet sent */
        if (c->c.state == TS_SYN_RECV) {
            ts_send_rst_for(s, g, c->c.conn_id);
            return TS_DROP_BAD_ACK;
        }
        challenge_ack(s, c);
        return TS_DROP_BAD_ACK;
    }
    if (ts_seq_lt(g->ack, c->snd_una)) {
        /* RFC 5961 §5.2: too old is dropped with a challenge ACK; merely
         * old is ignored (the text may still be good) */
        /* Linux: "do not accept ACK for bytes we never sent": the bound is
         * min(max_window, bytes acked so far), not the window alone */
        uint32_t bound = c->bytes_acked < c->max_window ? c->bytes_acked : c->max_window;
        if (ts_seq_lt(g->ack, c->snd_una - bound)) {
            challenge_ack(s, c);
            return TS_DROP_BAD_ACK;
        }
        if (c->c.state == TS_SYN_RECV) {
            ts_send_rst_for(s, g, c->c.conn_id);
            return TS_DROP_BAD_ACK;
        }
        return STEP_GO;
    }
    c->probes_out = 0;
    c->rcv_tstamp = s->now;
    if (c->c.state == TS_SYN_RECV) {
        synrecv_acked(s, c, g);
    } else {
        update_window(c, g);
        ts_sack_update(s, c, g);
        if (ts_seq_gt(g->ack, c->snd_una)) {
            fin_acked = ack_advance(s, c, g);
            ts_sack_on_advance(c);
        } else {
            dupack(s, c, g);
        }
    }
    if (c->send_timer == TS_ST_PROBE && c->snd_wnd) {
        c->send_timer = TS_ST_NONE;
        c->t_send = TS_NEVER;
        if (c->snd_una != c->snd_max)
            ts_rearm_rto(s, c);
    }
    return fin_acked ? our_fin_acked(s, c, g) : STEP_GO;
}

/* Quick-ACK mode at the start of a connection, delayed ACKs after
 * (Linux __tcp_ack_snd_check): more than one full segment unacknowledged,
 * or quick-ACK credit left, gives an ACK now; else the delayed-ACK timer. */
static void ack_snd_check(ts_stack *s, ts_conn *c)
{
    if (c->rcv_nxt - c->rcv_wup > c->mss || (c->quickack && !c->pingpong)) {
        if (c->quickack)
            c->quickack--;
        c->flags |= TS_CF_NEED_ACK;
        return;
    }
    ts_schedule_delack(s, c);
}

static int rcv_side_closed(const ts_conn *c)
{
    return (c->flags & (TS_CF_SHUT_RD | TS_CF_ORPHAN)) != 0;
}

/* RFC 9293 §3.10.7.4 seventh: the segment text (Linux tcp_data_queue). */
static int step_data(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    uint32_t seq = g->seq, len = g->len, off, take, fin = !!(g->flags & TS_TH_FIN);
    int st = c->c.state;
    if ((len || fin) && !ts_seq_gt(seq + len + fin, c->rcv_nxt)) {
        /* a retransmission, data or FIN wholly before rcv_nxt: ACK at once
         * (Linux tcp_data_queue, quick-ack + DSACK; CLOSE_WAIT, CLOSING and
         * LAST_ACK reach it too for seq < rcv_nxt, so a retransmitted FIN
         * is re-ACKed there), with a D-SACK of the segment
         * (tests/pkt/established_old_data_dup_ack.pkt) */
        dsack_set(c, seq, seq + len + fin);
        c->flags |= TS_CF_NEED_ACK;
        return STEP_GO;
    }
    if (!len)
        return STEP_GO;
    if (st == TS_CLOSE_WAIT || st == TS_CLOSING || st == TS_LAST_ACK)
        return STEP_GO; /* after the peer's FIN: ignored */
    if ((st == TS_FIN_WAIT1 || st == TS_FIN_WAIT2) && rcv_side_closed(c) &&
        ts_seq_gt(seq + len, c->rcv_nxt)) {
        /* data for a closed receive side (LINUX_BEHAVIOUR.md "orphans"):
         * TCPAbortOnData, RST with seq = the segment's ack */
        TS_MIB_INC(s, TS_MIB_TCPAbortOnData);
        ts_send_rst_for(s, g, c->c.conn_id);
        ts_conn_done(s, c, TS_ECONNRESET, TS_CAUSE_RCV_DATA_CLOSED);
        return STEP_DONE;
    }
    if (ts_seq_gt(seq, c->rcv_nxt)) {
        /* out of order: held (ooo.c), and a duplicate ACK with SACK blocks
         * at once tells the sender (Linux tcp_data_queue_ofo) */
        int r;
        c->flags |= TS_CF_NEED_ACK;
        if (ts_seq_gt(seq + len, c->rcv_nxt + rcv_window(c)) ||
            (r = ts_ooo_insert(s, c, seq, g->data, len, !!(g->flags & TS_TH_FIN))) != 0) {
            TS_MIB_INC(s, TS_MIB_TCPOFODrop);
            return TS_DROP_OFO;
        }
        return STEP_GO;
    }
    off = c->rcv_nxt - seq;
    if (off)
        dsack_set(c, seq, c->rcv_nxt); /* partly old: D-SACK the old part */
    take = len - off;
    if (take > rcv_window(c))
        take = rcv_window(c);
    if (take > c->rcvbuf + 65535u - c->rcvq.len)
        take = 0;
    if (!take) {
        TS_MIB_INC(s, TS_MIB_TCPRcvQDrop);
        c->flags |= TS_CF_NEED_ACK;
        return TS_DROP_RCVBUF;
    }
    take = ts_bq_append(s, &c->rcvq, g->data + off, take, c->rcvbuf + 65535u);
    c->rcv_nxt += take;
    ts_conn_rcv_grow(s, c, len); /* Linux tcp_event_data_recv */
    if (c->ooo) {
        /* a hole filled: what waited joins the stream; ACK at once */
        if (ts_ooo_drain(s, c))
            c->flags |= TS_CF_OOO_FIN;
        c->flags |= TS_CF_NEED_ACK;
    }
    if (!c->lrcvtime_set) {
        c->quickack = TS_MAX_QUICKACKS;
        c->lrcvtime_set = 1;
    }
    c->lrcvtime = s->now;
    if (take < len - off)
        c->flags |= TS_CF_NEED_ACK; /* part did not fit: tell the window */
    else if (!(fin && (st == TS_ESTABLISHED || st == TS_SYN_RECV)))
        ack_snd_check(s, c);
    /* else a FIN rides on the data: Linux's tcp_data_queue runs tcp_fin
     * (pingpong mode) before tcp_ack_snd_check, so the quick-ACK credit of
     * a young connection does not apply; step_fin decides
     * (tests/pkt/close_wait_fin_with_data.pkt) */
    return STEP_GO;
}

/* RFC 9293 §3.10.7.4 eighth: the FIN bit (Linux tcp_fin). Only a FIN in
 * order counts; it takes one sequence number. */
static int step_fin(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (c->flags & TS_CF_OOO_FIN)
        c->flags &= ~TS_CF_OOO_FIN; /* a queued FIN came in order */
    else if (!(g->flags & TS_TH_FIN) || g->seq + g->len != c->rcv_nxt)
        return STEP_GO;
    if (c->flags & TS_CF_FIN_RCVD)
        return STEP_GO;
    c->rcv_nxt++;
    c->flags |= TS_CF_FIN_RCVD;
    switch ((enum ts_state)c->c.state) {
    case TS_SYN_RECV:
    case TS_ESTABLISHED:
        ts_set_state(s, &c->c, TS_CLOSE_WAIT, TS_CAUSE_RCV_FIN);
        /* Linux enters pingpong mode: the ACK is delayed; without any data
         * received (ato = 0) it leaves on the next tick (4 ms at HZ=250),
         * LINUX_BEHAVIOUR.md "ACK of a FIN" */
        c->pingpong = 1;
        if (c->flags & TS_CF_NEED_ACK)
            break;
        if (g->len) {
            ack_snd_check(s, c); /* data and FIN together: see step_data */
            break;
        }
        c->t_delack = ts_time_add(s->now, c->lrcvtime_set
                                              ? (uint64_t)s->cfg.tcp_delack_min_ms * TS_MS
                                              : 4 * TS_MS);
        break;
    case TS_FIN_WAIT1:
        if ((c->flags & TS_CF_FIN_SENT) && c->snd_una == c->snd_max) {
            ts_send_ack_now(s, c);
            ts_tw_enter(s, c, TS_TIME_WAIT, TS_CAUSE_RCV_FINACK, 0);
            return STEP_DONE;
        }
        ts_set_state(s, &c->c, TS_CLOSING, TS_CAUSE_RCV_FIN);
        c->flags |= TS_CF_NEED_ACK;
        break;
    case TS_FIN_WAIT2:
        ts_send_ack_now(s, c);
        ts_tw_enter(s, c, TS_TIME_WAIT, TS_CAUSE_RCV_FIN, 0);
        return STEP_DONE;
    case TS_CLOSE_WAIT:
    case TS_CLOSING:
    case TS_LAST_ACK:
    case TS_TIME_WAIT:
    case TS_SYN_SENT:
    case TS_CLOSE:
    case TS_LISTEN:
    case TS_NEW_SYN_RECV:
    case TS_STATE_MAX:
        break;
    }
    return STEP_GO;
}

static void update_ts_recent(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    /* RFC 7323 §4.3 / Linux tcp_replace_ts_recent: seq <= Last.ACK.sent */
    if ((c->flags & TS_CF_TS_OK) && (g->opt_present & TS_OPT_TS) &&
        !ts_seq_gt(g->seq, c->rcv_wup)) {
        c->ts_recent = g->tsval;
        c->ts_recent_stamp = s->now;
    }
}

/* The synchronized states' path. */
int ts_established_process(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    int r;
    if ((r = step_paws(s, c, g)) != STEP_GO)
        return r;
    if ((r = step_seq(s, c, g)) != STEP_GO)
        return r;
    if ((r = step_rst(s, c, g)) != STEP_GO)
        return r;
    if ((r = step_syn(s, c, g)) != STEP_GO)
        return r;
    if (!(g->flags & TS_TH_ACK))
        return TS_DROP_NO_ACK;
    update_ts_recent(s, c, g);
    if ((r = step_ack(s, c, g)) != STEP_GO)
        return r;
    if ((r = step_data(s, c, g)) != STEP_GO)
        return r;
    return step_fin(s, c, g);
}

/* ------------------------------------------------------------- demux */

static uint32_t conn_id_of(ts_skc *k) { return k ? k->conn_id : 0; }

int ts_input_seg(ts_stack *s, const ts_seg *g)
{
    ts_skc *k = ts_hash_lookup(s, g->dst_ip, g->dst_port, g->src_ip, g->src_port);
    ts_conn *l = NULL;
    uint32_t ev_idx = s->ev_len;
    int r, have_ev;

    if (!k)
        l = ts_listen_lookup(s, g->dst_ip, g->dst_port);
    ts_ev_segment(s, TS_SEG_RX, k ? conn_id_of(k) : l ? l->c.conn_id : 0, g, 0);
    have_ev = s->ev_len > ev_idx;

    if (k && k->kind == TS_K_TW) {
        r = ts_tw_process(s, (ts_tw *)k, g);
        if (r == TS_TW_SYN_REOPEN) {
            l = ts_listen_lookup(s, g->dst_ip, g->dst_port);
            r = l ? ts_listen_process(s, l, g) : TS_DROP_TW;
            if (l)
                ts_sync(s, &l->c);
            s->forced_isn_set = 0;
        }
    } else if (k && k->kind == TS_K_REQ) {
        r = ts_req_process(s, (ts_req *)k, g);
    } else if (k) {
        ts_conn *c = (ts_conn *)k;
        uint32_t id = c->c.conn_id;
        if (c->c.state == TS_SYN_SENT)
            r = ts_synsent_process(s, c, g);
        else
            r = ts_established_process(s, c, g);
        /* the connection may be gone: sync only if still hashed under its id */
        if (ts_hash_lookup(s, g->dst_ip, g->dst_port, g->src_ip, g->src_port) == k &&
            k->conn_id == id) {
            ts_conn_flush_ack(s, c);
            ts_sync(s, k);
        }
    } else if (l) {
        r = ts_listen_process(s, l, g);
        ts_sync(s, &l->c);
    } else {
        /* RFC 9293 §3.10.7.1: CLOSED (no connection) answers with RST */
        ts_send_rst_for(s, g, 0);
        r = TS_DROP_NO_SOCKET;
    }
    if (r < 0)
        r = 0;
    if (r > 0) {
        if (r < TS_DROP_MAX)
            s->drops[r]++;
        TS_MIB_INC(s, TS_MIB_TCPStateDrops);
        if (have_ev) {
            s->ev[ev_idx].u.seg.kind = TS_SEG_DROP;
            s->ev[ev_idx].u.seg.reason = r;
        }
    }
    return r;
}

int ts_stack_input(ts_stack *s, uint64_t now_us, const uint8_t *pkt, size_t len)
{
    ts_seg g;
    int r;
    if (!s || !pkt)
        return TS_EINVAL;
    if (s->in_hook)
        return TS_EBUSY;
    if (now_us > s->now)
        s->now = now_us;
    memset(&g, 0, sizeof g);
    r = ts_wire_parse(pkt, len, &g);
    if (r) {
        TS_MIB_INC(s, TS_MIB_InErrs);
        if (r == TS_DROP_TCP_CSUM)
            TS_MIB_INC(s, TS_MIB_InCsumErrors);
        if (r != TS_DROP_IP_PROTO && r != TS_DROP_IP_FRAGMENT)
            memset(&g, 0, sizeof g);
        g.len = 0;
        ts_ev_segment(s, TS_SEG_DROP, 0, &g, r);
        ts_ev_flush(s);
        return -r; /* the header's contract: the negative drop reason */
    }
    if (!ts_addr_is_local(s, g.dst_ip) || g.src_ip == 0 || g.src_ip == 0xffffffffu ||
        (g.src_ip >> 28) == 0xe || g.src_port == 0 || g.dst_port == 0) {
        ts_ev_segment(s, TS_SEG_DROP, 0, &g, TS_DROP_IP_ADDR);
        ts_ev_flush(s);
        return -TS_DROP_IP_ADDR;
    }
    TS_MIB_INC(s, TS_MIB_InSegs);
    r = ts_input_seg(s, &g);
    ts_ev_flush(s);
    return -r;
}
