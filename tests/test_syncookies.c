/*
 * test_syncookies.c — the request-queue limit and SYN cookies (Linux
 * tcp_conn_request, net/ipv4/syncookies.c; RFC 4987 §3.6): when a cookie
 * replaces a request, what the cookie SYN-ACK carries, and which final
 * ACKs a cookie admits. The fixture's cookie_hash is deterministic.
 * Figures measured on Linux 6.18 (listen(fd, 1): the 3rd SYN gets a
 * cookie; with tcp_syncookies = 0 it is dropped, TCPReqQFullDrop).
 */
#include "fixture.h"
#include "core/internal.h"

static void init_cookies(fx *f, int syncookies)
{
    ts_config cfg;
    ts_config_default(&cfg);
    cfg.tcp_syncookies = syncookies;
    fx_init_cfg(f, &cfg);
}

static ts_tuple fx_tuple(const fx *f)
{
    ts_tuple t;
    t.local.ip = FX_LOCAL;
    t.local.port = f->local_port;
    t.remote.ip = FX_PEER;
    t.remote.port = f->peer_port;
    return t;
}

/* listen(fd, 1): two requests, then cookies (more requests than the
 * backlog); the cookie leaves no state behind. */
TS_TEST(syncookie_request_queue_limit)
{
    fx f;
    ts_sock l;
    init_cookies(&f, 1);
    l = fx_listen(&f, 8080);
    CHECK_EQ(ts_listen(f.s, l, 1), 0);
    for (int i = 0; i < 2; i++) {
        f.peer_port = (uint16_t)(40000 + i);
        CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460), 0);
        TS_EXPECT(&f, S | A, 0, 1);
    }
    f.peer_port = 40002;
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460), 0);
    TS_EXPECT(&f, S | A, FX_ANY, 1);
    CHECK(f.last.seq != 0); /* not the request ISN: a cookie */
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(ts_stack_conn_count(f.s), 2);
    CHECK_EQ(fx_ctr(&f, "TCPReqQFullDoCookies"), 1);
    CHECK_EQ(fx_ctr(&f, "SyncookiesSent"), 1);
    CHECK_EQ(fx_ctr(&f, "ListenDrops"), 0);
    ts_close(f.s, l);
    fx_free(&f);
}

/* tcp_syncookies = 0: the SYN past the backlog is dropped. */
TS_TEST(syncookie_off_drops)
{
    fx f;
    ts_sock l;
    init_cookies(&f, 0);
    l = fx_listen(&f, 8080);
    CHECK_EQ(ts_listen(f.s, l, 1), 0);
    for (int i = 0; i < 2; i++) {
        f.peer_port = (uint16_t)(40000 + i);
        CHECK_EQ(TS_SEND(&f, S, 0, 0), 0);
    }
    CHECK_EQ(fx_drain(&f), 2);
    f.peer_port = 40002;
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_SYN_BACKLOG);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "TCPReqQFullDrop"), 1);
    CHECK_EQ(fx_ctr(&f, "ListenDrops"), 1);
    CHECK_EQ(fx_ctr(&f, "SyncookiesSent"), 0);
    ts_close(f.s, l);
    fx_free(&f);
}

/* tcp_syncookies = 0 also keeps the last quarter of tcp_max_syn_backlog
 * (Linux: max_syn_backlog - qlen < max_syn_backlog >> 2): with 8, the 7th
 * request is refused, counted in ListenDrops only. */
TS_TEST(syncookie_off_quarter_rule)
{
    fx f;
    ts_config cfg;
    ts_sock l;
    ts_config_default(&cfg);
    cfg.tcp_syncookies = 0;
    cfg.tcp_max_syn_backlog = 8;
    fx_init_cfg(&f, &cfg);
    l = fx_listen(&f, 8080); /* backlog 16 */
    for (int i = 0; i < 7; i++) {
        f.peer_port = (uint16_t)(40000 + i);
        CHECK_EQ(TS_SEND(&f, S, 0, 0), 0);
    }
    f.peer_port = 40007;
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_SYN_BACKLOG);
    CHECK_EQ(fx_drain(&f), 7);
    CHECK_EQ(fx_ctr(&f, "ListenDrops"), 1);
    CHECK_EQ(fx_ctr(&f, "TCPReqQFullDrop"), 0);
    ts_close(f.s, l);
    fx_free(&f);
}

/* With cookies the quarter rule does not apply; tcp_syncookies = 2 sends
 * a cookie for every SYN. */
TS_TEST(syncookie_always)
{
    fx f;
    ts_sock l;
    init_cookies(&f, 2);
    l = fx_listen(&f, 8080);
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460), 0);
    TS_EXPECT(&f, S | A, FX_ANY, 1);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(fx_ctr(&f, "SyncookiesSent"), 1);
    CHECK_EQ(fx_ctr(&f, "TCPReqQFullDoCookies"), 1);
    ts_close(f.s, l);
    fx_free(&f);
}

/* Without timestamps the cookie SYN-ACK carries the MSS option alone; a
 * valid final ACK makes an ESTABLISHED child at once (SyncookiesRecv),
 * with the peer's MSS rounded down to the table (1400 -> 1300). */
TS_TEST(syncookie_ack_makes_child)
{
    fx f;
    ts_sock l, c;
    ts_info in;
    init_cookies(&f, 2);
    l = fx_listen(&f, 8080);
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1400, .sackok = 1, .has_ws = 1, .wscale = 7), 0);
    TS_EXPECT(&f, S | A, FX_ANY, 1);
    CHECK_EQ(f.last.opt_present, TS_OPT_MSS);
    CHECK_EQ(f.last.mss, 1460);
    CHECK_EQ(f.last.win, 64240);
    CHECK_EQ(TS_SEND(&f, A, 1, f.last.seq + 1), 0);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_ESTABLISHED);
    CHECK_EQ(fx_ctr(&f, "SyncookiesRecv"), 1);
    CHECK_EQ(fx_ctr(&f, "PassiveOpens"), 1);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    CHECK_EQ(ts_sock_info(f.s, c, &in), 0);
    CHECK_EQ(in.mss, 1300);
    CHECK_EQ(in.sack_ok, 0);
    CHECK_EQ(in.wscale_ok, 0);
    CHECK_EQ(in.ts_ok, 0);
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

/* A wrong cookie: SyncookiesFailed, the usual <SEQ=SEG.ACK><CTL=RST>. */
TS_TEST(syncookie_ack_wrong_hash)
{
    fx f;
    ts_sock l;
    uint32_t ck;
    init_cookies(&f, 2);
    l = fx_listen(&f, 8080);
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460), 0);
    TS_EXPECT(&f, S | A, FX_ANY, 1);
    ck = f.last.seq;
    CHECK_EQ(TS_SEND(&f, A, 1, (ck ^ 0x00800000u) + 1), -TS_DROP_INVALID_STATE);
    TS_EXPECT(&f, R, (ck ^ 0x00800000u) + 1, FX_ANY);
    CHECK_EQ(fx_ctr(&f, "SyncookiesFailed"), 1);
    /* another peer ISN (seq) does not match either (a seq a few less
     * only shifts the MSS index, as in Linux: the index is added in) */
    CHECK_EQ(TS_SEND(&f, A, 1001, ck + 1), -TS_DROP_INVALID_STATE);
    TS_EXPECT(&f, R, ck + 1, FX_ANY);
    CHECK_EQ(fx_ctr(&f, "SyncookiesFailed"), 2);
    CHECK_EQ(fx_ctr(&f, "SyncookiesRecv"), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    ts_close(f.s, l);
    fx_free(&f);
}

/* The counter ticks every minute and a cookie is good for the minute it
 * was made in and the next: made at 59.9 s, fine at 119.9 s, stale at
 * 120 s. Two minutes after the last cookie the listener stops checking
 * (tcp_synq_no_recent_overflow): a plain RST, nothing counted. */
TS_TEST(syncookie_stale_counter)
{
    fx f;
    ts_sock l;
    uint32_t ck[2];
    init_cookies(&f, 2);
    l = fx_listen(&f, 8080);
    fx_wait(&f, 59900);
    for (int i = 0; i < 2; i++) {
        f.peer_port = (uint16_t)(40000 + i);
        CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460), 0);
        TS_EXPECT(&f, S | A, FX_ANY, 1);
        ck[i] = f.last.seq;
    }
    fx_wait(&f, 60000);
    f.peer_port = 40000;
    CHECK_EQ(TS_SEND(&f, A, 1, ck[0] + 1), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_ESTABLISHED);
    fx_drain(&f);
    fx_wait(&f, 100);
    f.peer_port = 40001;
    CHECK_EQ(TS_SEND(&f, A, 1, ck[1] + 1), -TS_DROP_INVALID_STATE);
    TS_EXPECT(&f, R, ck[1] + 1, FX_ANY);
    CHECK_EQ(fx_ctr(&f, "SyncookiesFailed"), 1);
    fx_wait(&f, 60000); /* 180 s: no cookie for 2 minutes */
    CHECK_EQ(TS_SEND(&f, A, 1, ck[1] + 1), -TS_DROP_INVALID_STATE);
    TS_EXPECT(&f, R, ck[1] + 1, FX_ANY);
    CHECK_EQ(fx_ctr(&f, "SyncookiesFailed"), 1);
    ts_close(f.s, l);
    fx_free(&f);
}

/* The MSS index: the peer's MSS rounded down to {536, 1300, 1440, 1460}. */
TS_TEST(syncookie_mss_index)
{
    static const uint16_t in[] = { 100, 536, 1299, 1300, 1439, 1452, 1460, 9000 };
    static const uint16_t out[] = { 536, 536, 536, 1300, 1300, 1440, 1460, 1460 };
    fx f;
    ts_tuple t;
    init_cookies(&f, 1);
    f.local_port = 8080;
    t = fx_tuple(&f);
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        uint16_t mss = in[i];
        uint32_t ck = ts_cookie_isn(f.s, &t, 12345, &mss);
        CHECK_EQ(mss, out[i]);
        CHECK_EQ(ts_cookie_check(f.s, &t, 12345, ck), out[i]);
        CHECK_EQ(ts_cookie_check(f.s, &t, 12345 + 1000, ck), 0);
        t.remote.port++;
        CHECK_EQ(ts_cookie_check(f.s, &t, 12345, ck), 0); /* another 4-tuple */
        t.remote.port--;
    }
    fx_free(&f);
}

/* With timestamps, the TS value's low 6 bits carry wscale and SACK
 * (Linux cookie_init_timestamp), never ahead of the clock. */
TS_TEST(syncookie_tsval_bits)
{
    CHECK_EQ(ts_cookie_tsval(1000, 1, 7, 1), 960u + 7 + 16);
    CHECK_EQ(ts_cookie_tsval(1000, 0, 0, 0), 960u + 15);
    CHECK_EQ(ts_cookie_tsval(970, 1, 14, 1), 960u - 64 + 14 + 16); /* 990 > 970: back 64 */
    CHECK_EQ(ts_cookie_tsval(1000, 1, 3, 0) & 63, 3u);
}

/* The options round trip: the cookie SYN-ACK offers SACK, TS and wscale as
 * a request's would; the ACK's TS echo restores SACK and the peer's
 * wscale for the child. */
TS_TEST(syncookie_options_round_trip)
{
    fx f;
    ts_sock l, c;
    ts_info in;
    uint32_t tsv;
    init_cookies(&f, 2);
    l = fx_listen(&f, 8080);
    fx_wait(&f, 5000);
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460, .sackok = 1, .has_ws = 1, .wscale = 7, .ts = 1,
                     .tsval = 500),
             0);
    TS_EXPECT(&f, S | A, FX_ANY, 1);
    CHECK_EQ(f.last.opt_present, TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_TS | TS_OPT_WSCALE);
    CHECK_EQ(f.last.win, 65160);
    CHECK_EQ(f.last.tsecr, 500);
    tsv = f.last.tsval;
    CHECK_EQ(tsv & 63, 7u | 16u);
    CHECK(tsv <= FX_NOW_MS(&f));
    CHECK_EQ(TS_SEND(&f, A, 1, f.last.seq + 1, .ts = 1, .tsval = 501, .tsecr = tsv), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_ESTABLISHED);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    CHECK_EQ(ts_sock_info(f.s, c, &in), 0);
    CHECK_EQ(in.ts_ok, 1);
    CHECK_EQ(in.sack_ok, 1);
    CHECK_EQ(in.wscale_ok, 1);
    CHECK_EQ(in.snd_wscale, 7);
    CHECK_EQ(in.rcv_wscale, ts_initial_wscale(f.s));
    CHECK_EQ(in.mss, 1448);
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

/* An echo announcing SACK when tcp_sack is now off: not a connection
 * (cookie_timestamp_decode fails), the listener's RST. */
TS_TEST(syncookie_ts_option_disabled)
{
    fx f;
    ts_sock l;
    uint32_t tsv, ck;
    init_cookies(&f, 2);
    l = fx_listen(&f, 8080);
    fx_wait(&f, 5000);
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460, .sackok = 1, .ts = 1, .tsval = 500), 0);
    TS_EXPECT(&f, S | A, FX_ANY, 1);
    CHECK_EQ(f.last.opt_present, TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_TS);
    tsv = f.last.tsval;
    ck = f.last.seq;
    CHECK_EQ(tsv & 31, 15u | 16u);
    f.s->cfg.tcp_sack = 0; /* as a sysctl write between SYN and ACK */
    CHECK_EQ(TS_SEND(&f, A, 1, ck + 1, .ts = 1, .tsval = 501, .tsecr = tsv),
             -TS_DROP_INVALID_STATE);
    TS_EXPECT(&f, R, ck + 1, FX_ANY);
    CHECK_EQ(fx_ctr(&f, "SyncookiesRecv"), 1);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    ts_close(f.s, l);
    fx_free(&f);
}

/* A valid cookie ACK while the accept queue is full: dropped silently
 * (tcp_v4_syn_recv_sock: ListenOverflows, ListenDrops). */
TS_TEST(syncookie_ack_accept_queue_full)
{
    fx f;
    ts_sock l;
    uint32_t ck;
    init_cookies(&f, 1);
    l = fx_listen(&f, 8080);
    CHECK_EQ(ts_listen(f.s, l, 0), 0);
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460), 0);
    TS_EXPECT(&f, S | A, 0, 1);
    f.peer_port = 40001; /* one request pending, backlog 0: a cookie */
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1460), 0);
    TS_EXPECT(&f, S | A, FX_ANY, 1);
    ck = f.last.seq;
    f.peer_port = 40000;
    CHECK_EQ(TS_SEND(&f, A, 1, 1), 0); /* queue: 1 child, full for 0 */
    f.peer_port = 40001;
    CHECK_EQ(TS_SEND(&f, A, 1, ck + 1), -TS_DROP_LISTEN_OVERFLOW);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "ListenOverflows"), 1);
    CHECK_EQ(fx_ctr(&f, "SyncookiesRecv"), 1);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    ts_close(f.s, l);
    fx_free(&f);
}
