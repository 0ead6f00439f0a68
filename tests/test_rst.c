/*
 * test_rst.c — RST received in every state (RFC 9293 §3.10.7 acceptance,
 * RFC 5961 §3 exact-or-challenge, Linux tcp_validate_incoming / tcp_reset /
 * tcp_reset_check / tcp_check_req / tcp_timewait_state_process), and the
 * RST sent for a segment that meets no connection (RFC 9293 §3.10.7.1).
 */
#include "fixture.h"

/* ---- building a connection in a given synchronized state ---------------- */

typedef struct rst_case {
    const char *name;
    int state;         /* the state before the RST */
    uint32_t rcv_nxt;  /* relative: where an exact RST must be */
    uint32_t snd_nxt;  /* relative: seq of our ACKs */
    int err;           /* what the handle reports after an exact RST */
    int minus_one;     /* a RST at rcv_nxt - 1 acts (Linux tcp_reset_check) */
} rst_case;

/* Linux tcp_reset(): ECONNREFUSED in SYN_SENT, EPIPE in CLOSE_WAIT,
 * ECONNRESET elsewhere. */
static const rst_case cases[] = {
    { "ESTABLISHED", TS_ESTABLISHED, 1, 1, TS_ECONNRESET, 0 },
    { "FIN_WAIT_1", TS_FIN_WAIT1, 1, 2, TS_ECONNRESET, 0 },
    { "FIN_WAIT_2", TS_FIN_WAIT2, 1, 2, TS_ECONNRESET, 0 },
    { "CLOSING", TS_CLOSING, 2, 2, TS_ECONNRESET, 1 },
    { "CLOSE_WAIT", TS_CLOSE_WAIT, 2, 1, TS_EPIPE, 1 },
    { "LAST_ACK", TS_LAST_ACK, 2, 2, TS_ECONNRESET, 1 },
};

/* A connection in st, held by the returned handle (closing states reached
 * with shutdown(SHUT_WR), so the handle stays). {0,0} on failure. */
static ts_sock make_state(fx *f, int st)
{
    ts_sock l, c, none = { 0, 0 };
    fx_init(f);
    c = fx_open_passive(f, 8080, &l);
    ts_close(f->s, l);
    if (!FX_SOCK_OK(c))
        return none;
    if (st == TS_CLOSE_WAIT || st == TS_LAST_ACK) {
        TS_SEND(f, A | F, 1, 1);
        fx_wait(f, 10); /* the delayed ACK of the FIN */
    }
    if (st != TS_ESTABLISHED && st != TS_CLOSE_WAIT)
        ts_shutdown(f->s, c, TS_SHUT_WR);
    fx_drain(f);
    if (st == TS_FIN_WAIT2)
        TS_SEND(f, A, 1, 2);
    if (st == TS_CLOSING)
        TS_SEND(f, A | F, 1, 1);
    fx_drain(f);
    return fx_state(f, c) == st ? c : none;
}

/* An exact RST (seq = rcv_nxt) closes every synchronized state at once,
 * nothing is sent, the error is the state's (Linux tcp_reset). */
TS_TEST(rst_exact_closes_every_synchronized_state)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rst_case *k = &cases[i];
        fx f;
        ts_sock c = make_state(&f, k->state);
        int so = 0;
        size_t len = sizeof so;
        if (!FX_SOCK_OK(c)) {
            th_fail(__FILE__, __LINE__, "could not reach %s", k->name);
            return;
        }
        CHECK_EQ(TS_SEND(&f, R, k->rcv_nxt, 0), 0);
        CHECK_STATE(&f, c, TS_CLOSE);
        CHECK_EQ(f.last_from, k->state);
        CHECK_EQ(f.last_cause, TS_CAUSE_RCV_RST);
        TS_EXPECT_NOTHING(&f);
        CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
        CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
        CHECK_EQ(ts_getsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_ERROR, &so, &len), 0);
        CHECK_EQ(so, -k->err);
        CHECK_EQ(fx_ctr(&f, "CurrEstab"), 0);
        CHECK_EQ(fx_ctr(&f, "EstabResets"),
                 k->state == TS_ESTABLISHED || k->state == TS_CLOSE_WAIT);
        ts_close(f.s, c);
        fx_free(&f);
    }
}

/* RFC 5961 §3.2: an in-window RST that is not exact gets a challenge ACK
 * (seq snd_nxt, ack rcv_nxt) and the connection stays; one out of the
 * window is dropped silently (RFC 9293 §3.10.7.4 first). A RST at rcv_nxt
 * - 1 acts in CLOSE_WAIT, CLOSING and LAST_ACK (the peer's FIN took that
 * number; Linux tcp_reset_check), and is out of window elsewhere. */
TS_TEST(rst_inexact_challenge_and_out_of_window)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rst_case *k = &cases[i];
        fx f;
        ts_sock c = make_state(&f, k->state);
        if (!FX_SOCK_OK(c)) {
            th_fail(__FILE__, __LINE__, "could not reach %s", k->name);
            return;
        }
        CHECK_EQ(TS_SEND(&f, R, k->rcv_nxt + 100, 0), -TS_DROP_RST_CHALLENGE);
        TS_EXPECT(&f, A, k->snd_nxt, k->rcv_nxt);
        CHECK_EQ(fx_ctr(&f, "TCPChallengeACK"), 1);
        CHECK_STATE(&f, c, k->state);
        CHECK_EQ(TS_SEND(&f, R | A, k->rcv_nxt + 3000000u, k->snd_nxt),
                 -TS_DROP_RST_OUT_OF_WINDOW);
        TS_EXPECT_NOTHING(&f);
        CHECK_STATE(&f, c, k->state);
        if (k->minus_one) {
            CHECK_EQ(TS_SEND(&f, R, k->rcv_nxt - 1, 0), 0);
            CHECK_STATE(&f, c, TS_CLOSE);
        } else {
            CHECK_EQ(TS_SEND(&f, R, k->rcv_nxt - 1, 0), -TS_DROP_RST_OUT_OF_WINDOW);
            TS_EXPECT_NOTHING(&f);
            CHECK_STATE(&f, c, k->state);
        }
        ts_close(f.s, c);
        fx_free(&f);
    }
}

/* Challenge ACKs are rate-limited per connection: one per
 * tcp_invalid_ratelimit (500 ms); no global limit in Linux 6.18. */
TS_TEST(rst_challenge_ack_rate_limit)
{
    fx f;
    ts_sock c = make_state(&f, TS_ESTABLISHED);
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND(&f, R, 50, 0), -TS_DROP_RST_CHALLENGE);
    TS_EXPECT(&f, A, 1, 1);
    fx_wait(&f, 100);
    CHECK_EQ(TS_SEND(&f, R, 60, 0), -TS_DROP_RST_CHALLENGE);
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 399);
    CHECK_EQ(TS_SEND(&f, R, 70, 0), -TS_DROP_RST_CHALLENGE);
    TS_EXPECT_NOTHING(&f);
    fx_wait(&f, 1);
    CHECK_EQ(TS_SEND(&f, R, 80, 0), -TS_DROP_RST_CHALLENGE);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_EQ(fx_ctr(&f, "TCPChallengeACK"), 2);
    CHECK_EQ(fx_ctr(&f, "TCPACKSkippedChallenge"), 2);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    /* the exact RST still works while the challenges are limited */
    CHECK_EQ(TS_SEND(&f, R, 1, 0), 0);
    CHECK_STATE(&f, c, TS_CLOSE);
    ts_close(f.s, c);
    fx_free(&f);
}

/* After an exact RST in ESTABLISHED: the next read gives ECONNRESET once,
 * then 0; a write gives EPIPE (LINUX_BEHAVIOUR.md "socket API edges"). */
TS_TEST(rst_established_errors_once)
{
    fx f;
    ts_sock c = make_state(&f, TS_ESTABLISHED);
    char b[4];
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND(&f, R | A, 1, 1), 0);
    CHECK(ts_poll(f.s, c) & TS_POLLERR);
    CHECK_EQ(ts_recv(f.s, c, b, sizeof b), TS_ECONNRESET);
    CHECK_EQ(ts_recv(f.s, c, b, sizeof b), 0);
    CHECK_EQ(ts_send(f.s, c, "x", 1), TS_EPIPE);
    CHECK_EQ(ts_poll(f.s, c) & TS_POLLERR, 0);
    ts_close(f.s, c);
    fx_free(&f);
}

/* SYN_SENT (RFC 9293 §3.10.7.3): a RST is acceptable only with an ACK of
 * our SYN: CLOSED, ECONNREFUSED. Without ACK, or with a bad ACK, it is
 * ignored (no RST is ever sent for a RST). */
TS_TEST(rst_syn_sent)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    fx_wait(&f, 1000);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    CHECK_EQ(TS_SEND(&f, R, 0, 0), -TS_DROP_INVALID_STATE);
    CHECK_EQ(TS_SEND(&f, R, 1, 0), -TS_DROP_INVALID_STATE);
    CHECK_EQ(TS_SEND(&f, R | A, 0, 0), -TS_DROP_BAD_ACK);
    CHECK_EQ(TS_SEND(&f, R | A, 0, 2), -TS_DROP_BAD_ACK);
    CHECK_STATE(&f, c, TS_SYN_SENT);
    CHECK_EQ(TS_SEND(&f, R | A, 0, 1), 0);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(f.last_from, TS_SYN_SENT);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_RST);
    CHECK_EQ(fx_ctr(&f, "AttemptFails"), 1);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    /* only the re-armed SYN timer's quick SYN for the bad ACKs went out */
    while (fx_take(&f))
        CHECK_EQ(f.last.flags, S);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_ECONNREFUSED);
    ts_close(f.s, c);
    fx_free(&f);
}

/* SYN_RECEIVED of a passive open: any in-window RST drops the request
 * silently (tcp_check_req: no RFC 5961 challenge for a request); the
 * listener stays. */
TS_TEST(rst_syn_received_passive_drops_request)
{
    fx f;
    ts_sock l;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND(&f, R, 300, 0), 0);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_to, TS_LISTEN);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_STATE(&f, l, TS_LISTEN);
    ts_close(f.s, l);
    fx_free(&f);
}

/* SYN_RECEIVED of a simultaneous open (a full socket): an exact RST closes
 * it (Linux tcp_reset: ECONNRESET outside SYN_SENT), an inexact one in the
 * window gets a challenge ACK. */
TS_TEST(rst_syn_received_active)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    fx_wait(&f, 1000);
    c = fx_connect(&f, 8080);
    TS_EXPECT(&f, S, 0, 0);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_STATE(&f, c, TS_SYN_RECV);
    CHECK_EQ(TS_SEND(&f, R, 10, 0), -TS_DROP_RST_CHALLENGE);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_STATE(&f, c, TS_SYN_RECV);
    CHECK_EQ(TS_SEND(&f, R, 1, 0), 0);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(f.last_from, TS_SYN_RECV);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_RST);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 8080 }), TS_ECONNRESET);
    ts_close(f.s, c);
    fx_free(&f);
}

/* LISTEN ignores RSTs. */
TS_TEST(rst_listen_ignored)
{
    fx f;
    ts_sock l;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    CHECK_EQ(TS_SEND(&f, R, 0, 0), -TS_DROP_INVALID_STATE);
    CHECK_EQ(TS_SEND(&f, R | A, 0, 0), -TS_DROP_INVALID_STATE);
    TS_EXPECT_NOTHING(&f);
    CHECK_STATE(&f, l, TS_LISTEN);
    ts_close(f.s, l);
    fx_free(&f);
}

/* TIME_WAIT: a RST at rcv_nxt kills the entry (tcp_rfc1337 = 0, Linux's
 * default, the RFC 1337 hazard accepted); with tcp_rfc1337 = 1 it is
 * ignored. A RST elsewhere is absorbed. */
TS_TEST(rst_time_wait)
{
    for (int rfc1337 = 0; rfc1337 <= 1; rfc1337++) {
        fx f;
        ts_config cfg;
        ts_sock l, c;
        ts_config_default(&cfg);
        cfg.tcp_rfc1337 = rfc1337;
        fx_init_cfg(&f, &cfg);
        c = fx_open_passive(&f, 8080, &l);
        CHECK(FX_SOCK_OK(c));
        ts_close(f.s, l);
        ts_close(f.s, c);
        TS_EXPECT(&f, F | A, 1, 1);
        TS_SEND(&f, A | F, 1, 2);
        TS_EXPECT(&f, A, 2, 2);
        CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
        CHECK_EQ(TS_SEND(&f, R, 7, 0), -TS_DROP_TW);
        TS_EXPECT_NOTHING(&f);
        CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
        if (!rfc1337) {
            CHECK_EQ(TS_SEND(&f, R, 2, 0), 0);
            CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
            CHECK_EQ(f.last_from, TS_TIME_WAIT);
            CHECK_EQ(f.last_cause, TS_CAUSE_RCV_RST);
            CHECK_EQ(ts_stack_conn_count(f.s), 0);
        } else {
            CHECK_EQ(TS_SEND(&f, R, 2, 0), -TS_DROP_TW);
            CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
        }
        TS_EXPECT_NOTHING(&f);
        fx_free(&f);
    }
}

/* The orphan's FIN_WAIT_2 minisocket: any in-window RST kills it
 * (tcp_timewait_state_process, FIN_WAIT2 substate); out of the window the
 * minisocket answers with an ACK. */
TS_TEST(rst_fin_wait2_minisocket)
{
    fx f;
    ts_sock l, c;
    fx_init(&f);
    c = fx_open_passive(&f, 8080, &l);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, l);
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    TS_SEND(&f, A, 1, 2);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT2);
    CHECK_EQ(TS_SEND(&f, R, 3000000, 0), -TS_DROP_TW);
    TS_EXPECT(&f, A, 2, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_FIN_WAIT2);
    CHECK_EQ(TS_SEND(&f, R, 40, 0), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_RST);
    TS_EXPECT_NOTHING(&f);
    fx_free(&f);
}

/* An orphan in FIN_WAIT_1 is reset like any synchronized state and freed. */
TS_TEST(rst_orphan_fin_wait1_freed)
{
    fx f;
    ts_sock l, c;
    fx_init(&f);
    c = fx_open_passive(&f, 8080, &l);
    CHECK(FX_SOCK_OK(c));
    ts_close(f.s, l);
    ts_close(f.s, c);
    TS_EXPECT(&f, F | A, 1, 1);
    CHECK_EQ(TS_SEND(&f, R, 1, 0), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(fx_ctr(&f, "TCPOrphanCount"), 0);
    fx_free(&f);
}

/* ---- segments that meet no connection (RFC 9293 §3.10.7.1) ------------- */

/* With ACK: <SEQ=SEG.ACK><CTL=RST>; without: <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>, SYN and FIN each counting one; never a RST for a RST. */
TS_TEST(rst_no_connection_sequence_rules)
{
    static const struct {
        uint8_t flags;
        uint32_t seq, ack, len;
        uint8_t rflags;
        uint32_t rseq, rack; /* rseq absolute; rack relative to the peer's ISN */
    } rows[] = {
        { S, 0, 0, 0, R | A, 0, 1 },
        { S, 7, 0, 20, R | A, 0, 28 },
        { A, 5, 777, 0, R, 777, 0 },
        { A | P, 5, 1234, 30, R, 1234, 0 },
        { S | A, 9, 4242, 0, R, 4242, 0 },
        { F | A, 5, 99, 0, R, 99, 0 },
        { P, 5, 0, 10, R | A, 0, 15 },
        { F, 5, 0, 0, R | A, 0, 6 },
        { F, 5, 0, 10, R | A, 0, 16 },
        { S | F, 5, 0, 0, R | A, 0, 7 },
    };
    fx f;
    fx_init(&f);
    f.local_port = 9999;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK_EQ(TS_SEND_DATA(&f, rows[i].flags, rows[i].seq, rows[i].ack, rows[i].len),
                 -TS_DROP_NO_SOCKET);
        if (!fx_take(&f)) {
            th_fail(__FILE__, __LINE__, "row %zu: no RST", i);
            return;
        }
        CHECK_EQ(f.last.flags, rows[i].rflags);
        CHECK_EQ(f.last.seq, rows[i].rseq);
        if (rows[i].rflags & A)
            CHECK_EQ(f.last.ack, rows[i].rack);
        CHECK_EQ(f.last.src_port, 9999);
        CHECK_EQ(f.last.dst_port, 40000);
        CHECK_EQ(f.last.dst_ip, FX_PEER);
        CHECK_EQ(f.last.len, 0);
    }
    CHECK_EQ(TS_SEND(&f, R, 5, 0), -TS_DROP_NO_SOCKET);
    CHECK_EQ(TS_SEND(&f, R | A, 5, 6), -TS_DROP_NO_SOCKET);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "OutRsts"), 10);
    CHECK_EQ(fx_drops(&f, TS_DROP_NO_SOCKET), 12);
    CHECK_EQ(fx_ctr(&f, "TCPStateDrops"), 12);
    fx_free(&f);
}

/* A closed socket that still has a handle is not a connection: a segment
 * for its old 4-tuple gets the RST of §3.10.7.1. */
TS_TEST(rst_closed_handle_is_no_connection)
{
    fx f;
    ts_sock c = make_state(&f, TS_ESTABLISHED);
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(TS_SEND(&f, R, 1, 0), 0);
    CHECK_STATE(&f, c, TS_CLOSE);
    CHECK_EQ(TS_SEND_DATA(&f, A | P, 1, 1, 10), -TS_DROP_NO_SOCKET);
    TS_EXPECT(&f, R, 1, FX_ANY);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Not for us at all: another destination address, or port 0, is dropped
 * before any state is consulted, and never answered. */
TS_TEST(rst_not_for_us_not_answered)
{
    fx f;
    ts_seg g;
    uint8_t buf[128];
    size_t n;
    fx_init(&f);
    memset(&g, 0, sizeof g);
    g.src_ip = FX_PEER;
    g.dst_ip = 0xC0000263u; /* 192.0.2.99: not ours */
    g.src_port = 40000;
    g.dst_port = 80;
    g.flags = S;
    g.win = 1000;
    n = ts_wire_build(&g, buf, sizeof buf);
    CHECK_EQ(ts_stack_input(f.s, 0, buf, n), -TS_DROP_IP_ADDR);
    g.dst_ip = FX_LOCAL;
    g.dst_port = 0;
    n = ts_wire_build(&g, buf, sizeof buf);
    CHECK_EQ(ts_stack_input(f.s, 0, buf, n), -TS_DROP_IP_ADDR);
    g.dst_port = 80;
    g.src_ip = 0xE0000001u; /* multicast source */
    n = ts_wire_build(&g, buf, sizeof buf);
    CHECK_EQ(ts_stack_input(f.s, 0, buf, n), -TS_DROP_IP_ADDR);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_ctr(&f, "OutRsts"), 0);
    CHECK_EQ(fx_drops(&f, TS_DROP_IP_ADDR), 3);
    fx_free(&f);
}
