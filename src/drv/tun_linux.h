/*
 * tun_linux.h — tcpstate on a real network interface: a Linux TUN device
 * (IFF_TUN | IFF_NO_PI) and an event loop (epoll over the device, a
 * timerfd armed at the stack's next deadline, a signalfd for SIGINT and
 * SIGTERM). Linux only.
 *
 * The driver owns the device, the clock (CLOCK_MONOTONIC, µs since open),
 * the stack (through rstack.h, so --record works) and the secrets its
 * hooks use: ISNs per RFC 6528 (a 64 ns clock plus SipHash-2-4 of the
 * 4-tuple), ephemeral port offsets per RFC 6056 algorithm 3 (SipHash of
 * local address, remote address and port) and timestamp offsets (SipHash
 * of the address pair, as Linux's secure_tcp_ts_off), each under its own
 * key from getrandom().
 *
 * The application (a command) is a set of callbacks called from the loop,
 * never from inside a stack call, so they may call every ts_rs_* function:
 *
 *   ts_tun *t;  ts_tun_open(&t, &opts, err, sizeof err);
 *   int status = ts_tun_run(t);      until the app finishes or a signal
 *   ts_tun_print_counters(t, stdout);
 *   ts_tun_close(t);                 removes the device
 *
 * Nothing here chooses the network namespace: the caller's is used. Tests
 * run it only inside one they created (tests/interop).
 */
#ifndef TS_DRV_TUN_LINUX_H
#define TS_DRV_TUN_LINUX_H

#include <stdint.h>
#include <stdio.h>
#include "tcpstate.h"
#include "drv/rstack.h"

typedef struct ts_tun ts_tun;

typedef struct ts_tun_app {
    void *user;
    /* Once the device is up. Returns 0, or an exit status to stop at once. */
    int (*start)(void *user, ts_tun *t);
    /* A socket's readiness changed (ts_poll bits now set). */
    void (*ready)(void *user, ts_tun *t, ts_sock s, unsigned events);
    /* The time asked for with ts_tun_wake came. */
    void (*timer)(void *user, ts_tun *t);
    /* SIGINT or SIGTERM: close every socket (the driver then lets the
     * stack finish the closes, at most linger_ms, and returns). */
    void (*stop)(void *user, ts_tun *t);
} ts_tun_app;

typedef struct ts_tun_opts {
    const char *dev;        /* device name; NULL: "tcpstate0" */
    uint32_t addr;          /* tcpstate's address (host order) */
    uint32_t kernel_addr;   /* the kernel's address on the device */
    int prefix;             /* of kernel_addr: 24 */
    const ts_config *cfg;   /* NULL: Linux's defaults; cfg->mtu sets the device's */
    const char *pcap_path;  /* NULL: no capture */
    const char *record_path;/* NULL: no record */
    FILE *json;             /* NULL: no JSON Lines trace */
    int hold_syn;           /* debug: hold our first SYN until the peer's SYN arrives */
    int hold_fin;           /* debug: hold our first FIN until the peer's FIN arrives */
    unsigned linger_ms;     /* after the app is done or stopped: 0 means 3000 */
    ts_tun_app app;
} ts_tun_opts;

/* Error kinds of ts_tun_open. */
enum { TS_TUN_ERR_SETUP = 1, TS_TUN_ERR_NO_DEVICE, TS_TUN_ERR_NOT_ROOT };

/* Whether addr and kernel_addr/prefix make sense (two hosts of one
 * prefix). 0, or -1 with a one-line reason. */
int ts_tun_check_addrs(const ts_tun_opts *o, char *err, size_t errlen);

/* Checks permissions, creates and configures the device, makes the stack
 * and opens the capture and record files. 0, or an error kind with a
 * one-line message in err (no device: which; not root: which). */
int ts_tun_open(ts_tun **out, const ts_tun_opts *o, char *err, size_t errlen);

/* Runs the loop: app.start, then events, until the app called
 * ts_tun_finish or a signal stopped it, and then until every connection is
 * closed as far as it can be (only TIME_WAIT, FIN_WAIT_2 or nothing left)
 * or linger_ms passed. A second signal ends it at once. Returns the
 * status given to ts_tun_finish (0 after a signal), or 1 when the loop
 * itself failed (message on stderr). */
int ts_tun_run(ts_tun *t);

/* The app is done; the loop winds down and ts_tun_run returns status. */
void ts_tun_finish(ts_tun *t, int status);
/* Calls app.timer at (or soon after) at_us on the driver's clock;
 * UINT64_MAX cancels. One wake-up at a time. */
void ts_tun_wake(ts_tun *t, uint64_t at_us);
uint64_t ts_tun_now(const ts_tun *t);
ts_rstack *ts_tun_rstack(ts_tun *t);
const char *ts_tun_dev(const ts_tun *t);

/* Driver counters (datagrams and bytes each way, bad datagrams, write
 * errors) then every non-zero stack counter and drop reason, one
 * "Name value" line each (nstat's format). */
void ts_tun_print_counters(ts_tun *t, FILE *out);
/* The same as one JSON line {"t": T, "ev": "counters", ...}. */
void ts_tun_json_counters(ts_tun *t, FILE *out);

/* The final JSON line: {"t": T, "ev": "end", "conns": [...]}, as sim's. */
void ts_tun_json_end(ts_tun *t, FILE *out);

/* Closes the capture (flushed), finishes the record (with its end record)
 * and removes the device. Returns 0, or -1 after reporting a failure to
 * finish the record or capture on stderr. NULL is fine. */
int ts_tun_close(ts_tun *t);

#endif
