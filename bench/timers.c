/*
 * timers.c — what a timer costs per connection, with 1,000 and with
 * 1,000,000 connections on one stack, and the ratio of the two.
 *
 * The workload: N connections in SYN_SENT towards a peer that never
 * answers (distinct remote addresses, connected 1 µs apart, so every
 * deadline differs, and each first SYN sent, which starts its timer), then
 * the driver's loop (ts_stack_next_deadline, ts_stack_advance) across the
 * next two SYN timeouts of every connection: 2N firings, each popping the
 * heap's earliest entry, running the SYN timer (retransmission flagged,
 * RTO re-armed) and re-keying the entry. Nothing is sent (the output is
 * not drained): what is measured is the timer machinery, not packets.
 *
 * With a binary heap a firing costs O(log n): the ratio 1M/1k should stay
 * near log2(10^6)/log2(10^3) = 2, where anything that scanned every
 * connection would give 1000. Callgrind's instruction count of the timer
 * phase alone (instrumentation switched on around it) is the stable
 * figure; the wall clock is printed too, and is cache-bound at 1M.
 *
 *   timers                  the benchmark
 *   timers --work N         one run: prints "ns T" (the phase's wall time)
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpstate.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CG 1
#endif
#endif
#ifndef HAVE_CG
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#define LOCAL 0xC0000202u
#define SEC 1000000ull
#define FIRINGS 2 /* per connection: the SYN timeouts at 1 s and 2 s */

/* N SYN_SENT connections whose first SYN has left (the SYN timer starts
 * when it does); NULL on failure. */
static ts_stack *build(unsigned long n)
{
    static uint8_t buf[2048];
    ts_config cfg;
    ts_stack *s;
    ts_config_default(&cfg);
    s = ts_stack_new(&cfg, NULL, NULL);
    if (!s || ts_stack_add_addr(s, LOCAL) != 0)
        return NULL;
    for (unsigned long i = 0; i < n; i++) {
        ts_sock sk;
        ts_addr r = { 0x0A000000u + (uint32_t)i, 80 };
        ts_stack_advance(s, i);
        if (ts_socket(s, &sk) != 0 || ts_connect(s, sk, &r) != TS_EINPROGRESS ||
            ts_stack_output(s, i, buf, sizeof buf) == 0) {
            ts_stack_free(s);
            return NULL;
        }
    }
    return s;
}

/* The measured phase, as a driver runs timers: jump to the next deadline,
 * fire what is due, until every connection's next two SYN timeouts have
 * fired. Kept out of line so a profile names it. */
__attribute__((noinline)) static void timer_phase(ts_stack *s, unsigned long n)
{
    uint64_t t, end = 2 * SEC + n - 1;
    while ((t = ts_stack_next_deadline(s)) <= end)
        ts_stack_advance(s, t);
}

static int work(unsigned long n)
{
    ts_stack *s = build(n);
    uint64_t t0, t1;
    if (!s)
        return 1;
    t0 = bn_now_ns();
    CALLGRIND_START_INSTRUMENTATION;
    timer_phase(s, n);
    CALLGRIND_STOP_INSTRUMENTATION;
    t1 = bn_now_ns();
    /* every connection fired exactly twice: two retransmissions each */
    if (ts_stack_counter_by_name(s, "TcpExtTCPSynRetrans") != FIRINGS * (uint64_t)n) {
        ts_stack_free(s);
        return 1;
    }
    printf("ns %llu\n", (unsigned long long)(t1 - t0));
    ts_stack_free(s);
    return 0;
}

/* The phase's instructions under callgrind (instrumentation only around
 * it), 0 when valgrind failed. */
static double instructions(const char *dir, unsigned long n)
{
    char cmd[1024], out[512], line[512];
    double ir = 0;
    FILE *p;
    snprintf(out, sizeof out, "%s/cg.out", dir);
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=%s "
             "/proc/%ld/exe --work %lu >/dev/null 2>&1", out, (long)getpid(), n);
    if (system(cmd) != 0 || !(p = fopen(out, "r")))
        return 0;
    while (fgets(line, sizeof line, p))
        if (strncmp(line, "summary:", 8) == 0 || strncmp(line, "totals:", 7) == 0)
            ir = strtod(strchr(line, ':') + 1, NULL);
    fclose(p);
    unlink(out);
    return ir;
}

/* Median wall time of the phase, ns (a fresh process per run). */
static double wall_ns(unsigned long n, int reps)
{
    double v[9];
    int k = 0;
    for (int r = 0; r < reps && r < 9; r++) {
        char cmd[256], line[128];
        FILE *p;
        snprintf(cmd, sizeof cmd, "/proc/%ld/exe --work %lu", (long)getpid(), n);
        if (!(p = popen(cmd, "r")))
            continue;
        while (fgets(line, sizeof line, p))
            if (strncmp(line, "ns ", 3) == 0)
                v[k++] = strtod(line + 3, NULL);
        pclose(p);
    }
    return k ? bn_median(v, k) : 0;
}

int main(int argc, char **argv)
{
    static const unsigned long sizes[2] = { 1000, 1000000 };
    double ir[2] = { 0, 0 }, ns[2];
    char dir[] = "/tmp/tcpstate-timers-XXXXXX";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--work") == 0)
        return work(strtoul(argv[2], NULL, 10));
    printf("== timers (%d firings per SYN_SENT connection, one stack)\n", FIRINGS);
    for (int i = 0; i < 2; i++) {
        ns[i] = wall_ns(sizes[i], i ? 3 : 9) / (FIRINGS * (double)sizes[i]);
        printf("  wall clock   %7lu connections %8.1f ns per firing\n", sizes[i], ns[i]);
    }
#ifndef HAVE_CG
    printf("  callgrind: skip (valgrind/callgrind.h not installed at build time)\n");
#else
    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        printf("  callgrind: skip (valgrind is not installed)\n");
    } else if (mkdtemp(dir)) {
        for (int i = 0; i < 2; i++) {
            ir[i] = instructions(dir, sizes[i]) / (FIRINGS * (double)sizes[i]);
            printf("  instructions %7lu connections %8.0f Ir per firing\n", sizes[i], ir[i]);
        }
        rmdir(dir);
    }
#endif
    printf(" ratios (1M/1k; a binary heap gives about log2(1e6)/log2(1e3) = 2, a scan 1000):\n");
    bn_ratio("timer cost per firing, instructions", ir[1], ir[0], "1M vs 1k connections");
    bn_ratio("timer cost per firing, wall clock", ns[1], ns[0], "1M vs 1k connections");
    return 0;
}
