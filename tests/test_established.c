/*
 * test_established.c — ESTABLISHED (RFC 9293 §3.10.7.4 steps, with RFC
 * 5961 and RFC 7323 as Linux applies them in tcp_validate_incoming and
 * tcp_ack): in-order data and its ACKs, the FIN that leads to CLOSE_WAIT,
 * unacceptable segments, challenge ACKs and their rate limit, PAWS, and
 * keepalive. Data transfer and retransmission are in test_data.c.
 */
#include "fixture.h"

/* An established connection (passive open), both sides at relative seq 1. */
static ts_sock open_conn(fx *f)
{
    ts_sock l, c;
    fx_init(f);
    c = fx_open_passive(f, 8080, &l);
    ts_close(f->s, l);
    fx_drain(f);
    return c;
}

/* In-order data is queued and ACKed at once in quick-ACK mode (Linux at
 * the start of a connection); recv hands it out. */
TS_TEST(est_receive_in_order)
{
    fx f;
    ts_sock c = open_conn(&f);
    char buf[512];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_poll(f.s, c) & TS_POLLIN, 0);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 1, 100), 0);
    TS_EXPECT(&f, A, 1, 101);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 101, 1, 200), 0);
    TS_EXPECT(&f, A, 1, 301);
    CHECK(ts_poll(f.s, c) & TS_POLLIN);
    CHECK_EQ(ts_recv_pending(f.s, c), 300);
    CHECK_EQ(ts_recv(f.s, c, buf, 250), 250);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 50);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), TS_EAGAIN);
    CHECK_EQ(fx_ctr(&f, "InSegs"), 4);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Quick-ACK credit runs out (at most 16, Linux TCP_MAX_QUICKACKS); then a
 * lone small segment waits for the delayed-ACK timer (40 ms). */
TS_TEST(est_delayed_ack_after_quickack)
{
    fx f;
    ts_sock c = open_conn(&f);
    uint32_t seq = 1;
    int quick = 0;
    CHECK(FX_SOCK_OK(c));
    for (int i = 0; i < 40; i++) {
        CHECK_EQ(TS_SEND_DATA(&f, A | P, seq, 1, 10), 0);
        seq += 10;
        if (!fx_take(&f))
            break;
        CHECK_EQ(f.last.ack, seq);
        quick++;
        fx_wait(&f, 1);
    }
    CHECK(quick >= 8 && quick <= 16);
    fx_wait(&f, 39);
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 1);
    TS_EXPECT(&f, A, 1, seq);
    CHECK_EQ(fx_ctr(&f, "DelayedACKs"), 1);
    ts_close(f.s, c);
    fx_free(&f);
}

/* The peer's FIN: CLOSE_WAIT, recv gives 0 (end of stream), sending still
 * works. The ACK is delayed (Linux enters pingpong mode): to the next
 * tick (4 ms) when no data was ever received, 40 ms after data
 * (LINUX_BEHAVIOUR.md "ACK of a FIN"). */
TS_TEST(est_fin_to_close_wait)
{
    fx f;
    ts_sock c = open_conn(&f);
    char buf[8];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND(&f, A | F, 1, 1), 0);
    CHECK_STATE(&f, c, TS_CLOSE_WAIT);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_FIN);
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 4);
    TS_EXPECT(&f, A, 1, 2);
    CHECK(ts_poll(f.s, c) & TS_POLLRDHUP);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 0);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 0);
    CHECK_EQ(ts_send(f.s, c, "abc", 3), 3);
    TS_EXPECT(&f, A | P, 1, 2);
    CHECK_EQ(f.last.len, 3);
    CHECK_EQ(fx_ctr(&f, "CurrEstab"), 1);
    ts_close(f.s, c);
    fx_free(&f);

    c = open_conn(&f);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 1, 10), 0);
    TS_EXPECT(&f, A, 1, 11);
    CHECK_EQ(TS_SEND(&f, A | F, 11, 1), 0);
    CHECK_STATE(&f, c, TS_CLOSE_WAIT);
    fx_wait(&f, 39);
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 1);
    TS_EXPECT(&f, A, 1, 12);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 8);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 2);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 0);
    ts_close(f.s, c);
    fx_free(&f);
}

/* A FIN out of order does not count (RFC 9293 §3.10.7.4 eighth: only a
 * FIN at rcv_nxt); a repeated FIN is only re-ACKed. */
TS_TEST(est_fin_out_of_order_ignored)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    TS_SEND(&f, A | F, 5, 1);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    fx_drain(&f);
    CHECK_EQ(TS_SEND(&f, A | F, 1, 1), 0);
    CHECK_STATE(&f, c, TS_CLOSE_WAIT);
    fx_wait(&f, 10);
    fx_drain(&f);
    CHECK_EQ(TS_SEND(&f, A | F, 1, 1), 0); /* retransmitted: left of the window */
    TS_EXPECT(&f, A, 1, 2);
    CHECK_STATE(&f, c, TS_CLOSE_WAIT);
    ts_close(f.s, c);
    fx_free(&f);
}

/* An unacceptable segment (RFC 9293 §3.10.7.4 first) gets a duplicate ACK
 * and is dropped; the ACKs are rate-limited to one per 500 ms unless the
 * segment carries data (Linux tcp_oow_rate_limited, TCPACKSkippedSeq). */
TS_TEST(est_out_of_window_dupack_rate_limited)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND(&f, A, 200000, 1), -TS_DROP_OUT_OF_WINDOW);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(TS_SEND(&f, A, 200000, 1), -TS_DROP_OUT_OF_WINDOW);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "TCPACKSkippedSeq"), 1);
    CHECK_EQ(TS_SEND_DATA(&f, A, 200000, 1, 10), -TS_DROP_OUT_OF_WINDOW);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(TS_SEND(&f, A, 0x80000000u, 1), -TS_DROP_OUT_OF_WINDOW); /* far behind */
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 500);
    CHECK_EQ(TS_SEND(&f, A, 200000, 1), -TS_DROP_OUT_OF_WINDOW);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(fx_drops(&f, TS_DROP_OUT_OF_WINDOW), 5);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    ts_close(f.s, c);
    fx_free(&f);
}

/* RFC 5961 §4: a SYN in a synchronized state, in or out of the window,
 * gets a challenge ACK (TCPSYNChallenge, TCPChallengeACK), rate-limited to
 * one per 500 ms (TCPACKSkippedChallenge); the connection is untouched. */
TS_TEST(est_syn_gets_challenge_ack)
{
    fx f;
    ts_sock c = open_conn(&f);
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND(&f, S, 1, 0), -TS_DROP_SYN_CHALLENGE);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(fx_ctr(&f, "TCPSYNChallenge"), 1);
    CHECK_EQ(fx_ctr(&f, "TCPChallengeACK"), 1);
    CHECK_EQ(TS_SEND(&f, S | A, 50, 1), -TS_DROP_SYN_CHALLENGE);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "TCPACKSkippedChallenge"), 1);
    fx_wait(&f, 500);
    CHECK_EQ(TS_SEND(&f, S, 900000, 0), -TS_DROP_SYN_CHALLENGE); /* out of window too */
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(fx_ctr(&f, "TCPSYNChallenge"), 3);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    ts_close(f.s, c);
    fx_free(&f);
}

/* The ACK field (RFC 9293 §3.10.7.4 fifth, RFC 5961 §5.2): an ACK of
 * something not yet sent, or older than snd_una - max_window, gets a
 * challenge ACK and the segment is dropped (Linux 6.18 tcp_ack); no ACK
 * bit at all is dropped silently. */
TS_TEST(est_bad_acks)
{
    fx f;
    ts_sock c = open_conn(&f);
    char buf[16];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 1000, 10), -TS_DROP_BAD_ACK);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), TS_EAGAIN); /* the data went too */
    fx_wait(&f, 500);
    CHECK_EQ(TS_SEND(&f, A, 1, 1u - 200000u), -TS_DROP_BAD_ACK);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(fx_ctr(&f, "TCPChallengeACK"), 2);
    CHECK_EQ(TS_SEND_DATA(&f, P, 1, 0, 10), -TS_DROP_NO_ACK);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), TS_EAGAIN);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    ts_close(f.s, c);
    fx_free(&f);
}

/* PAWS (RFC 7323 §5): a segment with an older TSval than ts_recent is
 * dropped with a duplicate ACK (PAWSEstab); a SYN gets a challenge ACK; a
 * RST is accepted whatever its timestamp (RFC 7323 §5.3 R1). */
TS_TEST(est_paws)
{
    fx f;
    ts_sock l, c;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0, .ts = 1, .tsval = 1000);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(f.last.tsecr, 1000);
    TS_SEND(&f, A, 1, 1, .ts = 1, .tsval = 1001, .tsecr = f.last.tsval);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    ts_close(f.s, l);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 1, 10, .ts = 1, .tsval = 1002), 0);
    TS_EXPECT(&f, A, 1, 11);
    CHECK_EQ(f.last.tsecr, 1002);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 11, 1, 10, .ts = 1, .tsval = 900), -TS_DROP_PAWS);
    TS_EXPECT(&f, A, 1, 11);
    CHECK_EQ(fx_ctr(&f, "PAWSEstab"), 1);
    fx_wait(&f, 500);
    CHECK_EQ(TS_SEND(&f, S, 11, 0, .ts = 1, .tsval = 900), -TS_DROP_SYN_CHALLENGE);
    TS_EXPECT(&f, A, 1, 11);
    CHECK_EQ(fx_ctr(&f, "TCPSYNChallenge"), 1);
    CHECK_EQ(TS_SEND(&f, R, 11, 0, .ts = 1, .tsval = 900), 0);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(ts_recv(f.s, c, NULL, 100), 10); /* the data first, then the error */
    CHECK_EQ(ts_recv(f.s, c, NULL, 100), TS_ECONNRESET);
    ts_close(f.s, c);
    fx_free(&f);
}

/* A retransmission of data already received is ACKed at once; data out
 * of order is held and a duplicate ACK sent at once; the segment that
 * fills the hole is ACKed cumulatively (RFC 9293 §3.10.7.4 seventh, RFC
 * 5681 §4.2; Linux tcp_data_queue_ofo). */
TS_TEST(est_duplicate_and_out_of_order_data)
{
    fx f;
    ts_sock c = open_conn(&f);
    char buf[512];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND_DATA(&f, A, 1, 1, 100), 0);
    TS_EXPECT(&f, A, 1, 101);
    fx_wait(&f, 300);
    CHECK_EQ(TS_SEND_DATA(&f, A, 1, 1, 100), 0);
    TS_EXPECT(&f, A, 1, 101);
    CHECK_EQ(TS_SEND_DATA(&f, A, 201, 1, 100), 0);
    TS_EXPECT(&f, A, 1, 101);
    CHECK_EQ(ts_recv_pending(f.s, c), 100);
    CHECK_EQ(TS_SEND_DATA(&f, A, 101, 1, 100), 0);
    TS_EXPECT(&f, A, 1, 301);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 300);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Keepalive (SO_KEEPALIVE): after tcp_keepalive_time idle a probe (seq
 * snd_una - 1, no data) every tcp_keepalive_intvl; tcp_keepalive_probes
 * unanswered probes reset the connection (RST,ACK) with ETIMEDOUT, 7875 s
 * after the last segment with the defaults (LINUX_BEHAVIOUR.md). */
TS_TEST(est_keepalive_probes_then_abort)
{
    static const uint64_t want[] = { 7200000, 7275000, 7350000, 7425000, 7500000,
                                     7575000, 7650000, 7725000, 7800000 };
    fx f;
    ts_sock c = open_conn(&f);
    int one = 1, n;
    uint64_t got[16];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_setsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &one, sizeof one), 0);
    n = fx_collect(&f, A, got, 16, 7874999);
    CHECK_EQ(n, 9);
    for (int i = 0; i < n; i++)
        CHECK_EQ(got[i], want[i]);
    CHECK_EQ(f.last.seq, 0); /* snd_una - 1 */
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    fx_wait(&f, 1);
    TS_EXPECT(&f, R | A, 1, 1);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_KEEPALIVE);
    CHECK_EQ(fx_ctr(&f, "TCPKeepAlive"), 9);
    CHECK_EQ(fx_ctr(&f, "TCPAbortOnTimeout"), 1);
    CHECK_EQ(ts_recv(f.s, c, NULL, 1), TS_ETIMEDOUT);
    ts_close(f.s, c);
    fx_free(&f);
}

/* An answered probe resets the count: the next probe comes a whole idle
 * time after the answer. */
TS_TEST(est_keepalive_answered)
{
    fx f;
    ts_sock c = open_conn(&f);
    int one = 1, idle = 100;
    uint64_t got[4];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_setsockopt(f.s, c, TS_SOL_TCP, TS_TCP_KEEPIDLE, &idle, sizeof idle), 0);
    CHECK_EQ(ts_setsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &one, sizeof one), 0);
    CHECK_EQ(fx_collect(&f, A, got, 4, 100000), 1);
    CHECK_EQ(got[0], 100000);
    CHECK_EQ(TS_SEND(&f, A, 1, 1), 0);
    CHECK_EQ(fx_collect(&f, A, got, 4, 99999), 0);
    CHECK_EQ(fx_collect(&f, A, got, 4, 1), 1);
    CHECK_EQ(got[0], 200000);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    ts_close(f.s, c);
    fx_free(&f);
}
