/*
 * tun_apps.h — the commands `tcpstate tun` runs over the TUN driver
 * (private to src/cli): a server and a client.
 *
 * The data pattern (served by `serve --http`, sent by `connect
 * --send-bytes`, checked by `connect --recv` and by the interop tests):
 * 16-byte lines, each the byte offset of the line's start in the stream
 * as 15 lowercase hexadecimal digits, zero-padded, then '\n':
 *   "000000000000000\n" "000000000000010\n" "000000000000020\n" ...
 * cut after N bytes. A misplaced, lost or repeated byte shows at once, and
 * where.
 */
#ifndef TS_CLI_TUN_APPS_H
#define TS_CLI_TUN_APPS_H

#include <stddef.h>
#include <stdint.h>
#include "drv/tun_linux.h"

/* Writes bytes [off, off + n) of the pattern into buf. */
void ts_pattern_fill(uint8_t *buf, uint64_t off, size_t n);
/* The offset of the first byte of buf (stream offset off) that is not
 * the pattern, or UINT64_MAX when all n match. */
uint64_t ts_pattern_check(const uint8_t *buf, uint64_t off, size_t n);

enum { SERVE_DISCARD = 0, SERVE_ECHO, SERVE_HTTP, SERVE_NO_READ };

typedef struct serve_opts {
    uint16_t port;
    int mode;               /* SERVE_* */
    uint64_t http_bytes;    /* body length of each HTTP response */
    int backlog;
    int keepalive;          /* set TCP keepalive on each accepted socket */
    int ka_idle, ka_intvl, ka_cnt;
    long close_after_ms;    /* >= 0: close each connection this long after accept */
} serve_opts;

typedef struct connect_opts {
    ts_addr remote;
    uint16_t local_port;    /* 0: ephemeral */
    uint64_t send_bytes;
    int recv;               /* read (and check the pattern) until the peer's FIN */
    int keepalive, ka_idle, ka_intvl, ka_cnt;
    long hold_ms;           /* idle this long once connected, before sending */
    int syncnt;             /* TCP_SYNCNT, 0: the stack's */
} connect_opts;

/* Fill app for ts_tun_opts; its state is allocated (freed by
 * ts_tun_app_free). 0 or TS_ENOMEM. The apps report their outcome on
 * stderr, one line each ("tcpstate tun connect: ..."). */
int ts_tun_serve_app(ts_tun_app *app, const serve_opts *o);
int ts_tun_connect_app(ts_tun_app *app, const connect_opts *o);
void ts_tun_app_free(ts_tun_app *app);

#endif
