/* test_open.c — opening: passive (LISTEN), active (SYN_SENT), simultaneous. */
#include "fixture.h"

TS_TEST(passive_open_listen_synrecv_established)
{
    fx f;
    ts_sock l, c;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    CHECK_STATE(&f, l, TS_LISTEN);
    TS_SEND(&f, S, 0, 0, .mss = 1460, FX_WS(7), .sackok = 1);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(f.last.mss, 1460);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), TS_EAGAIN); /* not yet established */
    TS_SEND(&f, A, 1, 1);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(fx_ctr(&f, "TcpPassiveOpens"), 1);
    CHECK_EQ(fx_ctr(&f, "TcpCurrEstab"), 1);
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

TS_TEST(active_open_synsent_established)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    c = fx_connect(&f, 8080);
    CHECK_STATE(&f, c, TS_SYN_SENT);
    TS_EXPECT(&f, S, 0, 0);
    CHECK(f.last.opt_present & TS_OPT_MSS);
    CHECK(f.last.opt_present & TS_OPT_TS);
    CHECK(f.last.opt_present & TS_OPT_SACKOK);
    CHECK(f.last.opt_present & TS_OPT_WSCALE);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_EALREADY);
    TS_SEND(&f, S | A, 0, 1, .mss = 1000);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), 0);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_EISCONN);
    CHECK_EQ(fx_ctr(&f, "ActiveOpens"), 1);
    ts_close(f.s, c);
    fx_free(&f);
}

TS_TEST(simultaneous_open_reuses_isn)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    TS_SEND(&f, S, 0, 0, .mss = 1460);   /* crossing SYN */
    CHECK_STATE(&f, c, TS_SYN_RECV);
    TS_EXPECT(&f, S | A, 0, 1);           /* SYN-ACK with our first ISN */
    TS_SEND(&f, S | A, 0, 1, .mss = 1460); /* the peer's SYN-ACK */
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    ts_close(f.s, c);
    fx_free(&f);
}
