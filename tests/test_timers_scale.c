/*
 * test_timers_scale.c — the timer heap with 100,000 connections in
 * assorted states, driven the way a driver does it: jump to
 * ts_stack_next_deadline(), ts_stack_advance(), drain the output. Every
 * object's first timer event must come at exactly the deadline Linux's
 * rules give it, and objects whose deadlines are equal must fire in the
 * order their timers were set (DESIGN.md rule 3).
 *
 * The peer is the wire layer itself (ts_wire_build/parse): SYN-ACKs and
 * FINs are written straight into the stack, so building 100,000
 * connections costs a few packets each. Objects are told apart by the
 * peer's address, 10.KIND.i/256.i%256:
 *   1  SYN_SENT into a black hole: the first SYN retransmission 1 s after
 *      connect() (connects 7 µs apart: all different deadlines);
 *   2  ESTABLISHED with SO_KEEPALIVE and TCP_KEEPIDLE 1..32 s: the first
 *      probe exactly the idle time after the handshake;
 *   3  TIME_WAIT, entered by groups of 1000 at the same instant: CLOSED
 *      60 s later, in each group in the order the entries were made;
 *   4  requests (SYN_RECEIVED) of one listener: the SYN-ACK again 1 s
 *      after the first.
 */
#include "harness.h"
#include "core/wire.h"

#include <stdlib.h>

#define PER_KIND 25000
#define GROUP 1000
#define LOCAL 0xC0000202u
#define SEC 1000000ull

enum { K_SYN = 1, K_KA, K_TW, K_REQ, K_MAX };

typedef struct obj {
    uint64_t want, got;  /* the deadline, and when it fired (0: not yet) */
    uint32_t isn;        /* the stack's ISN, from its SYN */
    uint16_t lport;
    uint8_t seen;        /* segments of the watched kind seen so far */
} obj;

typedef struct world {
    ts_stack *s;
    uint64_t now;
    obj *o[K_MAX];
    uint32_t *tw_order;  /* TIME_WAIT indexes in the order they closed */
    size_t ntw;
    int bad;             /* an event on no known object */
} world;

static uint32_t peer_ip(int kind, int i) { return 0x0A000000u | (uint32_t)kind << 16 | (uint32_t)i; }

static obj *obj_of(world *w, uint32_t ip, int *kind, int *idx)
{
    *kind = (int)(ip >> 16) & 255;
    *idx = (int)(ip & 0xFFFF);
    if ((ip >> 24) != 10 || *kind < K_SYN || *kind >= K_MAX || *idx >= PER_KIND)
        return NULL;
    return &w->o[*kind][*idx];
}

/* The first timer-driven segment of each object, by kind. */
static void on_segment(void *user, const ts_segment_ev *ev)
{
    world *w = user;
    int kind, i;
    obj *o;
    if (ev->kind != TS_SEG_TX)
        return;
    o = obj_of(w, ev->tuple.remote.ip, &kind, &i);
    if (!o) {
        w->bad++;
        return;
    }
    if ((kind == K_SYN && ev->flags == TS_TH_SYN) ||
        (kind == K_REQ && ev->flags == (TS_TH_SYN | TS_TH_ACK)) ||
        (kind == K_KA && ev->flags == TS_TH_ACK && ev->len == 0))
        if (++o->seen == 2 && !o->got)
            o->got = ev->now_us; /* the first one is not a timer's */
}

static void on_transition(void *user, const ts_transition_ev *ev)
{
    world *w = user;
    int kind, i;
    obj *o = obj_of(w, ev->tuple.remote.ip, &kind, &i);
    if (!o || kind != K_TW || ev->from != TS_TIME_WAIT || ev->to != TS_CLOSE)
        return;
    o->got = ev->now_us;
    w->tw_order[w->ntw++] = (uint32_t)i;
}

static void drain(world *w)
{
    uint8_t buf[2048];
    while (ts_stack_output(w->s, w->now, buf, sizeof buf) > 0)
        ;
}

/* Takes the stack's pending output and returns the last SYN's seq and
 * source port for the destination ip (0 if none). */
static int take_syn(world *w, uint32_t ip, uint32_t *isn, uint16_t *lport)
{
    uint8_t buf[2048];
    size_t n;
    int found = 0;
    while ((n = ts_stack_output(w->s, w->now, buf, sizeof buf)) > 0) {
        ts_seg g;
        if (ts_wire_parse(buf, n, &g) == 0 && g.dst_ip == ip && (g.flags & TS_TH_SYN)) {
            *isn = g.seq;
            *lport = g.src_port;
            found = 1;
        }
    }
    return found;
}

static void inject(world *w, uint32_t ip, uint16_t sport, uint16_t dport, uint8_t flags,
                   uint32_t seq, uint32_t ack)
{
    ts_seg g;
    uint8_t buf[128];
    size_t n;
    memset(&g, 0, sizeof g);
    g.src_ip = ip;
    g.dst_ip = LOCAL;
    g.src_port = sport;
    g.dst_port = dport;
    g.flags = flags;
    g.seq = seq;
    g.ack = ack;
    g.win = 65535;
    if (flags & TS_TH_SYN) {
        g.opt_present = TS_OPT_MSS;
        g.mss = 1460;
    }
    n = ts_wire_build(&g, buf, sizeof buf);
    ts_stack_input(w->s, w->now, buf, n);
}

/* connect() to ip:80 with optional keepalive idle; the SYN's ISN/port. */
static int open_active(world *w, obj *o, uint32_t ip, int keepidle)
{
    ts_sock sk;
    ts_addr r = { ip, 80 };
    int one = 1;
    ts_stack_advance(w->s, w->now); /* socket calls act at the stack's time */
    if (ts_socket(w->s, &sk) != 0)
        return -1;
    if (keepidle) {
        ts_setsockopt(w->s, sk, TS_SOL_TCP, TS_TCP_KEEPIDLE, &keepidle, sizeof keepidle);
        ts_setsockopt(w->s, sk, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &one, sizeof one);
    }
    if (ts_connect(w->s, sk, &r) != TS_EINPROGRESS)
        return -1;
    return take_syn(w, ip, &o->isn, &o->lport) ? 0 : -1;
}

/* The peer's SYN-ACK (its ISN 5000): the connection is ESTABLISHED. */
static void synack(world *w, obj *o, uint32_t ip)
{
    inject(w, ip, 80, o->lport, TS_TH_SYN | TS_TH_ACK, 5000, o->isn + 1);
    drain(w);
}

static int build(world *w)
{
    ts_sock l;
    ts_addr la = { LOCAL, 8080 };
    for (int i = 0; i < PER_KIND; i++) {
        w->now = (uint64_t)i * 7; /* K_SYN: every deadline different */
        if (open_active(w, &w->o[K_SYN][i], peer_ip(K_SYN, i), 0) < 0)
            return -1;
        w->o[K_SYN][i].want = w->now + 1 * SEC;
        w->o[K_SYN][i].seen = 1;
    }
    for (int i = 0; i < PER_KIND; i++) {
        obj *o = &w->o[K_KA][i];
        int idle = 1 + i % 32;
        w->now = 200000 + (uint64_t)i * 3;
        if (open_active(w, o, peer_ip(K_KA, i), idle) < 0)
            return -1;
        synack(w, o, peer_ip(K_KA, i)); /* our ACK is the first ACK seen */
        o->seen = 1;
        o->want = w->now + (uint64_t)idle * SEC;
    }
    /* K_TW: established, closed (FIN), then the peer's FIN+ACK: TIME_WAIT
     * directly; a group of GROUP at each instant */
    for (int i = 0; i < PER_KIND; i++) {
        obj *o = &w->o[K_TW][i];
        ts_sock sk;
        ts_addr r = { peer_ip(K_TW, i), 80 };
        w->now = 400000 + (uint64_t)(i / GROUP) * 1000;
        ts_stack_advance(w->s, w->now);
        if (ts_socket(w->s, &sk) != 0 || ts_connect(w->s, sk, &r) != TS_EINPROGRESS ||
            !take_syn(w, r.ip, &o->isn, &o->lport))
            return -1;
        synack(w, o, r.ip);
        ts_close(w->s, sk);
        drain(w);
        inject(w, r.ip, 80, o->lport, TS_TH_FIN | TS_TH_ACK, 5001, o->isn + 2);
        drain(w);
        o->want = w->now + 60 * SEC;
    }
    if (ts_socket(w->s, &l) != 0 || ts_bind(w->s, l, &la) != 0 || ts_listen(w->s, l, 4 * PER_KIND) != 0)
        return -1;
    for (int i = 0; i < PER_KIND; i++) {
        w->now = 500000 + (uint64_t)i * 5;
        inject(w, peer_ip(K_REQ, i), 5000, 8080, TS_TH_SYN, 9000, 0);
        drain(w);
        w->o[K_REQ][i].want = w->now + 1 * SEC;
    }
    return 0;
}

/* The driver's loop: jump to the next deadline, fire, send. */
static void run_until(world *w, uint64_t end)
{
    uint64_t t;
    while ((t = ts_stack_next_deadline(w->s)) <= end) {
        if (t > w->now)
            w->now = t;
        ts_stack_advance(w->s, w->now);
        drain(w);
    }
}

TS_TEST(timers_100k_fire_at_their_deadlines_in_order)
{
    world w;
    ts_config cfg;
    ts_hooks h;
    size_t late = 0, missing = 0, misordered = 0;
    memset(&w, 0, sizeof w);
    ts_config_default(&cfg);
    cfg.mem = th_mem();
    cfg.tcp_max_syn_backlog = 4 * PER_KIND;
    cfg.somaxconn = 4 * PER_KIND; /* the backlog bounds the requests (Linux) */
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.on_segment = on_segment;
    h.on_transition = on_transition;
    w.s = ts_stack_new(&cfg, &h, &w);
    CHECK(w.s != NULL);
    CHECK_EQ(ts_stack_add_addr(w.s, LOCAL), 0);
    for (int k = K_SYN; k < K_MAX; k++)
        w.o[k] = calloc(PER_KIND, sizeof(obj));
    w.tw_order = calloc(PER_KIND, sizeof(uint32_t));
    CHECK(w.o[K_SYN] && w.o[K_KA] && w.o[K_TW] && w.o[K_REQ] && w.tw_order);
    if (build(&w) != 0)
        th_fail(__FILE__, __LINE__, "could not build the connections");
    CHECK_EQ(ts_stack_conn_count(w.s), 4 * PER_KIND); /* listeners are not counted */
    run_until(&w, 62 * SEC);
    CHECK_EQ(w.bad, 0);
    for (int k = K_SYN; k < K_MAX; k++)
        for (int i = 0; i < PER_KIND; i++) {
            const obj *o = &w.o[k][i];
            if (!o->got)
                missing++;
            else if (o->got != o->want && late++ < 3)
                th_fail(__FILE__, __LINE__, "kind %d #%d fired at %llu µs, deadline %llu", k,
                        i, (unsigned long long)o->got, (unsigned long long)o->want);
        }
    CHECK_EQ(missing, 0);
    CHECK_EQ(late, 0);
    /* equal deadlines: each group of TIME_WAIT entries closed in the order
     * they were made */
    CHECK_EQ(w.ntw, PER_KIND);
    for (size_t j = 1; j < w.ntw; j++)
        misordered += w.tw_order[j] < w.tw_order[j - 1];
    CHECK_EQ(misordered, 0);
    CHECK_EQ(ts_stack_counter_by_name(w.s, "TcpExtTW"), PER_KIND);
    ts_stack_free(w.s);
    for (int k = K_SYN; k < K_MAX; k++)
        free(w.o[k]);
    free(w.tw_order);
}
