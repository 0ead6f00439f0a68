/*
 * instr.c — instruction counts, the stable figure: this program runs
 * itself under `valgrind --tool=callgrind` on small fixed workloads
 * (bench.h's bn_bulk and bn_conns, the same code bulk.c and lifecycle.c
 * time) and prints instructions per segment and per connection for
 * tcpstate and lwIP, with their ratios.
 *
 * Each figure is the difference of two runs of different sizes divided by
 * the difference in units, so start-up and set-up cancel out. What is
 * left is the whole program's per-unit cost: both stacks of a pair plus
 * the in-memory link and the endpoint applications, which are the same
 * code for every pair (in lwIP's case, its 100-1000 ms cyclic timers too,
 * run through virtual time while TIME_WAIT expires).
 *
 *   instr                      the benchmark (needs valgrind)
 *   instr --work bulk F T B    one workload: F/T are ts or lw, B bytes
 *   instr --work conns F T N   N lifecycles (TIME_WAIT expired every BATCH)
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 100
#define SEG 1460.0

#if TS_HAVE_LWIP
static int kind(const char *s) { return strcmp(s, "lw") == 0 ? BN_LW : BN_TS; }

/* The workload side: prints "units N" (packets for bulk, connections). */
static int work(int argc, char **argv)
{
    uint64_t pkts = 0, n;
    if (argc != 6 || bn_world() != 0)
        return 2;
    n = strtoull(argv[5], NULL, 10);
    if (strcmp(argv[2], "bulk") == 0) {
        if (bn_bulk(kind(argv[3]), kind(argv[4]), n, &pkts) != 0)
            return 1;
        printf("units %llu\n", (unsigned long long)pkts);
    } else {
        if (bn_conns(kind(argv[3]), kind(argv[4]), (int)n, BATCH) != 0)
            return 1;
        printf("units %llu\n", (unsigned long long)n);
    }
    bn_world_free();
    return 0;
}
#endif

/* Runs one workload under callgrind: its instruction count (0: failed)
 * and the units it reported. */
static double measure(const char *dir, const char *what, const char *from, const char *to,
                      unsigned long size, double *units)
{
    char cmd[1024], out[512], line[512];
    double ir = 0;
    FILE *p;
    snprintf(out, sizeof out, "%s/cg.out", dir);
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --callgrind-out-file=%s /proc/%ld/exe --work %s %s %s %lu "
             "2>/dev/null", out, (long)getpid(), what, from, to, size);
    if (!(p = popen(cmd, "r")))
        return 0;
    *units = 0;
    while (fgets(line, sizeof line, p))
        if (strncmp(line, "units ", 6) == 0)
            *units = strtod(line + 6, NULL);
    if (pclose(p) != 0 || !(p = fopen(out, "r")))
        return 0;
    while (fgets(line, sizeof line, p))
        if (strncmp(line, "summary:", 8) == 0 || strncmp(line, "totals:", 7) == 0)
            ir = strtod(strchr(line, ':') + 1, NULL);
    fclose(p);
    unlink(out);
    return ir;
}

typedef struct fig {
    const char *name, *what, *from, *to;
    unsigned long small, big;
    double per_unit, per_seg; /* Ir per unit; bulk: also per 1460 payload bytes */
} fig;

static int run_fig(const char *dir, fig *f)
{
    double u1, u2, a = measure(dir, f->what, f->from, f->to, f->small, &u1);
    double b = measure(dir, f->what, f->from, f->to, f->big, &u2);
    if (a <= 0 || b <= a || u2 <= u1)
        return -1;
    f->per_unit = (b - a) / (u2 - u1);
    f->per_seg = (b - a) / ((double)(f->big - f->small) / SEG);
    return 0;
}

static void print_fig(const fig *f, int ok)
{
    if (!ok)
        printf("  %-38s failed\n", f->name);
    else if (strcmp(f->what, "bulk") == 0)
        printf("  %-38s %8.0f Ir per 1460-byte segment  (%6.0f per datagram on the link)\n",
               f->name, f->per_seg, f->per_unit);
    else
        printf("  %-38s %8.0f Ir per connection\n", f->name, f->per_unit);
}

int main(int argc, char **argv)
{
    fig fs[] = {
        { "bulk tcpstate -> tcpstate", "bulk", "ts", "ts", 2u << 20, 6u << 20, 0, 0 },
        { "bulk lwIP -> lwIP", "bulk", "lw", "lw", 2u << 20, 6u << 20, 0, 0 },
        { "bulk lwIP -> tcpstate", "bulk", "lw", "ts", 2u << 20, 6u << 20, 0, 0 },
        { "bulk tcpstate -> lwIP", "bulk", "ts", "lw", 2u << 20, 6u << 20, 0, 0 },
        { "lifecycle tcpstate <-> tcpstate", "conns", "ts", "ts", 200, 600, 0, 0 },
        { "lifecycle lwIP <-> lwIP", "conns", "lw", "lw", 200, 600, 0, 0 },
    };
    const int n = (int)(sizeof fs / sizeof fs[0]);
    char dir[] = "/tmp/tcpstate-instr-XXXXXX";
    int ok[6];
    setvbuf(stdout, NULL, _IOLBF, 0);
#if TS_HAVE_LWIP
    if (argc > 1 && strcmp(argv[1], "--work") == 0)
        return work(argc, argv);
#else
    (void)argc, (void)argv;
    printf("== instructions (callgrind)\n  skip: lwIP (liblwip-dev) is not installed\n");
    return 0;
#endif
    printf("== instructions (callgrind; per unit = difference of two run sizes)\n");
    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        printf("  skip: valgrind is not installed\n");
        return 0;
    }
    if (!mkdtemp(dir))
        return 1;
    for (int i = 0; i < n; i++) {
        ok[i] = run_fig(dir, &fs[i]) == 0;
        print_fig(&fs[i], ok[i]);
    }
    rmdir(dir);
    printf("  (whole program: both stacks, the in-memory link, the applications; "
           "lifecycle: TIME_WAIT expiry every %d)\n", BATCH);
    printf(" ratios (instructions; below 1: tcpstate cheaper):\n");
    bn_ratio("tcpstate/lwIP per segment", ok[0] ? fs[0].per_seg : 0, ok[1] ? fs[1].per_seg : 0,
             "tcpstate<->tcpstate vs lwIP<->lwIP");
    bn_ratio("tcpstate/lwIP per connection", ok[4] ? fs[4].per_unit : 0,
             ok[5] ? fs[5].per_unit : 0, "tcpstate<->tcpstate vs lwIP<->lwIP");
    return 0;
}
