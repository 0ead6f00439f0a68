/*
 * test_api.c — API misuse and the (state x call) table (state.c's design
 * note; Linux tcp_sendmsg / tcp_recvmsg / inet_shutdown / __tcp_close /
 * __inet_stream_connect answers; LINUX_BEHAVIOUR.md "socket API edges").
 * Nothing here may crash: bad input gives an error.
 */
#include "fixture.h"

/* ---- NULLs and stale handles -------------------------------------------- */

/* A NULL stack: every call answers without touching memory. */
TS_TEST(api_null_stack)
{
    ts_sock h = { 1, 1 };
    ts_addr a = { FX_PEER, 80 };
    ts_info info;
    int v = 1;
    size_t len = sizeof v;
    uint8_t buf[64];
    CHECK_EQ(ts_socket(NULL, &h), TS_EINVAL);
    CHECK_EQ(ts_bind(NULL, h, &a), TS_EINVAL);
    CHECK_EQ(ts_listen(NULL, h, 1), TS_EINVAL);
    CHECK_EQ(ts_connect(NULL, h, &a), TS_EINVAL);
    CHECK_EQ(ts_accept(NULL, h, &h, NULL), TS_EINVAL);
    CHECK_EQ(ts_send(NULL, h, "x", 1), TS_EINVAL);
    CHECK_EQ(ts_recv(NULL, h, buf, sizeof buf), TS_EINVAL);
    CHECK_EQ(ts_recv_pending(NULL, h), TS_EINVAL);
    CHECK_EQ(ts_shutdown(NULL, h, TS_SHUT_WR), TS_EINVAL);
    CHECK_EQ(ts_close(NULL, h), TS_EINVAL);
    CHECK_EQ(ts_poll(NULL, h), TS_POLLNVAL);
    CHECK_EQ(ts_setsockopt(NULL, h, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &v, sizeof v), TS_EINVAL);
    CHECK_EQ(ts_getsockopt(NULL, h, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &v, &len), TS_EINVAL);
    CHECK(ts_sock_info(NULL, h, &info) < 0);
    CHECK_EQ(ts_stack_input(NULL, 0, buf, sizeof buf), TS_EINVAL);
    CHECK_EQ(ts_stack_output(NULL, 0, buf, sizeof buf), 0);
    ts_stack_advance(NULL, 5);
    CHECK_EQ(ts_stack_next_deadline(NULL), UINT64_MAX);
    CHECK_EQ(ts_stack_mem_live(NULL), 0);
    CHECK_EQ(ts_stack_conn_count(NULL), 0);
    CHECK_EQ(ts_stack_conns(NULL, NULL, 4), 0);
    CHECK_EQ(ts_stack_counter(NULL, 0), 0);
    CHECK_EQ(ts_stack_drops(NULL, TS_DROP_PAWS), 0);
    CHECK(ts_stack_config(NULL) == NULL);
    CHECK_EQ(ts_stack_add_addr(NULL, FX_LOCAL), TS_EINVAL);
    CHECK_EQ(ts_stack_sysctl(NULL, "tcp_fin_timeout", "30", NULL, 0), TS_EINVAL);
    ts_stack_free(NULL);
}

/* NULL or bad arguments with a live stack. */
TS_TEST(api_null_arguments)
{
    fx f;
    ts_sock s, c;
    int v = 1;
    size_t len = sizeof v;
    uint8_t buf[64];
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, NULL), TS_EINVAL);
    CHECK_EQ(ts_socket(f.s, &s), 0);
    CHECK_EQ(ts_bind(f.s, s, NULL), TS_EINVAL);
    CHECK_EQ(ts_connect(f.s, s, NULL), TS_EINVAL);
    CHECK_EQ(ts_connect(f.s, s, &(ts_addr){ 0, 80 }), TS_EINVAL);
    CHECK_EQ(ts_connect(f.s, s, &(ts_addr){ FX_PEER, 0 }), TS_EINVAL);
    CHECK_EQ(ts_shutdown(f.s, s, 3), TS_EINVAL);
    CHECK_EQ(ts_shutdown(f.s, s, -1), TS_EINVAL);
    CHECK_EQ(ts_setsockopt(f.s, s, TS_SOL_SOCKET, TS_SO_KEEPALIVE, NULL, 4), TS_EINVAL);
    CHECK_EQ(ts_setsockopt(f.s, s, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &v, 2), TS_EINVAL);
    CHECK_EQ(ts_setsockopt(f.s, s, TS_SOL_SOCKET, TS_SO_LINGER, &v, sizeof v), TS_EINVAL);
    CHECK_EQ(ts_setsockopt(f.s, s, 99, 1, &v, sizeof v), TS_ENOPROTOOPT);
    CHECK_EQ(ts_setsockopt(f.s, s, TS_SOL_TCP, 999, &v, sizeof v), TS_ENOPROTOOPT);
    v = 0;
    CHECK_EQ(ts_setsockopt(f.s, s, TS_SOL_TCP, TS_TCP_KEEPIDLE, &v, sizeof v), TS_EINVAL);
    CHECK_EQ(ts_setsockopt(f.s, s, TS_SOL_TCP, TS_TCP_SYNCNT, &v, sizeof v), TS_EINVAL);
    CHECK_EQ(ts_getsockopt(f.s, s, TS_SOL_SOCKET, TS_SO_KEEPALIVE, NULL, &len), TS_EINVAL);
    CHECK_EQ(ts_getsockopt(f.s, s, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &v, NULL), TS_EINVAL);
    len = 2;
    CHECK_EQ(ts_getsockopt(f.s, s, TS_SOL_SOCKET, TS_SO_ERROR, &v, &len), TS_EINVAL);
    CHECK_EQ(ts_sock_info(f.s, s, NULL), TS_EINVAL);
    CHECK_EQ(ts_stack_input(f.s, 0, NULL, 40), TS_EINVAL);
    CHECK_EQ(ts_stack_output(f.s, 0, NULL, 1500), 0);
    CHECK_EQ(ts_stack_counter_by_name(f.s, NULL), UINT64_MAX);
    CHECK_EQ(ts_stack_counter_by_name(f.s, "NoSuchCounter"), UINT64_MAX);
    CHECK_EQ(ts_stack_conns(f.s, NULL, 8), 1); /* counts, writes nothing */
    CHECK_EQ(ts_stack_add_addr(f.s, 0), TS_EINVAL);
    CHECK_EQ(ts_stack_sysctl(f.s, "tcp_no_such_thing", "1", NULL, 0), TS_ENOENT);
    CHECK_EQ(ts_stack_sysctl(f.s, "tcp_fin_timeout", "abc", NULL, 0), TS_EINVAL);
    CHECK_EQ(ts_stack_sysctl(f.s, NULL, "1", NULL, 0), TS_EINVAL);
    /* input of garbage lengths */
    memset(buf, 0x45, sizeof buf);
    CHECK(ts_stack_input(f.s, 0, buf, 0) < 0);
    CHECK(ts_stack_input(f.s, 0, buf, 3) < 0);
    CHECK(ts_stack_input(f.s, 0, buf, sizeof buf) < 0);
    /* send/recv with NULL buffers on a connected socket */
    c = fx_open_active(&f, 9000);
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_send(f.s, c, NULL, 10), TS_EINVAL);
    CHECK_EQ(ts_send(f.s, c, NULL, 0), 0);
    TS_SEND_DATA(&f, A, 1, 1, 10);
    CHECK_EQ(ts_recv(f.s, c, NULL, 4), 4); /* NULL discards */
    CHECK_EQ(ts_recv_pending(f.s, c), 6);
    CHECK_EQ(ts_recv(f.s, c, buf, 0), 0);
    ts_close(f.s, s);
    ts_close(f.s, c);
    fx_free(&f);
}

/* A handle whose connection is gone is stale: every call gives EBADF
 * (POLLNVAL), also once its slot is reused by a new socket. */
TS_TEST(api_stale_handles)
{
    fx f;
    ts_sock s, n, bad[4];
    ts_addr a = { FX_LOCAL, 7000 };
    ts_info info;
    int v = 1;
    size_t len = sizeof v;
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &s), 0);
    CHECK_EQ(ts_close(f.s, s), 0);
    CHECK_EQ(ts_socket(f.s, &n), 0);
    CHECK_EQ(n.index, s.index); /* the slot is reused ... */
    CHECK(n.gen != s.gen);      /* ... under a new generation */
    bad[0] = s;
    bad[1] = (ts_sock){ 0, 0 };
    bad[2] = (ts_sock){ 100000, 1 };
    bad[3] = (ts_sock){ n.index, n.gen + 7 };
    for (int i = 0; i < 4; i++) {
        ts_sock b = bad[i];
        CHECK_EQ(ts_bind(f.s, b, &a), TS_EBADF);
        CHECK_EQ(ts_listen(f.s, b, 1), TS_EBADF);
        CHECK_EQ(ts_connect(f.s, b, &(ts_addr){ FX_PEER, 80 }), TS_EBADF);
        CHECK_EQ(ts_accept(f.s, b, &n, NULL), TS_EBADF);
        CHECK_EQ(ts_send(f.s, b, "x", 1), TS_EBADF);
        CHECK_EQ(ts_recv(f.s, b, NULL, 1), TS_EBADF);
        CHECK_EQ(ts_recv_pending(f.s, b), TS_EBADF);
        CHECK_EQ(ts_shutdown(f.s, b, TS_SHUT_RDWR), TS_EBADF);
        CHECK_EQ(ts_close(f.s, b), TS_EBADF);
        CHECK_EQ(ts_poll(f.s, b), TS_POLLNVAL);
        CHECK_EQ(ts_setsockopt(f.s, b, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &v, sizeof v), TS_EBADF);
        CHECK_EQ(ts_getsockopt(f.s, b, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &v, &len), TS_EBADF);
        CHECK_EQ(ts_sock_info(f.s, b, &info), TS_EBADF);
    }
    CHECK_STATE(&f, n, TS_CLOSE); /* the new socket is untouched */
    CHECK_EQ(ts_close(f.s, n), 0);
    /* a connection closed and freed by the stack leaves a stale handle too */
    n = fx_open_active(&f, 9000);
    CHECK(FX_SOCK_OK(n));
    CHECK_EQ(ts_close(f.s, n), 0);
    CHECK_EQ(ts_close(f.s, n), TS_EBADF);
    fx_free(&f);
}

/* ---- the (state x call) table ------------------------------------------- */

enum { ST_FRESH, ST_RESET, ST_SYN_SENT, ST_SYN_RECV, ST_EST, ST_FW1, ST_FW2, ST_CW,
       ST_CLOSING, ST_LA, ST_TW, ST_N };

/* Builds a socket in the row's state (handles kept; closing states through
 * shutdown(SHUT_WR)). */
static ts_sock build(fx *f, int row)
{
    ts_sock c;
    fx_init(f);
    fx_wait(f, 1000);
    if (row == ST_FRESH) {
        ts_socket(f->s, &c);
        return c;
    }
    c = fx_connect(f, 9000);
    fx_drain(f);
    if (row == ST_SYN_SENT)
        return c;
    if (row == ST_SYN_RECV) {
        TS_SEND(f, S, 0, 0);
        fx_drain(f);
        return c;
    }
    TS_SEND(f, S | A, 0, 1);
    fx_drain(f);
    if (row == ST_RESET)
        TS_SEND(f, R, 1, 0);
    if (row == ST_CW || row == ST_LA) {
        TS_SEND(f, A | F, 1, 1);
        fx_wait(f, 50);
    }
    if (row == ST_FW1 || row == ST_FW2 || row == ST_CLOSING || row == ST_LA || row == ST_TW)
        ts_shutdown(f->s, c, TS_SHUT_WR);
    fx_drain(f);
    if (row == ST_FW2)
        TS_SEND(f, A, 1, 2);
    if (row == ST_CLOSING)
        TS_SEND(f, A | F, 1, 1);
    if (row == ST_TW)
        TS_SEND(f, A | F, 1, 2);
    fx_drain(f);
    return c;
}

/* The answers of state.c's table (no pending error; a socket reset
 * reports its error first, once). 1 for send means "bytes taken". */
static const struct {
    const char *name;
    int state;
    long send, recv;
    int shut_wr;       /* return of shutdown(SHUT_WR) */
    int after_shut;    /* state after it */
} table[ST_N] = {
    [ST_FRESH] = { "CLOSED (new)", TS_CLOSE, TS_EPIPE, TS_ENOTCONN, TS_ENOTCONN, TS_CLOSE },
    [ST_RESET] = { "CLOSED (reset)", TS_CLOSE, TS_ECONNRESET, 0, TS_ENOTCONN, TS_CLOSE },
    [ST_SYN_SENT] = { "SYN_SENT", TS_SYN_SENT, TS_EAGAIN, TS_EAGAIN, 0, TS_CLOSE },
    /* shutdown in SYN_RECEIVED waits for the handshake (Linux 6.18) */
    [ST_SYN_RECV] = { "SYN_RECEIVED", TS_SYN_RECV, TS_EAGAIN, TS_EAGAIN, 0, TS_SYN_RECV },
    [ST_EST] = { "ESTABLISHED", TS_ESTABLISHED, 1, TS_EAGAIN, 0, TS_FIN_WAIT1 },
    [ST_FW1] = { "FIN_WAIT_1", TS_FIN_WAIT1, TS_EPIPE, TS_EAGAIN, 0, TS_FIN_WAIT1 },
    [ST_FW2] = { "FIN_WAIT_2", TS_FIN_WAIT2, TS_EPIPE, TS_EAGAIN, 0, TS_FIN_WAIT2 },
    [ST_CW] = { "CLOSE_WAIT", TS_CLOSE_WAIT, 1, 0, 0, TS_LAST_ACK },
    [ST_CLOSING] = { "CLOSING", TS_CLOSING, TS_EPIPE, 0, 0, TS_CLOSING },
    [ST_LA] = { "LAST_ACK", TS_LAST_ACK, TS_EPIPE, 0, 0, TS_LAST_ACK },
    [ST_TW] = { "TIME_WAIT (handle CLOSED)", TS_CLOSE, TS_EPIPE, 0, TS_ENOTCONN, TS_CLOSE },
};

TS_TEST(api_state_call_table)
{
    for (int row = 0; row < ST_N; row++) {
        fx f;
        ts_sock c = build(&f, row);
        char buf[8];
        long r;
        if (fx_state(&f, c) != table[row].state) {
            th_fail(__FILE__, __LINE__, "%s: built state %d", table[row].name, fx_state(&f, c));
            return;
        }
        r = ts_send(f.s, c, "x", 1);
        if (r != table[row].send) {
            th_fail(__FILE__, __LINE__, "%s: send %ld, want %ld", table[row].name, r,
                    table[row].send);
            return;
        }
        fx_drain(&f);
        r = ts_recv(f.s, c, buf, sizeof buf);
        if (r != table[row].recv) {
            th_fail(__FILE__, __LINE__, "%s: recv %ld, want %ld", table[row].name, r,
                    table[row].recv);
            return;
        }
        r = ts_shutdown(f.s, c, TS_SHUT_WR);
        if (r != table[row].shut_wr || fx_state(&f, c) != table[row].after_shut) {
            th_fail(__FILE__, __LINE__, "%s: shutdown %ld -> state %d", table[row].name, r,
                    fx_state(&f, c));
            return;
        }
        CHECK_EQ(ts_close(f.s, c), 0);
        CHECK_EQ(ts_close(f.s, c), TS_EBADF);
        fx_free(&f);
    }
}

/* The listener's row: send EPIPE, recv ENOTCONN, shutdown(SHUT_WR) 0 and
 * nothing changes (inet_shutdown), accept EAGAIN, connect turns it active. */
TS_TEST(api_listen_row)
{
    fx f;
    ts_sock l, x;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    CHECK_EQ(ts_send(f.s, l, "x", 1), TS_EPIPE);
    CHECK_EQ(ts_recv(f.s, l, NULL, 1), TS_ENOTCONN);
    CHECK_EQ(ts_shutdown(f.s, l, TS_SHUT_WR), 0);
    CHECK_STATE(&f, l, TS_LISTEN);
    CHECK_EQ(ts_accept(f.s, l, &x, NULL), TS_EAGAIN);
    CHECK_EQ(ts_bind(f.s, l, &(ts_addr){ FX_LOCAL, 1 }), TS_EINVAL);
    CHECK_EQ(ts_close(f.s, l), 0);
    fx_free(&f);
}

/* ---- specific sequences -------------------------------------------------- */

/* connect(): EINPROGRESS, EALREADY while connecting, 0 once after the
 * handshake, then EISCONN (Linux __inet_stream_connect). */
TS_TEST(api_connect_sequence_success)
{
    fx f;
    ts_sock c;
    ts_addr peer = { FX_PEER, 9000 };
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &c), 0);
    CHECK_EQ(ts_connect(f.s, c, &peer), TS_EINPROGRESS);
    CHECK_EQ(ts_connect(f.s, c, &peer), TS_EALREADY);
    CHECK_EQ(ts_connect(f.s, c, &peer), TS_EALREADY);
    f.peer_port = 9000;
    TS_EXPECT(&f, S, 0, 0);
    TS_SEND(&f, S | A, 0, 1);
    CHECK_EQ(ts_connect(f.s, c, &peer), 0);
    CHECK_EQ(ts_connect(f.s, c, &peer), TS_EISCONN);
    CHECK_EQ(ts_connect(f.s, c, &(ts_addr){ FX_PEER, 9001 }), TS_EISCONN);
    CHECK_EQ(ts_listen(f.s, c, 1), TS_EINVAL);
    ts_close(f.s, c);
    fx_free(&f);
}

/* A failed non-blocking connect: SO_ERROR reports the error once, connect()
 * then gives ECONNABORTED, and the one after that starts afresh. */
TS_TEST(api_connect_sequence_failure)
{
    fx f;
    ts_sock c;
    ts_addr peer = { FX_PEER, 9000 };
    int e = -1;
    size_t len = sizeof e;
    fx_init(&f);
    fx_wait(&f, 1000);
    CHECK_EQ(ts_socket(f.s, &c), 0);
    CHECK_EQ(ts_connect(f.s, c, &peer), TS_EINPROGRESS);
    f.peer_port = 9000;
    TS_EXPECT(&f, S, 0, 0);
    TS_SEND(&f, R | A, 0, 1);
    CHECK(ts_poll(f.s, c) & TS_POLLERR);
    CHECK_EQ(ts_getsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_ERROR, &e, &len), 0);
    CHECK_EQ(e, 111); /* ECONNREFUSED as a positive errno */
    CHECK_EQ(ts_getsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_ERROR, &e, &len), 0);
    CHECK_EQ(e, 0);
    CHECK_EQ(ts_poll(f.s, c) & TS_POLLERR, 0);
    CHECK_EQ(ts_connect(f.s, c, &peer), TS_ECONNABORTED);
    CHECK_EQ(ts_connect(f.s, c, &peer), TS_EINPROGRESS);
    CHECK_STATE(&f, c, TS_SYN_SENT);
    ts_close(f.s, c);
    fx_free(&f);
}

/* close() with unread data: RST (seq snd_nxt, ack rcv_nxt) instead of FIN,
 * straight to CLOSED, TCPAbortOnClose (RFC 9293 §3.10.4 ABORT-like, Linux
 * __tcp_close). Also from CLOSE_WAIT. */
TS_TEST(api_close_with_unread_data_resets)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    c = fx_open_active(&f, 9000);
    CHECK(FX_SOCK_OK(c));
    TS_SEND_DATA(&f, A | P, 1, 1, 100);
    fx_drain(&f);
    CHECK_EQ(ts_close(f.s, c), 0);
    TS_EXPECT(&f, R | A, 1, 101);
    TS_EXPECT_NOTHING(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    CHECK_EQ(f.last_from, TS_ESTABLISHED);
    CHECK_EQ(f.last_to, TS_CLOSE);
    CHECK_EQ(f.last_cause, TS_CAUSE_APP_ABORT);
    CHECK_EQ(fx_ctr(&f, "TCPAbortOnClose"), 1);
    CHECK_EQ(ts_stack_conn_count(f.s), 0);
    CHECK_EQ(ts_stack_next_deadline(f.s), UINT64_MAX);
    fx_free(&f);

    fx_init(&f);
    c = fx_open_active(&f, 9000);
    CHECK(FX_SOCK_OK(c));
    TS_SEND_DATA(&f, A | P | F, 1, 1, 100);
    fx_drain(&f);
    CHECK_STATE(&f, c, TS_CLOSE_WAIT);
    CHECK_EQ(ts_close(f.s, c), 0);
    TS_EXPECT(&f, R | A, 1, 102);
    CHECK_EQ(f.last_from, TS_CLOSE_WAIT);
    CHECK_EQ(fx_tuple_state(&f), TS_CLOSE);
    fx_free(&f);
}

/* Data read to the end before close(): a normal FIN. */
TS_TEST(api_close_after_reading_is_graceful)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    c = fx_open_active(&f, 9000);
    CHECK(FX_SOCK_OK(c));
    TS_SEND_DATA(&f, A | P, 1, 1, 100);
    fx_drain(&f);
    CHECK_EQ(ts_recv(f.s, c, NULL, 1000), 100);
    CHECK_EQ(ts_close(f.s, c), 0);
    TS_EXPECT(&f, F | A, 1, 101);
    CHECK_EQ(fx_ctr(&f, "TCPAbortOnClose"), 0);
    fx_free(&f);
}

/* send after shutdown(SHUT_WR): EPIPE; recv after the peer's FIN: 0, and
 * again 0; shutdown(SHUT_RD) makes recv give 0 at once. */
TS_TEST(api_shutdown_and_eof)
{
    fx f;
    ts_sock c;
    fx_init(&f);
    c = fx_open_active(&f, 9000);
    CHECK(FX_SOCK_OK(c));
    CHECK_EQ(ts_shutdown(f.s, c, TS_SHUT_RD), 0);
    CHECK_EQ(ts_recv(f.s, c, NULL, 10), 0);
    CHECK_STATE(&f, c, TS_ESTABLISHED);
    CHECK_EQ(ts_send(f.s, c, "ab", 2), 2);
    CHECK_EQ(ts_shutdown(f.s, c, TS_SHUT_WR), 0);
    CHECK_EQ(ts_send(f.s, c, "ab", 2), TS_EPIPE);
    CHECK_EQ(ts_shutdown(f.s, c, TS_SHUT_WR), 0); /* again: no-op */
    CHECK_STATE(&f, c, TS_FIN_WAIT1);
    TS_EXPECT(&f, F | P | A, 1, 1);
    CHECK_EQ(f.last.len, 2);
    TS_EXPECT_NOTHING(&f);
    ts_close(f.s, c);
    fx_free(&f);
}

/* bind(): twice is EINVAL, a foreign address EADDRNOTAVAIL, a taken port
 * EADDRINUSE; with SO_REUSEADDR a port whose only user is a TIME_WAIT
 * entry binds, but connect() onto that very 4-tuple without timestamps is
 * EADDRNOTAVAIL (LINUX_BEHAVIOUR.md "connect() onto a TIME_WAIT 4-tuple"). */
TS_TEST(api_bind_rules)
{
    fx f;
    ts_sock a, b, c;
    int one = 1;
    ts_addr local = { FX_LOCAL, 5555 };
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &a), 0);
    CHECK_EQ(ts_bind(f.s, a, &(ts_addr){ 0xC0000263u, 5555 }), TS_EADDRNOTAVAIL);
    CHECK_EQ(ts_bind(f.s, a, &local), 0);
    CHECK_EQ(ts_bind(f.s, a, &local), TS_EINVAL);
    CHECK_EQ(ts_socket(f.s, &b), 0);
    CHECK_EQ(ts_bind(f.s, b, &local), TS_EADDRINUSE);
    /* a: connect from 5555, close actively, leave TIME_WAIT behind */
    CHECK_EQ(ts_connect(f.s, a, &(ts_addr){ FX_PEER, 9000 }), TS_EINPROGRESS);
    f.peer_port = 9000;
    TS_EXPECT(&f, S, 0, 0);
    CHECK_EQ(f.last.src_port, 5555);
    TS_SEND(&f, S | A, 0, 1);
    ts_close(f.s, a);
    fx_drain(&f);
    TS_SEND(&f, A | F, 1, 2);
    fx_drain(&f);
    CHECK_EQ(fx_tuple_state(&f), TS_TIME_WAIT);
    CHECK_EQ(ts_bind(f.s, b, &local), TS_EADDRINUSE);
    CHECK_EQ(ts_setsockopt(f.s, b, TS_SOL_SOCKET, TS_SO_REUSEADDR, &one, sizeof one), 0);
    CHECK_EQ(ts_bind(f.s, b, &local), 0);
    CHECK_EQ(ts_connect(f.s, b, &(ts_addr){ FX_PEER, 9000 }), TS_EADDRNOTAVAIL);
    CHECK_EQ(ts_connect(f.s, b, &(ts_addr){ FX_PEER, 9001 }), TS_EINPROGRESS);
    CHECK_EQ(ts_socket(f.s, &c), 0);
    CHECK_EQ(ts_accept(f.s, c, &a, NULL), TS_EINVAL);
    ts_close(f.s, b);
    ts_close(f.s, c);
    fx_free(&f);
}

/* SO_ERROR reads and clears the pending error once; TCP_INFO-like
 * ts_sock_info shows it until then. */
TS_TEST(api_so_error_once)
{
    fx f;
    ts_sock c;
    ts_info i;
    int e = 0;
    size_t len = sizeof e;
    fx_init(&f);
    c = fx_open_active(&f, 9000);
    CHECK(FX_SOCK_OK(c));
    TS_SEND(&f, R, 1, 0);
    CHECK_EQ(ts_sock_info(f.s, c, &i), 0);
    CHECK_EQ(i.error, TS_ECONNRESET);
    CHECK_EQ(ts_getsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_ERROR, &e, &len), 0);
    CHECK_EQ(e, 104);
    CHECK_EQ(ts_getsockopt(f.s, c, TS_SOL_SOCKET, TS_SO_ERROR, &e, &len), 0);
    CHECK_EQ(e, 0);
    CHECK_EQ(ts_recv(f.s, c, NULL, 1), 0); /* reported already: end of stream */
    CHECK_EQ(ts_send(f.s, c, "x", 1), TS_EPIPE);
    ts_close(f.s, c);
    fx_free(&f);
}

/* ts_stack_output with a buffer too small for the next segment returns 0
 * and loses nothing. */
TS_TEST(api_output_small_buffer)
{
    fx f;
    ts_sock c;
    uint8_t small[40];
    fx_init(&f);
    c = fx_connect(&f, 9000);
    CHECK_EQ(ts_stack_output(f.s, 0, small, sizeof small), 0);
    CHECK_EQ(ts_stack_output(f.s, 0, small, 0), 0);
    TS_EXPECT(&f, S, 0, 0);
    ts_close(f.s, c);
    fx_free(&f);
}

/* Hooks may read the stack but not change it: TS_EBUSY from inside. */
typedef struct hk {
    ts_stack *s;
    ts_sock sock;
    int calls;
    int rc_send, rc_close, rc_input, rc_socket, rc_connect;
    size_t out;
    int state_seen;
} hk;

static uint32_t hk_isn(void *u, const ts_tuple *t, uint64_t now)
{
    (void)u; (void)t; (void)now;
    return 1;
}

static void hk_transition(void *u, const ts_transition_ev *ev)
{
    hk *h = u;
    uint8_t pkt[64] = { 0 };
    ts_sock x;
    ts_info i;
    h->calls++;
    h->rc_send = (int)ts_send(h->s, h->sock, "x", 1);
    h->rc_close = ts_close(h->s, h->sock);
    h->rc_input = ts_stack_input(h->s, 0, pkt, sizeof pkt);
    h->rc_socket = ts_socket(h->s, &x);
    h->rc_connect = ts_connect(h->s, h->sock, &(ts_addr){ FX_PEER, 1 });
    h->out = ts_stack_output(h->s, 0, pkt, sizeof pkt);
    ts_stack_advance(h->s, 1000000000);
    if (ts_sock_info(h->s, ev->sock, &i) == 0)
        h->state_seen = i.state;
}

TS_TEST(api_hooks_get_ebusy)
{
    ts_config cfg;
    ts_hooks hooks;
    hk h;
    memset(&h, 0, sizeof h);
    memset(&hooks, 0, sizeof hooks);
    ts_config_default(&cfg);
    cfg.mem = th_mem();
    hooks.size = sizeof hooks;
    hooks.isn = hk_isn;
    hooks.on_transition = hk_transition;
    h.s = ts_stack_new(&cfg, &hooks, &h);
    CHECK(h.s != NULL);
    CHECK_EQ(ts_stack_add_addr(h.s, FX_LOCAL), 0);
    CHECK_EQ(ts_socket(h.s, &h.sock), 0);
    CHECK_EQ(ts_connect(h.s, h.sock, &(ts_addr){ FX_PEER, 9000 }), TS_EINPROGRESS);
    CHECK_EQ(h.calls, 1);
    CHECK_EQ(h.rc_send, TS_EBUSY);
    CHECK_EQ(h.rc_close, TS_EBUSY);
    CHECK_EQ(h.rc_input, TS_EBUSY);
    CHECK_EQ(h.rc_socket, TS_EBUSY);
    CHECK_EQ(h.rc_connect, TS_EBUSY);
    CHECK_EQ(h.out, 0);
    CHECK_EQ(h.state_seen, TS_SYN_SENT);
    /* the advance and output the hook tried did nothing: the SYN is still
     * queued, and its timer starts only when it leaves */
    CHECK_EQ(ts_stack_next_deadline(h.s), UINT64_MAX);
    {
        uint8_t pkt[128];
        CHECK(ts_stack_output(h.s, 0, pkt, sizeof pkt) > 0);
    }
    CHECK_EQ(ts_stack_next_deadline(h.s), 1000000);
    CHECK_EQ(ts_poll(h.s, h.sock) & TS_POLLNVAL, 0);
    CHECK_EQ(ts_close(h.s, h.sock), 0);
    ts_stack_free(h.s);
}

/* ts_strerror / ts_state_name / ts_cause_name / ts_drop_reason_name never
 * return NULL, whatever the input. */
TS_TEST(api_names_never_null)
{
    CHECK_STR(ts_strerror(TS_ECONNREFUSED), "ECONNREFUSED");
    CHECK_STR(ts_strerror(0), "OK");
    CHECK_STR(ts_strerror(-12345), "E?");
    CHECK(ts_strerror_text(12345) != NULL);
    CHECK_STR(ts_state_name(TS_NEW_SYN_RECV), "SYN_RECEIVED");
    CHECK_STR(ts_state_name(TS_CLOSE), "CLOSED");
    CHECK(ts_state_name(-1) != NULL && ts_state_name(1000) != NULL);
    CHECK(ts_cause_name(-1) != NULL && ts_cause_name(TS_CAUSE_MAX) != NULL);
    CHECK(ts_drop_reason_name(-1) != NULL && ts_drop_reason_name(TS_DROP_MAX) != NULL);
    CHECK_STR(ts_drop_reason_name(TS_DROP_PAWS), "PAWS");
    for (int i = 0; i < TS_CAUSE_MAX; i++)
        CHECK(strcmp(ts_cause_name(i), "?") != 0);
    for (int i = 0; i < TS_DROP_MAX; i++)
        CHECK(strcmp(ts_drop_reason_name(i), "?") != 0);
}
