/*
 * bench.c — the shared pieces of bench.h that need no lwIP: clock,
 * medians, ratio lines, and the Linux kernel as a peer over 127.0.0.1
 * (sockets of this process: never any other address).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *const bn_kind_name[2] = { "tcpstate", "lwIP" };

uint64_t bn_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int bn_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bn_median(double *v, int n)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, bn_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bn_compare(bn_conf *cs, int n, bn_run_fn run, uint64_t probe, bn_size_fn size)
{
    for (int i = 0; i < n; i++) {
        double s = run(&cs[i], probe);
        cs[i].ok = s > 0;
        if (cs[i].ok)
            cs[i].amount = size(&cs[i], probe, s);
    }
    for (int r = 0; r < BN_ROUNDS; r++)
        for (int i = 0; i < n; i++) {
            double s = cs[i].ok ? run(&cs[i], cs[i].amount) : -1;
            cs[i].ok = cs[i].ok && s > 0;
            cs[i].rate[r] = s > 0 ? (double)cs[i].amount / s : 0;
        }
    for (int i = 0; i < n; i++) {
        double v[BN_ROUNDS];
        memcpy(v, cs[i].rate, sizeof v);
        cs[i].median = cs[i].ok ? bn_median(v, BN_ROUNDS) : 0;
    }
}

void bn_ratio(const char *label, double a, double b, const char *what)
{
    if (a <= 0 || b <= 0)
        printf("  %-34s n/a\n", label);
    else
        printf("  %-34s %.2fx  (%s)\n", label, a / b, what);
}

/* ------------------------------------------------------------- kernel */

int bn_lo_mtu(void)
{
    struct ifreq r;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), mtu = 0;
    if (fd < 0)
        return 0;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFMTU, &r) == 0)
        mtu = r.ifr_mtu;
    close(fd);
    return mtu;
}

/* A listener on 127.0.0.1, ephemeral port; *to gets its address. */
static int bn_listener(struct sockaddr_in *to)
{
    socklen_t len = sizeof *to;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0)
        return -1;
    memset(to, 0, sizeof *to);
    to->sin_family = AF_INET;
    to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)to, sizeof *to) || listen(l, 128) ||
        getsockname(l, (struct sockaddr *)to, &len)) {
        close(l);
        return -1;
    }
    return l;
}

/* A connected pair (blocking connect and accept complete at once on lo). */
static int bn_pair(int l, const struct sockaddr_in *to, int *c, int *a)
{
    *c = socket(AF_INET, SOCK_STREAM, 0);
    if (*c < 0)
        return -1;
    if (connect(*c, (const struct sockaddr *)to, sizeof *to) || (*a = accept(l, NULL, NULL)) < 0) {
        close(*c);
        return -1;
    }
    return 0;
}

static int bn_pump(int c, int a, uint64_t bytes, uint64_t *sent, uint64_t *got)
{
    static char buf[65536];
    while (*sent < bytes) {
        size_t n = bytes - *sent < sizeof buf ? (size_t)(bytes - *sent) : sizeof buf;
        ssize_t r = send(c, buf, n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EAGAIN)
                break;
            return -1;
        }
        *sent += (uint64_t)r;
    }
    for (;;) {
        ssize_t r = recv(a, buf, sizeof buf, 0);
        if (r > 0) {
            *got += (uint64_t)r;
            continue;
        }
        if (r < 0 && errno == EAGAIN)
            return 0;
        return -1;
    }
}

double bn_kernel_bulk(uint64_t bytes)
{
    struct sockaddr_in to;
    uint64_t sent = 0, got = 0, t0;
    int c, a, l = bn_listener(&to), bad = 0;
    if (l < 0 || bn_pair(l, &to, &c, &a)) {
        if (l >= 0)
            close(l);
        return -1;
    }
    fcntl(c, F_SETFL, O_NONBLOCK);
    fcntl(a, F_SETFL, O_NONBLOCK);
    t0 = bn_now_ns();
    while (got < bytes && !bad)
        bad = bn_pump(c, a, bytes, &sent, &got);
    t0 = bn_now_ns() - t0;
    close(c);
    close(a);
    close(l);
    return bad ? -1 : (double)t0 / 1e9;
}

double bn_kernel_conns(int n)
{
    struct sockaddr_in to;
    char b;
    uint64_t t0;
    int l = bn_listener(&to), bad = 0;
    if (l < 0)
        return -1;
    t0 = bn_now_ns();
    for (int i = 0; i < n && !bad; i++) {
        int c, a;
        if (bn_pair(l, &to, &c, &a)) {
            bad = 1;
            break;
        }
        close(c);                     /* the client closes first: its FIN */
        bad = recv(a, &b, 1, 0) != 0; /* the server reads EOF ... */
        close(a);                     /* ... and closes */
    }
    t0 = bn_now_ns() - t0;
    close(l);
    return bad ? -1 : (double)t0 / 1e9;
}
