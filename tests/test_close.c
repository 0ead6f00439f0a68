/*
 * test_close.c — the closing states: FIN_WAIT_1, FIN_WAIT_2, CLOSING,
 * TIME_WAIT, CLOSE_WAIT and LAST_ACK (RFC 9293 §3.6, §3.10.4, §3.10.7.4;
 * Linux tcp_close, tcp_fin, tcp_time_wait, tcp_timewait_state_process and
 * LINUX_BEHAVIOUR.md "Closing"). RSTs in these states are in test_rst.c.
 */
#include "fixture.h"

/* An established connection (passive open), both sides at relative seq 1,
 * RTO 200 ms (a 0 ms handshake). */
static ts_sock open_conn_cfg(fx *f, const ts_config *cfg)
{
    ts_sock l, c;
    fx_init_cfg(f, cfg);
    c = fx_open_passive(f, 8080, &l);
    ts_close(f->s, l);
    fx_drain(f);
    return c;
}

static ts_sock open_conn(fx *f) { return open_conn_cfg(f, NULL); }

/* Active close of an orphan: ESTABLISHED -> FIN_WAIT_1 (FIN) -> FIN_WAIT_2
 * (ACK of FIN; a minisocket now) -> TIME_WAIT (FIN, ACKed at once) ->
 * CLOSED 60 s later, silently (TcpExtTW). */
TS_TEST(close_active_full_cycle)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    f.transitions = 0;
    CHECK_EQ(ts_close(f.s, c), 0);
    CHECK_EQ(f.last_from, TS_ESTABLISHED);
    CHECK_EQ(f.last_to, TS_FIN_WAIT1);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_CLOSE);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT1);
    CHECK_EQ(fx_ctr(&f, "TCPOrphanCount"), 1);
    TS_EXPECT(&f, F | A, 1, 1);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(TS_SEND(&f, A, 1, 2), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT2);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_ACK);
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 5000);
    CHECK_EQ(TS_SEND(&f, A | F, 1, 2), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
    CHECK_EQ(f.last_from, TS_FIN_WAIT2);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_FIN);
    TS_EXPECT(&f, A, 2, 2);
    CHECK_EQ(fx_ctr(&f, "TCPTimeWaitCount"), 1);
    fx_wait(&f, 59999);
    CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
    fx_wait(&f, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_TIME_WAIT);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_2MSL);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(f.transitions, 4);
    CHECK_EQ(fx_ctr(&f, "TW"), 1);
    CHECK_EQ(fx_ctr(&f, "TCPTimeWaitCount"), 0);
    CHECK_EQ(fx_ctr(&f, "TCPOrphanCount"), 0);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    fx_free(&f);
}

/* shutdown(SHUT_WR): FIN_WAIT_2 waits for the peer's FIN without limit
 * while the application holds the socket; data still arrives; the FIN
 * leads to TIME_WAIT while the handle reads CLOSED and end of stream. */
TS_TEST(close_shutdown_fin_wait2_waits_forever)
{
    fx f;
    ts_sock c = open_conn(&f);
    char buf[64];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_shutdown(f.s, c, TS_SHUT_WR), 0);
    CHECK_STATE(&f, c, TS_FIN_WAIT1);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_SHUTDOWN);
    TS_EXPECT(&f, F | A, 1, 1);
    CHECK_EQ(ts_send(f.s, c, "x", 1), TS_EPIPE);
    CHECK_EQ(TS_SEND(&f, A, 1, 2), 0);
    CHECK_STATE(&f, c, TS_FIN_WAIT2);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    fx_wait(&f, 3600000);
    CHECK_STATE(&f, c, TS_FIN_WAIT2);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 2, 20), 0);
    TS_EXPECT(&f, A, 2, 21);
    CHECK_EQ(TS_SEND(&f, A | F, 21, 2), 0);
    TS_EXPECT(&f, A, 2, 22);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 20);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 0);
    CHECK_EQ(ts_send(f.s, c, "x", 1), TS_EPIPE);
    fx_wait(&f, 60000);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(ts_close(f.s, c), 0);
    fx_free(&f);
}

/* FIN_WAIT_1 -> TIME_WAIT directly when one segment ACKs our FIN and
 * carries the peer's FIN (RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1). */
TS_TEST(close_fin_wait1_finack_to_time_wait)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    f.transitions = 0;
    CHECK_EQ(TS_SEND(&f, A | F, 1, 2), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
    CHECK_EQ(f.transitions, 1);
    CHECK_EQ(f.last_from, TS_FIN_WAIT1);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_FINACK);
    TS_EXPECT(&f, A, 2, 2);
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 60000);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    fx_free(&f);
}

/* Simultaneous close: FIN_WAIT_1 gets the peer's FIN before the ACK of its
 * own: CLOSING (ACK at once), then TIME_WAIT on the ACK, CLOSED at 60 s. */
TS_TEST(close_simultaneous_closing)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    CHECK_EQ(TS_SEND(&f, A | F, 1, 1), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSING);
    CHECK_EQ(f.last_from, TS_FIN_WAIT1);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_FIN);
    TS_EXPECT(&f, A, 2, 2);
    fx_wait(&f, 100);
    CHECK_EQ(TS_SEND(&f, A, 2, 2), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
    CHECK_EQ(f.last_from, TS_CLOSING);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_ACK);
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 60000);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(fx_ctr(&f, "TW"), 1);
    fx_free(&f);
}

/* Passive close: ESTABLISHED -> CLOSE_WAIT (peer's FIN) -> LAST_ACK (app
 * close, FIN) -> CLOSED on the ACK of our FIN, nothing more sent. */
TS_TEST(close_passive_close_wait_last_ack)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    TS_SEND(&f, A | F, 1, 1);
    CHECK_STATE(&f, c, TS_CLOSE_WAIT);
    CHECK_EQ(ts_close(f.s, c), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_LAST_ACK);
    CHECK_EQ(f.last_from, TS_CLOSE_WAIT);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_CLOSE);
    TS_EXPECT(&f, F | A, 1, 2); /* the pending ACK of their FIN rides on it */
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "CurrEstab"), 0);
    CHECK_EQ(TS_SEND(&f, A, 2, 2), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_LAST_ACK);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_ACK);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(fx_ctr(&f, "TCPOrphanCount"), 0);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    fx_free(&f);

    /* the same with shutdown(): the handle stays, CLOSED */
    c = open_conn(&f);
    TS_SEND(&f, A | F, 1, 1);
    CHECK_EQ(ts_shutdown(f.s, c, TS_SHUT_WR), 0);
    CHECK_STATE(&f, c, TS_LAST_ACK);
    TS_EXPECT(&f, F | A, 1, 2);
    CHECK_EQ(TS_SEND(&f, A, 2, 2), 0);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(ts_recv(f.s, c, NULL, 1), 0);
    CHECK_EQ(ts_send(f.s, c, "x", 1), TS_EPIPE);
    ts_close(f.s, c);
    fx_free(&f);
}

/* CLOSE_WAIT has no timeout at all: the connection stays until the
 * application closes (LINUX_BEHAVIOUR.md "CLOSE_WAIT"). */
TS_TEST(close_wait_has_no_timer)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    TS_SEND(&f, A | F, 1, 1);
    fx_wait(&f, 10);
    TS_EXPECT(&f, A, 1, 2);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    fx_wait(&f, 10ull * 3600 * 1000);
    CHECK_STATE(&f, c, TS_CLOSE_WAIT);
    TS_EXPECT_NOTHING(&f);
    ts_close(f.s, c);
    fx_free(&f);
}

/* An orphan in FIN_WAIT_2 waits tcp_fin_timeout (60 s), then disappears
 * silently; the peer's late FIN then meets no socket: RST. */
TS_TEST(close_fin_wait2_orphan_timeout)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    TS_SEND(&f, A, 1, 2);
    fx_wait(&f, 59999);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT2);
    fx_wait(&f, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_FIN_WAIT2);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_FIN_WAIT2);
    TS_EXPECT_NOTHING(&f);
    /* Linux counts TW when the FIN_WAIT_2 minisocket (timeout > 4 s) is
     * created (__inet_twsk_schedule; measured on 6.18) */
    CHECK_EQ(fx_ctr(&f, "TW"), 1);
    CHECK_EQ(TS_SEND(&f, A | F, 1, 2), -TS_DROP_NO_SOCKET);
    TS_EXPECT(&f, R, 2, FX_ANY);
    fx_free(&f);
}

/* tcp_fin_timeout shorter and longer than TIME_WAIT's 60 s: 30 s is kept
 * by the minisocket alone; 120 s by the full socket for 60 s, then by the
 * minisocket for the rest (Linux tcp_fin_time / tcp_time_wait). */
TS_TEST(close_fin_timeout_sysctl)
{
    static const int secs[] = { 30, 120 };
    for (int i = 0; i < 2; i++) {
        fx f;
        ts_config cfg;
        ts_sock c;
        ts_config_default(&cfg);
        cfg.tcp_fin_timeout = secs[i];
        c = open_conn_cfg(&f, &cfg);
        CHECK(FX_SOCK_OK(c));
        ts_close(f.s, c);
        TS_EXPECT(&f, F | A, 1, 1);
        TS_SEND(&f, A, 1, 2);
        fx_wait(&f, (uint64_t)secs[i] * 1000 - 1);
        CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT2);
        fx_wait(&f, 1);
        CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
        TS_EXPECT_NOTHING(&f);
        fx_free(&f);
    }
}

/* TIME_WAIT re-ACKs a retransmitted FIN and restarts its 60 s; an old ACK
 * or old SYN is ACKed (one per 500 ms, TCPACKSkippedTimeWait); the
 * exact-next bare ACK is absorbed silently. Everything with the ACK flag
 * restarts the 60 s, rate-limited or not; an ACK-less old SYN does not
 * (Linux 6.18: tests/pkt/time_wait_old_ack_restarts_timer.pkt). */
TS_TEST(close_time_wait_replies)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    TS_SEND(&f, A | F, 1, 2);
    TS_EXPECT(&f, A, 2, 2);
    fx_wait(&f, 30000);
    CHECK_EQ(TS_SEND(&f, A | F, 1, 2), -TS_DROP_TW);
    TS_EXPECT(&f, A, 2, 2);
    CHECK_EQ(TS_SEND(&f, A, 2, 2), -TS_DROP_TW); /* exact next: absorbed */
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 1000);
    CHECK_EQ(TS_SEND(&f, A, 1, 2), -TS_DROP_TW); /* old ACK */
    TS_EXPECT(&f, A, 2, 2);
    fx_wait(&f, 100);
    CHECK_EQ(TS_SEND(&f, A, 1, 2), -TS_DROP_TW); /* rate-limited, restarts */
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "TCPACKSkippedTimeWait"), 1);
    fx_wait(&f, 500);
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_TW); /* old SYN, no listener */
    TS_EXPECT(&f, A, 2, 2);
    /* the last ACK-flagged segment (31.1 s) restarted the timer: alive
     * until 91.1 s, whatever the ACK-less SYN at 31.6 s */
    fx_wait(&f, 91100 - FX_NOW_MS(&f) - 1);
    CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
    fx_wait(&f, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    fx_free(&f);
}

/* A new SYN with a higher sequence number reopens a TIME_WAIT entry
 * through the listener, with ISN = old snd_nxt + 65537
 * (LINUX_BEHAVIOUR.md "TIME_WAIT"; Linux tcp_timewait_state_process
 * TCP_TW_SYN). */
TS_TEST(close_time_wait_syn_reopens)
{
    fx f;
    ts_sock l, c;
    fx_init(&f);
    c = fx_open_passive(&f, 8080, &l);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    TS_SEND(&f, A | F, 1, 2);
    TS_EXPECT(&f, A, 2, 2);
    CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
    fx_wait(&f, 1000);
    CHECK_EQ(TS_SEND(&f, S, 5000, 0), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_SYN_RECV);
    TS_EXPECT(&f, S | A, 2 + 65537, 5001);
    CHECK_EQ(TS_SEND(&f, A, 5001, 2 + 65537 + 1), 0);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(fx_ctr(&f, "TW"), 1); /* counted on entering TIME_WAIT (Linux) */
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

/* LAST_ACK's FIN is retransmitted with exponential backoff from RTO =
 * 200 ms (+0.2, +0.6, +1.4, +3.0 s ...); the orphan dies silently once
 * the time since its first retransmission reaches 511 x 200 ms
 * (tcp_orphan_retries 0 meaning 8): with an RTO of exactly 200 ms that
 * is after a 9th retransmission, at +204.6 s (LINUX_BEHAVIOUR.md "orphan
 * retries are a time"). */
TS_TEST(close_last_ack_orphan_retries)
{
    static const uint64_t want[] = { 200, 600, 1400, 3000, 6200, 12600, 25400, 51000, 102200 };
    fx f;
    ts_sock c = open_conn(&f);
    uint64_t got[16], t0;
    int n;
    CHECK(FX_SOCK_OK(c));
    fx_wait(&f, 1000);
    TS_SEND(&f, A | F, 1, 1);
    fx_wait(&f, 100);
    fx_drain(&f);
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 2);
    t0 = FX_NOW_MS(&f);
    n = fx_collect(&f, F | A, got, 16, 204599);
    CHECK_EQ(n, 9);
    for (int i = 0; i < n; i++)
        CHECK_EQ(got[i] - t0, want[i]);
    CHECK_EQ(fx_tuple_state(&f), TS_LAST_ACK);
    fx_wait(&f, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_LAST_ACK);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_ORPHAN);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "RetransSegs"), 9);
    CHECK_EQ(fx_ctr(&f, "TCPAbortOnTimeout"), 1);
    fx_free(&f);
}

/* tcp_orphan_retries = 2 with R = 200 ms: retransmissions at R, 3R, 7R
 * and death at 15R = 3 s after the FIN (FIN_WAIT_1 orphan). */
TS_TEST(close_fin_wait1_orphan_retries_2)
{
    fx f;
    ts_config cfg;
    ts_sock c;
    uint64_t got[8], t0;
    ts_config_default(&cfg);
    cfg.tcp_orphan_retries = 2;
    c = open_conn_cfg(&f, &cfg);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    t0 = FX_NOW_MS(&f);
    CHECK_EQ(fx_collect(&f, F | A, got, 8, 2999), 3);
    CHECK_EQ(got[0] - t0, 200);
    CHECK_EQ(got[1] - t0, 600);
    CHECK_EQ(got[2] - t0, 1400);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT1);
    fx_wait(&f, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_ORPHAN);
    TS_EXPECT_NOTHING(&f);
    fx_free(&f);
}

/* Data for an orphan that closed its receive side gets a RST with seq =
 * the segment's ack (TCPAbortOnData), in FIN_WAIT_1 and in the FIN_WAIT_2
 * minisocket (LINUX_BEHAVIOUR.md "orphans", "FIN_WAIT_2 orphan"). */
TS_TEST(close_orphan_data_gets_rst)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 1, 10), 0);
    TS_EXPECT(&f, R, 1, FX_ANY);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_FIN_WAIT1);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_DATA_CLOSED);
    CHECK_EQ(fx_ctr(&f, "TCPAbortOnData"), 1);
    fx_free(&f);

    c = open_conn(&f);
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    TS_SEND(&f, A, 1, 2);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT2);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 2, 10), 0);
    TS_EXPECT(&f, R, 2, FX_ANY);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_FIN_WAIT2);
    CHECK_EQ(fx_ctr(&f, "TCPAbortOnData"), 1);
    fx_free(&f);
}

/* TCP_LINGER2 < 0: no FIN_WAIT_2 at all; the ACK of the FIN is answered
 * with RST and the socket destroyed (LINUX_BEHAVIOUR.md). */
TS_TEST(close_linger2_negative)
{
    fx f;
    ts_sock c = open_conn(&f);
    int v = -1;
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_setsockopt(f.s, c, TS_SOL_TCP, TS_TCP_LINGER2, &v, sizeof v), 0);
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    CHECK_EQ(TS_SEND(&f, A, 1, 2), 0);
    TS_EXPECT(&f, R, 2, FX_ANY);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    fx_free(&f);
}

/* SO_LINGER {1, 0}: close() sends RST,ACK and the connection is gone at
 * once, no TIME_WAIT. */
TS_TEST(close_so_linger_zero)
{
    fx f;
    ts_sock c = open_conn(&f);
    ts_linger lg = { 1, 0 };
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_setsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_LINGER, &lg, sizeof lg), 0);
    CHECK_EQ(ts_close(f.s, c), 0);
    TS_EXPECT(&f, R | A, 1, 1);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_ESTABLISHED);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_ABORT);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(fx_ctr(&f, "TW"), 0);
    fx_free(&f);
}

/* tcp_max_tw_buckets reached: the closing socket is destroyed instead of
 * entering TIME_WAIT (TCPTimeWaitOverflow); a retransmitted FIN then gets
 * a RST. */
TS_TEST(close_tw_buckets_overflow)
{
    fx f;
    ts_config cfg;
    ts_sock c;
    ts_config_default(&cfg);
    cfg.tcp_max_tw_buckets = 0;
    c = open_conn_cfg(&f, &cfg);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    CHECK_EQ(TS_SEND(&f, A | F, 1, 2), 0);
    TS_EXPECT(&f, A, 2, 2);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_TW_OVERFLOW);
    CHECK_EQ(fx_ctr(&f, "TCPTimeWaitOverflow"), 1);
    CHECK_EQ(TS_SEND(&f, A | F, 1, 2), -TS_DROP_NO_SOCKET);
    TS_EXPECT(&f, R, 2, FX_ANY);
    fx_free(&f);
}

/* close() with data still queued: the data goes first, the FIN rides on
 * the last segment; FIN_WAIT_1 holds until everything is ACKed. */
TS_TEST(close_after_queued_data)
{
    fx f;
    ts_sock c = open_conn(&f);
    static const uint8_t data[3000];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_send(f.s, c, data, sizeof data), 3000);
    ts_close(f.s, c);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(f.last.len, 1460);
    TS_EXPECT(&f, A, 1461, 1);
    CHECK_EQ(f.last.len, 1460);
    TS_EXPECT(&f, F | P | A, 2921, 1);
    CHECK_EQ(f.last.len, 80);
    CHECK_EQ(TS_SEND(&f, A, 1, 2921), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT1);
    CHECK_EQ(TS_SEND(&f, A, 1, 3002), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT2);
    fx_free(&f);
}
