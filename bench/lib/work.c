/*
 * work.c — the in-process workloads of bench.h on tests/lwip's link:
 * one bulk connection, and many connection lifecycles, between any two of
 * tcpstate and lwIP. Used by bulk.c and lifecycle.c (timed) and instr.c
 * (counted under callgrind), so every figure comes from the same code.
 *
 * Addresses: a tcpstate client is the stack at 192.0.2.4, a tcpstate
 * server the one at 192.0.2.2; an lwIP client uses 192.0.2.1, an lwIP
 * server 192.0.2.3 when the client is lwIP too (its own other interface),
 * 192.0.2.1 otherwise. Both stacks keep their defaults; the applications
 * send zeros and discard what they read (tcpstate: ts_recv into NULL;
 * lwIP: pbuf_free after tcp_recved), so neither side copies data out.
 */
#include "bench.h"

#if TS_HAVE_LWIP
#include <string.h>

#include "lwpeer.h"

static ts_stack *bn_s1, *bn_s2; /* server 192.0.2.2, client 192.0.2.4 */
static uint16_t bn_port = 5000;

int bn_world(void)
{
    if (lp_init() != 0)
        return -1;
    bn_s1 = lp_ts_new(LP_TS_IP, NULL);
    bn_s2 = lp_ts_new(LP_TS2_IP, NULL);
    return bn_s1 && bn_s2 ? 0 : -1;
}

void bn_world_free(void)
{
    lp_lw_reset();
    lp_ts_free(bn_s1);
    lp_ts_free(bn_s2);
    bn_s1 = bn_s2 = NULL;
}

static uint32_t bn_server_ip(int from, int to)
{
    if (to == BN_TS)
        return LP_TS_IP;
    return from == BN_LW ? LP_LW2_IP : LP_LW_IP;
}

/* A listener of kind `to` on a fresh port; lwIP's or tcpstate's handle. */
typedef struct bn_server {
    int kind;
    uint16_t port;
    ts_sock ts;
    struct tcp_pcb *lw;
} bn_server;

static int bn_listen(bn_server *v, int from, int to)
{
    v->kind = to;
    v->port = bn_port++;
    if (bn_port > 30000)
        bn_port = 5000;
    if (to == BN_TS)
        return lp_ts_listen(bn_s1, v->port, &v->ts);
    v->lw = lp_lw_listen(bn_server_ip(from, to), v->port);
    return v->lw ? 0 : -1;
}

static void bn_unlisten(bn_server *v)
{
    if (v->kind == BN_TS)
        ts_close(bn_s1, v->ts);
    else
        lp_lw_close_listener(v->lw);
}

/* Opens client a to server v; the server's end goes to b (tcpstate:
 * accepted once the handshake is over). 0 or -1. */
static int bn_open(lp_ep *a, lp_ep *b, const bn_server *v, int from)
{
    uint32_t ip = bn_server_ip(from, v->kind);
    int r;
    if (v->kind == BN_LW)
        lp_lw_expect(v->lw, b);
    if (from == BN_TS)
        r = lp_ts_connect(a, bn_s2, 0, ip, v->port);
    else
        r = lp_lw_connect(a, LP_LW_IP, 0, ip, v->port);
    if (r != 0)
        return -1;
    lp_pump(); /* zero-delay link: the handshake completes at once */
    if (v->kind == BN_TS) {
        ts_sock sk;
        if (ts_accept(bn_s1, v->ts, &sk, NULL) != 0)
            return -1;
        lp_ep_attach_ts(b, bn_s1, sk);
        b->connected = 1;
    }
    return 0;
}

int bn_bulk(int from, int to, uint64_t bytes, uint64_t *pkts)
{
    lp_ep a, b, *eps[3] = { &a, &b, NULL };
    bn_server v;
    uint64_t d0 = lp_delivered();
    int ok;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.tx_goal = bytes, a.close = LP_SHUT_AFTER_TX;
    b.close = LP_CLOSE_AFTER_EOF;
    lp_lw_timers(from == BN_LW || to == BN_LW);
    if (bn_listen(&v, from, to) != 0)
        return -1;
    ok = bn_open(&a, &b, &v, from) == 0 && lp_run(lp_eps_done, eps, lp_now() + 600000000u);
    ok = ok && !a.got_err && !b.got_err && b.rx_done == bytes;
    lp_ep_remove(&a);
    lp_ep_remove(&b);
    bn_unlisten(&v);
    if (pkts)
        *pkts = lp_delivered() - d0;
    return ok ? 0 : -1;
}

/* done() for lp_run: no TIME_WAIT left (tcpstate: only the listener is
 * left on the server, nothing on the client; lwIP: no pcb). */
static int bn_quiet(void *arg)
{
    (void)arg;
    return ts_stack_conn_count(bn_s1) <= 1 && ts_stack_conn_count(bn_s2) == 0 &&
           lp_lw_count() == 0;
}

int bn_conns(int from, int to, int n, int batch)
{
    bn_server v;
    int bad = 0;
    lp_lw_timers(from == BN_LW || to == BN_LW);
    if (bn_listen(&v, from, to) != 0)
        return -1;
    for (int i = 0; i < n && !bad; i++) {
        lp_ep a, b, *eps[3] = { &a, &b, NULL };
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        a.close = LP_CLOSE_AFTER_TX; /* nothing to send: closes once connected */
        b.close = LP_CLOSE_AFTER_EOF;
        bad = bn_open(&a, &b, &v, from) != 0 || !lp_run(lp_eps_done, eps, lp_now() + 10000000u) ||
              a.got_err || b.got_err;
        lp_ep_remove(&a);
        lp_ep_remove(&b);
        if ((i + 1) % batch == 0 || i + 1 == n)
            bad |= !lp_run(bn_quiet, NULL, lp_now() + 200000000u);
    }
    bn_unlisten(&v);
    return bad ? -1 : 0;
}

#else
typedef int bn_no_lwip; /* ISO C wants something in a translation unit */
#endif
