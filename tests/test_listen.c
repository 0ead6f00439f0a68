/*
 * test_listen.c — LISTEN (RFC 9293 §3.10.7.2, Linux tcp_rcv_state_process
 * LISTEN case and tcp_conn_request): what a listener does with every kind
 * of segment, its limits (accept queue, tcp_max_syn_backlog), closing it,
 * and the RFC's LISTEN -> SYN_SENT when the application connects from it.
 */
#include "fixture.h"

/* A passive open is LISTEN -> SYN_RECEIVED (a request minisocket, not a
 * full connection) -> ESTABLISHED, one connection id throughout. */
TS_TEST(listen_passive_open_via_request_minisocket)
{
    fx f;
    ts_sock l, c;
    ts_addr peer;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    CHECK_STATE(&f, l, TS_LISTEN);
    CHECK_EQ(f.last_to, TS_LISTEN);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_LISTEN);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    TS_SEND(&f, S, 0, 0, .mss = 1460);
    CHECK_EQ(fx_tuple_state(&f), TS_SYN_RECV);
    CHECK_EQ(f.last_from, TS_LISTEN);
    CHECK_EQ(f.last_to, TS_SYN_RECV);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_SYN);
    CHECK_EQ(ts_stack_conn_count(f.s), 1);
    CHECK_EQ(fx_ctr(&f, "PassiveOpens"), 0); /* Linux: counted when the child is born */
    CHECK_STATE(&f, l, TS_LISTEN); /* the listener itself stays */
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(f.last.mss, 1460);
    CHECK_EQ(f.last.win, 64240); /* 65535 rounded down to a multiple of the MSS */
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_poll(f.s, l) & TS_POLLIN, 0);
    TS_SEND(&f, A, 1, 1);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_ESTABLISHED);
    CHECK_EQ(f.last_from, TS_SYN_RECV);
    CHECK_EQ(f.last_to, TS_ESTABLISHED);
    CHECK_EQ(f.last_cause, TS_CAUSE_RCV_ACK);
    CHECK_EQ(fx_ctr(&f, "PassiveOpens"), 1);
    CHECK(ts_poll(f.s, l) & TS_POLLIN);
    CHECK_EQ(ts_accept(f.s, l, &c, &peer), 0);
    CHECK_EQ(peer.ip, FX_PEER);
    CHECK_EQ(peer.port, 40000);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), TS_EAGAIN);
    CHECK_EQ(fx_ctr(&f, "CurrEstab"), 1);
    CHECK_EQ(fx_ctr(&f, "TCPStateTransitions"), 3);
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

/* The SYN-ACK answers only the options the SYN offered (RFC 7323 §3.2,
 * RFC 2018, RFC 9293 §3.7.1), timestamps echoing the peer's TSval. */
TS_TEST(listen_synack_mirrors_offered_options)
{
    fx f;
    ts_sock l;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(f.last.opt_present, TS_OPT_MSS);
    f.peer_port++;
    TS_SEND(&f, S, 0, 0, .mss = 1000, FX_WS(2), .sackok = 1, .ts = 1, .tsval = 777);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(f.last.opt_present, TS_OPT_MSS | TS_OPT_WSCALE | TS_OPT_SACKOK | TS_OPT_TS);
    CHECK_EQ(f.last.tsecr, 777);
    CHECK_EQ(ts_stack_conn_count(f.s), 2);
    ts_close(f.s, l);
    fx_free(&f);
}

/* A RST to a listener is dropped; an ACK (with or without SYN) gets
 * <SEQ=SEG.ACK><CTL=RST>; a segment with neither SYN nor ACK, or a SYN
 * with FIN, is dropped (RFC 9293 §3.10.7.2; Linux discards SYN+FIN). */
TS_TEST(listen_rst_ack_and_odd_flags)
{
    fx f;
    ts_sock l;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    CHECK_EQ(TS_SEND(&f, R, 5, 0), -TS_DROP_INVALID_STATE);
    CHECK_EQ(TS_SEND(&f, R | A, 5, 9), -TS_DROP_INVALID_STATE);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(TS_SEND(&f, A, 5, 1234), -TS_DROP_INVALID_STATE);
    TS_EXPECT(&f, R, 1234, FX_ANY);
    CHECK_EQ(TS_SEND(&f, S | A, 5, 99), -TS_DROP_INVALID_STATE);
    TS_EXPECT(&f, R, 99, FX_ANY);
    CHECK_EQ(TS_SEND_DATA(&f, P, 5, 0, 10), -TS_DROP_TCP_FLAGS);
    CHECK_EQ(TS_SEND(&f, F, 5, 0), -TS_DROP_TCP_FLAGS);
    CHECK_EQ(TS_SEND(&f, S | F, 5, 0), -TS_DROP_TCP_FLAGS);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(fx_ctr(&f, "PassiveOpens"), 0);
    CHECK_EQ(fx_ctr(&f, "TCPStateDrops"), 7);
    CHECK_EQ(fx_drops(&f, TS_DROP_TCP_FLAGS), 3);
    CHECK_STATE(&f, l, TS_LISTEN);
    ts_close(f.s, l);
    fx_free(&f);
}

/* "Full" is MORE established children than the backlog: listen(fd, 1)
 * admits two. The final ACK of the next handshake is then dropped
 * (ListenOverflows, ListenDrops) and the request survives to retransmit
 * its SYN-ACK; a new SYN is dropped silently (LINUX_BEHAVIOUR.md). No more
 * requests than the backlog are pending at any time (past that: SYN
 * cookies, tests/test_syncookies.c). */
TS_TEST(listen_accept_queue_full)
{
    fx f;
    ts_sock l, c;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    CHECK_EQ(ts_listen(f.s, l, 1), 0); /* listen() again changes the backlog */
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    f.peer_port = 40001; /* a second request while the queue is empty */
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    f.peer_port = 40000;
    TS_SEND(&f, A, 1, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_ESTABLISHED);
    f.peer_port = 40003; /* a third, completed: two children, full for 1 */
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    TS_SEND(&f, A, 1, 1);
    CHECK_EQ(fx_tuple_state(&f), TS_ESTABLISHED);
    f.peer_port = 40001;
    CHECK_EQ(TS_SEND(&f, A, 1, 1), -TS_DROP_LISTEN_OVERFLOW);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_SYN_RECV);
    CHECK_EQ(fx_ctr(&f, "ListenOverflows"), 1);
    CHECK_EQ(fx_ctr(&f, "ListenDrops"), 1);
    f.peer_port = 40002; /* a SYN while full: dropped (tcp_conn_request) */
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_LISTEN_OVERFLOW);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(fx_ctr(&f, "ListenOverflows"), 2);
    /* the queue drains: the retransmitted SYN-ACK's ACK now completes */
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    f.peer_port = 40001;
    fx_wait(&f, 1000);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(TS_SEND(&f, A, 1, 1), 0);
    CHECK_EQ(fx_tuple_state(&f), TS_ESTABLISHED);
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}

/* The listen backlog bounds the pending requests (Linux
 * inet_csk_reqsk_queue_is_full, measured on 6.18: more requests than the
 * backlog); with tcp_syncookies = 0 the next SYN is dropped
 * (TCPReqQFullDrop). */
TS_TEST(listen_syn_backlog_full)
{
    fx f;
    ts_config cfg;
    ts_sock l;
    ts_config_default(&cfg);
    cfg.tcp_syncookies = 0;
    fx_init_cfg(&f, &cfg);
    l = fx_listen(&f, 8080);
    CHECK_EQ(ts_listen(f.s, l, 1), 0);
    for (int i = 0; i < 2; i++) {
        f.peer_port = (uint16_t)(40000 + i);
        CHECK_EQ(TS_SEND(&f, S, 0, 0), 0);
    }
    f.peer_port = 40002;
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_SYN_BACKLOG);
    CHECK_EQ(fx_ctr(&f, "TCPReqQFullDrop"), 1);
    CHECK_EQ(fx_ctr(&f, "ListenDrops"), 1);
    CHECK_EQ(fx_drain(&f), 2);
    CHECK_EQ(ts_stack_conn_count(f.s), 2);
    ts_close(f.s, l);
    fx_free(&f);
}

/* Closing a listener drops every pending request silently (SYN_RECEIVED ->
 * CLOSED "listener closed"; Linux sends nothing for them) and resets every
 * child not yet accepted (Linux inet_csk_listen_stop); the accepted one
 * lives. tests/pkt/listen_close_pending_request.pkt pins the same on Linux. */
TS_TEST(listen_close_resets_pending_requests)
{
    fx f;
    ts_sock l, acc;
    fx_init(&f);
    acc = fx_open_passive(&f, 8080, &l);
    CHECK(FX_SOCK_OK(acc));
    f.peer_port = 40001; /* a child established but not accepted */
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    TS_SEND(&f, A, 1, 1);
    f.peer_port = 40002; /* a pending request */
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    CHECK_EQ(ts_stack_conn_count(f.s), 3);
    CHECK_EQ(ts_close(f.s, l), 0);
    CHECK_EQ(f.last_to, TS_CLOSE);
    TS_EXPECT(&f, R | A, 1, 1);
    CHECK_EQ(f.last.dst_port, 40001);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(ts_stack_conn_count(f.s), 1);
    CHECK_STATE(&f, acc, TS_ESTABLISHED);
    CHECK_EQ(ts_accept(f.s, l, &acc, NULL), TS_EBADF);
    /* the port is free again: a SYN now meets no socket */
    f.peer_port = 40003;
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_NO_SOCKET);
    TS_EXPECT(&f, R | A, FX_ANY, 1);
    CHECK_EQ(f.last.seq + f.stack_isn, 0);
    ts_close(f.s, acc);
    fx_free(&f);
}

/* RFC 9293 §3.10.1 / §3.3.2: LISTEN -> SYN_SENT when the application
 * connects a listening socket (Linux refuses; tcpstate offers the RFC
 * edge). The listener stops listening, keeps its port, drops pending
 * requests silently (as a listener's close does). */
TS_TEST(listen_connect_turns_active)
{
    fx f;
    ts_sock l;
    ts_info i;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    TS_SEND(&f, S, 0, 0);
    TS_EXPECT(&f, S | A, 0, 1);
    f.isn_known = 0;
    CHECK_EQ(ts_connect(f.s, l, &(ts_addr){ FX_PEER, 9090 }), TS_EINPROGRESS);
    CHECK_STATE(&f, l, TS_SYN_SENT);
    CHECK_EQ(f.last_from, TS_LISTEN);
    CHECK_EQ(f.last_to, TS_SYN_SENT);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_CONNECT);
    CHECK_EQ(fx_ctr(&f, "ActiveOpens"), 1);
    f.isn_known = 0; /* the pending request went silently: the SYN is next */
    TS_EXPECT(&f, S, 0, 0);
    CHECK_EQ(f.last.src_port, 8080);
    CHECK_EQ(f.last.dst_port, 9090);
    CHECK_EQ(ts_sock_info(f.s, l, &i), 0);
    CHECK_EQ(i.tuple.local.port, 8080);
    /* a SYN to 8080 from elsewhere now finds no listener */
    f.peer_port = 40005;
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_NO_SOCKET);
    fx_drain(&f);
    f.peer_port = 9090;
    TS_SEND(&f, S | A, 0, 1);
    TS_EXPECT(&f, A, 1, 1);
    CHECK_STATE(&f, l, TS_ESTABLISHED);
    CHECK_EQ(ts_accept(f.s, l, &l, NULL), TS_EINVAL);
    ts_close(f.s, l);
    fx_free(&f);
}

/* shutdown(SHUT_RD) disconnects a listener (inet_shutdown), SHUT_WR does
 * nothing; recv/send/accept answers per the (state x call) table. */
TS_TEST(listen_calls)
{
    fx f;
    ts_sock l, x;
    char b[4];
    fx_init(&f);
    l = fx_listen(&f, 8080);
    CHECK_EQ(ts_recv(f.s, l, b, sizeof b), TS_ENOTCONN);
    CHECK_EQ(ts_send(f.s, l, "x", 1), TS_EPIPE);
    CHECK_EQ(ts_accept(f.s, l, &x, NULL), TS_EAGAIN);
    CHECK_EQ(ts_accept(f.s, l, NULL, NULL), TS_EINVAL);
    CHECK_EQ(ts_listen(f.s, l, 5), 0);
    CHECK_EQ(ts_shutdown(f.s, l, TS_SHUT_WR), 0);
    CHECK_STATE(&f, l, TS_LISTEN);
    CHECK_EQ(ts_shutdown(f.s, l, TS_SHUT_RD), 0);
    CHECK_STATE(&f, l, TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_SHUTDOWN);
    CHECK_EQ(TS_SEND(&f, S, 0, 0), -TS_DROP_NO_SOCKET);
    CHECK_EQ(ts_accept(f.s, l, &x, NULL), TS_EINVAL);
    ts_close(f.s, l);
    fx_free(&f);
}

/* Two listeners cannot share a port; the port is free after close. */
TS_TEST(listen_port_conflicts)
{
    fx f;
    ts_sock a, b;
    ts_addr ad = { FX_LOCAL, 8080 };
    fx_init(&f);
    a = fx_listen(&f, 8080);
    CHECK_EQ(ts_socket(f.s, &b), 0);
    CHECK_EQ(ts_bind(f.s, b, &ad), TS_EADDRINUSE);
    CHECK_EQ(ts_close(f.s, a), 0);
    CHECK_EQ(ts_bind(f.s, b, &ad), 0);
    CHECK_EQ(ts_listen(f.s, b, 1), 0);
    CHECK_STATE(&f, b, TS_LISTEN);
    ts_close(f.s, b);
    fx_free(&f);
}

/* listen() on an unbound socket binds an ephemeral port
 * (LINUX_BEHAVIOUR.md "socket API edges"). */
TS_TEST(listen_unbound_gets_ephemeral_port)
{
    fx f;
    ts_sock l;
    ts_info i;
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &l), 0);
    CHECK_EQ(ts_listen(f.s, l, 4), 0);
    CHECK_EQ(ts_sock_info(f.s, l, &i), 0);
    CHECK(i.tuple.local.port >= 32768 && i.tuple.local.port <= 60999);
    f.local_port = i.tuple.local.port;
    CHECK_EQ(TS_SEND(&f, S, 0, 0), 0);
    TS_EXPECT(&f, S | A, 0, 1);
    ts_close(f.s, l);
    fx_free(&f);
}
