/*
 * rstack.h — a stack whose every entry point can be recorded: the layer a
 * driver (tun_linux.c, or a test) calls instead of the ts_* functions so
 * that `tcpstate replay` can later re-run the same calls (record.h).
 *
 * It owns the ts_stack and installs its own hooks, which call the driver's
 * hooks and write what they returned (ISN, port offset, timestamp offset)
 * and every transition into the record before passing them on. Every
 * function below calls the ts_* function of the same name at the stack
 * time of the latest input/output/advance (ts_rs_now) and records the
 * call with its result. Without a writer it is a thin pass-through.
 *
 * Read-only calls (ts_poll, ts_sock_info, counters) change nothing a
 * replay must repeat: use ts_rs_stack() for them.
 */
#ifndef TS_DRV_RSTACK_H
#define TS_DRV_RSTACK_H

#include <stddef.h>
#include <stdint.h>
#include "tcpstate.h"
#include "drv/record.h"

/* The output buffer size every recorder and replayer uses, so a replay asks
 * ts_stack_output() for exactly what the live run asked. */
#define TS_RS_BUF 65536

typedef struct ts_rstack ts_rstack;

/* Makes the stack from cfg (NULL: defaults) with hooks/user as the caller's
 * hooks. w (may be NULL: no recording) stays the caller's; the config is
 * written to it at once. NULL on ENOMEM. */
ts_rstack *ts_rs_new(const ts_config *cfg, const ts_hooks *hooks, void *user,
                     ts_rec_writer *w);
void ts_rs_free(ts_rstack *r);
ts_stack *ts_rs_stack(ts_rstack *r);
uint64_t ts_rs_now(const ts_rstack *r);
ts_rec_writer *ts_rs_writer(ts_rstack *r);

int ts_rs_add_addr(ts_rstack *r, uint32_t ip);
int ts_rs_input(ts_rstack *r, uint64_t now_us, const uint8_t *pkt, size_t len);
/* buf must hold TS_RS_BUF bytes. */
size_t ts_rs_output(ts_rstack *r, uint64_t now_us, uint8_t *buf);
void ts_rs_advance(ts_rstack *r, uint64_t now_us);

int ts_rs_socket(ts_rstack *r, ts_sock *out);
int ts_rs_bind(ts_rstack *r, ts_sock sk, const ts_addr *local);
int ts_rs_listen(ts_rstack *r, ts_sock sk, int backlog);
int ts_rs_connect(ts_rstack *r, ts_sock sk, const ts_addr *remote);
int ts_rs_accept(ts_rstack *r, ts_sock listener, ts_sock *out, ts_addr *peer);
long ts_rs_send(ts_rstack *r, ts_sock sk, const void *buf, size_t len);
long ts_rs_recv(ts_rstack *r, ts_sock sk, void *buf, size_t len);
int ts_rs_shutdown(ts_rstack *r, ts_sock sk, int how);
int ts_rs_close(ts_rstack *r, ts_sock sk);
int ts_rs_setsockopt(ts_rstack *r, ts_sock sk, int level, int opt, const void *val,
                     size_t len);
int ts_rs_setsockopt_int(ts_rstack *r, ts_sock sk, int level, int opt, int val);
int ts_rs_getsockopt(ts_rstack *r, ts_sock sk, int level, int opt, void *val, size_t *len);
int ts_rs_sysctl(ts_rstack *r, const char *name, const char *value, char *err,
                 size_t errlen);

#endif
