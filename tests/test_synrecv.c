/*
 * test_synrecv.c — SYN_RECEIVED: the passive open's request minisocket
 * (Linux's request_sock and tcp_check_req; LINUX_BEHAVIOUR.md
 * "SYN_RECEIVED") and the full socket of a simultaneous open (RFC 9293
 * §3.5 figure 7). RSTs are here only where they are the request's own
 * business; the general RST rules are in test_rst.c.
 */
#include "fixture.h"

/* tcp_synack_retries = 5: SYN-ACKs at 0, 1, 3, 7, 15, 31 s, the request
 * dropped silently at 63 s (SYN_RECEIVED -> LISTEN; Linux counts no
 * AttemptFails for it, measured on 6.18, and a TCPTimeouts per expiry). */
TS_TEST(synrecv_synack_schedule_and_expiry)
{
    static const uint64_t want[] = { 0, 1000, 3000, 7000, 15000, 31000 };
    uint64_t got[16];
    fx f;
    ts_sock l;
    int n;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    n = fx_collect(&f, S | A, got, 16, 62999);
    CHECK_EQ(n, 6);
    for (int i = 0; i < n; i++)
        CHECK_EQ(got[i], want[i]);
    CHECK_EQ(fx_tuple_state(&f), TS_SYN_RECV);
    fx_wait(&f, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_SYN_RECV);
    CHECK_EQ(f.last_to, TS_LISTEN);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_SYNACK);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(fx_ctr(&f, "AttemptFails"), 0);
    CHECK_EQ(fx_ctr(&f, "TCPTimeouts"), 6);
    CHECK_EQ(fx_ctr(&f, "TCPSynRetrans"), 5);
    CHECK_EQ(fx_ctr(&f, "RetransSegs"), 5);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    CHECK_STATE(&f, l, TS_LISTEN);
    ts_close(f.s, l);
    fx_free(&f);
}

/* A retransmitted SYN gets a SYN-ACK at once and restarts the timer at the
 * same backoff step; more duplicates within tcp_invalid_ratelimit (500 ms)
 * are ignored (TCPACKSkippedSynRecv). */
TS_TEST(synrecv_duplicate_syn)
{
    fx f;
    ts_sock l;
    uint64_t got[4];
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    fx_wait(&f, 500);
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_INVALID_STATE);
    TS_EXPECT(&f, S | A, 0, 1);
    fx_wait(&f, 200);
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_OUT_OF_WINDOW);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "TCPACKSkippedSynRecv"), 1);
    /* restarted at 0.5 s with backoff step 0: next SYN-ACK at 1.5 s */
    CHECK_EQ(fx_collect(&f, S | A, got, 4, 1000), 1);
    CHECK_EQ(got[0], 1500);
    CHECK_EQ(fx_tuple_state(&f), TS_SYN_RECV);
    ts_close(f.s, l);
    fx_free(&f);
}

/* An ACK whose ack is not iss + 1 is answered with RST (seq = its ack) by
 * the listener; the request survives and the right ACK completes it. A
 * RST with a bad ACK gets nothing and changes nothing. */
TS_TEST(synrecv_bad_ack_rst_request_survives)
{
    fx f;
    ts_sock l, c;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND(&f, A, 1, 5), -TS_DROP_BAD_ACK);
    TS_EXPECT(&f, R, 5, FX_ANY);
    CHECK_EQ(TS_SEND(&f, A, 1, 0), -TS_DROP_BAD_ACK);
    TS_EXPECT(&f, R, 0, FX_ANY);
    CHECK_EQ(TS_SEND(&f, R | A, 1, 7), -TS_DROP_BAD_ACK);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_SYN_RECV);
    CHECK_EQ(TS_SEND(&f, A, 1, 1), 0);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

/* Out of window: a non-RST segment gets an ACK (seq iss + 1, ack irs + 1),
 * rate-limited unless it carries data; an out-of-window RST is ignored. */
TS_TEST(synrecv_out_of_window)
{
    fx f;
    ts_sock l;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND(&f, A, 100000, 1), -TS_DROP_OUT_OF_WINDOW);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(TS_SEND(&f, A, 100000, 1), -TS_DROP_OUT_OF_WINDOW);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(TS_SEND_DATA(&f, A, 100000, 1, 10), -TS_DROP_OUT_OF_WINDOW);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(TS_SEND(&f, R, 100000, 0), -TS_DROP_OUT_OF_WINDOW);
    CHECK_EQ(TS_SEND(&f, R, 0, 0), -TS_DROP_OUT_OF_WINDOW); /* seq = irs: left of the window */
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_SYN_RECV);
    ts_close(f.s, l);
    fx_free(&f);
}

/* An in-window RST drops the request silently (SYN_RECEIVED -> LISTEN,
 * EmbryonicRsts, AttemptFails); an in-window SYN other than the original
 * is answered with RST and drops it too (tcp_check_req embryonic_reset). */
TS_TEST(synrecv_in_window_rst_or_syn_drops_request)
{
    fx f;
    ts_sock l;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND(&f, R, 1, 0), 0);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_to, TS_LISTEN);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_RST);
    CHECK_EQ(fx_ctr(&f, "EmbryonicRsts"), 1);
    CHECK_EQ(fx_ctr(&f, "AttemptFails"), 1);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    f.peer_port = 40001;
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND(&f, S, 10, 0), -TS_DROP_SYN_CHALLENGE);
    TS_EXPECT(&f, R | A, FX_ANY, 11);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(fx_ctr(&f, "EmbryonicRsts"), 2);
    CHECK_STATE(&f, l, TS_LISTEN);
    ts_close(f.s, l);
    fx_free(&f);
}

/* In the window but without ACK: dropped, the request stays. */
TS_TEST(synrecv_no_ack_dropped)
{
    fx f;
    ts_sock l;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND_DATA(&f, P, 1, 0, 20), -TS_DROP_NO_ACK);
    CHECK_EQ(TS_SEND(&f, F, 1, 0), -TS_DROP_NO_ACK);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_SYN_RECV);
    CHECK_EQ(fx_drops(&f, TS_DROP_NO_ACK), 2);
    ts_close(f.s, l);
    fx_free(&f);
}

/* The final ACK may carry data, and a FIN: the child is born ESTABLISHED
 * with the data queued, or goes on to CLOSE_WAIT, and waits for accept. */
TS_TEST(synrecv_ack_with_data_and_fin)
{
    fx f;
    ts_sock l, c;
    char buf[64];
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0, .mss = 1460);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 1, 30), 0);
    TS_EXPECT(&f, A, 1, 31); /* quick-ack mode: data is ACKed at once */
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 30);
    ts_close(f.s, c);
    fx_drain(&f);

    f.peer_port = 40001;
    TS_SEND(&f, S, 0, 0, .mss = 1460);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND_DATA(&f, A | F, 1, 1, 10), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE_WAIT);
    CHECK_EQ(f.last_from, TS_ESTABLISHED);
    CHECK_EQ(f.last_to, TS_CLOSE_WAIT);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    CHECK_STATE(&f, c, TS_CLOSE_WAIT);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 10);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 0);
    fx_wait(&f, 200);
    TS_EXPECT(&f, A, 1, 12);
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

/* tcp_abort_on_overflow = 1: the final ACK meeting a full accept queue is
 * answered with RST and the request dropped (SYN_RECEIVED -> LISTEN). */
TS_TEST(synrecv_abort_on_overflow)
{
    fx f;
    ts_config cfg;
    ts_sock l;
    ts_config_default(&cfg);
    cfg.tcp_abort_on_overflow = 1;
    fx_init_cfg(&f, &cfg);
    l = fx_listen(&f, 8080);
    ts_listen(f.s, l, 1); /* 2 children fill it; at most 1 request is pending */
    TS_SEND(&f, S, 0, 0);
    f.peer_port = 40001;
    TS_SEND(&f, S, 0, 0);
    CHECK_EQ(fx_drain(&f), 2);
    f.peer_port = 40000;
    CHECK_EQ(TS_SEND(&f, A, 1, 1), 0);
    f.peer_port = 40002;
    TS_SEND(&f, S, 0, 0);
    CHECK_EQ(fx_drain(&f), 1);
    CHECK_EQ(TS_SEND(&f, A, 1, 1), 0);
    f.peer_port = 40001;
    CHECK_EQ(TS_SEND(&f, A, 1, 1), -TS_DROP_LISTEN_OVERFLOW);
    TS_EXPECT(&f, R, 1, FX_ANY);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_to, TS_LISTEN);
    CHECK_EQ(f.last_cause, TS_CAUSE_LISTEN_OVERFLOW);
    CHECK_EQ(fx_ctr(&f, "ListenOverflows"), 1);
    ts_close(f.s, l);
    fx_free(&f);
}

/* The child takes the listener's socket options (Linux sk_clone_lock). */
TS_TEST(synrecv_child_inherits_options)
{
    fx f;
    ts_sock l, c;
    int one = 1, idle = 30, v = 0;
    size_t len = sizeof v;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    CHECK_EQ(ts_setsockopt(f.s, l, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &one, sizeof one), 0);
    CHECK_EQ(ts_setsockopt(f.s, l, TS_SOL_TCP, TS_TCP_KEEPIDLE, &idle, sizeof idle), 0);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    TS_SEND(&f, A, 1, 1);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    CHECK_EQ(ts_getsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &v, &len), 0);
    CHECK_EQ(v, 1);
    /* and the keepalive timer runs: the first probe after 30 s idle */
    fx_wait(&f, 30000);
    TS_EXPECT(&f, A, 0, 1);
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

/* Simultaneous open's full SYN_RECEIVED: shutdown(SHUT_WR) is deferred
 * until the handshake completes (Linux 6.18, measured: no FIN, the state
 * stays; the peer's ACK gives ESTABLISHED -> FIN_WAIT_1 with the FIN);
 * close() sends a FIN and moves to FIN_WAIT_1 at once (RFC 9293 §3.10.4
 * CLOSE in SYN-RECEIVED; Linux tcp_close_state). */
TS_TEST(synrecv_simopen_close_goes_fin_wait_1)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    fx_wait(&f, 1000); /* away from time 0 */
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_STATE(&f, c, TS_SYN_RECV);
    CHECK_EQ(ts_shutdown(f.s, c, TS_SHUT_WR), 0);
    CHECK_STATE(&f, c, TS_SYN_RECV);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(TS_SEND(&f, A, 1, 1), 0);
    CHECK_STATE(&f, c, TS_FIN_WAIT1);
    CHECK_EQ(f.last_from, TS_ESTABLISHED);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_SHUTDOWN);
    TS_EXPECT(&f, F | A, 1, 1);
    CHECK_EQ(TS_SEND(&f, A, 1, 2), 0);
    CHECK_STATE(&f, c, TS_FIN_WAIT2);
    ts_close(f.s, c);
    fx_free(&f);

    fx_init(&f);
    fx_wait(&f, 1000);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(ts_close(f.s, c), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT1);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_CLOSE);
    TS_EXPECT(&f, F | A, 1, 1);
    fx_free(&f);
}

/* Simultaneous open whose SYN-ACK is never answered: retransmitted on the
 * SYN's timer, which doubles in SYN_RECV, and, once the SYN retries run
 * out, CLOSED with ETIMEDOUT (Linux tcp_write_timeout treats SYN_RECV like
 * SYN_SENT, with tcp_syn_retries). */
TS_TEST(synrecv_simopen_gives_up)
{
    fx f;
    ts_sock c;
    uint64_t got[16];
    int n;
    fx_init(&f);
    fx_wait(&f, 1000);
    ts_stack_advance(f.s, f.now); /* connect at 1 s: the SYN timer runs from there */
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    n = fx_collect(&f, S | A, got, 16, 400000);
    CHECK(n >= 5 && n <= 7);
    CHECK_EQ(got[1] - got[0], 2 * (got[0] - 1000));
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(f.last_from, TS_SYN_RECV);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_SYNACK);
    CHECK_EQ(ts_recv(f.s, c, NULL, 1), TS_ETIMEDOUT);
    ts_close(f.s, c);
    fx_free(&f);
}
