/*
 * timer.c — what happens when a deadline passes.
 *
 * Every object has one entry in the stack's heap keyed by its earliest
 * deadline (stack.c); ts_stack_advance() pops expired entries in (deadline,
 * insertion) order and calls ts_timer_fire(), which runs each expired slot:
 *
 *   send slot   SYN (SYN_SENT), RTO (data, FIN, simultaneous-open SYN-ACK),
 *               zero-window probe — Linux's tcp_retransmit_timer /
 *               tcp_write_timeout / tcp_probe_timer
 *   delayed ACK Linux's tcp_delack_timer
 *   lifecycle   keepalive (tcp_keepalive_timer) or an orphan's FIN_WAIT_2
 *   request     SYN-ACK retransmission (reqsk.c)
 *   TIME_WAIT   2MSL or the FIN_WAIT_2 substate (timewait.c)
 *
 * Giving up is a time, not only a count (LINUX_BEHAVIOUR.md "SYN_SENT gives
 * up on time", "orphan retries are a time"): ts_model_timeout() is Linux's
 * tcp_model_timeout and retransmits_timed_out().
 */
#include "internal.h"

/* The time `boundary` exponential backoffs from rto_base take, with the
 * RTO capped at rto_max (Linux tcp_model_timeout). */
uint64_t ts_model_timeout(uint32_t boundary, uint64_t base, uint64_t max)
{
    uint32_t thresh = 0;
    while ((base << (thresh + 1)) <= max && thresh < 62)
        thresh++; /* ilog2(max / base) */
    if (boundary <= thresh)
        return ((2ull << boundary) - 1) * base;
    return ((2ull << thresh) - 1) * base + (uint64_t)(boundary - thresh) * max;
}

static int syn_state(const ts_conn *c)
{
    return c->c.state == TS_SYN_SENT || c->c.state == TS_SYN_RECV;
}

/* Linux retransmits_timed_out(): measured from retrans_stamp (the first
 * SYN in SYN_SENT, else the first retransmission). */
static int timed_out(ts_stack *s, const ts_conn *c, uint32_t boundary)
{
    uint64_t base = syn_state(c) ? TS_RTO_INIT_US : (uint64_t)s->cfg.tcp_rto_min_us;
    uint64_t max = (uint64_t)s->cfg.tcp_rto_max_ms * TS_MS;
    uint64_t limit;
    if (!c->retransmits)
        return 0;
    limit = c->user_timeout_ms ? (uint64_t)c->user_timeout_ms * TS_MS
                               : ts_model_timeout(boundary, base, max);
    return s->now - c->retrans_stamp >= limit;
}

/* Linux tcp_orphan_retries(): 0 means 8 while the RTO is below its cap. */
static uint32_t orphan_retries(const ts_stack *s, const ts_conn *c, int alive)
{
    uint32_t r = (uint32_t)s->cfg.tcp_orphan_retries;
    if (c->err_soft && !alive)
        r = 0;
    if (r == 0 && alive)
        r = 8;
    return r;
}

/* Kills the connection because its retries ran out (Linux tcp_write_err):
 * the error is the soft error if one was seen, else ETIMEDOUT. An orphan
 * dies silently. */
static void write_err(ts_stack *s, ts_conn *c, int cause)
{
    int err = c->err_soft ? c->err_soft : TS_ETIMEDOUT;
    TS_MIB_INC(s, TS_MIB_TCPAbortOnTimeout);
    ts_conn_done(s, c, err, cause);
}

/* Linux tcp_out_of_resources(): too many orphans. */
static int out_of_resources(ts_stack *s, ts_conn *c, int do_reset)
{
    if (s->n_orphans <= (uint32_t)s->cfg.tcp_max_orphans)
        return 0;
    if (s->now - c->lsndtime <= 60 * TS_SEC || (!c->snd_wnd && c->snd_una == c->snd_max))
        do_reset = 1;
    if (do_reset)
        ts_conn_send_rst(s, c);
    TS_MIB_INC(s, TS_MIB_TCPAbortOnMemory);
    ts_conn_done(s, c, TS_ENOMEM, TS_CAUSE_ORPHAN_LIMIT);
    return 1;
}

/* Linux tcp_write_timeout(): 1 when the connection was killed. */
static int write_timeout(ts_stack *s, ts_conn *c)
{
    uint32_t retry_until;
    int expired, cause = TS_CAUSE_TIMER_RTO;
    if (syn_state(c)) {
        uint32_t maxr;
        retry_until = c->syncnt ? (uint32_t)c->syncnt : (uint32_t)s->cfg.tcp_syn_retries;
        maxr = retry_until;
        if (c->c.state == TS_SYN_SENT)
            maxr += (uint32_t)s->cfg.tcp_syn_linear_timeouts;
        expired = c->retransmits >= maxr;
        cause = c->c.state == TS_SYN_SENT ? TS_CAUSE_TIMER_SYN : TS_CAUSE_TIMER_SYNACK;
    } else {
        retry_until = (uint32_t)s->cfg.tcp_retries2;
        expired = 0;
        if (c->flags & TS_CF_ORPHAN) {
            int alive = c->rto_us < (uint32_t)s->cfg.tcp_rto_max_ms * 1000u;
            int do_reset;
            retry_until = orphan_retries(s, c, alive);
            do_reset = alive || !timed_out(s, c, retry_until);
            if (out_of_resources(s, c, do_reset))
                return 1;
            cause = TS_CAUSE_TIMER_ORPHAN;
        }
    }
    if (!expired)
        expired = timed_out(s, c, retry_until);
    if (!expired)
        return 0;
    if (c->user_timeout_ms && !(c->flags & TS_CF_ORPHAN))
        cause = TS_CAUSE_USER_TIMEOUT;
    write_err(s, c, cause);
    return 1;
}

static uint32_t rto_max_us(const ts_stack *s) { return (uint32_t)s->cfg.tcp_rto_max_ms * 1000u; }

/* Linux tcp_clamp_rto_to_user_timeout(): with TCP_USER_TIMEOUT the next
 * expiry comes no later than the moment the user timeout, counted from
 * retrans_stamp as the give-up is, runs out; so the connection dies on
 * time, not one backed-off RTO later (tests/pkt/timer_user_timeout.pkt). */
static uint64_t rto_clamped(const ts_stack *s, const ts_conn *c)
{
    uint64_t ut = (uint64_t)c->user_timeout_ms * TS_MS, elapsed;
    if (!c->user_timeout_ms)
        return c->rto_us;
    elapsed = s->now - TS_MIN(s->now, c->retrans_stamp);
    if (elapsed >= ut)
        return TS_MS; /* Linux: one jiffy, "fire ASAP" */
    return TS_MIN((uint64_t)c->rto_us, ut - elapsed);
}

/* SYN_SENT: the first tcp_syn_linear_timeouts retransmissions keep the
 * initial RTO, then it doubles (Linux 6.5+). */
static int syn_timer(ts_stack *s, ts_conn *c)
{
    /* Linux tcp_retransmit_timer counts every expiry, the one that gives
     * up included (measured: TCP_SYNCNT=1 gives TCPTimeouts 3) */
    TS_MIB_INC(s, TS_MIB_TCPTimeouts);
    if (write_timeout(s, c))
        return 1;
    /* SYN_SENT measures from the first SYN, stamped when it left (output.c),
     * which may be at time 0: 0 is not "unset" there */
    if (!c->retrans_stamp && c->c.state != TS_SYN_SENT)
        c->retrans_stamp = s->now;
    c->retransmits++;
    TS_MIB_INC(s, TS_MIB_TCPSynRetrans);
    c->flags |= TS_CF_NEED_SYN;
    c->rtt_time = TS_NEVER;
    if (c->c.state == TS_SYN_SENT && c->retransmits <= (uint32_t)s->cfg.tcp_syn_linear_timeouts) {
        c->backoff = 0;
        c->rto_us = TS_RTO_INIT_US;
    } else {
        c->backoff++;
        c->rto_us = TS_MIN(c->rto_us * 2u, rto_max_us(s));
    }
    c->t_send = ts_time_add(s->now, rto_clamped(s, c));
    return 0;
}

/* Data or FIN unacknowledged: go back to snd_una (Linux retransmits the
 * head and enters loss recovery with cwnd = 1 segment). */
static int rto_timer(ts_stack *s, ts_conn *c)
{
    if (c->snd_una == c->snd_max && c->c.state != TS_SYN_RECV) {
        c->send_timer = TS_ST_NONE;
        c->t_send = TS_NEVER;
        return 0;
    }
    if (c->c.state == TS_SYN_RECV)
        return syn_timer(s, c);
    TS_MIB_INC(s, TS_MIB_TCPTimeouts); /* every expiry, as syn_timer */
    if (write_timeout(s, c))
        return 1;
    if (!c->retrans_stamp)
        c->retrans_stamp = s->now;
    c->retransmits++;
    c->backoff++;
    c->ssthresh = TS_MAX((c->snd_max - c->snd_una) / 2, 2u * c->mss);
    c->cwnd = c->mss;
    c->snd_nxt = c->snd_una; /* go back N; output skips what the peer SACKed */
    c->dupacks = 0;
    c->in_recovery = 0;
    c->tlp_active = 0; /* Linux tcp_retransmit_timer: tlp_high_seq = 0 */
    c->flags &= ~TS_CF_NEED_TLP;
    c->rexmit_credit = 0;
    c->rtt_time = TS_NEVER; /* Karn */
    c->rto_us = TS_MIN(c->rto_us * 2u, rto_max_us(s));
    c->t_send = ts_time_add(s->now, rto_clamped(s, c));
    /* the segment itself goes out through the output FIFO */
    if (c->snd_nxt == c->snd_max)
        c->flags |= TS_CF_NEED_ACK;
    return 0;
}

/* Zero-window probe (Linux tcp_probe_timer, simplified: probes back off
 * like the RTO; tcp_retries2 unanswered probes kill the connection). */
static int probe_timer(ts_stack *s, ts_conn *c)
{
    if (c->snd_wnd || !c->sndq.len) {
        c->send_timer = TS_ST_NONE;
        c->t_send = TS_NEVER;
        return 0;
    }
    if (c->probes_out >= (uint32_t)s->cfg.tcp_retries2) {
        write_err(s, c, TS_CAUSE_TIMER_RTO);
        return 1;
    }
    c->probes_out++;
    c->flags |= TS_CF_NEED_PROBE;
    c->backoff++;
    c->t_send = ts_time_add(s->now, TS_MIN((uint64_t)c->rto_us << TS_MIN(c->backoff, 20),
                                           (uint64_t)rto_max_us(s)));
    return 0;
}

/* 64 bits: the default 7200 s is more µs than a uint32_t holds */
uint64_t ts_keepalive_time_us(const ts_stack *s, const ts_conn *c)
{
    int t = c->keepidle ? c->keepidle : s->cfg.tcp_keepalive_time;
    return (uint64_t)t * TS_SEC;
}

static uint64_t keepalive_intvl_us(const ts_stack *s, const ts_conn *c)
{
    return (uint64_t)(c->keepintvl ? c->keepintvl : s->cfg.tcp_keepalive_intvl) * TS_SEC;
}

static uint32_t keepalive_probes(const ts_stack *s, const ts_conn *c)
{
    return (uint32_t)(c->keepcnt ? c->keepcnt : s->cfg.tcp_keepalive_probes);
}

/* Arms the keepalive timer `idle` from now (SO_KEEPALIVE, establishment). */
void ts_keepalive_reset(ts_stack *s, ts_conn *c)
{
    if (c->life_timer == TS_LT_FIN_WAIT2)
        return;
    c->life_timer = TS_LT_KEEPALIVE;
    c->t_life = ts_time_add(s->now, ts_keepalive_time_us(s, c));
}

/* TCP_KEEPIDLE changed (Linux tcp_sock_set_keepidle_locked): the timer is
 * re-armed for what is left of the new idle time since the last segment
 * received, at once if that has passed (tests/pkt/keepalive_idle_set_late.pkt). */
void ts_keepalive_rearm(ts_stack *s, ts_conn *c)
{
    uint64_t idle = ts_keepalive_time_us(s, c);
    uint64_t elapsed = s->now - TS_MIN(s->now, TS_MAX(c->rcv_tstamp, c->lrcvtime));
    if (c->life_timer == TS_LT_FIN_WAIT2)
        return;
    c->life_timer = TS_LT_KEEPALIVE;
    c->t_life = ts_time_add(s->now, idle > elapsed ? idle - elapsed : 0);
}

/* Linux tcp_keepalive_timer (LINUX_BEHAVIOUR.md "keepalive probe and
 * abort"): idle time is measured from the last segment received. */
static int keepalive_timer(ts_stack *s, ts_conn *c)
{
    uint64_t idle = ts_keepalive_time_us(s, c), elapsed, next;
    int st = c->c.state;
    c->t_life = TS_NEVER;
    c->life_timer = TS_LT_NONE;
    if (!(c->flags & TS_CF_KEEPALIVE) || st == TS_CLOSE || st == TS_SYN_SENT || st == TS_LISTEN)
        return 0;
    if (c->snd_una != c->snd_max || c->sndq.len) {
        next = idle; /* alive without keepalive: the RTO watches it */
    } else {
        uint64_t last = TS_MAX(c->rcv_tstamp, c->lrcvtime);
        elapsed = s->now - last;
        if (elapsed >= idle) {
            int dead = c->user_timeout_ms
                           ? (elapsed >= (uint64_t)c->user_timeout_ms * TS_MS && c->probes_out > 0)
                           : c->probes_out >= keepalive_probes(s, c);
            if (dead) {
                ts_conn_send_rst(s, c);
                write_err(s, c, TS_CAUSE_TIMER_KEEPALIVE);
                return 1;
            }
            c->flags |= TS_CF_NEED_PROBE;
            c->probes_out++;
            TS_MIB_INC(s, TS_MIB_TCPKeepAlive);
            next = keepalive_intvl_us(s, c);
        } else {
            next = idle - elapsed;
        }
    }
    c->life_timer = TS_LT_KEEPALIVE;
    c->t_life = ts_time_add(s->now, next);
    return 0;
}

/* An orphan's FIN_WAIT_2 on the full socket (tcp_fin_time > 60 s, or the
 * FIN arrived with the ACK of ours): Linux's tcp_keepalive_timer branch. */
static void fin_wait2_timer(ts_stack *s, ts_conn *c)
{
    uint64_t twlen = (uint64_t)s->cfg.tcpstate_timewait_len_ms * TS_MS;
    uint64_t ft = ts_fin_time_us(s, c);
    c->t_life = TS_NEVER;
    c->life_timer = TS_LT_NONE;
    if (c->c.state != TS_FIN_WAIT2)
        return;
    if (c->linger2 >= 0 && ft > twlen) {
        ts_tw_enter(s, c, TS_FIN_WAIT2, TS_CAUSE_TIMER_FIN_WAIT2, ft - twlen);
        return;
    }
    ts_conn_send_rst(s, c);
    ts_conn_done(s, c, 0, TS_CAUSE_TIMER_FIN_WAIT2);
}

/* Runs the connection's expired slots. Any handler that ends the
 * connection returns 1: it may be freed, so nothing touches it after. */
static void conn_fire(ts_stack *s, ts_conn *c)
{
    if (c->t_delack <= s->now) {
        c->t_delack = TS_NEVER;
        c->flags |= TS_CF_NEED_ACK;
        TS_MIB_INC(s, TS_MIB_DelayedACKs);
    }
    if (c->t_send <= s->now) {
        int kind = c->send_timer, gone = 0;
        c->t_send = TS_NEVER;
        if (kind == TS_ST_SYN)
            gone = syn_timer(s, c);
        else if (kind == TS_ST_RTO)
            gone = rto_timer(s, c);
        else if (kind == TS_ST_TLP)
            ts_tlp_fire(s, c);
        else if (kind == TS_ST_PROBE)
            gone = probe_timer(s, c);
        if (gone)
            return;
    }
    if (c->t_life <= s->now) {
        if (c->life_timer == TS_LT_FIN_WAIT2) {
            fin_wait2_timer(s, c);
            return; /* converted or freed */
        }
        if (c->life_timer == TS_LT_KEEPALIVE) {
            if (keepalive_timer(s, c))
                return;
        } else {
            c->t_life = TS_NEVER;
        }
    }
    ts_sync(s, &c->c);
}

void ts_timer_fire(ts_stack *s, ts_skc *k)
{
    if (k->kind == TS_K_REQ) {
        ts_req_expire(s, (ts_req *)k);
    } else if (k->kind == TS_K_TW) {
        ts_tw_expire(s, (ts_tw *)k);
    } else {
        ts_conn *c = (ts_conn *)k;
        /* the heap entry goes first, so a freed connection is not in it */
        ts_heap_update(s, k, TS_NEVER);
        conn_fire(s, c);
    }
}

void ts_stack_advance(ts_stack *s, uint64_t now_us)
{
    if (!s || s->in_hook)
        return;
    if (now_us > s->now)
        s->now = now_us;
    while (s->heap_len && s->heap[0]->deadline <= s->now) {
        ts_skc *k = s->heap[0];
        uint64_t before = k->deadline;
        ts_timer_fire(s, k);
        /* a handler that left the same expired deadline would loop: drop it */
        if (s->heap_len && s->heap[0] == k && k->deadline == before)
            ts_heap_update(s, k, TS_NEVER);
    }
    ts_ev_flush(s);
}
