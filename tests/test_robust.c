/*
 * test_robust.c — at least 100,000 random and mutated packets into stacks
 * in every state, with virtual time jumping at random and the socket calls
 * thrown in between. Nothing may crash; ts_conn_check (this build has
 * TS_CONN_CHECK: it aborts on a broken invariant) must hold after every
 * event, and is also run here over every object every few packets; every
 * dropped packet must be counted exactly once (ts_stack_drops and
 * TCPStateDrops); everything the stack sends must parse and come from its
 * own address; and each stack must give back all its memory.
 *
 * Rounds: for each kind of starting state, a fresh stack (with random
 * sysctls: timestamps, SACK, window scaling, rfc1337, tiny limits) is
 * driven there through the fixture, then fed ROUND_PKTS packets drawn
 * from four generators: raw random bytes, random but plausible segments
 * (sequence and ack numbers near the live ones, random flags and options),
 * the stack's own segments mirrored back as the peer's answer, and bit /
 * byte / length mutations of earlier packets (half with the checksums
 * repaired so they reach the state machine). The PRNG is fixed-seed: a
 * failure replays exactly.
 */
#include "fixture.h"
#include "core/internal.h"

#include <stdio.h>

/* ---- a small PRNG (xorshift64*) ----------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd(uint32_t n) { return n ? (uint32_t)(rnd64() >> 32) % n : 0; }
static int chance(uint32_t percent) { return rnd(100) < percent; }

/* ---- the state of one round ------------------------------------------------ */

enum {
    K_NOSOCK, K_CLOSED, K_LISTEN, K_SYN_SENT, K_SYN_RECV, K_SIMOPEN, K_ESTAB, K_FW1,
    K_FW2, K_CLOSING, K_TW, K_CW, K_LA, K_KINDS
};

static const char *const kind_names[K_KINDS] = {
    "no socket", "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "SYN_RECEIVED (simultaneous)",
    "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK"
};

#define ROUNDS_PER_KIND 40
#define ROUND_PKTS 200
#define POOL 16
#define MAXH 8

typedef struct rb {
    fx f;
    ts_sock h[MAXH];
    int nh;
    int ts;                /* the peer uses timestamps */
    uint32_t peer_nxt;     /* absolute: what the stack expects next (its last ack) */
    uint32_t stack_nxt;    /* absolute: the stack's highest seq sent + 1 */
    uint32_t tsval;
    uint8_t pool[POOL][1600];
    size_t pool_len[POOL];
    int pool_n;
    uint8_t last_out[1600];
    size_t last_out_len;
    uint64_t packets, drops, accepted, live;
} rb;

static uint8_t data_buf[4096];

static void add_handle(rb *r, ts_sock h)
{
    if (r->nh < MAXH && h.index)
        r->h[r->nh++] = h;
}

static void pool_add(rb *r, const uint8_t *p, size_t n)
{
    int i = r->pool_n < POOL ? r->pool_n++ : (int)rnd(POOL);
    if (n > sizeof r->pool[0])
        n = sizeof r->pool[0];
    memcpy(r->pool[i], p, n);
    r->pool_len[i] = n;
}

/* ---- checks ---------------------------------------------------------------- */

static uint64_t drops_sum(ts_stack *s)
{
    uint64_t n = 0;
    for (int i = 1; i < TS_DROP_MAX; i++)
        n += ts_stack_drops(s, i);
    return n;
}

/* Runs the core's invariant checker over every object, and checks the
 * timer heap's order (a parent never later than its children). */
static int check_all(ts_stack *s)
{
    for (uint32_t b = 0; b <= s->hash_mask; b++)
        for (ts_skc *k = s->hash[b]; k; k = k->hnext)
            ts_conn_check(s, k);
    for (uint32_t i = 1; i < s->nslots; i++)
        if (s->slots[i].conn)
            ts_conn_check(s, &s->slots[i].conn->c);
    for (uint32_t i = 1; i < s->heap_len; i++)
        if (s->heap[(i - 1) / 2]->deadline > s->heap[i]->deadline)
            return 0;
    return 1;
}

/* Takes everything the stack sends now: each must parse and come from our
 * address; the live sequence numbers are learned from it. */
static int drain(rb *r)
{
    uint8_t buf[2048];
    size_t n;
    int guard = 0;
    while ((n = ts_stack_output(r->f.s, r->f.now, buf, sizeof buf)) > 0) {
        ts_seg g;
        if (ts_wire_parse(buf, n, &g) != 0 || g.src_ip != FX_LOCAL)
            return 0;
        if (g.flags & TS_TH_ACK)
            r->peer_nxt = g.ack;
        if (g.flags & TS_TH_SYN)
            r->stack_nxt = g.seq + 1;
        else if ((int32_t)(g.seq + g.len + !!(g.flags & TS_TH_FIN) - r->stack_nxt) > 0)
            r->stack_nxt = g.seq + g.len + !!(g.flags & TS_TH_FIN);
        memcpy(r->last_out, buf, n);
        r->last_out_len = n;
        if (++guard > 10000)
            return 0; /* a stack that never stops talking is a bug too */
    }
    return 1;
}

/* Feeds one packet and checks the drop accounting. */
static int feed(rb *r, const uint8_t *p, size_t n)
{
    uint64_t d0 = drops_sum(r->f.s), c0 = fx_ctr(&r->f, "TCPStateDrops");
    int rc;
    r->live += fx_tuple_state(&r->f) != TS_CLOSE;
    rc = ts_stack_input(r->f.s, r->f.now, p, n);
    uint64_t d1 = drops_sum(r->f.s), c1 = fx_ctr(&r->f, "TCPStateDrops");
    r->packets++;
    if (rc > 0 || rc <= -TS_DROP_MAX)
        return 0;
    if (rc < 0) {
        r->drops++;
        if (d1 != d0 + 1 || c1 != c0 + 1 || ts_stack_drops(r->f.s, -rc) == 0)
            return 0;
    } else {
        r->accepted++;
        if (d1 != d0 || c1 != c0)
            return 0;
    }
    return drain(r);
}

/* ---- packet generators ------------------------------------------------------ */

static void fix_csums(uint8_t *p, size_t n)
{
    unsigned ihl, tot;
    uint32_t sum;
    uint8_t ph[12];
    if (n < 20 || (p[0] >> 4) != 4)
        return;
    ihl = (p[0] & 15u) * 4;
    tot = (unsigned)p[2] << 8 | p[3];
    if (ihl < 20 || ihl > n)
        return;
    p[10] = p[11] = 0;
    sum = ts_csum_fold(ts_csum_add(0, p, ihl));
    p[10] = (uint8_t)(sum >> 8);
    p[11] = (uint8_t)sum;
    if (p[9] != 6 || tot > n || tot < ihl + 20)
        return;
    memcpy(ph, p + 12, 8);
    ph[8] = 0;
    ph[9] = 6;
    ph[10] = (uint8_t)((tot - ihl) >> 8);
    ph[11] = (uint8_t)(tot - ihl);
    p[ihl + 16] = p[ihl + 17] = 0;
    sum = ts_csum_fold(ts_csum_add(ts_csum_add(0, ph, 12), p + ihl, tot - ihl));
    p[ihl + 16] = (uint8_t)(sum >> 8);
    p[ihl + 17] = (uint8_t)sum;
}

static size_t gen_bytes(uint8_t *p)
{
    size_t n = rnd(130);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(256);
    if (n >= 20 && chance(60)) {
        /* an IPv4 header that gets past the first checks */
        p[0] = 0x45;
        p[2] = (uint8_t)(n >> 8);
        p[3] = (uint8_t)n;
        p[6] = p[7] = 0;
        p[9] = 6;
        memcpy(p + 12, (const uint8_t[]){ 192, 0, 2, 1, 192, 0, 2, 2 }, 8);
        fix_csums(p, n);
    }
    return n;
}

static uint8_t pick_flags(void)
{
    static const uint8_t common[] = { A, A, A, A | P, A | P, A | P, A | F, A | F | P, S,
                                      S | A, F, P, 0 };
    static const uint8_t rare[] = { R, R | A, S | F, S | R, R | F, A | R | P };
    if (chance(4))
        return (uint8_t)rnd(256);
    if (chance(5)) /* rare: most of them end the connection */
        return rare[rnd(sizeof rare)];
    return common[rnd(sizeof common)];
}

static void gen_options(rb *r, ts_seg *g)
{
    if (chance(15)) {
        g->opt_present |= TS_OPT_MSS;
        g->mss = chance(50) ? (uint16_t)rnd(65536) : 1460;
    }
    if (chance(10)) {
        g->opt_present |= TS_OPT_WSCALE;
        g->wscale = (uint8_t)rnd(20);
    }
    if (chance(10))
        g->opt_present |= TS_OPT_SACKOK;
    if ((r->ts && chance(80)) || chance(10)) {
        g->opt_present |= TS_OPT_TS;
        r->tsval += rnd(50);
        g->tsval = chance(85) ? r->tsval : (uint32_t)rnd64();
        g->tsecr = (uint32_t)rnd64();
    }
    if (chance(10)) {
        g->opt_present |= TS_OPT_SACK;
        g->nsack = (uint8_t)(1 + rnd(TS_MAX_SACK));
        for (int i = 0; i < g->nsack; i++) {
            g->sack[i].left = r->stack_nxt - rnd(5000);
            g->sack[i].right = g->sack[i].left + rnd(3000);
        }
    }
}

static size_t gen_segment(rb *r, uint8_t *p, size_t cap)
{
    ts_seg g;
    int pick;
    memset(&g, 0, sizeof g);
    g.src_ip = chance(97) ? FX_PEER : (uint32_t)rnd64();
    g.dst_ip = chance(98) ? FX_LOCAL : (uint32_t)rnd64();
    g.src_port = chance(92) ? r->f.peer_port : (uint16_t)(40000 + rnd(8));
    g.dst_port = chance(95) ? r->f.local_port : (uint16_t)rnd(65536);
    g.flags = pick_flags();
    pick = (int)rnd(20);
    g.seq = pick < 8 ? r->peer_nxt : pick < 13 ? r->peer_nxt + rnd(7) - 3
          : pick < 16 ? r->peer_nxt + rnd(70000) - 2000 : (uint32_t)rnd64();
    pick = (int)rnd(20);
    g.ack = pick < 8 ? r->stack_nxt : pick < 12 ? r->stack_nxt + rnd(5) - 2
          : pick < 16 ? r->stack_nxt - rnd(70000) : (uint32_t)rnd64();
    g.win = chance(10) ? 0 : (uint16_t)rnd(65536);
    g.urg = chance(5) ? (uint16_t)rnd(65536) : 0;
    g.len = chance(50) ? 0 : chance(80) ? 1 + rnd(1460) : rnd(3000);
    g.data = data_buf;
    g.ttl = (uint8_t)(1 + rnd(255));
    gen_options(r, &g);
    return ts_wire_build(&g, p, cap);
}

/* The stack's last segment turned around: what a peer might answer. */
static size_t gen_mirror(rb *r, uint8_t *p, size_t cap)
{
    ts_seg in, g;
    if (!r->last_out_len || ts_wire_parse(r->last_out, r->last_out_len, &in) != 0)
        return gen_segment(r, p, cap);
    memset(&g, 0, sizeof g);
    g.src_ip = in.dst_ip;
    g.dst_ip = in.src_ip;
    g.src_port = in.dst_port;
    g.dst_port = in.src_port;
    g.seq = (in.flags & TS_TH_ACK) ? in.ack : r->peer_nxt;
    g.ack = in.seq + in.len + !!(in.flags & TS_TH_SYN) + !!(in.flags & TS_TH_FIN);
    g.flags = chance(70) ? A : pick_flags();
    if ((in.flags & TS_TH_SYN) && !(in.flags & TS_TH_ACK) && chance(50))
        g.flags = S | A;
    g.win = 65535;
    g.len = chance(30) ? 1 + rnd(1000) : 0;
    g.data = data_buf;
    gen_options(r, &g);
    return ts_wire_build(&g, p, cap);
}

static size_t gen_mutation(rb *r, uint8_t *p, size_t cap)
{
    size_t n;
    int edits, from;
    if (!r->pool_n)
        return gen_segment(r, p, cap);
    from = (int)rnd((uint32_t)r->pool_n);
    n = r->pool_len[from] < cap ? r->pool_len[from] : cap;
    memcpy(p, r->pool[from], n);
    edits = 1 + (int)rnd(4);
    for (int i = 0; i < edits && n; i++) {
        size_t at = rnd((uint32_t)n);
        switch (rnd(4)) {
        case 0: p[at] ^= (uint8_t)(1u << rnd(8)); break;
        case 1: p[at] = (uint8_t)rnd(256); break;
        case 2: n = at; break;                                  /* truncate */
        default: if (n + 8 < cap) n += rnd(8); break;           /* extend */
        }
    }
    if (chance(50))
        fix_csums(p, n);
    return n;
}

static size_t gen_packet(rb *r, uint8_t *p, size_t cap)
{
    uint32_t k = rnd(100);
    size_t n;
    if (k < 10)
        return gen_bytes(p);
    if (k < 55)
        n = gen_segment(r, p, cap);
    else if (k < 70)
        n = gen_mirror(r, p, cap);
    else
        return gen_mutation(r, p, cap);
    if (n)
        pool_add(r, p, n);
    return n;
}

/* ---- socket calls at random ------------------------------------------------- */

static void random_call(rb *r)
{
    ts_stack *s = r->f.s;
    ts_sock h = r->nh ? r->h[rnd((uint32_t)r->nh)] : (ts_sock){ 0, 0 };
    ts_sock x;
    int v = (int)rnd(3);
    size_t len = sizeof v;
    char b[256];
    switch (rnd(12)) {
    case 0: ts_send(s, h, data_buf, rnd(3000)); break;
    case 1: ts_recv(s, h, b, rnd(sizeof b)); break;
    case 2: ts_shutdown(s, h, (int)rnd(4)); break;
    case 3: if (chance(30)) ts_close(s, h); break;
    case 4: ts_connect(s, h, &(ts_addr){ FX_PEER, r->f.peer_port }); break;
    case 5: if (ts_accept(s, h, &x, NULL) == 0) add_handle(r, x); break;
    case 6: ts_setsockopt(s, h, TS_SOL_SOCKET, TS_SO_KEEPALIVE, &v, sizeof v); break;
    case 7: {
        ts_linger l = { (int)rnd(2), (int)rnd(2) };
        ts_setsockopt(s, h, TS_SOL_SOCKET, TS_SO_LINGER, &l, sizeof l);
        break;
    }
    case 8: ts_getsockopt(s, h, TS_SOL_SOCKET, TS_SO_ERROR, &v, &len); break;
    case 9: ts_listen(s, h, (int)rnd(3)); break;
    case 10: if (r->nh < MAXH && ts_socket(s, &x) == 0) add_handle(r, x); break;
    default: v = (int)rnd(200) - 20;
        ts_setsockopt(s, h, TS_SOL_TCP, TS_TCP_LINGER2, &v, sizeof v); break;
    }
}

/* ---- building a stack in each state ---------------------------------------- */

static void random_config(ts_config *c)
{
    ts_config_default(c);
    c->tcp_timestamps = !chance(20);
    c->tcp_sack = !chance(20);
    c->tcp_window_scaling = !chance(20);
    c->tcp_rfc1337 = chance(30);
    c->tcp_abort_on_overflow = chance(30);
    if (chance(30))
        c->tcp_max_tw_buckets = (int)rnd(2);
    if (chance(30))
        c->tcp_max_syn_backlog = 1 + (int)rnd(3);
    if (chance(30))
        c->tcp_fin_timeout = 1 + (int)rnd(100);
    if (chance(20))
        c->tcp_max_orphans = (int)rnd(2);
    if (chance(30))
        c->tcp_orphan_retries = (int)rnd(3);
    if (chance(20))
        c->tcp_rmem[1] = 4096;
}

/* The peer's SYN or SYN-ACK, with or without timestamps. */
static void peer_syn(rb *r, uint8_t flags)
{
    if (r->ts)
        TS_SEND(&r->f, flags, 0, flags & A ? 1 : 0, .mss = 1460, FX_WS(7), .sackok = 1,
                .ts = 1, .tsval = r->tsval);
    else
        TS_SEND(&r->f, flags, 0, flags & A ? 1 : 0, .mss = 1460);
}

static void establish_passive(rb *r, ts_sock l)
{
    ts_sock c;
    peer_syn(r, S);
    fx_drain(&r->f);
    TS_SEND(&r->f, A, 1, 1);
    if (ts_accept(r->f.s, l, &c, NULL) == 0)
        add_handle(r, c);
}

static void build(rb *r, int kind)
{
    ts_config cfg;
    ts_sock l, c;
    int orphan = chance(50);
    random_config(&cfg);
    memset(r, 0, sizeof *r);
    fx_init_cfg(&r->f, &cfg);
    fx_wait(&r->f, 1000 + rnd(1000));
    r->ts = chance(60);
    r->tsval = (uint32_t)rnd64();
    r->f.local_port = 8080;
    switch (kind) {
    case K_NOSOCK:
        return;
    case K_CLOSED:
        ts_socket(r->f.s, &c);
        add_handle(r, c);
        c = fx_connect(&r->f, 9000);
        add_handle(r, c);
        fx_take(&r->f);
        peer_syn(r, S | A);
        TS_SEND(&r->f, R, 1, 0);
        return;
    case K_LISTEN:
    case K_SYN_RECV:
        l = fx_listen(&r->f, 8080);
        add_handle(r, l);
        for (int i = 1; i <= 3; i++) {
            r->f.peer_port = (uint16_t)(40000 + i);
            peer_syn(r, S);
            if (i == 3)
                TS_SEND(&r->f, A, 1, 1); /* an established child, not accepted */
        }
        r->f.peer_port = 40000;
        if (kind == K_SYN_RECV)
            peer_syn(r, S);
        return;
    case K_SYN_SENT:
    case K_SIMOPEN:
        add_handle(r, fx_connect(&r->f, 9000));
        fx_take(&r->f);
        if (kind == K_SIMOPEN)
            peer_syn(r, S);
        return;
    default:
        break;
    }
    /* the synchronized states: an established connection first, with data
     * queued in both directions */
    l = fx_listen(&r->f, 8080);
    add_handle(r, l);
    establish_passive(r, l);
    if (r->nh < 2)
        return;
    c = r->h[1];
    fx_drain(&r->f);
    ts_send(r->f.s, c, data_buf, 3000);
    TS_SEND_DATA(&r->f, A | P, 1, 1, 300);
    fx_drain(&r->f);
    if (kind == K_ESTAB)
        return;
    if (kind == K_CW || kind == K_LA) {
        TS_SEND(&r->f, A | F, 301, 3001);
        if (kind == K_CW)
            return;
    }
    ts_recv(r->f.s, c, NULL, 1000); /* read first: close() must not abort */
    if (orphan)
        ts_close(r->f.s, c);
    else
        ts_shutdown(r->f.s, c, TS_SHUT_WR);
    fx_drain(&r->f);
    if (kind == K_FW2)
        TS_SEND(&r->f, A, 301, 3002);
    if (kind == K_CLOSING)
        TS_SEND(&r->f, A | F, 301, 3001);
    if (kind == K_TW)
        TS_SEND(&r->f, A | F, 301, 3002);
}

/* Did the build reach the state it aimed at? (Random sysctls may forbid
 * it: no TIME_WAIT with tcp_max_tw_buckets = 0, say.) */
static int reached(rb *r, int kind)
{
    static const int want[K_KINDS] = {
        [K_SYN_SENT] = TS_SYN_SENT, [K_SYN_RECV] = TS_SYN_RECV, [K_SIMOPEN] = TS_SYN_RECV,
        [K_ESTAB] = TS_ESTABLISHED, [K_FW1] = TS_FIN_WAIT1, [K_FW2] = TS_FIN_WAIT2,
        [K_CLOSING] = TS_CLOSING, [K_TW] = TS_TIME_WAIT, [K_CW] = TS_CLOSE_WAIT,
        [K_LA] = TS_LAST_ACK,
    };
    if (kind == K_NOSOCK)
        return 1;
    if (kind == K_CLOSED)
        return r->nh == 2 && fx_state(&r->f, r->h[1]) == TS_CLOSE;
    if (kind == K_LISTEN)
        return r->nh >= 1 && fx_state(&r->f, r->h[0]) == TS_LISTEN;
    return fx_tuple_state(&r->f) == want[kind];
}

/* ---- the rounds --------------------------------------------------------------- */

static uint64_t random_step_us(void)
{
    uint32_t k = rnd(100);
    if (k < 70)
        return 0;
    if (k < 90)
        return rnd(50000);
    if (k < 98)
        return rnd(2000000);
    return rnd(100000000);
}

/* One round; 0 on the first broken rule (reported). */
static int round_run(rb *r, int kind, int round, int *hit)
{
    static uint8_t pkt[4096];
    build(r, kind);
    if (!drain(r)) {
        th_fail(__FILE__, __LINE__, "%s round %d: bad output while building", kind_names[kind], round);
        return 0;
    }
    *hit += reached(r, kind);
    for (int i = 0; i < ROUND_PKTS; i++) {
        size_t n = gen_packet(r, pkt, sizeof pkt);
        r->f.now += random_step_us();
        ts_stack_advance(r->f.s, r->f.now);
        if (ts_stack_next_deadline(r->f.s) <= r->f.now) {
            th_fail(__FILE__, __LINE__, "%s round %d pkt %d: a deadline stayed in the past",
                    kind_names[kind], round, i);
            return 0;
        }
        if (!feed(r, pkt, n)) {
            th_fail(__FILE__, __LINE__, "%s round %d pkt %d: drop accounting or output broken",
                    kind_names[kind], round, i);
            return 0;
        }
        if (chance(5)) {
            random_call(r);
            if (!drain(r))
                return 0;
        }
        if ((i & 15) == 0 && !check_all(r->f.s)) {
            th_fail(__FILE__, __LINE__, "%s round %d: heap order broken", kind_names[kind], round);
            return 0;
        }
    }
    /* a long quiet time: every timer runs out without trouble */
    r->f.now += 4000000000ull;
    ts_stack_advance(r->f.s, r->f.now);
    if (!drain(r) || !check_all(r->f.s))
        return 0;
    for (int i = 0; i < r->nh; i++)
        ts_close(r->f.s, r->h[i]);
    drain(r);
    if (ts_stack_mem_live(r->f.s) != th_mem_live()) {
        th_fail(__FILE__, __LINE__, "%s round %d: stack counts %zu bytes, allocator %zu",
                kind_names[kind], round, ts_stack_mem_live(r->f.s), th_mem_live());
        return 0;
    }
    fx_free(&r->f);
    if (th_mem_live() != 0) {
        th_fail(__FILE__, __LINE__, "%s round %d: %zu bytes not freed", kind_names[kind], round,
                th_mem_live());
        return 0;
    }
    return 1;
}

TS_TEST(robust_100k_packets_in_every_state)
{
    static rb r;
    uint64_t packets = 0, drops = 0, accepted = 0, live = 0;
    rng_state = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < sizeof data_buf; i++)
        data_buf[i] = (uint8_t)(i * 7);
    for (int kind = 0; kind < K_KINDS; kind++) {
        int hit = 0;
        for (int round = 0; round < ROUNDS_PER_KIND; round++) {
            if (!round_run(&r, kind, round, &hit))
                return;
            packets += r.packets;
            drops += r.drops;
            accepted += r.accepted;
            live += r.live;
        }
        /* most rounds really start in the state they are named after */
        if (hit < ROUNDS_PER_KIND / 2) {
            th_fail(__FILE__, __LINE__, "%s reached in only %d of %d rounds", kind_names[kind],
                    hit, ROUNDS_PER_KIND);
            return;
        }
    }
    CHECK(packets >= 100000);
    /* both outcomes are exercised in quantity */
    CHECK(drops > packets / 4);
    CHECK(accepted > packets / 50);
    CHECK(live > packets / 3); /* most packets meet a live connection */
}
