/*
 * test_data.c — data transfer in ESTABLISHED: segmentation at the MSS,
 * cumulative ACKs, the peer's window, bounded send and receive buffers,
 * the advertised window, and retransmission on the RFC 6298 timer with
 * Linux's bounds (initial 1 s, minimum 200 ms, maximum 120 s), Karn's rule
 * and exponential backoff (LINUX_BEHAVIOUR.md "RTO", "RTO from the first
 * RTT sample", "giving up").
 */
#include "fixture.h"

static uint8_t payload[200000];

/* An active open whose SYN-ACK arrives rtt_ms after the SYN, with the
 * peer's MSS and window. Both sides at relative seq 1. */
static ts_sock open_rtt(fx *f, const ts_config *cfg, uint64_t rtt_ms, uint16_t mss, uint16_t win)
{
    ts_sock c, none = { 0, 0 };
    fx_init_cfg(f, cfg);
    fx_wait(f, 1000);
    c = fx_connect(f, 9000);
    if (!fx_take(f) || f->last.flags != S)
        return none;
    fx_wait(f, rtt_ms);
    TS_SEND(f, S | A, 0, 1, .mss = mss, .win = win);
    fx_drain(f);
    return fx_state(f, c) == TS_ESTABLISHED ? c : none;
}

/* Data leaves in MSS-sized segments, PSH on the last; the cumulative ACK
 * frees the send queue and stops the RTO timer when all is acknowledged. */
TS_TEST(data_segments_and_cumulative_ack)
{
    fx f;
    ts_sock c = open_rtt(&f, NULL, 0, 1000, 65535);
    ts_info i;
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_send(f.s, c, payload, 2500), 2500);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(f.last.len, 1000);
    TS_EXPECT(&f, A, 1001, 1);
    CHECK_EQ(f.last.len, 1000);
    TS_EXPECT(&f, A | P, 2001, 1);
    CHECK_EQ(f.last.len, 500);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_stack_next_deadline(f.s), f.now + 200000); /* RTO 200 ms */
    fx_wait(&f, 10);
    CHECK_EQ(TS_SEND(&f, A, 1, 2001), 0);
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK_EQ(i.snd_queued, 500);
    CHECK_EQ(i.snd_una - i.iss, 2001);
    /* RFC 6298 §5.3: the timer restarts on an ACK of new data */
    CHECK_EQ(ts_stack_next_deadline(f.s), f.now + i.rto_us);
    CHECK_EQ(TS_SEND(&f, A, 1, 2501), 0);
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK_EQ(i.snd_queued, 0);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX); /* §5.2 */
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "RetransSegs"), 0);
    ts_close(f.s, c);
    fx_free(&f);
}

/* The peer's window bounds what is in flight (RFC 9293 §3.8.6): a segment
 * that does not fit waits; a window update releases it. Segments are at
 * most half the largest window offered (Linux tcp_bound_to_half_wnd): 750
 * bytes while that is 1500, the MSS once it is 3000. */
TS_TEST(data_peer_window_limits_sending)
{
    fx f;
    ts_sock c = open_rtt(&f, NULL, 0, 1000, 1500);
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_send(f.s, c, payload, 4000), 4000);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(f.last.len, 750);
    TS_EXPECT(&f, A, 751, 1); /* 1500 bytes in flight: the window */
    CHECK_EQ(f.last.len, 750);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(TS_SEND(&f, A, 1, 1501, .win = 3000), 0);
    TS_EXPECT(&f, A, 1501, 1);
    TS_EXPECT(&f, A, 2501, 1);
    TS_EXPECT(&f, A | P, 3501, 1);
    CHECK_EQ(f.last.len, 500);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(TS_SEND(&f, A, 1, 4001, .win = 3000), 0);
    TS_EXPECT_NOTHING(&f); /* all sent, all acked */
    ts_close(f.s, c);
    fx_free(&f);
}

/* A zero window: nothing is sent, a probe (seq snd_una - 1, no data)
 * comes on the timer; the window opening lets the data go. */
TS_TEST(data_zero_window_probe)
{
    fx f;
    ts_sock c = open_rtt(&f, NULL, 0, 1000, 65535);
    int probes = 0;
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND(&f, A, 1, 1, .zero_win = 1), 0);
    CHECK_EQ(ts_send(f.s, c, payload, 100), 100);
    TS_EXPECT_NOTHING(&f);
    for (int i = 0; i < 3000 && probes < 2; i++) {
        fx_wait(&f, 10);
        while (fx_take(&f)) {
            CHECK_EQ(f.last.len, 0);
            CHECK_EQ(f.last.seq, 0);
            probes++;
        }
    }
    CHECK_EQ(probes, 2);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(TS_SEND(&f, A, 1, 1, .win = 5000), 0);
    TS_EXPECT(&f, A | P, 1, 1);
    CHECK_EQ(f.last.len, 100);
    ts_close(f.s, c);
    fx_free(&f);
}

/* The send buffer is bounded: ts_send takes what fits, then EAGAIN, and
 * POLLOUT is off until ACKs free room. */
TS_TEST(data_send_buffer_bounded)
{
    fx f;
    ts_sock c = open_rtt(&f, NULL, 0, 1460, 65535);
    ts_info i;
    long total = 0, n;
    int v = 0;
    size_t len = sizeof v;
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_getsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_SNDBUF, &v, &len), 0);
    while ((n = ts_send(f.s, c, payload, 10000)) > 0)
        total += n;
    CHECK_EQ(n, TS_EAGAIN);
    CHECK_EQ(total, v);
    CHECK_EQ(ts_poll(f.s, c) & TS_POLLOUT, 0);
    CHECK(fx_drain(&f) >= 1); /* the initial window's worth */
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK(i.snd_nxt - i.iss - 1 < (uint32_t)total);
    CHECK_EQ(TS_SEND(&f, A, 1, i.snd_nxt - i.iss), 0);
    CHECK(ts_poll(f.s, c) & TS_POLLOUT);
    CHECK(ts_send(f.s, c, payload, 30000) > 0);
    ts_close(f.s, c);
    fx_free(&f);
}

/* The receive side is bounded by the window it advertises: the right edge
 * (ack + window) never moves left (RFC 9293 §3.8.6.2.2), the window closes
 * when the application does not read, data beyond it is not queued, and
 * reading opens it again with a window update. */
TS_TEST(data_receive_window)
{
    fx f;
    ts_config cfg;
    ts_sock c;
    uint32_t seq = 1, edge, queued_max = 0;
    int closed = 0;
    ts_config_default(&cfg);
    cfg.tcp_rmem[1] = 16384;
    fx_init_cfg(&f, &cfg);
    c = fx_connect(&f, 9000);
    TS_EXPECT(&f, S, 0, 0);
    edge = 1 + f.last.win; /* the SYN's window (never scaled) */
    CHECK_EQ(f.last.win, 7300); /* rmem/2 rounded down to a multiple of 1460 */
    TS_SEND(&f, S | A, 0, 1, .mss = 1000); /* no window scale: raw windows */
    TS_EXPECT(&f, A, 1, 1);
    for (int i = 0; i < 200 && !closed; i++) {
        uint32_t room = edge - seq, n = room < 1000 ? room : 1000;
        if (!n)
            break;
        TS_SEND_DATA(&f, A, seq, 1, n);
        seq += n;
        fx_wait(&f, 200); /* any delayed ACK */
        while (fx_take(&f)) {
            uint32_t e = f.last.ack + f.last.win;
            CHECK((int32_t)(e - edge) >= 0); /* the right edge never moves left */
            edge = e;
            if (f.last.win == 0)
                closed = 1;
        }
        if ((uint32_t)ts_recv_pending(f.s, c) > queued_max)
            queued_max = (uint32_t)ts_recv_pending(f.s, c);
    }
    CHECK(closed);
    CHECK_EQ(edge, seq);
    /* past the edge: not queued, answered with a duplicate ACK */
    CHECK(TS_SEND_DATA(&f, A, edge, 1, 500) < 0);
    TS_EXPECT(&f, A, 1, seq);
    CHECK_EQ(f.last.win, 0);
    CHECK_EQ(ts_recv_pending(f.s, c), seq - 1);
    CHECK(queued_max <= 16384u);
    /* reading everything opens the window: an update goes out */
    CHECK_EQ(ts_recv(f.s, c, payload, sizeof payload), seq - 1);
    TS_EXPECT(&f, A, 1, seq);
    CHECK(f.last.win > 0);
    ts_close(f.s, c);
    fx_free(&f);
}

/* ---- retransmission ---------------------------------------------------- */

/* The RTO from the first sample (RFC 6298 §2.2 with Linux's floor):
 * rto = srtt + max(2 srtt, 200 ms); a 0 ms handshake gives exactly
 * 200 ms, a 50 ms one 250 ms. Backoff doubles it (§5.5). */
TS_TEST(data_rto_from_handshake_and_backoff)
{
    static const struct { uint64_t rtt; uint64_t want[4]; } cases[] = {
        { 0, { 200, 600, 1400, 3000 } },
        { 50, { 250, 750, 1750, 3750 } },
        { 300, { 900, 2700, 6300, 13500 } },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fx f;
        ts_sock c = open_rtt(&f, NULL, cases[k].rtt, 1000, 65535);
        uint64_t got[8], t0;
        int n;
        CHECK(FX_SOCK_OK(c));
        CHECK_EQ(ts_send(f.s, c, payload, 100), 100);
        TS_EXPECT(&f, A | P, 1, 1);
        t0 = FX_NOW_MS(&f);
        n = fx_collect(&f, A | P, got, 8, cases[k].want[3]);
        CHECK_EQ(n, 4);
        for (int i = 0; i < 4; i++)
            CHECK_EQ(got[i] - t0, cases[k].want[i]);
        CHECK_EQ(f.last.seq, 1); /* the same bytes again */
        CHECK_EQ(fx_ctr(&f, "RetransSegs"), 4);
        CHECK_EQ(fx_ctr(&f, "TCPTimeouts"), 4);
        ts_close(f.s, c);
        fx_free(&f);
    }
}

/* No RTT sample at all (the SYN was retransmitted, Karn's rule): the
 * initial RTO of 1 s applies to the data (RFC 6298 §2.1). */
TS_TEST(data_rto_initial_one_second)
{
    fx f;
    ts_sock c;
    uint64_t got[4], t0;
    fx_init(&f);
    fx_wait(&f, 1000);
    c = fx_connect(&f, 9000);
    TS_EXPECT(&f, S, 0, 0);
    fx_wait(&f, 1000);
    TS_EXPECT(&f, S, 0, 0);
    TS_SEND(&f, S | A, 0, 1, .mss = 1000);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(ts_send(f.s, c, payload, 10), 10);
    TS_EXPECT(&f, A | P, 1, 1);
    t0 = FX_NOW_MS(&f);
    CHECK_EQ(fx_collect(&f, A | P, got, 4, 3000), 2);
    CHECK_EQ(got[0] - t0, 1000);
    CHECK_EQ(got[1] - t0, 3000);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Karn's rule (RFC 6298 §3): the ACK of a retransmitted segment gives no
 * RTT sample, and the backed-off RTO stays until a new sample; a later
 * segment sent once gives one and the RTO returns to srtt + rttvar. */
TS_TEST(data_karn_rule)
{
    fx f;
    ts_sock c = open_rtt(&f, NULL, 50, 1000, 65535);
    ts_info i;
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK_EQ(i.srtt_us, 50000);
    CHECK_EQ(i.rto_us, 250000);
    CHECK_EQ(ts_send(f.s, c, payload, 100), 100);
    TS_EXPECT(&f, A | P, 1, 1);
    fx_wait(&f, 250);
    TS_EXPECT(&f, A | P, 1, 1); /* retransmitted */
    fx_wait(&f, 100);
    TS_SEND(&f, A, 1, 101); /* 350 ms after the first send */
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK_EQ(i.srtt_us, 50000);  /* no sample from it */
    CHECK_EQ(i.rto_us, 500000);  /* still backed off */
    CHECK_EQ(i.backoff, 0);
    CHECK_EQ(ts_send(f.s, c, payload, 100), 100);
    TS_EXPECT(&f, A | P, 101, 1);
    fx_wait(&f, 50);
    TS_SEND(&f, A, 1, 201);
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK_EQ(i.srtt_us, 50000);
    CHECK_EQ(i.rto_us, 250000);
    ts_close(f.s, c);
    fx_free(&f);
}

/* After a timeout the congestion window is one segment: only the head is
 * resent; its ACK lets the rest go (go-back-N from snd_una). */
TS_TEST(data_rto_resends_from_snd_una)
{
    fx f;
    ts_sock c = open_rtt(&f, NULL, 0, 1000, 65535);
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_send(f.s, c, payload, 3000), 3000);
    CHECK_EQ(fx_drain(&f), 3);
    fx_wait(&f, 200);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(f.last.len, 1000);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(TS_SEND(&f, A, 1, 1001), 0);
    TS_EXPECT(&f, A, 1001, 1);
    CHECK_EQ(f.last.len, 1000);
    ts_close(f.s, c);
    fx_free(&f);
}

/* The RTO is capped at tcp_rto_max (120 s), and unacknowledged data kills
 * the connection with ETIMEDOUT once the time since the first
 * retransmission reaches what 15 backoffs from 200 ms take (924.6 s,
 * tcp_retries2): with an RTO of exactly 200 ms that is at the expiry
 * after 16 retransmissions, 1044.6 s after the data. */
TS_TEST(data_rto_max_and_retries2)
{
    static const uint64_t want[] = { 200, 600, 1400, 3000, 6200, 12600, 25400, 51000,
                                     102200, 204600, 324600, 444600, 564600, 684600,
                                     804600, 924600 };
    fx f;
    ts_sock c = open_rtt(&f, NULL, 0, 1000, 65535);
    uint64_t got[32], t0;
    int n;
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_send(f.s, c, payload, 10), 10);
    TS_EXPECT(&f, A | P, 1, 1);
    t0 = FX_NOW_MS(&f);
    n = fx_collect(&f, A | P, got, 32, 1044599);
    CHECK_EQ(n, 16);
    for (int i = 0; i < n; i++)
        CHECK_EQ(got[i] - t0, want[i]);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    fx_wait(&f, 1);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_TIMER_RTO);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_recv(f.s, c, NULL, 1), TS_ETIMEDOUT);
    CHECK_EQ(fx_ctr(&f, "TCPAbortOnTimeout"), 1);
    ts_close(f.s, c);
    fx_free(&f);
}

/* A FIN is retransmitted like data: +0.2, +0.6, +1.4, +3.0 s after it
 * with a 0 ms handshake (LINUX_BEHAVIOUR.md "RTO from the first RTT
 * sample"); the ACK of the FIN stops the timer. */
TS_TEST(data_fin_retransmission_schedule)
{
    fx f;
    ts_sock c = open_rtt(&f, NULL, 0, 1000, 65535);
    uint64_t got[8], t0;
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_shutdown(f.s, c, TS_SHUT_WR), 0);
    TS_EXPECT(&f, F | A, 1, 1);
    t0 = FX_NOW_MS(&f);
    CHECK_EQ(fx_collect(&f, F | A, got, 8, 3000), 4);
    CHECK_EQ(got[0] - t0, 200);
    CHECK_EQ(got[1] - t0, 600);
    CHECK_EQ(got[2] - t0, 1400);
    CHECK_EQ(got[3] - t0, 3000);
    CHECK_EQ(TS_SEND(&f, A, 1, 2), 0);
    CHECK_STATE(&f, c, TS_FIN_WAIT2);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Both directions at once: data and ACKs interleave, each side's bytes
 * arrive in order and complete. */
TS_TEST(data_both_directions)
{
    fx f;
    ts_sock c = open_rtt(&f, NULL, 0, 1000, 65535);
    uint8_t buf[4096];
    uint32_t pseq = 1, ours = 1;
    CHECK(FX_SOCK_OK(c));
    for (int round = 0; round < 5; round++) {
        CHECK_EQ(ts_send(f.s, c, payload, 700), 700);
        TS_SEND_DATA(&f, A | P, pseq, ours, 300);
        pseq += 300;
        while (fx_take(&f)) {
            CHECK_EQ(f.last.ack, pseq);
            if (f.last.len) {
                CHECK_EQ(f.last.seq, ours);
                ours += f.last.len;
            }
        }
        TS_SEND(&f, A, pseq, ours);
        fx_wait(&f, 50);
        fx_drain(&f);
    }
    CHECK_EQ(ours, 1 + 5 * 700);
    CHECK_EQ(ts_recv(f.s, c, buf, sizeof buf), 1500);
    ts_close(f.s, c);
    fx_free(&f);
}
