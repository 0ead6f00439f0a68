/*
 * memory.c — bytes per idle ESTABLISHED connection and per TIME_WAIT
 * entry. tcpstate: ts_stack_mem_live() deltas over N connections (what
 * the stack asked its allocator for, tables included, per connection end);
 * lwIP: sizeof(struct tcp_pcb) under Debian's build options, which lwIP
 * keeps for ESTABLISHED and TIME_WAIT alike. Both are also measured as
 * glibc heap growth (mallinfo2, allocator overhead included) over the
 * same workload, per connection end.
 */
#include "bench.h"

#include <stdio.h>

#if !TS_HAVE_LWIP
int main(void)
{
    printf("== memory per connection\n  skip: lwIP (liblwip-dev) is not installed\n");
    return 0;
}
#else

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "lwpeer.h"
#include "lwip/priv/tcp_priv.h"

#define N 1000

static size_t heap(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

typedef struct fig {
    double est, tw;           /* per connection end: established, TIME_WAIT */
    double heap_est, heap_tw; /* glibc heap, per end (TIME_WAIT: per entry) */
} fig;

/* N idle tcpstate connections 192.0.2.4 -> 192.0.2.2; f->est from the
 * client stack, and the glibc heap per end. */
static int ts_est(fig *f)
{
    static ts_sock c[N], a[N];
    ts_stack *s1 = lp_ts_new(LP_TS_IP, NULL), *s2 = lp_ts_new(LP_TS2_IP, NULL);
    ts_sock l;
    size_t m1, m2, h;
    int bad = !s1 || !s2 || lp_ts_listen(s1, 7000, &l) != 0;
    m1 = ts_stack_mem_live(s1), m2 = ts_stack_mem_live(s2), h = heap();
    for (int i = 0; i < N && !bad; i++) {
        ts_addr to = { LP_TS_IP, 7000 };
        bad = ts_socket(s2, &c[i]) != 0 || ts_connect(s2, c[i], &to) != TS_EINPROGRESS;
        lp_pump();
        bad = bad || ts_accept(s1, l, &a[i], NULL) != 0;
    }
    if (!bad) {
        f->est = (double)(ts_stack_mem_live(s2) - m2) / N;
        f->heap_est = (double)(heap() - h) / (2 * N);
        printf("  tcpstate idle ESTABLISHED, server end: %.0f B (accepted socket)\n",
               (double)(ts_stack_mem_live(s1) - m1) / N);
    }
    lp_ts_free(s1);
    lp_ts_free(s2);
    return bad ? -1 : 0;
}

/* N TIME_WAIT entries piled up by N whole lifecycles, one at a time (the
 * client closes first), in fresh stacks: per entry, from the client. */
static int ts_tw(fig *f)
{
    ts_stack *s1 = lp_ts_new(LP_TS_IP, NULL), *s2 = lp_ts_new(LP_TS2_IP, NULL);
    ts_sock l, c, a;
    size_t m2, h;
    int bad = !s1 || !s2 || lp_ts_listen(s1, 7000, &l) != 0;
    m2 = ts_stack_mem_live(s2), h = heap();
    for (int i = 0; i < N && !bad; i++) {
        ts_addr to = { LP_TS_IP, 7000 };
        bad = ts_socket(s2, &c) != 0 || ts_connect(s2, c, &to) != TS_EINPROGRESS;
        lp_pump();
        bad = bad || ts_accept(s1, l, &a, NULL) != 0;
        ts_close(s2, c);
        lp_pump();
        ts_close(s1, a);
        lp_pump();
    }
    bad = bad || ts_stack_conn_count(s2) != N || ts_stack_conn_count(s1) > 1;
    if (!bad) {
        f->tw = (double)(ts_stack_mem_live(s2) - m2) / N;
        f->heap_tw = (double)(heap() - h) / N;
    }
    lp_ts_free(s1);
    lp_ts_free(s2);
    return bad ? -1 : 0;
}

/* The same with lwIP at both ends (192.0.2.1 -> 192.0.2.3): N idle
 * connections, then (after a reset) N TIME_WAIT pcbs one at a time. */
static int lw_fig(fig *f)
{
    static lp_ep c[N];
    struct tcp_pcb *l = lp_lw_listen(LP_LW2_IP, 7000);
    size_t h = heap();
    int bad = !l;
    for (int i = 0; i < N && !bad; i++) {
        bad = lp_lw_connect(&c[i], LP_LW_IP, 0, LP_LW2_IP, 7000) != 0;
        lp_pump();
        bad = bad || !c[i].connected;
        lp_ep_remove(&c[i]); /* endpoints only for the connect; at most 32 are run */
    }
    if (bad || lp_lw_count() != 2 * N)
        return -1;
    f->est = (double)sizeof(struct tcp_pcb);
    f->heap_est = (double)(heap() - h) / (2 * N);
    lp_lw_reset();
    l = lp_lw_listen(LP_LW2_IP, 7000);
    h = heap();
    for (int i = 0; i < N && !bad; i++) {
        lp_ep e;
        memset(&e, 0, sizeof e);
        bad = lp_lw_connect(&e, LP_LW_IP, 0, LP_LW2_IP, 7000) != 0;
        lp_pump();
        bad = bad || !e.connected;
        lp_ep_remove(&e);
        tcp_arg(e.pcb, NULL);
        tcp_close(e.pcb); /* the accepted end closes on the FIN (tcp_recv_null) */
        lp_pump();
    }
    if (bad || lp_lw_count() != N)
        return -1;
    f->tw = (double)sizeof(struct tcp_pcb);
    f->heap_tw = (double)(heap() - h) / N;
    lp_lw_reset();
    return 0;
}

int main(void)
{
    fig t, w;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== memory per connection (%d connections, client end unless said)\n", N);
    if (lp_init() != 0 || ts_est(&t) != 0 || ts_tw(&t) != 0 || lw_fig(&w) != 0) {
        printf("  failed: the connections did not come up as expected\n");
        return 1;
    }
    lp_lw_timers(0);
    printf("  idle ESTABLISHED   tcpstate %5.0f B (ts_stack_mem_live)   lwIP %4.0f B "
           "(sizeof struct tcp_pcb)\n", t.est, w.est);
    printf("  TIME_WAIT entry    tcpstate %5.0f B (ts_stack_mem_live)   lwIP %4.0f B "
           "(the whole pcb is kept)\n", t.tw, w.tw);
    printf("  glibc heap growth  ESTABLISHED (per end): tcpstate %.0f B, lwIP %.0f B; "
           "TIME_WAIT (per entry): tcpstate %.0f B, lwIP %.0f B\n",
           t.heap_est, w.heap_est, t.heap_tw, w.heap_tw);
    printf(" ratios (bytes; below 1: tcpstate smaller):\n");
    bn_ratio("tcpstate/lwIP idle ESTABLISHED", t.est, w.est, "mem_live vs sizeof(tcp_pcb)");
    bn_ratio("tcpstate/lwIP TIME_WAIT", t.tw, w.tw, "mem_live vs sizeof(tcp_pcb)");
    bn_ratio("tcpstate/lwIP heap ESTABLISHED", t.heap_est, w.heap_est, "glibc heap per end");
    bn_ratio("tcpstate/lwIP heap TIME_WAIT", t.heap_tw, w.heap_tw, "glibc heap per entry");
    return 0;
}
#endif
