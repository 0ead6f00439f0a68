/*
 * test_synsent.c — SYN_SENT (RFC 9293 §3.10.7.3, Linux
 * tcp_rcv_synsent_state_process and the SYN timer): the retransmission
 * schedule and when it gives up (a time, not only a count), acceptable and
 * unacceptable SYN-ACKs, simultaneous open, and leaving SYN_SENT by close
 * or shutdown. RSTs in SYN_SENT are in test_rst.c.
 */
#include "fixture.h"

static int same(const uint64_t *got, int n, const uint64_t *want, int m)
{
    if (n != m)
        return 0;
    for (int i = 0; i < n; i++)
        if (got[i] != want[i])
            return 0;
    return 1;
}

/* tcp_syn_retries = 6 with tcp_syn_linear_timeouts = 4: SYNs at 0, 1, 2,
 * 3, 4, 5, 7, 11, 19, 35, 67 s; ETIMEDOUT at 131 s (measured on Linux
 * 6.18, LINUX_BEHAVIOUR.md "SYN_SENT retries"). */
TS_TEST(synsent_syn_schedule_default)
{
    static const uint64_t want[] = { 0, 1000, 2000, 3000, 4000, 5000, 7000,
                                     11000, 19000, 35000, 67000 };
    uint64_t got[16];
    fx f;
    ts_sock c;
    int n;
    fx_init(&f);
    c = fx_connect(&f, 8080);
    n = fx_collect(&f, S, got, 16, 130999);
    CHECK(same(got, n, want, 11));
    CHECK_STATE(&f, c, TS_SYN_SENT);
    fx_wait(&f, 1);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_SYN);
    TS_EXPECT_NOTHING(&f); /* gives up silently */
    CHECK_EQ(fx_ctr(&f, "TCPSynRetrans"), 10);
    CHECK_EQ(fx_ctr(&f, "TCPTimeouts"), 11); /* every expiry, the last included */
    CHECK_EQ(fx_ctr(&f, "AttemptFails"), 1);
    CHECK_EQ(fx_ctr(&f, "TCPAbortOnTimeout"), 1);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    /* Linux __inet_stream_connect: the error once (the socket is then
     * unconnected), so the next connect() is a new attempt */
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_ETIMEDOUT);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_EINPROGRESS);
    CHECK_STATE(&f, c, TS_SYN_SENT);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Kernels before 6.5 (tcp_syn_linear_timeouts = 0): 0, 1, 3, 7, 15, 31,
 * 63 s and ETIMEDOUT at 127 s. */
TS_TEST(synsent_syn_schedule_no_linear)
{
    static const uint64_t want[] = { 0, 1000, 3000, 7000, 15000, 31000, 63000 };
    uint64_t got[16];
    ts_config cfg;
    fx f;
    ts_sock c;
    int n;
    ts_config_default(&cfg);
    cfg.tcp_syn_linear_timeouts = 0;
    fx_init_cfg(&f, &cfg);
    c = fx_connect(&f, 8080);
    n = fx_collect(&f, S, got, 16, 126999);
    CHECK(same(got, n, want, 7));
    CHECK_STATE(&f, c, TS_SYN_SENT);
    fx_wait(&f, 1);
    CHECK_STATE(&f, c, TS_CLOSE);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Giving up is a time as well as a count: TCP_SYNCNT = 2 (linear 4) sends
 * SYNs at 0-5 s and fails at 7 s; TCP_SYNCNT = 1 sends 0, 1, 2 and fails
 * at 3 s (LINUX_BEHAVIOUR.md "SYN_SENT gives up on time"). */
static void syncnt_case(int syncnt, const uint64_t *want, int nwant, uint64_t fail_ms)
{
    uint64_t got[16];
    fx f;
    ts_sock c;
    int n;
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &c), 0);
    CHECK_EQ(ts_setsockopt(f.s, c, TS_SOL_TCP, TS_TCP_SYNCNT, &syncnt, sizeof syncnt), 0);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_EINPROGRESS);
    f.peer_port = 8080;
    n = fx_collect(&f, S, got, 16, fail_ms - 1);
    CHECK(same(got, n, want, nwant));
    CHECK_STATE(&f, c, TS_SYN_SENT);
    fx_wait(&f, 1);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(ts_recv(f.s, c, NULL, 1), TS_ETIMEDOUT); /* the error, once */
    CHECK_EQ(ts_recv(f.s, c, NULL, 1), 0);
    ts_close(f.s, c);
    fx_free(&f);
}

TS_TEST(synsent_syncnt_2_gives_up_at_7s)
{
    static const uint64_t want[] = { 0, 1000, 2000, 3000, 4000, 5000 };
    syncnt_case(2, want, 6, 7000);
}

TS_TEST(synsent_syncnt_1_gives_up_at_3s)
{
    static const uint64_t want[] = { 0, 1000, 2000 };
    syncnt_case(1, want, 3, 3000);
}

/* An acceptable SYN-ACK: ESTABLISHED, ACK at once, the peer's options
 * taken (MSS, window scale; the SYN-ACK's window is never scaled). */
TS_TEST(synsent_synack_establishes)
{
    fx f;
    ts_sock c;
    ts_info i;
    fx_init(&f);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    CHECK_EQ(f.last.mss, 1460);
    CHECK_EQ(ts_send(f.s, c, "x", 1), TS_EAGAIN);
    CHECK_EQ(ts_recv(f.s, c, NULL, 1), TS_EAGAIN);
    CHECK_EQ(ts_poll(f.s, c) & TS_POLLOUT, 0);
    fx_wait(&f, 30);
    CHECK_EQ(TS_SEND(&f, S | A, 0, 1, .mss = 1000, FX_WS(3), .win = 5000), 0);
    TS_EXPECT(&f, A, 1, 1);
    TS_EXPECT_NOTHING(&f);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_SYNACK);
    CHECK(ts_poll(f.s, c) & TS_POLLOUT);
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK_EQ(i.mss, 1000);
    CHECK_EQ(i.snd_wnd, 5000);
    CHECK_EQ(i.wscale_ok, 1);
    CHECK_EQ(i.snd_wscale, 3);
    CHECK_EQ(i.irs, FX_PEER_ISN);
    /* RTT 30 ms: rto = 30 + max(60, 200) ms (RFC 6298 with Linux's floor) */
    CHECK_EQ(i.rto_us, 230000);
    CHECK_EQ(fx_ctr(&f, "CurrEstab"), 1);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX); /* SYN timer stopped */
    ts_close(f.s, c);
    fx_free(&f);
}

/* A SYN-ACK whose ACK does not acknowledge our SYN: RST with seq = its
 * ack, stay in SYN_SENT, and (no retransmission yet) the SYN timer
 * re-armed to its minimum: an extra SYN 8 ms later (Linux TCP_TIMEOUT_MIN;
 * LINUX_BEHAVIOUR.md "bad ACK in SYN_SENT"). */
TS_TEST(synsent_bad_ack_gets_rst_and_quick_syn)
{
    fx f;
    ts_sock c;
    uint64_t got[4];
    fx_init(&f);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    fx_wait(&f, 100);
    CHECK_EQ(TS_SEND(&f, S | A, 0, 5), -TS_DROP_BAD_ACK);
    TS_EXPECT(&f, R, 5, FX_ANY);
    CHECK_STATE(&f, c, TS_SYN_SENT);
    CHECK_EQ(TS_SEND(&f, S | A, 0, 0), -TS_DROP_BAD_ACK); /* ack = iss: too old */
    TS_EXPECT(&f, R, 0, FX_ANY);
    CHECK_EQ(TS_SEND(&f, A, 0, 7), -TS_DROP_BAD_ACK); /* a bare ACK too */
    TS_EXPECT(&f, R, 7, FX_ANY);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_collect(&f, S, got, 4, 1200), 2);
    CHECK_EQ(got[0], 108);
    CHECK_EQ(got[1], 1108); /* the extra SYN was a retransmission */
    /* after a retransmission the timer is left alone: next SYN at 2.108 s */
    CHECK_EQ(TS_SEND(&f, S | A, 0, 9), -TS_DROP_BAD_ACK);
    TS_EXPECT(&f, R, 9, FX_ANY);
    CHECK_STATE(&f, c, TS_SYN_SENT);
    CHECK_EQ(fx_collect(&f, S, got, 4, 1000), 1);
    CHECK_EQ(got[0], 2108);
    TS_SEND(&f, S | A, 0, 1);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Segments SYN_SENT ignores: an ACK that acknowledges the SYN but has no
 * SYN, a FIN, a bare data segment without ACK (RFC 9293 §3.10.7.3 "fifth,
 * if neither of the SYN or RST bits is set then drop"). */
TS_TEST(synsent_ignores_non_syn)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    CHECK_EQ(TS_SEND(&f, A, 0, 1), -TS_DROP_INVALID_STATE);
    CHECK_EQ(TS_SEND(&f, F, 0, 0), -TS_DROP_INVALID_STATE);
    CHECK_EQ(TS_SEND_DATA(&f, P, 0, 0, 10), -TS_DROP_INVALID_STATE);
    TS_EXPECT_NOTHING(&f);
    CHECK_STATE(&f, c, TS_SYN_SENT);
    CHECK_EQ(fx_drops(&f, TS_DROP_INVALID_STATE), 3);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Simultaneous open (RFC 9293 §3.5 figure 7): SYN_SENT gets a SYN without
 * ACK, answers SYN-ACK with the same ISN and moves to SYN_RECEIVED; the
 * peer's ACK completes it. Until then the SYN-ACK is retransmitted on the
 * SYN's timer, which keeps its deadline: 1 s after the SYN, not after the
 * SYN-ACK (Linux; tests/pkt/simultaneous_open_synack_retrans.pkt). */
TS_TEST(synsent_simultaneous_open_then_ack)
{
    fx f;
    ts_sock c;
    uint64_t got[4];
    fx_init(&f);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    fx_wait(&f, 200);
    CHECK_EQ(TS_SEND(&f, S, 0, 0, .mss = 1200), 0);
    CHECK_STATE(&f, c, TS_SYN_RECV);
    CHECK_EQ(f.last_from, TS_SYN_SENT);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_SYN);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(f.last.mss, 1460);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_EALREADY);
    CHECK_EQ(fx_collect(&f, S | A, got, 4, 1000), 1);
    CHECK_EQ(got[0], 1000);
    CHECK_STATE(&f, c, TS_SYN_RECV);
    CHECK_EQ(TS_SEND(&f, A, 1, 1), 0);
    TS_EXPECT_NOTHING(&f);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_ACK);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), 0);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_EISCONN);
    CHECK_EQ(fx_ctr(&f, "ActiveOpens"), 1);
    CHECK_EQ(fx_ctr(&f, "PassiveOpens"), 0);
    CHECK_EQ(fx_ctr(&f, "CurrEstab"), 1);
    CHECK_EQ(ts_send(f.s, c, "hello", 5), 5);
    TS_EXPECT(&f, P | A, 1, 1);
    CHECK_EQ(f.last.len, 5);
    ts_close(f.s, c);
    fx_free(&f);
}

/* close() in SYN_SENT: CLOSED at once, nothing sent (Linux tcp_close ->
 * tcp_set_state(TCP_CLOSE) for SYN_SENT); the peer's late SYN-ACK then
 * meets no socket and gets RST seq = its ack. */
TS_TEST(synsent_close_sends_nothing)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    CHECK_EQ(ts_close(f.s, c), 0);
    CHECK_EQ(f.last_from, TS_SYN_SENT);
    CHECK_EQ(f.last_to, TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_CLOSE);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(fx_ctr(&f, "AttemptFails"), 0); /* Linux: only tcp_done counts (measured) */
    CHECK_EQ(ts_sock_info(f.s, c, NULL), TS_EBADF);
    CHECK_EQ(TS_SEND(&f, S | A, 0, 1), -TS_DROP_NO_SOCKET);
    TS_EXPECT(&f, R, 1, FX_ANY);
    fx_free(&f);
}

/* shutdown() in SYN_SENT disconnects (inet_shutdown): CLOSED, nothing
 * sent, the handle stays usable; connect() may then start again. */
TS_TEST(synsent_shutdown_disconnects)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    CHECK_EQ(ts_shutdown(f.s, c, TS_SHUT_WR), 0);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_SHUTDOWN);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_EINPROGRESS);
    CHECK_STATE(&f, c, TS_SYN_SENT);
    f.isn_known = 0;
    TS_EXPECT(&f, S, 0, 0);
    ts_close(f.s, c);
    fx_free(&f);
}

/* A SYN-ACK after retransmitted SYNs completes the handshake, but Karn's
 * rule gives no RTT sample: the RTO stays at the initial 1 s (RFC 6298
 * §2.1, §3). */
TS_TEST(synsent_synack_after_retransmit_keeps_initial_rto)
{
    fx f;
    ts_sock c;
    ts_info i;
    fx_init(&f);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    fx_wait(&f, 1500);
    TS_EXPECT(&f, S, 0, 0); /* the retransmission at 1 s */
    TS_SEND(&f, S | A, 0, 1);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK_EQ(i.state, TS_ESTABLISHED);
    CHECK_EQ(i.srtt_us, 0);
    CHECK_EQ(i.rto_us, 1000000);
    ts_close(f.s, c);
    fx_free(&f);
}
