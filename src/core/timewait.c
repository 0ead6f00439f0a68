/*
 * timewait.c — the TIME_WAIT minisocket, which also holds an orphan in
 * FIN_WAIT_2 (Linux's inet_timewait_sock with tw_substate).
 *
 * Cost: sizeof(ts_tw) bytes (see docs/DESIGN-NOTES.md) instead of a full
 * connection: entering TIME_WAIT frees the ts_conn. If the application
 * still holds a handle, its socket stays, CLOSED, while the minisocket
 * keeps the 4-tuple (Linux's tcp_time_wait + tcp_done).
 *
 * ts_tw_decide() is Linux's tcp_timewait_state_process: it reads the entry
 * through a const pointer and returns a disposition (LINUX_BEHAVIOUR.md
 * "TIME_WAIT", "TIME_WAIT details", "FIN_WAIT_2 orphan"):
 *   FIN_WAIT_2 substate: out of window -> ACK (rate-limited); RST -> kill;
 *     SYN at/after rcv_nxt -> RST; dup ACK -> absorb; new data, or a FIN
 *     not exactly at rcv_nxt -> RST (and kill); the FIN -> TIME_WAIT, ACK.
 *   TIME_WAIT: the exact-next bare segment is absorbed and restarts the
 *     60 s (a RST there kills it unless tcp_rfc1337, and then restarts
 *     nothing); a new SYN with a higher seq (or a newer timestamp) reopens
 *     with ISN = snd_nxt + 65537; any other segment but a RST is ACKed
 *     (rate-limited, 500 ms, except a FIN or data), and restarts the 60 s
 *     if it carries ACK or fails PAWS: an ACK-less old SYN does not (it may
 *     be a new SYN with a random ISN below rcv_nxt).
 * Limit: tcp_max_tw_buckets; past it the connection is destroyed instead
 * (TCPTimeWaitOverflow).
 */
#include "internal.h"

static int tw_oow_limited(const ts_stack *s, const ts_tw *tw, const ts_seg *g)
{
    uint64_t lim = (uint64_t)s->cfg.tcp_invalid_ratelimit * TS_MS;
    if (g->len && !(g->flags & TS_TH_SYN))
        return 0; /* data: never part of an ACK loop */
    if (g->flags & TS_TH_FIN && !(g->flags & TS_TH_SYN))
        return 0; /* a FIN takes a sequence number: end != seq */
    uint32_t now_ms = (uint32_t)(s->now / TS_MS) + 1;
    return tw->last_oow_ack_ms && (uint64_t)(now_ms - tw->last_oow_ack_ms) * TS_MS < lim;
}

static int paws_reject(const ts_stack *s, const ts_tw *tw, const ts_seg *g)
{
    (void)s;
    if (!tw->ts_ok || !(g->opt_present & TS_OPT_TS) || (g->flags & TS_TH_RST))
        return 0;
    return (int32_t)(g->tsval - tw->ts_recent) < 0;
}

static int decide_fin_wait2(const ts_stack *s, const ts_tw *tw, const ts_seg *g, uint32_t end)
{
    uint32_t wnd = (uint32_t)tw->rcv_win << tw->rcv_wscale;
    if (paws_reject(s, tw, g) || !ts_in_window(g->seq, end, tw->rcv_nxt, tw->rcv_nxt + wnd))
        return tw_oow_limited(s, tw, g) ? TS_TWD_LIMITED : TS_TWD_ACK;
    if (g->flags & TS_TH_RST)
        return TS_TWD_KILL;
    if ((g->flags & TS_TH_SYN) && !ts_seq_lt(g->seq, tw->rcv_nxt))
        return TS_TWD_RST;
    if (!(g->flags & TS_TH_ACK) || !ts_seq_gt(end, tw->rcv_nxt) || end == g->seq)
        return TS_TWD_ABSORB;
    if (!(g->flags & TS_TH_FIN) || end != tw->rcv_nxt + 1)
        return TS_TWD_RST;
    return TS_TWD_FIN;
}

int ts_tw_decide(const ts_stack *s, const ts_tw *tw, const ts_seg *g)
{
    uint32_t end = g->seq + g->len + !!(g->flags & TS_TH_SYN) + !!(g->flags & TS_TH_FIN);
    int paws = paws_reject(s, tw, g), restart;

    if (tw->c.state == TS_FIN_WAIT2)
        return decide_fin_wait2(s, tw, g, end);
    if (!paws && g->seq == tw->rcv_nxt && (g->seq == end || (g->flags & TS_TH_RST))) {
        /* Linux reschedules the 60 s for the bare ACK, not for a RST that
         * tcp_rfc1337 ignores (tests/pkt/time_wait_exact_ack_restarts_timer.pkt) */
        if (!(g->flags & TS_TH_RST))
            return TS_TWD_ABSORB_RESTART;
        return s->cfg.tcp_rfc1337 ? TS_TWD_ABSORB : TS_TWD_KILL;
    }
    if ((g->flags & TS_TH_SYN) && !(g->flags & (TS_TH_RST | TS_TH_ACK)) && !paws &&
        (ts_seq_gt(g->seq, tw->rcv_nxt) ||
         (tw->ts_ok && (g->opt_present & TS_OPT_TS) && (int32_t)(tw->ts_recent - g->tsval) < 0)))
        return TS_TWD_SYN;
    if (g->flags & TS_TH_RST)
        return TS_TWD_ABSORB;
    /* Linux's tcp_timewait_state_process reschedules on th->ack or a PAWS
     * reject, before and whatever the rate limit: a retransmitted FIN, an
     * old ACK (measured on Linux 6.18: tests/pkt/time_wait_old_ack_restarts
     * _timer.pkt), a SYN+ACK; not an ACK-less old SYN. */
    restart = paws || (g->flags & TS_TH_ACK);
    if (tw_oow_limited(s, tw, g))
        return restart ? TS_TWD_LIMITED_RESTART : TS_TWD_LIMITED;
    return restart ? TS_TWD_ACK_RESTART : TS_TWD_ACK;
}

static uint64_t tw_len(const ts_stack *s)
{
    return (uint64_t)s->cfg.tcpstate_timewait_len_ms * TS_MS;
}

void ts_tw_free(ts_stack *s, ts_tw *tw)
{
    ts_hash_remove(s, &tw->c);
    ts_out_remove(s, &tw->c);
    ts_heap_update(s, &tw->c, TS_NEVER);
    ts_port_put(s, tw->c.tuple.local.port, 2, 0);
    if (s->n_tw)
        s->n_tw--;
    ts_dealloc(s, tw, sizeof *tw);
}

static void tw_end(ts_stack *s, ts_tw *tw, int cause)
{
    ts_set_state(s, &tw->c, TS_CLOSE, cause);
    ts_tw_free(s, tw);
}

int ts_tw_process(ts_stack *s, ts_tw *tw, const ts_seg *g)
{
    int d = ts_tw_decide(s, tw, g);
    switch (d) {
    case TS_TWD_ACK_RESTART:
        tw->t_tw = ts_time_add(s->now, tw_len(s));
        /* fall through */
    case TS_TWD_ACK:
        tw->last_oow_ack_ms = (uint32_t)(s->now / TS_MS) + 1;
        tw->reply = TS_TWR_ACK;
        ts_sync(s, &tw->c);
        return TS_DROP_TW;
    case TS_TWD_LIMITED_RESTART:
        tw->t_tw = ts_time_add(s->now, tw_len(s));
        ts_sync(s, &tw->c);
        /* fall through */
    case TS_TWD_LIMITED:
        TS_MIB_INC(s, tw->c.state == TS_FIN_WAIT2 ? TS_MIB_TCPACKSkippedFinWait2
                                                   : TS_MIB_TCPACKSkippedTimeWait);
        return TS_DROP_TW;
    case TS_TWD_ABSORB_RESTART:
        tw->t_tw = ts_time_add(s->now, tw_len(s));
        ts_sync(s, &tw->c);
        /* fall through */
    case TS_TWD_ABSORB:
        if ((g->opt_present & TS_OPT_TS) && tw->ts_ok && !(g->flags & TS_TH_RST))
            tw->ts_recent = g->tsval;
        return TS_DROP_TW;
    case TS_TWD_KILL:
        tw_end(s, tw, TS_CAUSE_RCV_RST);
        return 0;
    case TS_TWD_RST:
        ts_send_rst_for(s, g, tw->c.conn_id);
        TS_MIB_INC(s, TS_MIB_TCPAbortOnData);
        tw_end(s, tw, TS_CAUSE_RCV_DATA_CLOSED);
        return 0;
    case TS_TWD_FIN:
        ts_set_state(s, &tw->c, TS_TIME_WAIT, TS_CAUSE_RCV_FIN);
        tw->rcv_nxt = g->seq + g->len + 1;
        if (tw->ts_ok && (g->opt_present & TS_OPT_TS)) {
            tw->ts_recent = g->tsval;
            tw->ts_recent_stamp_ms = (uint32_t)(s->now / TS_MS) + 1;
        }
        tw->t_tw = ts_time_add(s->now, tw_len(s));
        tw->reply = TS_TWR_ACK;
        ts_sync(s, &tw->c);
        return 0;
    case TS_TWD_SYN:
    default: {
        uint32_t isn = tw->snd_nxt + 65535 + 2;
        s->forced_isn = isn ? isn : 1;
        s->forced_isn_set = 1;
        tw_end(s, tw, TS_CAUSE_TW_REOPEN);
        return TS_TW_SYN_REOPEN;
    }
    }
}

/* Linux's tcp_fin_time(): TCP_LINGER2 or tcp_fin_timeout, at least 3.5 RTO. */
uint64_t ts_fin_time_us(const ts_stack *s, const ts_conn *c)
{
    uint64_t t = (uint64_t)(c->linger2 > 0 ? c->linger2 : s->cfg.tcp_fin_timeout) * TS_SEC;
    uint64_t rto = c->rto_us, floor = (rto << 2) - (rto >> 1);
    return t < floor ? floor : t;
}

/*
 * Linux's tcp_time_wait(): the full connection becomes a minisocket in
 * `state` (TIME_WAIT, or FIN_WAIT_2 for an orphan waiting for the FIN),
 * with the transition reported on the connection first. TIME_WAIT lasts
 * the fixed 60 s; the FIN_WAIT_2 substate lasts tmo (at least 3.5 RTO).
 * Past tcp_max_tw_buckets the connection is simply destroyed.
 */
int ts_tw_enter(ts_stack *s, ts_conn *c, int state, int cause, uint64_t tmo)
{
    ts_tw *tw;
    uint64_t rto35 = ((uint64_t)c->rto_us << 2) - (c->rto_us >> 1);

    if (state == TS_TIME_WAIT)
        tmo = tw_len(s);
    else if (tmo < rto35)
        tmo = rto35;
    if (s->n_tw >= (uint32_t)s->cfg.tcp_max_tw_buckets ||
        !(tw = ts_alloc(s, sizeof *tw))) {
        TS_MIB_INC(s, TS_MIB_TCPTimeWaitOverflow);
        ts_conn_done(s, c, 0, TS_CAUSE_TW_OVERFLOW);
        return -1;
    }
    if (c->c.state != state)
        ts_set_state(s, &c->c, state, cause);
    tw->c.kind = TS_K_TW;
    tw->c.tuple = c->c.tuple;
    tw->c.conn_id = c->c.conn_id;
    tw->c.deadline = TS_NEVER;
    tw->c.state = (uint8_t)state; /* handed over: the same connection, now a minisocket */
    tw->snd_nxt = c->snd_max;
    tw->rcv_nxt = c->rcv_nxt;
    tw->ts_ok = !!(c->flags & TS_CF_TS_OK);
    tw->ts_recent = c->ts_recent;
    tw->ts_off = c->ts_off;
    tw->ts_recent_stamp_ms = tw->ts_ok ? (uint32_t)(c->ts_recent_stamp / TS_MS) + 1 : 0;
    tw->rcv_wscale = c->rcv_wscale;
    tw->rcv_win = ts_conn_rcv_win_field(s, c);
    tw->last_oow_ack_ms = c->last_oow_ack ? (uint32_t)((c->last_oow_ack - 1) / TS_MS) + 1 : 0;
    tw->t_tw = ts_time_add(s->now, tmo);
    /* the full socket leaves the hash; the minisocket takes its place */
    ts_hash_remove(s, &c->c);
    ts_hash_insert(s, &tw->c);
    ts_port_get(s, tw->c.tuple.local.port, 2, 0);
    s->n_tw++;
    /* Linux __inet_twsk_schedule counts the entry when it is first
     * scheduled, TWKilled for a timeout of at most 4 s, else TW; not at
     * its end, however it ends (measured on 6.18: a RST-killed TIME_WAIT
     * counts TW, a 2 s FIN_WAIT_2 orphan TWKilled). TIME_WAIT itself is
     * always TW: Linux's is 60 s, and a shortened one (our extension) is
     * still a TIME_WAIT entered. */
    TS_MIB_INC(s, state == TS_FIN_WAIT2 && tmo <= 4 * TS_SEC ? TS_MIB_TWKilled : TS_MIB_TW);
    ts_conn_detach(s, c);
    ts_sync(s, &tw->c);
    return 0;
}

/* The TIME_WAIT timer: 2MSL over (TcpExtTW), or the FIN_WAIT_2 orphan's
 * tcp_fin_timeout (it disappears silently: LINUX_BEHAVIOUR.md). */
void ts_tw_expire(ts_stack *s, ts_tw *tw)
{
    if (tw->c.state == TS_TIME_WAIT) {
        tw_end(s, tw, TS_CAUSE_TIMER_2MSL);
    } else {
        tw_end(s, tw, TS_CAUSE_TIMER_FIN_WAIT2);
    }
}
