/*
 * test_sockopt.c — per-socket options as Linux has them (net/core/sock.c
 * sk_setsockopt, net/ipv4/tcp.c do_tcp_setsockopt / do_tcp_getsockopt):
 * every option of issue 6 set and read back, Linux's ranges and errors,
 * the sysctl defaults a fresh socket reads, what a child inherits, and
 * SO_LINGER (which packetdrill scripts cannot read back). The same round
 * trips run on the kernel in tests/pkt/sysctl_sockopt_*.pkt.
 */
#include "fixture.h"

static int get_int(fx *f, ts_sock sk, int level, int opt, int *v)
{
    size_t len = sizeof *v;
    int r = ts_getsockopt(f->s, sk, level, opt, v, &len);
    if (r == 0 && len != sizeof *v)
        return TS_EINVAL;
    return r;
}

static int set_int(fx *f, ts_sock sk, int level, int opt, int v)
{
    return ts_setsockopt(f->s, sk, level, opt, &v, sizeof v);
}

/* What a fresh socket reads: the sysctls (ts_config fields), or 0. */
TS_TEST(sockopt_defaults_follow_the_sysctls)
{
    static const struct { int level, opt, want; } cases[] = {
        { TS_SOL_TCP, TS_TCP_KEEPIDLE, 7200 }, { TS_SOL_TCP, TS_TCP_KEEPINTVL, 75 },
        { TS_SOL_TCP, TS_TCP_KEEPCNT, 9 },     { TS_SOL_TCP, TS_TCP_SYNCNT, 6 },
        { TS_SOL_TCP, TS_TCP_LINGER2, 60 },    { TS_SOL_TCP, TS_TCP_USER_TIMEOUT, 0 },
        { TS_SOL_SOCKET, TS_SO_KEEPALIVE, 0 }, { TS_SOL_SOCKET, TS_SO_REUSEADDR, 0 },
    };
    fx f;
    ts_sock sk;
    int v = -1;
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &sk), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ(get_int(&f, sk, cases[i].level, cases[i].opt, &v), 0);
        CHECK_EQ(v, cases[i].want);
    }
    /* a changed sysctl shows through an option never set */
    CHECK_EQ(ts_stack_sysctl(f.s, "net.ipv4.tcp_keepalive_time", "100", NULL, 0), 0);
    CHECK_EQ(ts_stack_sysctl(f.s, "net.ipv4.tcp_fin_timeout", "30", NULL, 0), 0);
    CHECK_EQ(get_int(&f, sk, TS_SOL_TCP, TS_TCP_KEEPIDLE, &v), 0);
    CHECK_EQ(v, 100);
    CHECK_EQ(get_int(&f, sk, TS_SOL_TCP, TS_TCP_LINGER2, &v), 0);
    CHECK_EQ(v, 30);
    ts_close(f.s, sk);
    fx_free(&f);
}

/* Set, read back, and Linux's limits: out of range is EINVAL and keeps
 * the old value; TCP_LINGER2 is capped at 120 s and reads -1 when
 * negative; booleans read 1. */
TS_TEST(sockopt_round_trips_and_ranges)
{
    static const struct { int level, opt, set, rc, want; } cases[] = {
        { TS_SOL_TCP, TS_TCP_KEEPIDLE, 32767, 0, 32767 },
        { TS_SOL_TCP, TS_TCP_KEEPIDLE, 32768, TS_EINVAL, 32767 },
        { TS_SOL_TCP, TS_TCP_KEEPIDLE, 0, TS_EINVAL, 32767 },
        { TS_SOL_TCP, TS_TCP_KEEPINTVL, 1, 0, 1 },
        { TS_SOL_TCP, TS_TCP_KEEPINTVL, -3, TS_EINVAL, 1 },
        { TS_SOL_TCP, TS_TCP_KEEPCNT, 127, 0, 127 },
        { TS_SOL_TCP, TS_TCP_KEEPCNT, 128, TS_EINVAL, 127 },
        { TS_SOL_TCP, TS_TCP_SYNCNT, 1, 0, 1 },
        { TS_SOL_TCP, TS_TCP_SYNCNT, 0, TS_EINVAL, 1 },
        { TS_SOL_TCP, TS_TCP_LINGER2, 300, 0, 120 },
        { TS_SOL_TCP, TS_TCP_LINGER2, -7, 0, -1 },
        { TS_SOL_TCP, TS_TCP_LINGER2, 0, 0, 60 },
        { TS_SOL_TCP, TS_TCP_USER_TIMEOUT, 30000, 0, 30000 },
        { TS_SOL_TCP, TS_TCP_USER_TIMEOUT, -1, TS_EINVAL, 30000 },
        { TS_SOL_SOCKET, TS_SO_KEEPALIVE, 7, 0, 1 },
        { TS_SOL_SOCKET, TS_SO_KEEPALIVE, 0, 0, 0 },
        { TS_SOL_SOCKET, TS_SO_REUSEADDR, 2, 0, 1 },
    };
    fx f;
    ts_sock sk;
    int v;
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &sk), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ(set_int(&f, sk, cases[i].level, cases[i].opt, cases[i].set), cases[i].rc);
        CHECK_EQ(get_int(&f, sk, cases[i].level, cases[i].opt, &v), 0);
        CHECK_EQ(v, cases[i].want);
    }
    /* a set option no longer follows its sysctl */
    CHECK_EQ(set_int(&f, sk, TS_SOL_TCP, TS_TCP_KEEPCNT, 4), 0);
    CHECK_EQ(ts_stack_sysctl(f.s, "tcp_keepalive_probes", "20", NULL, 0), 0);
    CHECK_EQ(get_int(&f, sk, TS_SOL_TCP, TS_TCP_KEEPCNT, &v), 0);
    CHECK_EQ(v, 4);
    ts_close(f.s, sk);
    fx_free(&f);
}

/* SO_LINGER takes and gives a struct linger; with l_onoff 0 Linux keeps the
 * old time. */
TS_TEST(sockopt_so_linger_round_trip)
{
    fx f;
    ts_sock sk;
    ts_linger l = { 1, 5 }, got = { -1, -1 };
    size_t len = sizeof got;
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &sk), 0);
    CHECK_EQ(ts_getsockopt(f.s, sk, TS_SOL_SOCKET, TS_SO_LINGER, &got, &len), 0);
    CHECK_EQ(len, sizeof got);
    CHECK_EQ(got.l_onoff, 0);
    CHECK_EQ(got.l_linger, 0);
    CHECK_EQ(ts_setsockopt(f.s, sk, TS_SOL_SOCKET, TS_SO_LINGER, &l, sizeof l), 0);
    CHECK_EQ(ts_getsockopt(f.s, sk, TS_SOL_SOCKET, TS_SO_LINGER, &got, &len), 0);
    CHECK_EQ(got.l_onoff, 1);
    CHECK_EQ(got.l_linger, 5);
    l.l_onoff = 0;
    l.l_linger = 9;
    CHECK_EQ(ts_setsockopt(f.s, sk, TS_SOL_SOCKET, TS_SO_LINGER, &l, sizeof l), 0);
    CHECK_EQ(ts_getsockopt(f.s, sk, TS_SOL_SOCKET, TS_SO_LINGER, &got, &len), 0);
    CHECK_EQ(got.l_onoff, 0);
    CHECK_EQ(got.l_linger, 5);
    /* a struct too short is EINVAL */
    CHECK_EQ(ts_setsockopt(f.s, sk, TS_SOL_SOCKET, TS_SO_LINGER, &l, 4), TS_EINVAL);
    ts_close(f.s, sk);
    fx_free(&f);
}

/* Errors: an unknown option or level, a short buffer, a stale handle. */
TS_TEST(sockopt_errors)
{
    fx f;
    ts_sock sk;
    int v = 1;
    short tiny = 1;
    size_t len = sizeof v;
    fx_init(&f);
    CHECK_EQ(ts_socket(f.s, &sk), 0);
    CHECK_EQ(set_int(&f, sk, TS_SOL_TCP, 99, 1), TS_ENOPROTOOPT);
    CHECK_EQ(set_int(&f, sk, 41, TS_TCP_NODELAY, 1), TS_ENOPROTOOPT);
    CHECK_EQ(get_int(&f, sk, TS_SOL_SOCKET, 77, &v), TS_ENOPROTOOPT);
    CHECK_EQ(ts_setsockopt(f.s, sk, TS_SOL_TCP, TS_TCP_KEEPIDLE, &tiny, sizeof tiny), TS_EINVAL);
    CHECK_EQ(ts_setsockopt(f.s, sk, TS_SOL_TCP, TS_TCP_KEEPIDLE, NULL, 4), TS_EINVAL);
    len = 2;
    CHECK_EQ(ts_getsockopt(f.s, sk, TS_SOL_TCP, TS_TCP_KEEPIDLE, &v, &len), TS_EINVAL);
    ts_close(f.s, sk);
    CHECK_EQ(set_int(&f, sk, TS_SOL_TCP, TS_TCP_KEEPIDLE, 5), TS_EBADF);
    len = sizeof v;
    CHECK_EQ(ts_getsockopt(f.s, sk, TS_SOL_TCP, TS_TCP_KEEPIDLE, &v, &len), TS_EBADF);
    fx_free(&f);
}

/* An accepted child inherits the listener's options (Linux clones the
 * listening socket), TCP_SYNCNT included. */
TS_TEST(sockopt_child_inherits_listener_options)
{
    static const struct { int level, opt, val; } opts[] = {
        { TS_SOL_SOCKET, TS_SO_KEEPALIVE, 1 }, { TS_SOL_TCP, TS_TCP_KEEPIDLE, 11 },
        { TS_SOL_TCP, TS_TCP_KEEPINTVL, 12 },  { TS_SOL_TCP, TS_TCP_KEEPCNT, 13 },
        { TS_SOL_TCP, TS_TCP_SYNCNT, 3 },      { TS_SOL_TCP, TS_TCP_LINGER2, 14 },
        { TS_SOL_TCP, TS_TCP_USER_TIMEOUT, 15000 },
    };
    fx f;
    ts_sock l, c;
    int v;
    fx_init(&f);
    l = fx_listen(&f, 8080);
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        CHECK_EQ(set_int(&f, l, opts[i].level, opts[i].opt, opts[i].val), 0);
    TS_SEND(&f, S, 0, 0, .mss = 1460);
    TS_EXPECT(&f, S | A, 0, 1);
    TS_SEND(&f, A, 1, 1);
    CHECK_EQ(ts_accept(f.s, l, &c, NULL), 0);
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        CHECK_EQ(get_int(&f, c, opts[i].level, opts[i].opt, &v), 0);
        CHECK_EQ(v, opts[i].val);
    }
    ts_close(f.s, c);
    ts_close(f.s, l);
    fx_free(&f);
}
