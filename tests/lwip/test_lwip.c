/*
 * test_lwip.c — tcpstate against lwIP (Debian's liblwip-dev 2.1.3, its
 * own build options) in one process over lwpeer's in-memory link, both on
 * virtual time. A stack nobody here wrote: handshakes both ways, 10 MiB
 * each way byte-exact, close from either side, simultaneous close, RST on
 * a close with unread data, and where lwIP is not Linux (TIME_WAIT,
 * FIN_WAIT_2, its 250/500 ms timer ticks, its window and options) the test
 * says so and pins lwIP's actual behaviour.
 *
 * Addresses: lwIP 192.0.2.1, tcpstate 192.0.2.2. Every test starts from
 * lp_init() and ends with lp_lw_reset() (no lwIP pcb may be left unless
 * the test says why) and the harness's tcpstate leak check.
 */
#include "harness.h"
#include "lwpeer.h"

#include <stdio.h>

#include "lwip/priv/tcp_priv.h"

#define MIB (1024u * 1024u)
#define SEC 1000000u
#define MS 1000u

/* ------------------------------------------------------------ helpers */

static ts_stack *world(void)
{
    ts_config cfg;
    ts_config_default(&cfg);
    cfg.mem = th_mem();
    if (lp_init() != 0)
        return NULL;
    return lp_ts_new(LP_TS_IP, &cfg);
}

/* Ends a test: what lwIP still holds is aborted and counted. */
static int world_end(ts_stack *s)
{
    int left = lp_lw_reset();
    lp_ts_free(s);
    return left;
}

/* Segments seen on the link (the tap), decoded just enough. */
typedef struct seg {
    uint32_t src;
    uint8_t flags;
    uint32_t seq, ack, len;
    uint16_t win;
    uint8_t optlen;
    uint8_t opts[40];
} seg;

static struct {
    int n;
    seg s[64];
} trace;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int tap(void *user, const uint8_t *pkt, size_t len)
{
    size_t ihl = (size_t)(pkt[0] & 15) * 4, doff;
    seg *g;
    (void)user;
    if (trace.n >= 64 || len < ihl + 20)
        return 0;
    g = &trace.s[trace.n++];
    doff = (size_t)(pkt[ihl + 12] >> 4) * 4;
    g->src = be32(pkt + 12);
    g->seq = be32(pkt + ihl + 4);
    g->ack = be32(pkt + ihl + 8);
    g->flags = pkt[ihl + 13];
    g->win = (uint16_t)(pkt[ihl + 14] << 8 | pkt[ihl + 15]);
    g->len = (uint32_t)(len - ihl - doff);
    g->optlen = (uint8_t)(doff - 20);
    memcpy(g->opts, pkt + ihl + 20, g->optlen);
    return 0;
}

static void trace_on(void)
{
    trace.n = 0;
    lp_set_tap(tap, NULL);
}

/* Does the segment carry TCP option kind k? */
static int has_opt(const seg *g, uint8_t k)
{
    for (int i = 0; i < g->optlen;) {
        if (g->opts[i] == 0)
            break;
        if (g->opts[i] == 1) {
            i++;
            continue;
        }
        if (g->opts[i] == k)
            return 1;
        if (i + 1 >= g->optlen || g->opts[i + 1] < 2)
            break;
        i += g->opts[i + 1];
    }
    return 0;
}

/* The tcpstate state holding (local port lp, lwIP's port rp), TS_CLOSE if none. */
static int ts_state_of(ts_stack *s, uint16_t lport, uint16_t rport)
{
    ts_conn_summary v[16];
    size_t n = ts_stack_conns(s, v, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        if (v[i].state != TS_CLOSE && v[i].tuple.local.port == lport &&
            v[i].tuple.remote.port == rport)
            return v[i].state;
    return TS_CLOSE;
}

/* tcpstate's transitions for a local port, as "A>B" pairs joined by ' '. */
static const char *ts_path(uint16_t lport, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < lp_trans_count(); i++) {
        const lp_trans *t = lp_trans_get(i);
        if (t->tuple.local.port != lport || o + 40 > len)
            continue;
        o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "", ts_state_name(t->to));
    }
    return buf;
}

/* lwIP's watched states joined by ' '. */
static const char *lw_path(char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < lp_lw_watch_count() && o + 40 < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "",
                              ts_state_name(lp_lw_watch_state(i)));
    return buf;
}

/* The time lwIP's watched pcb entered state st (µs), 0 if never. */
static uint64_t lw_entered(int st)
{
    for (size_t i = 0; i < lp_lw_watch_count(); i++)
        if (lp_lw_watch_state(i) == st)
            return lp_lw_watch_time(i);
    return 0;
}

/* done() for lp_run: lwIP's pcb {local port, remote port} is in state [2]. */
static int lw_in(void *arg)
{
    const int *v = arg;
    return lp_lw_state((uint16_t)v[0], (uint16_t)v[1]) == v[2];
}

static int ep_connected(void *arg) { return ((lp_ep *)arg)->connected || ((lp_ep *)arg)->got_err; }

static int lw_gone(void *arg)
{
    const uint16_t *ports = arg;
    return lp_lw_state(ports[0], ports[1]) == TS_CLOSE;
}

/* lwIP client (192.0.2.1:lport) to a tcpstate listener on port 8080,
 * accepted: *c gets the tcpstate socket. 0 on success. */
static int open_lw_to_ts(ts_stack *s, lp_ep *a, uint16_t lport, ts_sock *c)
{
    ts_sock l;
    ts_addr peer;
    if (lp_ts_listen(s, 8080, &l) != 0 || lp_lw_connect(a, LP_LW_IP, lport, LP_TS_IP, 8080) != 0)
        return -1;
    if (!lp_run(ep_connected, a, lp_now() + 5 * SEC) || !a->connected)
        return -2;
    if (ts_accept(s, l, c, &peer) != 0 || peer.ip != LP_LW_IP || peer.port != lport)
        return -3;
    ts_close(s, l);
    return 0;
}

/* tcpstate client (port lport) to an lwIP listener on 80; a gets the
 * tcpstate end, b the lwIP end. */
static int open_ts_to_lw(ts_stack *s, lp_ep *a, lp_ep *b, uint16_t lport)
{
    struct tcp_pcb *l = lp_lw_listen(LP_LW_IP, 80);
    if (!l)
        return -1;
    lp_lw_expect(l, b);
    if (lp_ts_connect(a, s, lport, LP_LW_IP, 80) != 0)
        return -2;
    if (!lp_run(ep_connected, a, lp_now() + 5 * SEC) || !a->connected || !b->connected)
        return -3;
    lp_lw_close_listener(l);
    return 0;
}

/* ------------------------------------------------------------ opening */

/* lwIP opens to tcpstate: three segments at one instant. lwIP (this
 * build: LWIP_WND_SCALE with TCP_RCV_SCALE 1, no LWIP_TCP_TIMESTAMPS, no
 * LWIP_TCP_SACK_OUT) offers only MSS and window scale 1, where Linux also
 * offers SACK and timestamps with scale 7; tcpstate answers with MSS and
 * window scale only, as Linux does to such a SYN. lwIP's 64 KiB window
 * (TCP_WND 0xFFFF) then reads 32767 << 1 = 65534 bytes. */
TS_TEST(lwip_handshake_lwip_to_tcpstate)
{
    ts_stack *s = world();
    lp_ep a = { 0 };
    ts_sock c;
    ts_info i;
    uint64_t t0 = lp_now();
    struct tcp_pcb *pcb;
    CHECK(s);
    trace_on();
    CHECK_EQ(open_lw_to_ts(s, &a, 40000, &c), 0);
    CHECK_EQ(a.t_connected, t0); /* zero-delay link: no timer involved */
    CHECK_EQ(trace.n, 3);
    CHECK_EQ(trace.s[0].flags, TS_TH_SYN);
    CHECK_EQ(trace.s[0].src, LP_LW_IP);
    CHECK(has_opt(&trace.s[0], 2) && has_opt(&trace.s[0], 3));
    CHECK(!has_opt(&trace.s[0], 4) && !has_opt(&trace.s[0], 8));
    CHECK_EQ(trace.s[0].win, 65535);
    CHECK_EQ(trace.s[1].flags, TS_TH_SYN | TS_TH_ACK);
    CHECK(has_opt(&trace.s[1], 2) && has_opt(&trace.s[1], 3));
    CHECK(!has_opt(&trace.s[1], 4) && !has_opt(&trace.s[1], 8));
    CHECK_EQ(trace.s[2].flags, TS_TH_ACK);
    CHECK_EQ(trace.s[2].win, 32767);
    CHECK_EQ(ts_sock_info(s, c, &i), 0);
    CHECK_EQ(i.state, TS_ESTABLISHED);
    CHECK_EQ(i.mss, 1460);
    CHECK(i.wscale_ok && !i.ts_ok && !i.sack_ok);
    CHECK_EQ(i.snd_wscale, 1);
    CHECK_EQ(i.snd_wnd, 65534);
    pcb = lp_lw_pcb(40000, 8080);
    CHECK(pcb && pcb->state == ESTABLISHED);
    CHECK_EQ(pcb->mss, 1460);
    CHECK_EQ(pcb->snd_scale, i.rcv_wscale);
    CHECK_EQ(pcb->rcv_nxt, i.snd_nxt);
    CHECK_EQ(pcb->snd_nxt, i.rcv_nxt);
    CHECK_EQ(world_end(s), 1); /* the established lwIP pcb */
}

/* tcpstate opens to lwIP: tcpstate offers SACK and timestamps as Linux
 * does; lwIP's SYN-ACK answers with MSS and window scale only, so the
 * connection runs without them. */
TS_TEST(lwip_handshake_tcpstate_to_lwip)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    ts_info i;
    struct tcp_pcb *pcb;
    CHECK(s);
    trace_on();
    CHECK_EQ(open_ts_to_lw(s, &a, &b, 50000), 0);
    CHECK_EQ(trace.n, 3);
    CHECK_EQ(trace.s[0].flags, TS_TH_SYN);
    CHECK(has_opt(&trace.s[0], 2) && has_opt(&trace.s[0], 3));
    CHECK(has_opt(&trace.s[0], 4) && has_opt(&trace.s[0], 8));
    CHECK_EQ(trace.s[1].flags, TS_TH_SYN | TS_TH_ACK);
    CHECK_EQ(trace.s[1].src, LP_LW_IP);
    CHECK(has_opt(&trace.s[1], 2) && has_opt(&trace.s[1], 3));
    CHECK(!has_opt(&trace.s[1], 4) && !has_opt(&trace.s[1], 8));
    CHECK_EQ(trace.s[2].flags, TS_TH_ACK);
    CHECK_EQ(ts_sock_info(s, a.sk, &i), 0);
    CHECK_EQ(i.state, TS_ESTABLISHED);
    CHECK(i.wscale_ok && !i.ts_ok && !i.sack_ok);
    CHECK_EQ(i.snd_wscale, 1);
    CHECK_EQ(i.snd_wnd, 65535); /* from the SYN-ACK: a SYN's window is never scaled */
    CHECK_EQ(i.mss, 1460);
    pcb = b.pcb;
    CHECK(pcb && pcb->state == ESTABLISHED);
    CHECK_EQ(pcb->remote_port, 50000);
    CHECK_EQ(pcb->snd_scale, i.rcv_wscale);
    CHECK_EQ(world_end(s), 1);
}

/* A SYN to a closed port, each way: the answer is RST+ACK; tcpstate's
 * connect reports ECONNREFUSED, lwIP's err callback ERR_RST. */
TS_TEST(lwip_connect_refused_both_ways)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    CHECK(s);
    CHECK_EQ(lp_ts_connect(&a, s, 50001, LP_LW_IP, 81), 0);
    CHECK(lp_run(ep_connected, &a, lp_now() + 5 * SEC));
    CHECK(a.got_err);
    CHECK_EQ(a.err, TS_ECONNREFUSED);
    CHECK_EQ(lp_lw_connect(&b, LP_LW_IP, 40001, LP_TS_IP, 81), 0);
    CHECK(lp_run(ep_connected, &b, lp_now() + 5 * SEC));
    CHECK(b.got_err);
    CHECK_EQ(b.err, ERR_RST);
    CHECK(b.pcb == NULL);
    ts_close(s, a.sk);
    CHECK_EQ(world_end(s), 0);
}

/* ----------------------------------------------------------- transfer */

/* Runs a transfer to completion; both ends' policies decide the close. */
static int run_eps(lp_ep *a, lp_ep *b, uint64_t limit_us)
{
    lp_ep *eps[3] = { a, b, NULL };
    return lp_run(lp_eps_done, eps, lp_now() + limit_us);
}

/* 10 MiB from lwIP to tcpstate, byte-exact, then lwIP shuts down writing
 * and tcpstate closes after EOF. On a link with no delay or loss the
 * whole transfer happens at one virtual instant: lwIP's 64 KiB send
 * buffer refills from its sent callback, tcpstate's window updates reach
 * lwIP at once, and nothing is retransmitted. */
TS_TEST(lwip_10mib_lwip_to_tcpstate)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    ts_sock c;
    uint16_t ports[2] = { 40002, 8080 };
    CHECK(s);
    CHECK_EQ(open_lw_to_ts(s, &a, 40002, &c), 0);
    a.pattern = 1, a.tx_goal = 10 * MIB, a.close = LP_SHUT_AFTER_TX;
    b.pattern = 1, b.close = LP_CLOSE_AFTER_EOF;
    lp_ep_attach_ts(&b, s, c);
    CHECK(run_eps(&a, &b, 30 * SEC));
    CHECK_EQ(a.tx_done, 10 * MIB);
    CHECK_EQ(b.rx_bad, 0);
    CHECK_EQ(b.rx_done, 10 * MIB);
    CHECK(b.rx_eof && b.closed && !b.got_err);
    CHECK(lp_run(lw_gone, ports, lp_now() + 1 * SEC) == 0); /* lwIP is in TIME_WAIT */
    CHECK(a.rx_eof && a.closed && !a.got_err);
    CHECK_EQ(a.tx_acked, 10 * MIB);
    CHECK_EQ(lp_lw_state(40002, 8080), TS_TIME_WAIT);
    CHECK_EQ(ts_state_of(s, 8080, 40002), TS_CLOSE);
    CHECK_EQ(ts_stack_counter_by_name(s, "RetransSegs"), 0);
    CHECK_EQ(world_end(s), 1); /* lwIP's TIME_WAIT pcb */
}

/* 10 MiB from tcpstate to lwIP, byte-exact; tcpstate closes first. */
TS_TEST(lwip_10mib_tcpstate_to_lwip)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    CHECK(s);
    CHECK_EQ(open_ts_to_lw(s, &a, &b, 50002), 0);
    a.pattern = 1, a.tx_goal = 10 * MIB, a.close = LP_SHUT_AFTER_TX;
    b.pattern = 1, b.close = LP_CLOSE_AFTER_EOF;
    CHECK(run_eps(&a, &b, 30 * SEC));
    CHECK_EQ(a.tx_done, 10 * MIB);
    CHECK_EQ(b.rx_bad, 0);
    CHECK_EQ(b.rx_done, 10 * MIB);
    CHECK(b.rx_eof && b.closed && !b.got_err);
    CHECK(a.rx_eof && a.closed && !a.got_err);
    CHECK_EQ(ts_state_of(s, 50002, 80), TS_TIME_WAIT);
    CHECK_EQ(lp_lw_state(80, 50002), TS_CLOSE);
    CHECK_EQ(ts_stack_counter_by_name(s, "RetransSegs"), 0);
    CHECK_EQ(world_end(s), 0);
}

/* 10 MiB each way at once on one connection, byte-exact both ways. */
TS_TEST(lwip_10mib_each_way_at_once)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    ts_sock c;
    CHECK(s);
    CHECK_EQ(open_lw_to_ts(s, &a, 40003, &c), 0);
    a.pattern = 1, a.tx_goal = 10 * MIB, a.close = LP_SHUT_AFTER_TX;
    b.pattern = 1, b.tx_goal = 10 * MIB, b.close = LP_CLOSE_AFTER_EOF;
    lp_ep_attach_ts(&b, s, c);
    CHECK(run_eps(&a, &b, 60 * SEC));
    CHECK(lp_run(lp_eps_done, (lp_ep *[]){ &a, NULL }, lp_now() + 5 * SEC));
    CHECK_EQ(a.rx_bad, 0);
    CHECK_EQ(b.rx_bad, 0);
    CHECK_EQ(a.rx_done, 10 * MIB);
    CHECK_EQ(b.rx_done, 10 * MIB);
    CHECK(a.rx_eof && b.rx_eof && a.closed && b.closed);
    CHECK(!a.got_err && !b.got_err);
    CHECK_EQ(lp_lw_state(40003, 8080), TS_TIME_WAIT);
    CHECK_EQ(world_end(s), 1);
}

/* -------------------------------------------------------------- close */

/* lwIP closes first. lwIP: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT; tcpstate:
 * CLOSE_WAIT, then LAST_ACK -> CLOSED when its application closes.
 * tcpstate ACKs the FIN as Linux does, on the next tick (4 ms: pingpong
 * mode with no data received yet), so lwIP sits 4 ms in FIN_WAIT_1.
 * lwIP's TIME_WAIT lasts 2 * TCP_MSL = 120 s (Linux and tcpstate: 60 s),
 * counted in 500 ms slow-timer ticks: the pcb goes at the first tick more
 * than 240 ticks after it entered, so between 120 and 121 s. */
TS_TEST(lwip_close_from_lwip)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    ts_sock c;
    char p1[256], p2[256];
    uint16_t ports[2] = { 40004, 8080 };
    uint64_t tw, t0;
    CHECK(s);
    CHECK_EQ(open_lw_to_ts(s, &a, 40004, &c), 0);
    lp_trans_clear();
    lp_lw_watch(40004, 8080);
    b.pattern = 1; /* reads to EOF, closes when the test says */
    lp_ep_attach_ts(&b, s, c);
    a.close = LP_CLOSE_AFTER_TX; /* nothing to send: closes at once */
    lp_pump();
    CHECK(a.closed);
    CHECK(b.rx_eof);
    CHECK_EQ(ts_state_of(s, 8080, 40004), TS_CLOSE_WAIT);
    CHECK_EQ(lp_lw_state(40004, 8080), TS_FIN_WAIT1);
    t0 = lp_now();
    CHECK(lp_run(lw_in, (int[]){ 40004, 8080, TS_FIN_WAIT2 }, lp_now() + 1 * SEC));
    CHECK_EQ(lp_now() - t0, 4 * MS);
    CHECK_EQ(ts_close(s, c), 0);
    b.closed = 1;
    lp_pump();
    CHECK_EQ(ts_state_of(s, 8080, 40004), TS_CLOSE);
    CHECK_STR(ts_path(8080, p1, sizeof p1), "CLOSE_WAIT LAST_ACK CLOSED");
    CHECK_STR(lw_path(p2, sizeof p2), "FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    tw = lw_entered(TS_TIME_WAIT);
    CHECK(lp_run(lw_gone, ports, lp_now() + 130 * SEC));
    CHECK(lp_now() - tw > 120 * SEC);
    CHECK(lp_now() - tw <= 121 * SEC);
    CHECK_EQ(world_end(s), 0);
}

/* lwIP closes and tcpstate never does: lwIP's orphan leaves FIN_WAIT_2
 * after TCP_FIN_WAIT_TIMEOUT = 20 s in 500 ms ticks (Linux's orphan waits
 * tcp_fin_timeout = 60 s), silently. tcpstate's later FIN then meets no
 * pcb and lwIP answers RST: tcpstate goes LAST_ACK -> CLOSED by the RST. */
TS_TEST(lwip_fin_wait2_timeout)
{
    ts_stack *s = world();
    lp_ep a = { 0 };
    ts_sock c;
    char p1[256];
    uint16_t ports[2] = { 40005, 8080 };
    uint64_t t0;
    CHECK(s);
    CHECK_EQ(open_lw_to_ts(s, &a, 40005, &c), 0);
    lp_trans_clear();
    a.close = LP_CLOSE_AFTER_TX;
    lp_pump();
    CHECK(lp_run(lw_in, (int[]){ 40005, 8080, TS_FIN_WAIT2 }, lp_now() + 1 * SEC));
    t0 = lp_now();
    CHECK(lp_run(lw_gone, ports, lp_now() + 30 * SEC));
    CHECK(lp_now() - t0 > 20 * SEC);
    CHECK(lp_now() - t0 <= 21 * SEC);
    CHECK_EQ(ts_state_of(s, 8080, 40005), TS_CLOSE_WAIT);
    CHECK_EQ(ts_close(s, c), 0);
    lp_pump();
    CHECK_EQ(ts_state_of(s, 8080, 40005), TS_CLOSE);
    CHECK_STR(ts_path(8080, p1, sizeof p1), "CLOSE_WAIT LAST_ACK CLOSED");
    CHECK_EQ(lp_trans_get(lp_trans_count() - 1)->cause, TS_CAUSE_RCV_RST);
    CHECK_EQ(world_end(s), 0);
}

static int ts_gone(void *arg)
{
    void **v = arg;
    const uint16_t *ports = v[1];
    return ts_state_of(v[0], ports[0], ports[1]) == TS_CLOSE;
}

/* tcpstate closes first: FIN_WAIT1 -> FIN_WAIT2 -> TIME_WAIT for 60 s,
 * exactly (virtual time, Linux's TCP_TIMEWAIT_LEN); lwIP: CLOSE_WAIT ->
 * LAST_ACK -> CLOSED. lwIP ACKs the FIN at once (tcp_ack_now), so tcpstate
 * is in FIN_WAIT2 at the same instant. */
TS_TEST(lwip_close_from_tcpstate)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    char p1[256], p2[256];
    uint16_t ports[2] = { 50003, 80 };
    void *arg[2] = { s, ports };
    uint64_t t0;
    CHECK(s);
    CHECK_EQ(open_ts_to_lw(s, &a, &b, 50003), 0);
    lp_trans_clear();
    lp_lw_watch(80, 50003);
    b.close = LP_CLOSE_NONE;
    CHECK_EQ(ts_close(s, a.sk), 0);
    a.closed = 1;
    t0 = lp_now();
    lp_pump();
    CHECK_EQ(ts_state_of(s, 50003, 80), TS_FIN_WAIT2);
    CHECK(b.rx_eof);
    CHECK_EQ(lp_lw_state(80, 50003), TS_CLOSE_WAIT);
    b.close = LP_CLOSE_AFTER_EOF;
    lp_pump();
    CHECK(b.closed);
    CHECK_EQ(lp_lw_state(80, 50003), TS_CLOSE);
    CHECK_EQ(ts_state_of(s, 50003, 80), TS_TIME_WAIT);
    CHECK_STR(lw_path(p2, sizeof p2), "CLOSE_WAIT LAST_ACK CLOSED");
    CHECK(lp_run(ts_gone, arg, lp_now() + 70 * SEC));
    CHECK_EQ(lp_now() - t0, 60 * SEC);
    CHECK_STR(ts_path(50003, p1, sizeof p1), "FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
    CHECK_EQ(world_end(s), 0);
}

/* Both close at one instant, each FIN crossing the other: both go
 * FIN_WAIT_1 -> CLOSING -> TIME_WAIT (RFC 9293 §3.6 case 2); tcpstate's
 * TIME_WAIT ends after 60 s, lwIP's after 120-121 s. */
TS_TEST(lwip_simultaneous_close)
{
    ts_stack *s = world();
    lp_ep a = { 0 };
    ts_sock c;
    char p1[256], p2[256];
    uint16_t ports[2] = { 40006, 8080 }, tports[2] = { 8080, 40006 };
    void *arg[2] = { s, tports };
    uint64_t t0;
    CHECK(s);
    CHECK_EQ(open_lw_to_ts(s, &a, 40006, &c), 0);
    lp_trans_clear();
    lp_lw_watch(40006, 8080);
    trace_on();
    CHECK_EQ(ts_close(s, c), 0);   /* FIN queued in tcpstate */
    CHECK_EQ(tcp_close(a.pcb), 0); /* lwIP's FIN goes out at once */
    lp_ep_remove(&a);
    t0 = lp_now();
    lp_pump();
    CHECK(trace.n >= 4);
    CHECK_EQ(trace.s[0].flags, TS_TH_FIN | TS_TH_ACK);
    CHECK_EQ(trace.s[1].flags, TS_TH_FIN | TS_TH_ACK);
    CHECK(trace.s[0].src != trace.s[1].src);
    CHECK_EQ(ts_state_of(s, 8080, 40006), TS_TIME_WAIT);
    CHECK_EQ(lp_lw_state(40006, 8080), TS_TIME_WAIT);
    CHECK_STR(ts_path(8080, p1, sizeof p1), "FIN_WAIT_1 CLOSING TIME_WAIT");
    CHECK_STR(lw_path(p2, sizeof p2), "FIN_WAIT_1 CLOSING TIME_WAIT");
    CHECK(lp_run(ts_gone, arg, lp_now() + 70 * SEC));
    CHECK_EQ(lp_now() - t0, 60 * SEC);
    CHECK_EQ(lp_lw_state(40006, 8080), TS_TIME_WAIT);
    CHECK(lp_run(lw_gone, ports, t0 + 130 * SEC));
    CHECK(lp_now() - t0 > 120 * SEC && lp_now() - t0 <= 121 * SEC);
    CHECK_EQ(world_end(s), 0);
}

/* ----------------------------------------------------- RST on unread */

/* tcpstate closes with data unread: it sends RST instead of FIN (Linux
 * TCPAbortOnClose) and frees at once; lwIP's err callback gets ERR_RST
 * and lwIP frees its pcb. */
TS_TEST(lwip_rst_on_unread_close_by_tcpstate)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    ts_sock c;
    char p1[256];
    CHECK(s);
    CHECK_EQ(open_lw_to_ts(s, &a, 40007, &c), 0);
    a.pattern = 1, a.tx_goal = 1000;
    b.no_read = 1;
    lp_ep_attach_ts(&b, s, c);
    lp_pump();
    CHECK_EQ(ts_recv_pending(s, c), 1000);
    lp_trans_clear();
    trace_on();
    CHECK_EQ(ts_close(s, c), 0);
    b.closed = 1;
    lp_pump();
    CHECK_EQ(trace.n, 1);
    CHECK_EQ(trace.s[0].flags & (TS_TH_RST | TS_TH_FIN), TS_TH_RST);
    CHECK(a.got_err);
    CHECK_EQ(a.err, ERR_RST);
    CHECK_EQ(lp_lw_state(40007, 8080), TS_CLOSE);
    CHECK_EQ(ts_state_of(s, 8080, 40007), TS_CLOSE);
    CHECK_STR(ts_path(8080, p1, sizeof p1), "CLOSED");
    CHECK_EQ(ts_stack_counter_by_name(s, "TCPAbortOnClose"), 1);
    CHECK_EQ(world_end(s), 0);
}

/* lwIP closes with data its application never took (no tcp_recved):
 * tcp_close sees rcv_wnd below its maximum and sends RST (lwIP's rule is
 * "window not fully reopened", Linux's "bytes still queued" — the same
 * here). tcpstate: ESTABLISHED -> CLOSED on the RST, recv gives
 * ECONNRESET once, then 0. lwIP calls no err callback for its own close. */
TS_TEST(lwip_rst_on_unread_close_by_lwip)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    char p1[256];
    uint8_t buf[16];
    CHECK(s);
    CHECK_EQ(open_ts_to_lw(s, &a, &b, 50004), 0);
    b.no_read = 1;
    a.pattern = 1, a.tx_goal = 1000;
    lp_pump();
    CHECK_EQ(b.rx_held, 1000);
    CHECK_EQ(a.tx_done, 1000);
    lp_trans_clear();
    trace_on();
    CHECK_EQ(tcp_close(b.pcb), 0);
    pbuf_free(b.held);
    b.held = NULL;
    lp_ep_remove(&b);
    lp_pump();
    CHECK_EQ(trace.n, 1);
    CHECK_EQ(trace.s[0].flags & (TS_TH_RST | TS_TH_FIN), TS_TH_RST);
    CHECK_EQ(trace.s[0].src, LP_LW_IP);
    CHECK_EQ(lp_lw_state(80, 50004), TS_CLOSE);
    CHECK(!b.got_err);
    CHECK_EQ(ts_state_of(s, 50004, 80), TS_CLOSE);
    CHECK_STR(ts_path(50004, p1, sizeof p1), "CLOSED");
    CHECK_EQ(lp_trans_get(0)->cause, TS_CAUSE_RCV_RST);
    CHECK(a.got_err);
    CHECK_EQ(a.err, TS_ECONNRESET);
    CHECK_EQ(ts_recv(s, a.sk, buf, sizeof buf), 0);
    ts_close(s, a.sk);
    CHECK_EQ(world_end(s), 0);
}

/* ------------------------------------------------------------ timers */

static int acked(void *arg)
{
    void **v = arg;
    ts_info i;
    return ts_sock_info(v[0], *(ts_sock *)v[1], &i) == 0 && i.snd_una == i.snd_nxt;
}

/* lwIP delays the ACK of a lone segment to its next fast-timer tick:
 * tcp_fasttmr every 250 ms, on a grid that starts when lwIP's first pcb
 * appeared. So the ACK comes 0-250 ms later, never at once, and always
 * on that grid (Linux: quick-ACK at the start of a connection, then a
 * 40-200 ms timer of the connection's own). */
TS_TEST(lwip_delayed_ack_on_its_250ms_tick)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    void *arg[2];
    uint64_t t0, ack[3];
    CHECK(s);
    CHECK_EQ(open_ts_to_lw(s, &a, &b, 50005), 0);
    arg[0] = s, arg[1] = &a.sk;
    for (int k = 0; k < 3; k++) {
        lp_wait_ms(97); /* somewhere else on lwIP's 250 ms grid */
        CHECK_EQ(ts_send(s, a.sk, "x", 1), 1);
        t0 = lp_now();
        lp_pump();
        CHECK(!acked(arg));
        CHECK(lp_run(acked, arg, lp_now() + 1 * SEC));
        ack[k] = lp_now();
        CHECK(ack[k] > t0);
        CHECK(ack[k] - t0 <= 250 * MS);
        CHECK_EQ((ack[k] - ack[0]) % (250 * MS), 0);
    }
    CHECK_EQ(b.rx_done, 3);
    CHECK_EQ(world_end(s), 1);
}

/* Drops the first SYN it sees. */
static int drop_first_syn(void *user, const uint8_t *pkt, size_t len)
{
    int *dropped = user;
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    if (*dropped || len < ihl + 20 || !(pkt[ihl + 13] & TS_TH_SYN))
        return 0;
    *dropped = 1;
    return 1;
}

/* A lost SYN. lwIP's initial RTO is 3 s, counted in slow ticks: the
 * SYN goes again at the 6th tcp_slowtmr run after it was sent. Its TCP
 * timer starts 250 ms after the connect (no other pcb is alive) and every
 * other run is a slow one, by a global parity lwIP keeps for its life, so
 * the retransmission comes 2.75 or 3 s after the SYN. Linux and tcpstate:
 * 1 s (tcpstate exactly, in virtual time; Linux within its timer slack). */
TS_TEST(lwip_syn_retransmission_times)
{
    ts_stack *s = world();
    lp_ep a = { 0 }, b = { 0 };
    ts_sock l;
    int dropped = 0;
    uint64_t t0;
    CHECK(s);
    CHECK_EQ(lp_ts_listen(s, 8080, &l), 0);
    lp_wait_ms(1000); /* lwIP's TCP timer, left from earlier tests, stops */
    lp_set_tap(drop_first_syn, &dropped);
    t0 = lp_now();
    CHECK_EQ(lp_lw_connect(&a, LP_LW_IP, 40008, LP_TS_IP, 8080), 0);
    CHECK(lp_run(ep_connected, &a, lp_now() + 10 * SEC));
    CHECK(dropped && a.connected);
    CHECK(a.t_connected - t0 == 2750 * MS || a.t_connected - t0 == 3000 * MS);
    dropped = 0;
    t0 = lp_now();
    CHECK_EQ(lp_ts_connect(&b, s, 50006, LP_LW_IP, 81), 0);
    CHECK(lp_run(ep_connected, &b, lp_now() + 10 * SEC));
    CHECK(dropped && b.got_err);
    CHECK_EQ(b.err, TS_ECONNREFUSED); /* the retransmitted SYN met lwIP's RST */
    CHECK_EQ(lp_now() - t0, 1 * SEC);
    ts_close(s, l);
    CHECK_EQ(world_end(s), 1);
}
