/*
 * test_target_linux.c — the Linux kernel target of the script runner
 * (src/script/target_linux.c), driven directly: namespace set-up, sysctl
 * isolation, a passive handshake over TUN, a blocking accept on the worker
 * thread, data out, and the socket calls' argument conventions.
 *
 * Root only (it creates a network namespace and a TUN device): skipped
 * otherwise. It runs in real time, but only waits for the kernel's immediate
 * answers (a few ms in all), never for a timer.
 */
#include "harness.h"
#include "core/wire.h"
#include "script/target.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOCAL_IP 0xc0000202u   /* 192.0.2.2 */
#define REMOTE_IP 0xc0000201u  /* 192.0.2.1 */
#define PEER_PORT 40000
#define WAIT_US 1000000u       /* the most any immediate answer may take */

static const ts_target_ops *ops = &ts_target_linux;

static int lx_skip_reason(char *why, size_t n)
{
    if (geteuid() != 0) {
        snprintf(why, n, "linux target: needs root");
        return 1;
    }
    if (access("/dev/net/tun", F_OK) != 0) {
        snprintf(why, n, "linux target: no /dev/net/tun");
        return 1;
    }
    return 0;
}

static ts_target *lx_open(void)
{
    ts_target_cfg cfg = { LOCAL_IP, REMOTE_IP, 8080, 8080, 1500, 0 };
    ts_target *t = NULL;
    char err[256];
    if (ops->open(&t, &cfg, err, sizeof err) != 0) {
        printf("  open: %s\n", err);
        return NULL;
    }
    return t;
}

static ts_call mkcall(const char *name, int nargs, int blocking)
{
    ts_call c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.nargs = nargs;
    c.blocking = blocking;
    return c;
}

static void arg_int(ts_call *c, int i, long long v)
{
    c->args[i].kind = TS_ARG_INT;
    c->args[i].i = v;
}

/* A non-blocking call that must return at once. */
static long long call_now(ts_target *t, ts_call *c, ts_call_result *r)
{
    if (ops->start_call(t, c, r) != 1)
        return -1000;  /* it blocked: a failure for the caller */
    return r->ret;
}

static long long lx_socket(ts_target *t)
{
    ts_call c = mkcall("socket", 3, 0);
    ts_call_result r;
    c.args[0].kind = TS_ARG_ELLIPSIS;
    arg_int(&c, 1, SOCK_STREAM);
    arg_int(&c, 2, IPPROTO_TCP);
    return call_now(t, &c, &r);
}

static long long lx_fd_call(ts_target *t, const char *name, long long fd, long long a1)
{
    ts_call c = mkcall(name, 2, 0);
    ts_call_result r;
    arg_int(&c, 0, fd);
    arg_int(&c, 1, a1);
    if (strcmp(name, "bind") == 0 || strcmp(name, "accept") == 0) {
        c.nargs = 3;
        c.args[1].kind = c.args[2].kind = TS_ARG_ELLIPSIS;
    } else if (strcmp(name, "close") == 0) {
        c.nargs = 1;
    }
    long long ret = call_now(t, &c, &r);
    return ret == -1 ? -r.err : ret;
}

/* Sends one segment from the peer, built as the runner builds them. */
static int inject(ts_target *t, uint8_t flags, uint32_t seq, uint32_t ack,
                  const uint8_t *opt, uint8_t optlen)
{
    ts_seg s;
    uint8_t pkt[128];
    memset(&s, 0, sizeof s);
    s.src_ip = REMOTE_IP;
    s.dst_ip = LOCAL_IP;
    s.src_port = PEER_PORT;
    s.dst_port = 8080;
    s.ttl = 255;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.win = 20000;
    s.opt = opt;
    s.optlen = optlen;
    size_t n = ts_wire_build_raw(&s, pkt, sizeof pkt);
    return n ? ops->inject(t, pkt, n) : -1;
}

/* The next TCP segment the kernel sends (anything else is skipped). */
static long next_seg(ts_target *t, uint8_t *buf, size_t cap, ts_seg *s, uint64_t *when)
{
    uint64_t deadline = ops->now(t) + WAIT_US;
    for (;;) {
        long n = ops->receive(t, buf, cap, when, deadline);
        if (n <= 0)
            return n;
        if (ts_wire_parse(buf, (size_t)n, s) == 0)
            return n;
    }
}

TS_TEST(linux_target_sysctl_stays_in_namespace)
{
    char why[128], err[256];
    if (lx_skip_reason(why, sizeof why))
        TS_SKIP(why);
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_syn_retries", "r");
    int host = -1;
    CHECK(f != NULL);
    CHECK_EQ(fscanf(f, "%d", &host), 1);
    fclose(f);
    ts_target *t = lx_open();
    CHECK(t != NULL);
    char val[16];
    snprintf(val, sizeof val, "%d", host == 3 ? 4 : 3);
    int ok = ops->sysctl(t, "net.ipv4.tcp_syn_retries", val, err, sizeof err) == 0 &&
             ops->sysctl(t, "tcp_timestamps", "1", err, sizeof err) == 0;
    int orphans = ops->sysctl(t, "net.ipv4.tcp_max_orphans", "10", err, sizeof err);
    int bogus = ops->sysctl(t, "tcp_syn_retries/../../core/somaxconn", "1", err, sizeof err);
    ops->close(t);
    CHECK(ok);
    CHECK_EQ(orphans, -1);
    CHECK_EQ(bogus, -1);
    f = fopen("/proc/sys/net/ipv4/tcp_syn_retries", "r");
    int after = -2;
    CHECK(f != NULL);
    CHECK_EQ(fscanf(f, "%d", &after), 1);
    fclose(f);
    CHECK_EQ(after, host);  /* the host's own setting never moved */
}

TS_TEST(linux_target_orphans_error_names_it)
{
    char why[128], err[256] = "";
    if (lx_skip_reason(why, sizeof why))
        TS_SKIP(why);
    ts_target *t = lx_open();
    CHECK(t != NULL);
    int rc = ops->sysctl(t, "tcp_max_orphans", "10", err, sizeof err);
    ops->close(t);
    CHECK_EQ(rc, -1);
    CHECK(strstr(err, "tcp_max_orphans") != NULL);
    CHECK(strstr(err, "namespace") != NULL);
}

/* socket, bind, listen; SYN in; SYN-ACK out. Returns the listener or -1. */
static long long passive_synack(ts_target *t, uint32_t *isn)
{
    static const uint8_t mss1400[4] = { 2, 4, 0x05, 0x78 };
    uint8_t buf[2048];
    ts_seg s;
    uint64_t when;
    long long fd = lx_socket(t);
    if (fd < 0 || lx_fd_call(t, "bind", fd, 0) != 0 || lx_fd_call(t, "listen", fd, 5) != 0)
        return -1;
    uint64_t sent = ops->now(t);
    if (inject(t, TS_TH_SYN, 1000, 0, mss1400, 4) != 0)
        return -1;
    if (next_seg(t, buf, sizeof buf, &s, &when) <= 0)
        return -1;
    if (s.flags != (TS_TH_SYN | TS_TH_ACK) || s.ack != 1001 || s.src_ip != LOCAL_IP ||
        s.dst_ip != REMOTE_IP || s.src_port != 8080 || s.dst_port != PEER_PORT ||
        !(s.opt_present & TS_OPT_MSS) || s.mss != 1460 || when < sent || when > sent + WAIT_US)
        return -1;
    *isn = s.seq;
    return fd;
}

TS_TEST(linux_target_passive_handshake_and_data)
{
    char why[128];
    if (lx_skip_reason(why, sizeof why))
        TS_SKIP(why);
    ts_target *t = lx_open();
    CHECK(t != NULL);
    uint32_t isn = 0;
    long long lfd = passive_synack(t, &isn);
    ts_call acc = mkcall("accept", 3, 1);
    ts_call_result r;
    arg_int(&acc, 0, lfd);
    acc.args[1].kind = acc.args[2].kind = TS_ARG_ELLIPSIS;
    int started = lfd >= 0 ? ops->start_call(t, &acc, &r) : -1;
    int early = started == 0 ? ops->poll_call(t, &r) : -1;  /* still asleep */
    uint64_t ack_at = ops->now(t);
    int injected = inject(t, TS_TH_ACK, 1001, isn + 1, NULL, 0);
    int done = 0;
    for (int i = 0; i < 1000 && !done; i++) {
        ops->wait_until(t, ops->now(t) + 1000);
        done = ops->poll_call(t, &r);
    }
    long long afd = done ? r.ret : -1;
    ts_call w = mkcall("write", 3, 0);
    ts_call_result wr;
    arg_int(&w, 0, afd);
    w.args[1].kind = TS_ARG_ELLIPSIS;
    arg_int(&w, 2, 10);
    long long wrote = afd >= 0 ? call_now(t, &w, &wr) : -1;
    uint8_t buf[2048];
    ts_seg s;
    uint64_t when;
    long n = wrote == 10 ? next_seg(t, buf, sizeof buf, &s, &when) : -1;
    long long closed = afd >= 0 ? lx_fd_call(t, "close", afd, 0) : -1;
    ops->close(t);
    CHECK(lfd >= 0);
    CHECK_EQ(started, 0);
    CHECK_EQ(early, 0);
    CHECK_EQ(injected, 0);
    CHECK_EQ(done, 1);
    CHECK(afd >= 0);
    CHECK(r.t_end >= ack_at && r.t_end < ack_at + WAIT_US);
    CHECK_EQ(r.vallen, sizeof(struct sockaddr_in));  /* the peer's address */
    CHECK_EQ(wrote, 10);
    CHECK(n > 0);
    CHECK_EQ(s.flags, TS_TH_PSH | TS_TH_ACK);
    CHECK_EQ(s.seq, isn + 1);
    CHECK_EQ(s.ack, 1001);
    CHECK_EQ(s.len, 10);
    CHECK(s.data[0] == 0 && s.data[9] == 0);
    CHECK_EQ(closed, 0);
}

TS_TEST(linux_target_call_conventions)
{
    char why[128];
    if (lx_skip_reason(why, sizeof why))
        TS_SKIP(why);
    ts_target *t = lx_open();
    CHECK(t != NULL);
    long long fd = lx_socket(t);
    /* getsockopt(fd, SOL_SOCKET, SO_ERROR, [0], [4]) */
    ts_call g = mkcall("getsockopt", 5, 0);
    ts_call_result gr;
    arg_int(&g, 0, fd);
    arg_int(&g, 1, SOL_SOCKET);
    arg_int(&g, 2, SO_ERROR);
    g.args[3].kind = g.args[4].kind = TS_ARG_INTLIST;
    g.args[4].i = 4;
    long long gret = call_now(t, &g, &gr);
    /* setsockopt(fd, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) */
    ts_call so = mkcall("setsockopt", 5, 0);
    ts_call_result sr;
    arg_int(&so, 0, fd);
    arg_int(&so, 1, SOL_SOCKET);
    arg_int(&so, 2, SO_LINGER);
    so.args[3].kind = TS_ARG_LINGER;
    so.args[3].onoff = 1;
    arg_int(&so, 4, 8);
    long long sret = call_now(t, &so, &sr);
    long long fl = lx_fd_call(t, "fcntl", fd, F_GETFL);
    /* a read on an unconnected socket fails with ENOTCONN */
    ts_call rd = mkcall("read", 3, 0);
    ts_call_result rr;
    arg_int(&rd, 0, fd);
    rd.args[1].kind = TS_ARG_ELLIPSIS;
    arg_int(&rd, 2, 100);
    long long rret = call_now(t, &rd, &rr);
    /* poll([{fd, POLLOUT}], 1, 0): an unconnected TCP socket reports POLLOUT|POLLHUP */
    ts_call p = mkcall("poll", 3, 0);
    ts_call_result pr;
    p.args[0].kind = TS_ARG_POLLFDS;
    p.args[0].npoll = 1;
    p.args[0].poll[0].fd = (int)fd;
    p.args[0].poll[0].events = POLLOUT;
    arg_int(&p, 1, 1);
    arg_int(&p, 2, 0);
    long long pret = call_now(t, &p, &pr);
    long long own = lx_fd_call(t, "close", 1000, 0);  /* the target's channel */
    ops->close(t);
    CHECK(fd >= 3);
    CHECK_EQ(gret, 0);
    CHECK_EQ(gr.vallen, 4);
    CHECK_EQ(gr.val[0] | gr.val[1] | gr.val[2] | gr.val[3], 0);
    CHECK_EQ(sret, 0);
    CHECK_EQ(fl, O_RDWR);
    CHECK_EQ(rret, -1);
    CHECK_EQ(rr.err, ENOTCONN);
    CHECK_EQ(pret, 1);
    CHECK_EQ(pr.revents[0], POLLOUT | POLLHUP);
    CHECK_EQ(own, -EBADF);
}

TS_TEST(linux_target_nothing_sent_unasked)
{
    char why[128];
    if (lx_skip_reason(why, sizeof why))
        TS_SKIP(why);
    ts_target *t = lx_open();
    CHECK(t != NULL);
    uint8_t buf[2048];
    uint64_t when;
    /* no IPv6 router solicitation, no IGMP: the device stays silent */
    long n = ops->receive(t, buf, sizeof buf, &when, ops->now(t) + 50000);
    ops->close(t);
    CHECK_EQ(n, 0);
}
