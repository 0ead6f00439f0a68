/*
 * tlp.c — tail loss probes (RFC 8985 §7, Linux's tcp_schedule_loss_probe
 * and tcp_send_loss_probe), on by default in Linux whenever SACK was
 * negotiated.
 *
 * When the last segments of a flight are lost no duplicate ACK can come,
 * and only the RTO would recover them. So after new data (or a FIN) is sent,
 * and after each ACK that leaves data outstanding, the send slot is armed
 * with a probe timeout instead of the RTO: PTO = 2 x SRTT, plus tcp_rto_min
 * when one segment is out (the peer may delay its ACK) or 2 jiffies (8 ms)
 * otherwise, 1 s without an RTT sample, and never later than the RTO would
 * fire. When it fires, the last segment is sent again (TCPLossProbes) and
 * the RTO takes the slot back. One probe at a time: until an ACK passes
 * tlp_high_seq a second probe only re-arms the RTO.
 *
 * Seen on the wire (50 ms RTT, RTO 250 ms, a lost FIN): FIN at 0, probe at
 * 0.25, RTO retransmissions at 0.5, 1, 2 s — where a peer without SACK sees
 * 0, 0.25, 0.75, 1.75 s (tests/pkt/fin_wait_1_fin_retransmit_tlp.pkt).
 */
#include "internal.h"

#define TLP_TIMEOUT_MIN_US 8000u /* TCP_TIMEOUT_MIN: 2 jiffies at HZ = 250 */

static uint32_t packets_out(const ts_conn *c)
{
    uint32_t bytes = c->snd_max - c->snd_una;
    return (bytes + c->mss - 1) / TS_MAX((uint32_t)c->mss, 1u);
}

static int tlp_state(int st)
{
    return st == TS_ESTABLISHED || st == TS_FIN_WAIT1 || st == TS_CLOSE_WAIT ||
           st == TS_CLOSING || st == TS_LAST_ACK;
}

/* Linux tcp_schedule_loss_probe(sk, advancing_rto): 1 when the slot now
 * holds a probe timer. */
int ts_tlp_schedule(ts_stack *s, ts_conn *c, int advancing_rto)
{
    uint64_t timeout, rto_delta;
    uint32_t unsent = c->sndq.len - TS_MIN(c->sndq.len, c->snd_max - c->snd_una);
    if (!(c->flags & TS_CF_SACK_OK) || c->snd_una == c->snd_max || c->in_recovery ||
        !tlp_state(c->c.state) || c->send_timer == TS_ST_PROBE)
        return 0;
    if (c->cwnd > c->snd_max - c->snd_una && unsent)
        return 0; /* more new data can go: it is the better probe */
    if (c->srtt_us) {
        timeout = (uint64_t)(c->srtt_us >> 2); /* 2 x SRTT */
        timeout += packets_out(c) == 1 ? (uint64_t)s->cfg.tcp_rto_min_us : TLP_TIMEOUT_MIN_US;
    } else {
        timeout = TS_RTO_INIT_US;
    }
    if (advancing_rto || c->send_timer != TS_ST_RTO || c->t_send == TS_NEVER)
        rto_delta = c->rto_us;
    else
        rto_delta = ts_time_sub(c->t_send, s->now);
    if (rto_delta > 0 && rto_delta < timeout)
        timeout = rto_delta;
    c->send_timer = TS_ST_TLP;
    c->t_send = ts_time_add(s->now, timeout);
    return 1;
}

/* After new data went out (Linux tcp_event_new_data_sent + the probe
 * tcp_write_xmit schedules) or after an ACK that left data outstanding
 * (tcp_set_xmit_timer). */
void ts_set_xmit_timer(ts_stack *s, ts_conn *c, int advancing_rto)
{
    if (advancing_rto) {
        if (!ts_tlp_schedule(s, c, 1))
            ts_rearm_rto(s, c);
        return;
    }
    if (c->send_timer != TS_ST_RTO || c->t_send == TS_NEVER)
        ts_rearm_rto(s, c);
    ts_tlp_schedule(s, c, 0);
}

/* The probe timer fired (Linux tcp_send_loss_probe). */
void ts_tlp_fire(ts_stack *s, ts_conn *c)
{
    if (c->snd_una == c->snd_max) {
        c->send_timer = TS_ST_NONE;
        c->t_send = TS_NEVER;
        return;
    }
    if (!c->tlp_active) {
        c->flags |= TS_CF_NEED_TLP;
        c->tlp_active = 1;
        c->tlp_high_seq = c->snd_max;
        TS_MIB_INC(s, TS_MIB_TCPLossProbes);
    }
    ts_rearm_rto(s, c);
}

/* An ACK beyond the probed tail ends the probe episode (Linux
 * tcp_process_tlp_ack, simplified). */
void ts_tlp_on_ack(ts_conn *c, uint32_t ack)
{
    if (c->tlp_active && ts_seq_ge(ack, c->tlp_high_seq))
        c->tlp_active = 0;
}
