/*
 * output.c — building and sending segments.
 *
 * ts_stack_output() is the only place a segment leaves: it first drains the
 * stateless-reply ring (RSTs to no socket, active resets, replies of
 * objects that are already gone), then the output FIFO, one segment per
 * call. A connection's send state (snd_nxt, snd_max, timers, ACK state) is
 * committed only once its segment is in the caller's buffer.
 *
 * What a full connection sends next, in order: SYN or SYN-ACK; data and FIN
 * within min(send window, cwnd) with Nagle (RFC 9293 §3.7.4, Linux's
 * tcp_nagle_test); a zero-window or keepalive probe; a pure ACK.
 *
 * Options are written in Linux's order (wire.c); timestamps (RFC 7323) use a
 * millisecond clock plus a per-connection offset, as Linux's tcp_time_stamp.
 */
#include "internal.h"

/* Our MSS option: MTU minus 40 (Linux's tcp_advertise_mss). */
static uint16_t our_mss(const ts_stack *s) { return (uint16_t)(s->cfg.mtu - 40); }

/* Linux's tcp_select_initial_window: 65535 rounded down to a multiple of
 * the MSS (64240 for 1460), scale from tcp_rmem[2] (10 for 32 MiB). */
uint32_t ts_initial_window(const ts_stack *s, uint16_t mss)
{
    uint32_t space = TS_MIN((uint32_t)s->cfg.tcp_rmem[1] / 2, 65535u);
    if (space > mss)
        space -= space % mss;
    return space;
}

uint8_t ts_initial_wscale(const ts_stack *s)
{
    uint32_t space = TS_MAX((uint32_t)s->cfg.tcp_rmem[2], 212992u);
    int lg = 0;
    if (!s->cfg.tcp_window_scaling)
        return 0;
    while ((space >> lg) > 1)
        lg++;
    lg -= 15;
    return (uint8_t)(lg < 0 ? 0 : lg > 14 ? 14 : lg);
}

static void seg_from_tuple(ts_seg *g, const ts_tuple *t)
{
    memset(g, 0, sizeof *g);
    g->src_ip = t->local.ip;
    g->src_port = t->local.port;
    g->dst_ip = t->remote.ip;
    g->dst_port = t->remote.port;
}

/* The receive space (Linux tcp_space, tcp_win_from_space): the part of
 * the receive buffer that may be offered as window, less what waits to be
 * read. Linux scales the buffer by scaling_ratio, the payload/truesize
 * ratio it learns from full-size segments; tcpstate has no truesize and
 * takes the 5/8 Linux 6.18 learns for 1448-byte segments over TUN, which
 * makes a 128 KiB buffer offer 80 KiB, shrinking byte for byte as data is
 * queued (tests/pkt/established_window_growth.pkt: the window stops
 * growing after the fourth unread segment, as on the kernel). */
uint32_t ts_conn_rcv_full_space(const ts_conn *c)
{
    /* not capped at 65535 without window scaling: Linux 6.18 offers the
     * field's 65535 once rcv_ssthresh passes it (established_window_unscaled) */
    return (uint32_t)((uint64_t)c->rcvbuf * 5 / 8);
}

uint32_t ts_conn_rcv_space(const ts_conn *c)
{
    uint32_t full = ts_conn_rcv_full_space(c);
    return full > c->rcvq.len ? full - c->rcvq.len : 0;
}

/* At establishment (Linux tcp_connect_init / tcp_create_openreq_child,
 * tcp_initialize_rcv_mss): the window starts at what the SYN or SYN-ACK
 * offered, rcv_ssthresh with it; the peer's segment size is guessed at
 * 536 (TCP_MSS_DEFAULT) until data shows it. */
void ts_conn_rcv_win_init(ts_stack *s, ts_conn *c, uint32_t rcv_wnd)
{
    uint32_t hint = TS_MIN(TS_MIN(536u, (uint32_t)our_mss(s)), rcv_wnd / 2);
    c->rcv_wup = c->rcv_nxt;
    c->rcv_wnd = rcv_wnd;
    c->rcv_ssthresh = rcv_wnd;
    c->rcv_mss = TS_MAX(hint, 88u); /* TCP_MIN_MSS */
}

/* In-order data arrived (Linux tcp_measure_rcv_mss, tcp_grow_window via
 * tcp_event_data_recv): rcv_mss follows the largest segment, capped at our
 * MSS; a segment of 128 bytes or more lets rcv_ssthresh grow by twice the
 * segment size while below the receive space. */
void ts_conn_rcv_grow(ts_stack *s, ts_conn *c, uint32_t len)
{
    uint32_t room, incr;
    if (len >= c->rcv_mss)
        c->rcv_mss = TS_MIN(len, (uint32_t)our_mss(s));
    if (len < 128)
        return;
    room = ts_conn_rcv_space(c);
    if (room <= c->rcv_ssthresh)
        return;
    room -= c->rcv_ssthresh;
    incr = 2 * TS_MAX(c->rcv_mss, len);
    c->rcv_ssthresh += TS_MIN(room, incr);
}

/* The window to offer now (Linux __tcp_select_window): below half the
 * full space it is the free space rounded down to the scale unit, zero if
 * less than a sixteenth of the buffer or a segment (silly window
 * avoidance, RFC 9293 §3.8.6.2.2); never more than rcv_ssthresh. With
 * window scaling it is aligned UP to the scale unit (so 64240 is 63 << 10);
 * without, a multiple of rcv_mss, kept while within a segment of free. */
uint32_t ts_conn_select_window(const ts_conn *c)
{
    uint32_t full = ts_conn_rcv_full_space(c), free_space = ts_conn_rcv_space(c);
    uint32_t mss = TS_MIN(c->rcv_mss, full), unit = 1u << c->rcv_wscale, win;
    if (!mss)
        return 0;
    if (free_space < full / 2) {
        free_space -= free_space % unit;
        if (free_space < full / 16 || free_space < mss)
            return 0;
    }
    if (free_space > c->rcv_ssthresh)
        free_space = c->rcv_ssthresh;
    if (c->rcv_wscale)
        return (free_space + unit - 1) & ~(unit - 1);
    win = c->rcv_wnd;
    if (free_space < mss || win <= free_space - mss || win > free_space)
        win = free_space - free_space % mss;
    else if (mss == full && free_space > win + full / 2)
        win = free_space;
    return win;
}

/* The window field (Linux tcp_select_window): the right edge already
 * advertised never moves left (RFC 9293 §3.8.6.2.2); what is still
 * promised is then aligned up to the scale unit. */
uint16_t ts_conn_rcv_win_field(ts_stack *s, ts_conn *c)
{
    uint32_t cur = c->rcv_wup + c->rcv_wnd - c->rcv_nxt; /* what is still promised */
    uint32_t win = ts_conn_select_window(c), unit = 1u << c->rcv_wscale;
    (void)s;
    if ((int32_t)cur < 0)
        cur = 0;
    if (win < cur)
        win = (cur + unit - 1) & ~(unit - 1); /* never shrink */
    c->rcv_wnd = win;
    c->rcv_wup = c->rcv_nxt;
    return (uint16_t)(TS_MIN(win, 65535u << c->rcv_wscale) >> c->rcv_wscale);
}

static void add_ts(ts_stack *s, ts_seg *g, uint32_t off, uint32_t ecr)
{
    g->opt_present |= TS_OPT_TS;
    g->tsval = ts_now_ms_ts(s, off);
    g->tsecr = ecr;
}

/* Fills the common part of a segment from a connection. */
static void conn_seg(ts_stack *s, ts_conn *c, ts_seg *g, uint8_t flags, uint32_t seq)
{
    seg_from_tuple(g, &c->c.tuple);
    g->flags = flags;
    g->seq = seq;
    if (flags & TS_TH_ACK)
        g->ack = c->rcv_nxt;
    if (c->flags & TS_CF_TS_OK)
        add_ts(s, g, c->ts_off, c->ts_recent);
    /* SACK blocks while data waits out of order: 3 fit beside a timestamp;
     * a pending D-SACK goes first (RFC 2883 §4, Linux tcp_options_write
     * sends it once) */
    if ((c->flags & TS_CF_SACK_OK) && (flags & TS_TH_ACK) && !(flags & TS_TH_RST)) {
        int max = (c->flags & TS_CF_TS_OK) ? 3 : 4;
        g->nsack = 0;
        if (c->ooo)
            ts_ooo_sack(c, g, max - c->dsack);
        if (c->dsack) {
            memmove(&g->sack[1], &g->sack[0], g->nsack * sizeof g->sack[0]);
            g->sack[0].left = c->dsack_l;
            g->sack[0].right = c->dsack_r;
            g->nsack++;
            g->opt_present |= TS_OPT_SACK;
            c->dsack = 0;
        }
    }
}

static size_t emit(ts_stack *s, uint32_t conn_id, const ts_seg *g, uint8_t *buf, size_t cap)
{
    size_t n = ts_wire_build(g, buf, cap);
    if (n) {
        TS_MIB_INC(s, TS_MIB_OutSegs);
        if (g->flags & TS_TH_RST)
            TS_MIB_INC(s, TS_MIB_OutRsts);
        ts_ev_segment(s, TS_SEG_TX, conn_id, g, 0);
    }
    return n;
}

/* ------------------------------------------------------------- SYN */

static size_t out_syn(ts_stack *s, ts_conn *c, uint8_t *buf, size_t cap)
{
    ts_seg g;
    int synack = c->c.state == TS_SYN_RECV;
    size_t n;
    conn_seg(s, c, &g, synack ? (TS_TH_SYN | TS_TH_ACK) : TS_TH_SYN, c->iss);
    g.opt_present |= TS_OPT_MSS;
    g.mss = our_mss(s);
    g.win = (uint16_t)ts_initial_window(s, g.mss);
    if (!synack) {
        /* a SYN that took over a TIME_WAIT entry has its ts_recent: Linux
         * (tcp_connect_init, tcp_syn_options) then sizes the window in
         * segments 12 bytes smaller (65160) and echoes ts_recent
         * (tests/pkt/time_wait_connect_bound_port_reuse.pkt) */
        if (c->ts_recent_stamp && s->cfg.tcp_timestamps)
            g.win = (uint16_t)ts_initial_window(s, (uint16_t)(g.mss - 12));
        if (s->cfg.tcp_sack)
            g.opt_present |= TS_OPT_SACKOK;
        if (s->cfg.tcp_timestamps)
            add_ts(s, &g, c->ts_off, c->ts_recent_stamp ? c->ts_recent : 0);
        if (s->cfg.tcp_window_scaling) {
            g.opt_present |= TS_OPT_WSCALE;
            g.wscale = c->rcv_wscale;
        }
    } else {
        if (c->flags & TS_CF_SACK_OK)
            g.opt_present |= TS_OPT_SACKOK;
        if (c->flags & TS_CF_WS_OK) {
            g.opt_present |= TS_OPT_WSCALE;
            g.wscale = c->rcv_wscale;
        }
    }
    n = emit(s, c->c.conn_id, &g, buf, cap);
    if (!n)
        return 0;
    if (c->retransmits || ts_seq_gt(c->snd_max, c->iss)) {
        TS_MIB_INC(s, TS_MIB_RetransSegs);
        s->mib[TS_MIB_OutSegs]--;
    } else if (c->c.state == TS_SYN_SENT) {
        /* the first SYN: Linux's tcp_connect arms the timer as it sends;
         * SYN_SENT gives up on the time since this SYN (retrans_stamp) */
        c->t_send = ts_time_add(s->now, c->rto_us);
        c->retrans_stamp = s->now;
    }
    c->flags &= ~(TS_CF_NEED_SYN | TS_CF_NEED_ACK);
    c->snd_nxt = c->iss + 1;
    if (ts_seq_lt(c->snd_max, c->snd_nxt))
        c->snd_max = c->snd_nxt;
    if (c->rtt_time == TS_NEVER && !c->retransmits) {
        c->rtt_time = s->now;
        c->rtt_seq = c->iss;
    }
    if (c->c.state == TS_SYN_RECV) {
        c->t_delack = TS_NEVER;
        if (c->t_send == TS_NEVER) {
            c->send_timer = TS_ST_RTO;
            c->t_send = ts_time_add(s->now, c->rto_us);
        }
    }
    return n;
}

/* ------------------------------------------------------------- data */

/* Where the next data segment starts: snd_nxt, past anything the peer
 * already SACKed while going back after a timeout. */
static uint32_t send_seq(const ts_conn *c)
{
    return ts_seq_lt(c->snd_nxt, c->snd_max) ? ts_seq_min(ts_sack_skip(c, c->snd_nxt), c->snd_max)
                                             : c->snd_nxt;
}

static uint32_t unsent_bytes(const ts_conn *c)
{
    uint32_t sent = send_seq(c) - c->snd_una;
    if (c->flags & TS_CF_FIN_SENT && c->snd_nxt == c->snd_max)
        sent--; /* the FIN's sequence number is not a byte */
    return c->sndq.len > sent ? c->sndq.len - sent : 0;
}

/* The segment size we send: the MSS, but at most half the largest window
 * the peer ever offered (all of it if that is 536 or less), never under 68
 * bytes of header plus data (Linux tcp_bound_to_half_wnd, applied through
 * tcp_sync_mss whenever max_window grows). A SYN-ACK offering 1000 bytes
 * thus gets two 500-byte segments (tests/pkt/syn_sent_synack_window_unscaled.pkt). */
static uint32_t send_mss(const ts_conn *c)
{
    uint32_t cutoff = c->max_window > 536 ? c->max_window / 2 : c->max_window;
    uint32_t hdr = 20 + ((c->flags & TS_CF_TS_OK) ? 12 : 0);
    if (cutoff && c->mss > cutoff)
        return TS_MAX(cutoff, 68 - hdr);
    return c->mss;
}

static uint32_t usable_window(const ts_conn *c)
{
    uint32_t wnd = TS_MIN(c->snd_wnd, c->cwnd);
    uint32_t inflight = send_seq(c) - c->snd_una;
    return wnd > inflight ? wnd - inflight : 0;
}

/* May a FIN go now? All data is sent (or goes in this segment). */
static int fin_due(const ts_conn *c)
{
    if (!(c->flags & TS_CF_SHUT_WR))
        return 0;
    if (c->c.state != TS_FIN_WAIT1 && c->c.state != TS_LAST_ACK && c->c.state != TS_CLOSING)
        return 0;
    /* FIN not yet sent, or being retransmitted (snd_nxt rewound) */
    return !(c->flags & TS_CF_FIN_SENT) || ts_seq_lt(c->snd_nxt, c->snd_max);
}

/* How many data bytes the next segment carries (0: none now). */
static uint32_t data_to_send(const ts_conn *c)
{
    uint32_t unsent = unsent_bytes(c), wnd = usable_window(c), n;
    if (!unsent)
        return 0;
    n = TS_MIN(unsent, send_mss(c));
    if (ts_seq_lt(send_seq(c), c->snd_max)) /* resending: stop at the next SACKed byte */
        n = TS_MIN(n, ts_sack_next_left(c, send_seq(c), c->snd_max) - send_seq(c));
    if (n > wnd)
        return 0; /* wait for the window (a zero window arms the probe timer) */
    /* Nagle as Linux has it (tcp_nagle_check with Minshall's variant): a
     * small segment waits only while an earlier SMALL segment is
     * unacknowledged, so the tail of a large write leaves with the full
     * segments before it (tests/pkt/established_write_data.pkt) */
    if (n < send_mss(c) && ts_seq_gt(c->snd_sml, c->snd_una) && !ts_seq_gt(c->snd_sml, c->snd_max) &&
        !(c->flags & TS_CF_NODELAY) &&
        !ts_seq_lt(send_seq(c), c->snd_max) &&
        !((c->flags & TS_CF_SHUT_WR) && n == unsent))
        return 0;
    return n;
}

/* Linux tcp_check_probe_timer: data waits for a window too small for it
 * and nothing is in flight to bring an ACK that would open it, so the
 * zero-window probe timer (RFC 9293 §3.8.6.1) starts, at the RTO
 * (tcp_probe0_base: at least tcp_rto_min). timer.c probes and backs off. */
void ts_check_probe_timer(ts_stack *s, ts_conn *c)
{
    uint32_t base = TS_MAX(c->rto_us, (uint32_t)s->cfg.tcp_rto_min_us);
    if (!(TSF(c->c.state) & (TSF(TS_ESTABLISHED) | TSF(TS_CLOSE_WAIT) | TSF(TS_FIN_WAIT1) |
                             TSF(TS_CLOSING) | TSF(TS_LAST_ACK))))
        return;
    if (c->send_timer != TS_ST_NONE || c->snd_una != c->snd_max || !unsent_bytes(c) ||
        data_to_send(c))
        return;
    c->send_timer = TS_ST_PROBE;
    c->t_send = ts_time_add(s->now, base);
}

int ts_conn_has_output(const ts_stack *s, const ts_conn *c)
{
    int st = c->c.state;
    uint32_t hs, hl;
    (void)s;
    if (st == TS_CLOSE || st == TS_LISTEN)
        return 0;
    /* mirrors ts_output_conn's order exactly: what this says, that sends */
    if (c->flags & TS_CF_NEED_SYN)
        return 1;
    if (st == TS_SYN_SENT)
        return 0;
    if (ts_sack_next_hole(c, &hs, &hl))
        return 1;
    if (data_to_send(c) || (fin_due(c) && unsent_bytes(c) == 0))
        return 1;
    if ((c->flags & TS_CF_NEED_TLP) && c->snd_una != c->snd_max)
        return 1;
    return (c->flags & (TS_CF_NEED_ACK | TS_CF_NEED_PROBE)) != 0;
}

static void after_ack_sent(ts_stack *s, ts_conn *c)
{
    (void)s;
    c->flags &= ~TS_CF_NEED_ACK;
    c->t_delack = TS_NEVER;
}

void ts_rearm_rto(ts_stack *s, ts_conn *c)
{
    uint64_t rto = (uint64_t)c->rto_us;
    c->send_timer = TS_ST_RTO;
    c->t_send = ts_time_add(s->now, rto);
}

/* A segment sent again: counted as Linux counts it (RetransSegs, not
 * OutSegs), and our TS clock noted for the RTT filter of input.c. */
static void count_resend(ts_stack *s, ts_conn *c, uint32_t tsval)
{
    TS_MIB_INC(s, TS_MIB_RetransSegs);
    s->mib[TS_MIB_OutSegs]--;
    c->rexmit_ts = tsval;
    c->rexmit_ts_set = 1;
}

static size_t out_data(ts_stack *s, ts_conn *c, uint8_t *buf, size_t cap)
{
    uint8_t payload[65536];
    uint32_t n, off;
    int retrans;
    c->snd_nxt = send_seq(c);
    n = data_to_send(c);
    off = c->snd_nxt - c->snd_una;
    retrans = ts_seq_lt(c->snd_nxt, c->snd_max);
    int fin = 0;
    ts_seg g;
    size_t len;

    if (n > sizeof payload)
        n = sizeof payload;
    if (fin_due(c) && unsent_bytes(c) == n)
        fin = 1;
    conn_seg(s, c, &g, TS_TH_ACK | (fin ? TS_TH_FIN : 0), c->snd_nxt);
    if (n) {
        ts_bq_peek(&c->sndq, off, payload, n);
        g.data = payload;
        g.len = n;
        if (unsent_bytes(c) == n)
            g.flags |= TS_TH_PSH;
    }
    g.win = ts_conn_rcv_win_field(s, c);
    len = emit(s, c->c.conn_id, &g, buf, cap);
    if (!len)
        return 0;
    if (retrans)
        count_resend(s, c, g.tsval);
    c->snd_nxt += n + (uint32_t)fin;
    if (fin)
        c->flags |= TS_CF_FIN_SENT;
    if (ts_seq_gt(c->snd_nxt, c->snd_max))
        c->snd_max = c->snd_nxt;
    if (!retrans && c->rtt_time == TS_NEVER) {
        c->rtt_time = s->now; /* Karn: time only new data */
        c->rtt_seq = c->snd_nxt;
    }
    if (!retrans && n && n < send_mss(c))
        c->snd_sml = c->snd_nxt; /* Linux tcp_minshall_update */
    if (n)
        c->lsndtime = s->now;
    if (!retrans) {
        c->tlp_seg_start = g.seq; /* the tail a loss probe would resend */
        ts_set_xmit_timer(s, c, 0);
    } else if (c->send_timer != TS_ST_RTO || c->t_send == TS_NEVER) {
        ts_rearm_rto(s, c);
    }
    after_ack_sent(s, c);
    return len;
}

/* Sends [seq, seq + n) of the send queue again, with flags. */
static size_t emit_resend(ts_stack *s, ts_conn *c, uint32_t seq, uint32_t n, uint8_t flags,
                          uint8_t *buf, size_t cap)
{
    uint8_t payload[65536];
    ts_seg g;
    size_t len;
    if (n > sizeof payload)
        n = sizeof payload;
    conn_seg(s, c, &g, flags, seq);
    if (n) {
        ts_bq_peek(&c->sndq, seq - c->snd_una, payload, n);
        g.data = payload;
        g.len = n;
    }
    g.win = ts_conn_rcv_win_field(s, c);
    len = emit(s, c->c.conn_id, &g, buf, cap);
    if (len) {
        count_resend(s, c, g.tsval);
        after_ack_sent(s, c);
    }
    return len;
}

/* The tail loss probe (tlp.c): the last segment sent, again. */
static size_t out_tlp(ts_stack *s, ts_conn *c, uint8_t *buf, size_t cap)
{
    uint32_t start = ts_seq_max(c->tlp_seg_start, c->snd_una);
    int fin = (c->flags & TS_CF_FIN_SENT) && c->snd_max == c->snd_una + c->sndq.len + 1;
    uint32_t n = c->snd_max - start - (uint32_t)fin;
    size_t len;
    if (n > c->mss) {
        start = c->snd_max - (uint32_t)fin - c->mss;
        n = c->mss;
    }
    len = emit_resend(s, c, start, n,
                      TS_TH_ACK | (fin ? TS_TH_FIN : 0) | (n ? TS_TH_PSH : 0), buf, cap);
    if (len)
        c->flags &= ~TS_CF_NEED_TLP;
    return len;
}

/* A hole retransmitted in SACK recovery (sack.c): snd_nxt is untouched. */
static size_t out_rexmit(ts_stack *s, ts_conn *c, uint32_t seq, uint32_t n, uint8_t *buf,
                         size_t cap)
{
    size_t len = emit_resend(s, c, seq, n, TS_TH_ACK, buf, cap);
    if (!len)
        return 0;
    c->rexmit_nxt = seq + n;
    c->rexmit_credit--;
    if (c->send_timer != TS_ST_RTO || c->t_send == TS_NEVER)
        ts_rearm_rto(s, c);
    return len;
}

/* Keepalive and zero-window probes: seq = snd_una - 1, no data (Linux's
 * tcp_xmit_probe_skb): the peer must answer with an ACK. */
static size_t out_probe(ts_stack *s, ts_conn *c, uint8_t *buf, size_t cap)
{
    ts_seg g;
    size_t n;
    conn_seg(s, c, &g, TS_TH_ACK, c->snd_una - 1);
    g.win = ts_conn_rcv_win_field(s, c);
    n = emit(s, c->c.conn_id, &g, buf, cap);
    if (n)
        c->flags &= ~TS_CF_NEED_PROBE;
    return n;
}

/* Segments without data carry the highest sequence number sent: after a
 * timeout rewinds snd_nxt to resend, snd_max is what the peer expects (it
 * is Linux's snd_nxt, which never moves back). */
static size_t out_ack(ts_stack *s, ts_conn *c, uint8_t *buf, size_t cap)
{
    ts_seg g;
    size_t n;
    conn_seg(s, c, &g, TS_TH_ACK, c->snd_max);
    g.win = ts_conn_rcv_win_field(s, c);
    n = emit(s, c->c.conn_id, &g, buf, cap);
    if (n)
        after_ack_sent(s, c);
    return n;
}

size_t ts_output_conn(ts_stack *s, ts_conn *c, uint8_t *buf, size_t cap)
{
    uint32_t hs, hl;
    if (c->flags & TS_CF_NEED_SYN)
        return out_syn(s, c, buf, cap);
    if (c->c.state == TS_SYN_SENT)
        return 0;
    if (ts_sack_next_hole(c, &hs, &hl))
        return out_rexmit(s, c, hs, hl, buf, cap);
    if (data_to_send(c) || (fin_due(c) && unsent_bytes(c) == 0))
        return out_data(s, c, buf, cap);
    if ((c->flags & TS_CF_NEED_TLP) && c->snd_una != c->snd_max)
        return out_tlp(s, c, buf, cap);
    if (c->flags & TS_CF_NEED_PROBE)
        return out_probe(s, c, buf, cap);
    if (c->flags & TS_CF_NEED_ACK)
        return out_ack(s, c, buf, cap);
    return 0;
}

/* ------------------------------------------------------------- minisockets */

size_t ts_output_req(ts_stack *s, ts_req *r, uint8_t *buf, size_t cap)
{
    ts_seg g;
    size_t n;
    seg_from_tuple(&g, &r->c.tuple);
    g.flags = TS_TH_SYN | TS_TH_ACK;
    g.seq = r->iss;
    g.ack = r->irs + 1;
    g.opt_present = TS_OPT_MSS;
    g.mss = our_mss(s);
    g.win = ts_req_rcv_window(s, r);
    if (r->opts & TS_OPT_SACKOK)
        g.opt_present |= TS_OPT_SACKOK;
    if (r->opts & TS_OPT_TS)
        add_ts(s, &g, r->ts_off, r->ts_recent);
    if (r->opts & TS_OPT_WSCALE) {
        g.opt_present |= TS_OPT_WSCALE;
        g.wscale = r->rcv_wscale;
    }
    n = emit(s, r->c.conn_id, &g, buf, cap);
    if (n) {
        /* every SYN-ACK counts in OutSegs (Linux tcp_make_synack), a
         * repeated one in RetransSegs too (tcp_rtx_synack) */
        if (r->num_timeout || r->synack_time != TS_NEVER)
            TS_MIB_INC(s, TS_MIB_RetransSegs);
        if (r->synack_time == TS_NEVER)
            r->synack_time = s->now;
        r->need_synack = 0;
    }
    return n;
}

size_t ts_output_tw(ts_stack *s, ts_tw *tw, uint8_t *buf, size_t cap)
{
    ts_seg g;
    size_t n;
    seg_from_tuple(&g, &tw->c.tuple);
    /* Linux tcp_v4_timewait_ack: seq snd_nxt, ack rcv_nxt, the last window */
    g.flags = TS_TH_ACK;
    g.seq = tw->snd_nxt;
    g.ack = tw->rcv_nxt;
    g.win = tw->rcv_win;
    if (tw->ts_ok)
        add_ts(s, &g, tw->ts_off, tw->ts_recent);
    n = emit(s, tw->c.conn_id, &g, buf, cap);
    if (n)
        tw->reply = TS_TWR_NONE;
    return n;
}

/* ------------------------------------------------------------- resets */

/*
 * RST for a segment that has no connection (RFC 9293 §3.10.7.1): if it
 * had ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>, SYN and FIN counting in SEG.LEN. Never for a RST.
 */
void ts_send_rst_for(ts_stack *s, const ts_seg *in, uint32_t conn_id)
{
    ts_seg *g;
    if (in->flags & TS_TH_RST)
        return;
    g = ts_ctl_push(s, conn_id);
    if (!g)
        return;
    g->src_ip = in->dst_ip;
    g->src_port = in->dst_port;
    g->dst_ip = in->src_ip;
    g->dst_port = in->src_port;
    if (in->flags & TS_TH_ACK) {
        g->flags = TS_TH_RST;
        g->seq = in->ack;
    } else {
        g->flags = TS_TH_RST | TS_TH_ACK;
        g->seq = 0;
        g->ack = in->seq + in->len + !!(in->flags & TS_TH_SYN) + !!(in->flags & TS_TH_FIN);
    }
}

/* Linux's tcp_send_active_reset: RST,ACK at snd_nxt, with timestamps. */
void ts_conn_send_rst(ts_stack *s, ts_conn *c)
{
    ts_seg *g = ts_ctl_push(s, c->c.conn_id);
    if (!g)
        return;
    conn_seg(s, c, g, TS_TH_RST | TS_TH_ACK, c->snd_max);
    g->win = ts_conn_rcv_win_field(s, c);
}

/* Linux's __tcp_close pushes the FIN at once (tcp_send_fin) before
 * tcp_check_oom may reset the new orphan: a FIN that is due, with no data
 * waiting before it, leaves now through the stateless ring, ahead of the
 * RST (tests/pkt/fin_wait_1_orphan_limit_rst.pkt). */
void ts_conn_send_fin_now(ts_stack *s, ts_conn *c)
{
    ts_seg *g;
    if (!fin_due(c) || (c->flags & TS_CF_FIN_SENT) || unsent_bytes(c))
        return;
    g = ts_ctl_push(s, c->c.conn_id);
    if (!g)
        return;
    conn_seg(s, c, g, TS_TH_FIN | TS_TH_ACK, c->snd_max);
    g->win = ts_conn_rcv_win_field(s, c);
    c->snd_max++;
    c->snd_nxt = c->snd_max;
    c->flags |= TS_CF_FIN_SENT;
    after_ack_sent(s, c);
}

/* An ACK right now, through the stateless ring (used when the connection
 * is about to be replaced by a minisocket or freed). */
void ts_send_ack_now(ts_stack *s, ts_conn *c)
{
    ts_seg *g = ts_ctl_push(s, c->c.conn_id);
    if (!g)
        return;
    conn_seg(s, c, g, TS_TH_ACK, c->snd_max);
    g->win = ts_conn_rcv_win_field(s, c);
    after_ack_sent(s, c);
}

/* Linux sends the ACKs a segment calls for while it processes the segment
 * (tcp_ack_snd_check), before the application can write: so an ACK that
 * is due now and cannot ride on data already waiting to go leaves now,
 * through the stateless ring, with this instant's rcv_nxt and window. */
void ts_conn_flush_ack(ts_stack *s, ts_conn *c)
{
    if (!(c->flags & TS_CF_NEED_ACK) || c->c.state == TS_CLOSE || c->c.state == TS_SYN_SENT ||
        (c->flags & TS_CF_NEED_SYN))
        return;
    if (data_to_send(c) || (fin_due(c) && unsent_bytes(c) == 0))
        return; /* the ACK rides on the data (tcp_data_snd_check first) */
    ts_send_ack_now(s, c);
}

void ts_schedule_delack(ts_stack *s, ts_conn *c)
{
    if (c->t_delack == TS_NEVER)
        c->t_delack = ts_time_add(s->now, (uint64_t)s->cfg.tcp_delack_min_ms * TS_MS);
}

/* ------------------------------------------------------------- the pull */

size_t ts_stack_output(ts_stack *s, uint64_t now_us, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    if (!s || !buf || s->in_hook)
        return 0;
    if (now_us > s->now)
        s->now = now_us;
    if (s->ctl_len) {
        ts_ctl *c = &s->ctl[s->ctl_head];
        n = emit(s, c->conn_id, &c->seg, buf, cap);
        if (n) {
            s->ctl_head = (s->ctl_head + 1) % TS_CTL_RING;
            s->ctl_len--;
        }
        ts_ev_flush(s);
        return n;
    }
    while (s->out_head && !n) {
        ts_skc *k = s->out_head;
        if (k->kind == TS_K_FULL)
            n = ts_output_conn(s, (ts_conn *)k, buf, cap);
        else if (k->kind == TS_K_REQ)
            n = ts_output_req(s, (ts_req *)k, buf, cap);
        else
            n = ts_output_tw(s, (ts_tw *)k, buf, cap);
        if (!n && cap < (size_t)s->cfg.mtu)
            break; /* buffer too small: nothing lost, try again with more */
        ts_out_remove(s, k);
        if (n)
            ts_sync(s, k); /* re-queues it (at the tail) if it has more */
    }
    ts_ev_flush(s);
    return n;
}
