/*
 * bench.h — what the benchmark programs share: a wall clock, medians and
 * ratio lines, the Linux kernel over loopback as a peer, and (with lwIP)
 * the in-process workloads on tests/lwip's link.
 *
 * Absolute times on shared machines are noise; every program prints its
 * figures as ratios against a peer measured in the same run, interleaved
 * (A, B, A, B, ...) and reduced to medians. Callgrind's instruction counts
 * (bench/instr.c) are the stable figure.
 */
#ifndef TS_BENCH_H
#define TS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifndef TS_HAVE_LWIP
#define TS_HAVE_LWIP 0
#endif

/* Monotonic wall clock, ns. */
uint64_t bn_now_ns(void);
/* Median of n values (sorts v). */
double bn_median(double *v, int n);
/* "  label  a/b 1.23x" with the reading of the ratio. */
void bn_ratio(const char *label, double a, double b, const char *what);

/* ------------------------------------------ interleaved comparisons */

#define BN_ROUNDS 5

/* One configuration of a comparison: who sends (from) to whom (to), BN_TS
 * or BN_LW in process, -1 for the kernel; `amount` per run (bytes,
 * connections) once sized; the rate of each round and their median. */
typedef struct bn_conf {
    const char *name;
    int from, to;
    uint64_t amount;
    double rate[BN_ROUNDS];
    double median;
    int ok;
} bn_conf;

/* One run of `amount`: seconds, negative on failure. */
typedef double (*bn_run_fn)(const bn_conf *c, uint64_t amount);
/* The amount a run should have, given that `probe` took `seconds`. */
typedef uint64_t (*bn_size_fn)(const bn_conf *c, uint64_t probe, double seconds);

/* Sizes every configuration with one probe run, then runs BN_ROUNDS
 * rounds, configurations interleaved (A, B, ..., A, B, ...), and sets each
 * rate (amount per second) and median; a failed run marks it not ok. */
void bn_compare(bn_conf *cs, int n, bn_run_fn run, uint64_t probe, bn_size_fn size);

/* ------------------------------------------- the Linux kernel, loopback */

/* The MTU of lo in this network namespace, 0 if unknown. */
int bn_lo_mtu(void);
/* Moves bytes over one TCP connection between two non-blocking sockets of
 * this process on 127.0.0.1 (one thread, send and receive alternating);
 * returns the seconds the transfer took (connect and close excluded), or
 * a negative value when a socket call failed (errno says why). */
double bn_kernel_bulk(uint64_t bytes);
/* n connection lifecycles on 127.0.0.1 (connect, accept, close by the
 * client, EOF read and close by the server); seconds, negative on error. */
double bn_kernel_conns(int n);

/* ------------------------------------------ in-process (tests/lwip link) */

enum { BN_TS = 0, BN_LW = 1 };
extern const char *const bn_kind_name[2]; /* "tcpstate", "lwIP" */

#if TS_HAVE_LWIP
/* Sets up the world (lwIP once; two tcpstate stacks at 192.0.2.2 and .4
 * with default configuration). 0 or -1. */
int bn_world(void);
void bn_world_free(void);
/* One connection from a client of kind `from` to a server of kind `to`
 * (BN_TS/BN_LW) carrying `bytes` from client to server, opened and closed
 * inside; the segments delivered on the link go to *pkts (may be NULL).
 * 0, or -1 when the transfer did not complete. */
int bn_bulk(int from, int to, uint64_t bytes, uint64_t *pkts);
/* n full connection lifecycles client -> server (connect, accept, client
 * closes, server closes at EOF); every `batch` connections virtual time
 * moves on until each TIME_WAIT has ended, so neither stack holds more
 * than `batch` of them. 0 or -1. */
int bn_conns(int from, int to, int n, int batch);
#endif

#endif
