/*
 * lifecycle.c — the cost of a whole connection: connect, accept, the
 * client closes, the server reads EOF and closes, and (in process) the
 * client's TIME_WAIT runs out. tcpstate against tcpstate and lwIP in this
 * process, the Linux kernel over 127.0.0.1. Ratios of connections per
 * second, configurations interleaved, medians of the rounds.
 *
 * In process, every BATCH connections virtual time moves on until the
 * TIME_WAIT entries have ended (tcpstate: 60 s, lwIP: 120 s counted in
 * 500 ms ticks, with its 100-1000 ms cyclic timers running meanwhile), so
 * each stack pays for its own expiry; the kernel's TIME_WAIT (60 s of
 * real time) ends after the run and is not in its figure.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#define BATCH 1000
#define TARGET_S 0.2

static double run(const bn_conf *c, uint64_t n)
{
    uint64_t t0;
    if (c->from < 0)
        return bn_kernel_conns((int)n);
#if TS_HAVE_LWIP
    t0 = bn_now_ns();
    if (bn_conns(c->from, c->to, (int)n, BATCH) != 0)
        return -1;
    return (double)(bn_now_ns() - t0) / 1e9;
#else
    (void)t0;
    return -1;
#endif
}

/* Connections per run so that a run takes about TARGET_S, whole batches;
 * the kernel stays far below the ephemeral port range. */
static uint64_t size(const bn_conf *c, uint64_t probe, double s)
{
    double want = (double)probe * TARGET_S / s;
    uint64_t n = want < (double)probe ? probe : want > 200000 ? 200000
                                                           : (uint64_t)want / BATCH * BATCH;
    if (c->from < 0 && n > 10000)
        n = 10000;
    return n;
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
    printf("== connection lifecycle: connect, accept, close both, TIME_WAIT over "
           "(median of %d interleaved rounds)\n", BN_ROUNDS);
#if TS_HAVE_LWIP
    if (bn_world() != 0) {
        printf("  skip: the in-process link could not start lwIP\n");
        return 0;
    }
#else
    printf("  skip in-process lines: lwIP (liblwip-dev) is not installed\n");
#endif
    bn_compare(cs, n, run, BATCH, size);
    for (int i = 0; i < n; i++) {
        m[i] = cs[i].median;
        if (cs[i].ok)
            printf("  %-34s %9.0f conn/s  %6.2f us/conn  (%llu a run)\n", cs[i].name, m[i],
                   1e6 / m[i], (unsigned long long)cs[i].amount);
        else
            printf("  %-34s failed or not available\n", cs[i].name);
    }
    printf("  (in-process: TIME_WAIT expired every %d connections; kernel: syscalls, "
           "TIME_WAIT not included)\n", BATCH);
    printf(" ratios (connections/s; above 1: tcpstate faster):\n");
    bn_ratio("tcpstate/lwIP (both ends)", m[0], m[3], "tcpstate<->tcpstate vs lwIP<->lwIP");
    bn_ratio("tcpstate/lwIP as server", m[1], m[3], "lwIP->tcpstate vs lwIP->lwIP");
    bn_ratio("tcpstate/lwIP as client", m[2], m[3], "tcpstate->lwIP vs lwIP->lwIP");
    bn_ratio("tcpstate/kernel", m[0], m[4], "tcpstate<->tcpstate vs kernel loopback");
    bn_ratio("lwIP/kernel", m[3], m[4], "lwIP<->lwIP vs kernel loopback");
#if TS_HAVE_LWIP
    bn_world_free();
#endif
    return 0;
}
