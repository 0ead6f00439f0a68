/*
 * syncookie.c — SYN cookies (RFC 4987 §3.6; Linux net/ipv4/syncookies.c
 * and tcp_conn_request's want_cookie path).
 *
 * When a listener's request queue is full (listen.c), the SYN is answered
 * by a SYN-ACK whose ISN encodes everything needed to rebuild the request
 * from the final ACK, and nothing is kept. The ISN (Linux's layout):
 *   H0(tuple) + peer ISN + count << 24 + ((H1(tuple, count) + mssind) & 2^24-1)
 * where count is a minute counter; a cookie is valid while count is the
 * current or the previous minute (MAX_SYNCOOKIE_AGE = 2). mssind indexes
 * Linux's table {536, 1300, 1440, 1460}: the peer's MSS rounded down.
 * With timestamps, the TS value's low 6 bits carry the peer's wscale (0xf:
 * none) and SACK-permitted (bit 4); its echo restores them. Without
 * timestamps the cookie SYN-ACK has the MSS option only (Linux clears the
 * other options). The hash is the driver's (hooks.cookie_hash): without it
 * there are no cookies, as with tcp_syncookies = 0.
 *
 * Linux checks an ACK to a listener as a cookie only within 2 minutes of
 * the last cookie sent (tcp_synq_no_recent_overflow); l->last_cookie.
 */
#include "internal.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define COOKIE_PERIOD_US (60u * TS_SEC) /* Linux TCP_SYNCOOKIE_PERIOD */
#define COOKIE_MAX_AGE 2u
#define TSOPT_BITS 6
#define TSOPT_WS_NONE 0xfu
#define TSOPT_SACK (1u << 4)

static const uint16_t cookie_mss_tab[] = { 536, 1300, 1440, 1460 };

int ts_cookies_on(const ts_stack *s)
{
    return s->hooks.cookie_hash ? s->cfg.tcp_syncookies : 0;
}

static uint32_t cookie_count(const ts_stack *s)
{
    return (uint32_t)(s->now / COOKIE_PERIOD_US);
}

static uint32_t hash(const ts_stack *s, const ts_tuple *t, uint32_t count, int which)
{
    return s->hooks.cookie_hash(s->user, t, count, which);
}

uint32_t ts_cookie_isn(const ts_stack *s, const ts_tuple *t, uint32_t seq, uint16_t *mss)
{
    uint32_t i = 3, count = cookie_count(s);
    while (i && *mss < cookie_mss_tab[i])
        i--;
    *mss = cookie_mss_tab[i];
    return hash(s, t, 0, 0) + seq + (count << COOKIE_BITS) +
           ((hash(s, t, count, 1) + i) & COOKIE_MASK);
}

/* The MSS a cookie encodes, 0 when it is not one of ours (wrong hash,
 * older than 2 minutes, index out of the table). seq is the peer's ISN
 * (the ACK's seq - 1), cookie our ISN (its ack - 1). */
uint16_t ts_cookie_check(const ts_stack *s, const ts_tuple *t, uint32_t seq, uint32_t cookie)
{
    uint32_t count = cookie_count(s), diff, idx;
    cookie -= hash(s, t, 0, 0) + seq;
    diff = (count - (cookie >> COOKIE_BITS)) & (0xffffffffu >> COOKIE_BITS);
    if (diff >= COOKIE_MAX_AGE)
        return 0;
    idx = (cookie - hash(s, t, count - diff, 1)) & COOKIE_MASK;
    return idx < 4 ? cookie_mss_tab[idx] : 0;
}

/* Linux cookie_init_timestamp: the clock with its low bits replaced by the
 * options, never ahead of the clock (later TS values must not go back). */
uint32_t ts_cookie_tsval(uint64_t now_ms, int ws_ok, uint8_t snd_wscale, int sack_ok)
{
    uint64_t opt = ws_ok ? (snd_wscale & TSOPT_WS_NONE) : TSOPT_WS_NONE;
    uint64_t ts = (now_ms >> TSOPT_BITS) << TSOPT_BITS;
    if (sack_ok)
        opt |= TSOPT_SACK;
    ts |= opt;
    if (ts > now_ms)
        ts -= 1u << TSOPT_BITS;
    return (uint32_t)ts;
}

static ts_tuple seg_tuple(const ts_seg *g)
{
    ts_tuple t;
    t.local.ip = g->dst_ip;
    t.local.port = g->dst_port;
    t.remote.ip = g->src_ip;
    t.remote.port = g->src_port;
    return t;
}

/* Linux tcp_synq_overflow: the listener remembers when it last sent a
 * cookie, refreshed at most once a second. */
static void note_cookie_sent(ts_stack *s, ts_conn *l)
{
    uint64_t last = l->last_cookie ? l->last_cookie - 1 : 0;
    if (!l->last_cookie || s->now < last || s->now > last + TS_SEC)
        l->last_cookie = s->now + 1;
}

/* The stateless SYN-ACK (tcp_conn_request with want_cookie; counted
 * SyncookiesSent as Linux cookie_init_sequence). Its window and MSS
 * option are a request's; sackOK and wscale only with timestamps. */
void ts_cookie_send_synack(ts_stack *s, ts_conn *l, const ts_seg *in)
{
    ts_tuple t = seg_tuple(in);
    ts_req r;
    uint16_t mss = (in->opt_present & TS_OPT_MSS) ? in->mss : 536;
    ts_seg *g;
    memset(&r, 0, sizeof r);
    if ((in->opt_present & TS_OPT_TS) && s->cfg.tcp_timestamps) {
        r.opts |= TS_OPT_TS;
        if ((in->opt_present & TS_OPT_SACKOK) && s->cfg.tcp_sack)
            r.opts |= TS_OPT_SACKOK;
        if ((in->opt_present & TS_OPT_WSCALE) && s->cfg.tcp_window_scaling) {
            r.opts |= TS_OPT_WSCALE;
            r.snd_wscale = in->wscale > 14 ? 14 : in->wscale;
        }
    }
    note_cookie_sent(s, l);
    TS_MIB_INC(s, TS_MIB_SyncookiesSent);
    g = ts_ctl_push(s, l->c.conn_id);
    if (!g)
        return;
    g->src_ip = t.local.ip;
    g->src_port = t.local.port;
    g->dst_ip = t.remote.ip;
    g->dst_port = t.remote.port;
    g->flags = TS_TH_SYN | TS_TH_ACK;
    g->seq = ts_cookie_isn(s, &t, in->seq, &mss);
    g->ack = in->seq + 1;
    g->win = ts_req_rcv_window(s, &r);
    g->opt_present = TS_OPT_MSS;
    g->mss = (uint16_t)(s->cfg.mtu - 40);
    if (r.opts & TS_OPT_TS) {
        uint32_t off = s->hooks.ts_offset ? s->hooks.ts_offset(s->user, &t) : 0;
        g->opt_present |= TS_OPT_TS | (r.opts & TS_OPT_SACKOK);
        g->tsval = ts_cookie_tsval(s->now / 1000u, !!(r.opts & TS_OPT_WSCALE), r.snd_wscale,
                                   !!(r.opts & TS_OPT_SACKOK)) + off;
        g->tsecr = in->tsval;
    }
    if (r.opts & TS_OPT_WSCALE) {
        g->opt_present |= TS_OPT_WSCALE;
        g->wscale = ts_initial_wscale(s);
    }
}

/* Linux cookie_timestamp_decode: the options the echoed TS value carries;
 * 0 when one of them is disabled here (the ACK then gets the usual RST). */
static int cookie_opts(const ts_stack *s, const ts_seg *g, uint32_t off, ts_req *r)
{
    uint32_t echo;
    if (!(g->opt_present & TS_OPT_TS))
        return 1; /* no timestamps: no SACK, no window scaling */
    if (!s->cfg.tcp_timestamps)
        return 0;
    echo = g->tsecr ? g->tsecr - off : 0;
    r->opts |= TS_OPT_TS;
    r->ts_recent = g->tsval;
    if (echo & TSOPT_SACK) {
        if (!s->cfg.tcp_sack)
            return 0;
        r->opts |= TS_OPT_SACKOK;
    }
    if ((echo & TSOPT_WS_NONE) == TSOPT_WS_NONE)
        return 1;
    r->opts |= TS_OPT_WSCALE;
    r->snd_wscale = (uint8_t)(echo & TSOPT_WS_NONE);
    r->rcv_wscale = ts_initial_wscale(s);
    return s->cfg.tcp_window_scaling != 0;
}

/* The request the cookie stands for, linked like one admitted from a SYN,
 * so that ts_req_child() completes it as any other. */
static ts_req *cookie_req(ts_stack *s, ts_conn *l, const ts_seg *g, const ts_req *tmpl)
{
    ts_req *r = ts_alloc(s, sizeof *r);
    if (!r)
        return NULL;
    *r = *tmpl;
    r->c.kind = TS_K_REQ;
    r->c.state = TS_LISTEN;
    r->c.tuple = seg_tuple(g);
    r->c.deadline = TS_NEVER;
    r->c.conn_id = ts_new_conn_id(s);
    r->listener = l;
    r->irs = g->seq - 1;
    r->iss = g->ack - 1;
    r->peer_win = g->win;
    r->synack_time = TS_NEVER; /* no RTT sample: Linux snt_synack = 0 */
    r->t_synack = TS_NEVER;
    r->lnext = l->req_head;
    l->req_head = r;
    l->req_count++;
    ts_hash_insert(s, &r->c);
    /* the trace shows the handshake the cookie stood for: LISTEN ->
     * SYN_RECEIVED on the (earlier) SYN, then ESTABLISHED on this ACK */
    ts_set_state(s, &r->c, TS_NEW_SYN_RECV, TS_CAUSE_RCV_SYN);
    return r;
}

/*
 * An ACK to a listener that has no request for it (Linux cookie_v4_check,
 * from tcp_v4_do_rcv for any segment without SYN). Returns -1 when it is
 * not taken as a cookie (the listener then answers with the usual RST),
 * else 0 or a drop reason. A valid cookie: SyncookiesRecv, a child that
 * goes straight to ESTABLISHED and is queued for accept; an invalid one:
 * SyncookiesFailed. The child's receive window is chosen with the cookie's
 * MSS (Linux redoes tcp_select_initial_window with req->mss).
 */
int ts_cookie_ack(ts_stack *s, ts_conn *l, const ts_seg *g)
{
    ts_tuple t = seg_tuple(g);
    ts_req tmpl, *r;
    uint32_t off;
    uint16_t mss;

    if (!ts_cookies_on(s) || !(g->flags & TS_TH_ACK) || (g->flags & (TS_TH_RST | TS_TH_SYN)))
        return -1;
    if (!l->last_cookie || s->now > l->last_cookie - 1 + COOKIE_MAX_AGE * (uint64_t)COOKIE_PERIOD_US)
        return -1; /* tcp_synq_no_recent_overflow */
    mss = ts_cookie_check(s, &t, g->seq - 1, g->ack - 1);
    if (!mss) {
        TS_MIB_INC(s, TS_MIB_SyncookiesFailed);
        return -1;
    }
    TS_MIB_INC(s, TS_MIB_SyncookiesRecv);
    memset(&tmpl, 0, sizeof tmpl);
    off = s->hooks.ts_offset ? s->hooks.ts_offset(s->user, &t) : 0;
    tmpl.ts_off = off;
    tmpl.peer_mss = mss;
    if (!cookie_opts(s, g, off, &tmpl))
        return -1;
    /* tcp_v4_syn_recv_sock: a full accept queue drops the ACK, silently */
    if (l->acc_len > (uint32_t)l->backlog) {
        TS_MIB_INC(s, TS_MIB_ListenOverflows);
        TS_MIB_INC(s, TS_MIB_ListenDrops);
        return TS_DROP_LISTEN_OVERFLOW;
    }
    r = cookie_req(s, l, g, &tmpl);
    if (!r) {
        TS_MIB_INC(s, TS_MIB_ListenDrops);
        return TS_DROP_NOMEM;
    }
    return ts_req_child(s, r, g, ts_initial_window(s, mss));
}
