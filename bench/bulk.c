/*
 * bulk.c — bulk transfer throughput: one connection moving N bytes one
 * way, tcpstate against tcpstate and against lwIP in this process (the
 * zero-delay link of tests/lwip, one thread), and the Linux kernel over
 * 127.0.0.1 (two sockets of this process, one thread alternating send and
 * recv). Prints bytes/s and, what counts, ratios measured in this run:
 * configurations interleaved round by round, medians of the rounds.
 *
 * Not like for like, and said so: the in-process stacks make no system
 * calls and discard received data without copying it; the kernel pays two
 * syscalls per chunk and copies out, and on lo (MTU 65536 unless run
 * inside `unshare -n` with a smaller one) it moves 64 KiB segments where
 * the in-process link carries 1500-byte datagrams.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#define TARGET_S 0.25 /* each run should take about this long */

/* One run: seconds, negative on failure. */
static double run(const bn_conf *c, uint64_t bytes)
{
    uint64_t t0;
    if (c->from < 0)
        return bn_kernel_bulk(bytes);
#if TS_HAVE_LWIP
    t0 = bn_now_ns();
    if (bn_bulk(c->from, c->to, bytes, NULL) != 0)
        return -1;
    return (double)(bn_now_ns() - t0) / 1e9;
#else
    (void)t0;
    return -1;
#endif
}

/* Bytes per run so that a run takes about TARGET_S, whole MiB. */
static uint64_t size(const bn_conf *c, uint64_t probe, double s)
{
    double want = (double)probe * TARGET_S / s;
    (void)c;
    if (want < (double)probe)
        want = (double)probe;
    if (want > (double)(1024u << 20)) /* lwpeer's limit per instant is ~7 GiB */
        want = (double)(1024u << 20);
    return ((uint64_t)want >> 20) << 20;
}

int main(void)
{
    bn_conf cs[] = {
        { "tcpstate -> tcpstate (in-process)", BN_TS, BN_TS, 0, { 0 }, 0, 0 },
        { "lwIP -> tcpstate (in-process)", BN_LW, BN_TS, 0, { 0 }, 0, 0 },
        { "tcpstate -> lwIP (in-process)", BN_TS, BN_LW, 0, { 0 }, 0, 0 },
        { "lwIP -> lwIP (in-process)", BN_LW, BN_LW, 0, { 0 }, 0, 0 },
        { "kernel -> kernel (127.0.0.1)", -1, -1, 0, { 0 }, 0, 0 },
    };
    const int n = (int)(sizeof cs / sizeof cs[0]);
    double m[5];
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== bulk transfer: one connection, one way (median of %d interleaved rounds)\n",
           BN_ROUNDS);
#if TS_HAVE_LWIP
    if (bn_world() != 0) {
        printf("  skip: the in-process link could not start lwIP\n");
        return 0;
    }
#else
    printf("  skip in-process lines: lwIP (liblwip-dev) is not installed\n");
#endif
    bn_compare(cs, n, run, 8u << 20, size);
    for (int i = 0; i < n; i++) {
        m[i] = cs[i].median;
        if (cs[i].ok)
            printf("  %-34s %8.1f MB/s  (%llu MiB a run)\n", cs[i].name, m[i] / 1e6,
                   (unsigned long long)(cs[i].amount >> 20));
        else
            printf("  %-34s failed or not available\n", cs[i].name);
    }
    printf("  (kernel: lo MTU %d, syscalls and a copy out per chunk; absolute figures are noise here)\n",
           bn_lo_mtu());
    printf(" ratios (bytes/s; above 1: tcpstate faster):\n");
    bn_ratio("tcpstate/lwIP (both ends)", m[0], m[3], "tcpstate<->tcpstate vs lwIP<->lwIP");
    bn_ratio("tcpstate/lwIP as receiver", m[1], m[3], "lwIP->tcpstate vs lwIP->lwIP");
    bn_ratio("tcpstate/lwIP as sender", m[2], m[3], "tcpstate->lwIP vs lwIP->lwIP");
    bn_ratio("tcpstate/kernel", m[0], m[4], "tcpstate<->tcpstate vs kernel loopback");
    bn_ratio("lwIP/kernel", m[3], m[4], "lwIP<->lwIP vs kernel loopback");
#if TS_HAVE_LWIP
    bn_world_free();
#endif
    return 0;
}
