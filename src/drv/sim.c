/*
 * sim.c — the virtual network and clock (sim.h).
 *
 * Owns: the hosts (a stack each, with hooks that feed the trace), the
 * links (one seeded generator per direction), the packets in flight and
 * the application's timers (two binary heaps keyed by (time, insertion
 * number), so equal times keep their order), and the clock.
 *
 * One step of the clock: jump to the earliest of (next arrival, every
 * stack's ts_stack_next_deadline(), next application timer); deliver every
 * packet due, fire every stack timer due, then every application timer
 * due. After each of these, settle(): hand queued readiness events to the
 * application and drain every stack's output into the links, until
 * neither produces anything. Hooks never call the stacks (the header
 * forbids it): on_ready is queued and delivered by settle().
 *
 * Determinism: hosts are visited in index order, heaps break ties by
 * insertion number, every random draw comes from a generator seeded from
 * (seed, purpose) and each link draws the same number of values per
 * datagram whatever its settings, so the same seed gives the same trace.
 */
#include "drv/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"
#include "drv/prng.h"
#include "drv/siphash.h"

#define PKT_BUF 65536
/* Datagrams one instant may produce before the run is declared stuck: far
 * above any real burst (a full 32 MiB window is ~23000 segments). */
#define STUCK_LIMIT 4000000

typedef struct sim_item {
    uint64_t at, order;
    int host, id;      /* timers: host and id; packets: destination host */
    int from;          /* packets: sending host */
    uint32_t from_conn;
    uint8_t *pkt;
    size_t len;
} sim_item;

typedef struct sim_heap {
    sim_item *v;
    size_t n, cap;
} sim_heap;

typedef struct sim_link {
    ts_sim_link cfg;
    ts_prng rng;
    uint64_t last_arrival; /* FIFO: in-order datagrams never overtake */
    ts_sim_link_stats st;
} sim_link;

typedef struct sim_host {
    ts_sim *sim;
    int index;
    char name[32];
    ts_stack *stack;
    ts_prng rng;           /* port offsets, and the secret below */
    uint8_t secret[16];    /* keys ISNs and timestamp offsets, as Linux's net_secret */
    uint32_t last_tx_conn; /* conn id of the last TX hook (for losses) */
} sim_host;

typedef struct ready_ev {
    int host;
    ts_sock sock;
    unsigned events;
} ready_ev;

struct ts_sim {
    ts_sim_opts o;
    uint64_t now, order;
    int started, stopped;
    size_t nhosts;
    sim_host hosts[TS_SIM_MAX_HOSTS];
    ts_trace_host table[TS_SIM_MAX_HOSTS];
    sim_link links[TS_SIM_MAX_HOSTS][TS_SIM_MAX_HOSTS];
    sim_heap flight, timers;
    ready_ev *ready;
    size_t nready, capready, headready;
    uint8_t *buf;
    uint64_t outputs_now; /* datagrams sent at this instant (stuck check) */
    uint64_t steps_now;   /* steps taken at this instant (stuck check) */
};

/* ---------------------------------------------------------------- heaps */

static int item_before(const sim_item *a, const sim_item *b)
{
    return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static int heap_push(sim_heap *h, const sim_item *it)
{
    size_t i;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        sim_item *nv = realloc(h->v, cap * sizeof *nv);
        if (!nv)
            return TS_ENOMEM;
        h->v = nv;
        h->cap = cap;
    }
    i = h->n++;
    while (i > 0 && item_before(it, &h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = *it;
    return 0;
}

static sim_item heap_pop(sim_heap *h)
{
    sim_item top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && item_before(&h->v[c + 1], &h->v[c]))
            c++;
        if (!item_before(&h->v[c], &last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

static uint64_t heap_next(const sim_heap *h)
{
    return h->n ? h->v[0].at : TS_SIM_NEVER;
}

/* ---------------------------------------------------------------- trace */

static void emit(ts_sim *sim, ts_trace_ev *ev)
{
    ev->t_us = sim->now;
    if (sim->o.on_event)
        sim->o.on_event(sim->o.event_user, ev);
}

void ts_sim_note(ts_sim *sim, int host, const char *fmt, ...)
{
    char text[256];
    ts_trace_ev ev;
    va_list ap;
    if (!sim || !sim->o.on_event)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    memset(&ev, 0, sizeof ev);
    ev.kind = TS_TRACE_NOTE;
    ev.host = host;
    ev.note = text;
    emit(sim, &ev);
}

/* ---------------------------------------------------------------- hooks */

/* Keyed hash of the host's secret and n words (host order). */
static uint32_t host_hash(const sim_host *h, const uint32_t *w, size_t n)
{
    return (uint32_t)ts_siphash24(h->secret, w, n * sizeof *w);
}

/* RFC 6528 as Linux's secure_tcp_seq: a keyed hash of the 4-tuple plus a
 * clock in 64 ns ticks, so a later connection on the same 4-tuple starts
 * higher, which is what lets a new SYN reopen a TIME_WAIT (scenario
 * time-wait-reopen). */
static uint32_t hook_isn(void *user, const ts_tuple *t, uint64_t now_us)
{
    uint32_t w[4] = { t->local.ip, t->remote.ip, t->local.port, t->remote.port };
    return host_hash(user, w, 4) + (uint32_t)(now_us * 1000 / 64);
}

static uint32_t hook_port_offset(void *user, const ts_tuple *t)
{
    (void)t;
    return ts_prng_u32(&((sim_host *)user)->rng);
}

/* Linux's secure_tcp_ts_off: keyed by the two addresses only, so every
 * connection between two hosts shares one timestamp clock (PAWS and
 * tcp_tw_reuse rely on it across connections). */
static uint32_t hook_ts_offset(void *user, const ts_tuple *t)
{
    uint32_t w[2] = { t->local.ip, t->remote.ip };
    return host_hash(user, w, 2);
}

/* SYN cookies (Linux cookie_hash: two keys, the 4-tuple and a minute
 * counter): the host's seeded hash, which selecting the key. */
static uint32_t hook_cookie_hash(void *user, const ts_tuple *t, uint32_t count, int which)
{
    uint32_t w[5] = { t->local.ip, t->remote.ip, (uint32_t)t->local.port << 16 | t->remote.port,
                      count, 0x5c00c1e0u + (uint32_t)which };
    return host_hash(user, w, 5);
}

static void hook_transition(void *user, const ts_transition_ev *tev)
{
    sim_host *h = user;
    ts_trace_ev ev;
    ts_trace_from_transition(&ev, tev);
    ev.host = h->index;
    emit(h->sim, &ev);
}

static void hook_segment(void *user, const ts_segment_ev *sev)
{
    sim_host *h = user;
    ts_trace_ev ev;
    ts_trace_from_segment(&ev, sev);
    ev.host = h->index;
    if (sev->kind == TS_SEG_TX)
        h->last_tx_conn = sev->conn_id;
    emit(h->sim, &ev);
}

static void hook_ready(void *user, ts_sock s, unsigned events)
{
    sim_host *h = user;
    ts_sim *sim = h->sim;
    if (sim->nready == sim->capready && sim->headready > 0) {
        /* the consumed head is dead space: reuse it before growing */
        memmove(sim->ready, sim->ready + sim->headready,
                (sim->nready - sim->headready) * sizeof *sim->ready);
        sim->nready -= sim->headready;
        sim->headready = 0;
    }
    if (sim->nready == sim->capready) {
        size_t cap = sim->capready ? sim->capready * 2 : 64;
        ready_ev *nr = realloc(sim->ready, cap * sizeof *nr);
        if (!nr)
            return; /* the application misses one wake-up; ts_poll still tells */
        sim->ready = nr;
        sim->capready = cap;
    }
    sim->ready[sim->nready].host = h->index;
    sim->ready[sim->nready].sock = s;
    sim->ready[sim->nready].events = events;
    sim->nready++;
}

/* ---------------------------------------------------------- lifecycle */

ts_sim *ts_sim_new(const ts_sim_opts *opts)
{
    ts_sim *sim = calloc(1, sizeof *sim);
    if (!sim)
        return NULL;
    if (opts)
        sim->o = *opts;
    sim->buf = malloc(PKT_BUF);
    if (!sim->buf) {
        free(sim);
        return NULL;
    }
    for (int a = 0; a < TS_SIM_MAX_HOSTS; a++)
        for (int b = 0; b < TS_SIM_MAX_HOSTS; b++)
            ts_prng_seed(&sim->links[a][b].rng, sim->o.seed,
                         0x1000u + (uint64_t)a * TS_SIM_MAX_HOSTS + (uint64_t)b);
    return sim;
}

void ts_sim_free(ts_sim *sim)
{
    if (!sim)
        return;
    for (size_t i = 0; i < sim->flight.n; i++)
        free(sim->flight.v[i].pkt);
    free(sim->flight.v);
    free(sim->timers.v);
    free(sim->ready);
    for (size_t i = 0; i < sim->nhosts; i++)
        ts_stack_free(sim->hosts[i].stack);
    free(sim->buf);
    free(sim);
}

uint32_t ts_sim_host_ip(int host)
{
    return 0xC0000201u + (uint32_t)host; /* 192.0.2.1, .2, ... */
}

int ts_sim_add_host(ts_sim *sim, const char *name, const ts_config *cfg)
{
    ts_hooks hooks;
    sim_host *h;
    int i;

    if (!sim)
        return TS_EINVAL;
    if (sim->nhosts >= TS_SIM_MAX_HOSTS)
        return TS_ENOBUFS;
    i = (int)sim->nhosts;
    h = &sim->hosts[i];
    memset(h, 0, sizeof *h);
    h->sim = sim;
    h->index = i;
    snprintf(h->name, sizeof h->name, "%s", name ? name : "host");
    ts_prng_seed(&h->rng, sim->o.seed, 1 + (uint64_t)i);
    for (int k = 0; k < 16; k += 4) {
        uint32_t v = ts_prng_u32(&h->rng);
        memcpy(h->secret + k, &v, 4);
    }
    memset(&hooks, 0, sizeof hooks);
    hooks.size = sizeof hooks;
    hooks.isn = hook_isn;
    hooks.port_offset = hook_port_offset;
    hooks.ts_offset = hook_ts_offset;
    hooks.cookie_hash = hook_cookie_hash;
    hooks.on_transition = hook_transition;
    hooks.on_segment = hook_segment;
    hooks.on_ready = hook_ready;
    h->stack = ts_stack_new(cfg, &hooks, h);
    if (!h->stack)
        return TS_ENOMEM;
    if (ts_stack_add_addr(h->stack, ts_sim_host_ip(i)) != 0) {
        ts_stack_free(h->stack);
        h->stack = NULL;
        return TS_ENOMEM;
    }
    sim->table[i].name = h->name;
    sim->table[i].ip = ts_sim_host_ip(i);
    sim->nhosts++;
    return i;
}

int ts_sim_set_link(ts_sim *sim, int from, int to, const ts_sim_link *link)
{
    if (!sim || !link || from < -1 || to < -1 || from >= TS_SIM_MAX_HOSTS ||
        to >= TS_SIM_MAX_HOSTS || link->loss < 0 || link->loss > 1 || link->dup < 0 ||
        link->dup > 1 || link->reorder < 0 || link->reorder > 1)
        return TS_EINVAL;
    for (int a = 0; a < TS_SIM_MAX_HOSTS; a++)
        for (int b = 0; b < TS_SIM_MAX_HOSTS; b++)
            if ((from < 0 || from == a) && (to < 0 || to == b))
                sim->links[a][b].cfg = *link;
    return 0;
}

/* ------------------------------------------------------------ accessors */

size_t ts_sim_host_count(const ts_sim *sim) { return sim ? sim->nhosts : 0; }

ts_stack *ts_sim_stack(ts_sim *sim, int host)
{
    if (!sim || host < 0 || (size_t)host >= sim->nhosts)
        return NULL;
    return sim->hosts[host].stack;
}

const char *ts_sim_host_name(const ts_sim *sim, int host)
{
    if (!sim || host < 0 || (size_t)host >= sim->nhosts)
        return "?";
    return sim->hosts[host].name;
}

const ts_trace_host *ts_sim_hosts(const ts_sim *sim) { return sim ? sim->table : NULL; }

int ts_sim_host_of(const ts_sim *sim, uint32_t ip)
{
    for (size_t i = 0; sim && i < sim->nhosts; i++)
        if (ts_sim_host_ip((int)i) == ip)
            return (int)i;
    return -1;
}

uint64_t ts_sim_now(const ts_sim *sim) { return sim ? sim->now : 0; }

void ts_sim_stop(ts_sim *sim)
{
    if (sim)
        sim->stopped = 1;
}

int ts_sim_timer(ts_sim *sim, uint64_t at_us, int host, int id)
{
    sim_item it;
    if (!sim)
        return TS_EINVAL;
    memset(&it, 0, sizeof it);
    it.at = at_us < sim->now ? sim->now : at_us;
    it.order = sim->order++;
    it.host = host;
    it.id = id;
    return heap_push(&sim->timers, &it);
}

void ts_sim_link_stats_get(const ts_sim *sim, int from, int to, ts_sim_link_stats *out)
{
    memset(out, 0, sizeof *out);
    if (sim && from >= 0 && to >= 0 && from < TS_SIM_MAX_HOSTS && to < TS_SIM_MAX_HOSTS)
        *out = sim->links[from][to].st;
}

size_t ts_sim_conns(const ts_sim *sim, ts_trace_conn *out, size_t cap)
{
    size_t total = 0;
    for (size_t h = 0; sim && h < sim->nhosts; h++) {
        ts_stack *st = sim->hosts[h].stack;
        size_t n = ts_stack_conns(st, NULL, 0);
        ts_conn_summary *cs = n ? calloc(n, sizeof *cs) : NULL;
        if (n && !cs)
            continue;
        n = ts_stack_conns(st, cs, n);
        for (size_t i = 0; i < n; i++, total++)
            if (total < cap) {
                out[total].host = (int)h;
                out[total].conn_id = cs[i].conn_id;
                out[total].state = cs[i].state;
            }
        free(cs);
    }
    return total;
}

/* ------------------------------------------------------------- the network */

static void trace_link(ts_sim *sim, int kind, int from, const ts_seg *seg, int parsed)
{
    ts_trace_ev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.host = from;
    ev.conn_id = sim->hosts[from].last_tx_conn;
    if (parsed) {
        ev.src.ip = seg->src_ip;
        ev.src.port = seg->src_port;
        ev.dst.ip = seg->dst_ip;
        ev.dst.port = seg->dst_port;
        ev.flags = seg->flags;
        ev.seq = seg->seq;
        ev.ack = seg->ack;
        ev.win = seg->win;
        ev.len = seg->len;
    }
    emit(sim, &ev);
}

static int flight_push(ts_sim *sim, int from, int to, uint64_t at, const uint8_t *pkt, size_t len)
{
    sim_item it;
    memset(&it, 0, sizeof it);
    it.pkt = malloc(len);
    if (!it.pkt)
        return TS_ENOMEM;
    memcpy(it.pkt, pkt, len);
    it.len = len;
    it.at = at;
    it.order = sim->order++;
    it.host = to;
    it.from = from;
    if (heap_push(&sim->flight, &it) != 0) {
        free(it.pkt);
        return TS_ENOMEM;
    }
    return 0;
}

/* Puts one datagram on the link from -> its destination. Every datagram
 * draws the same five numbers, whatever the link's settings. */
static void link_send(ts_sim *sim, int from, const uint8_t *pkt, size_t len)
{
    ts_seg seg;
    int parsed = ts_wire_parse(pkt, len, &seg) == TS_DROP_NONE;
    uint32_t dip = len >= 20 ? (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 |
                                   (uint32_t)pkt[18] << 8 | pkt[19] : 0;
    int to = ts_sim_host_of(sim, dip);
    sim_link *lk;
    int lost, dup, reorder;
    uint64_t d1, d2, extra, at;

    if (to < 0) { /* no such host: the datagram vanishes, visibly */
        trace_link(sim, TS_TRACE_LOST, from, &seg, parsed);
        return;
    }
    lk = &sim->links[from][to];
    lk->st.sent++;
    lost = ts_prng_chance(&lk->rng, lk->cfg.loss);
    dup = ts_prng_chance(&lk->rng, lk->cfg.dup);
    reorder = ts_prng_chance(&lk->rng, lk->cfg.reorder);
    d1 = lk->cfg.delay_us + ts_prng_upto(&lk->rng, lk->cfg.jitter_us);
    d2 = ts_prng_upto(&lk->rng, lk->cfg.delay_us / 2 + lk->cfg.jitter_us);
    extra = 1 + ts_prng_upto(&lk->rng, 2 * lk->cfg.delay_us + lk->cfg.jitter_us);
    if (lost) {
        lk->st.lost++;
        trace_link(sim, TS_TRACE_LOST, from, &seg, parsed);
        return;
    }
    at = sim->now + d1;
    if (reorder) {
        at += extra; /* does not move last_arrival: later datagrams pass it */
    } else {
        if (at < lk->last_arrival)
            at = lk->last_arrival;
        lk->last_arrival = at;
    }
    lk->st.delivered++;
    flight_push(sim, from, to, at, pkt, len);
    if (dup) {
        lk->st.dup++;
        lk->st.delivered++;
        trace_link(sim, TS_TRACE_DUP, from, &seg, parsed);
        flight_push(sim, from, to, at + 1 + d2, pkt, len);
    }
}

/* ------------------------------------------------------------ the clock */

static int drain_outputs(ts_sim *sim)
{
    int any = 0;
    for (size_t h = 0; h < sim->nhosts; h++) {
        size_t len;
        while ((len = ts_stack_output(sim->hosts[h].stack, sim->now, sim->buf, PKT_BUF)) > 0) {
            any = 1;
            if (++sim->outputs_now > STUCK_LIMIT)
                return -1;
            link_send(sim, (int)h, sim->buf, len);
        }
    }
    return any;
}

/* Until quiet: output to the links, readiness events to the application.
 * Output first: what a stack sends in answer to a segment leaves before
 * the application wakes up, as from a kernel's softirq. -1 when stuck. */
static int settle(ts_sim *sim)
{
    for (;;) {
        int any = 0, out = drain_outputs(sim);
        if (out < 0)
            return -1;
        while (sim->headready < sim->nready) {
            ready_ev r = sim->ready[sim->headready++];
            any = 1;
            if (sim->o.app.ready)
                sim->o.app.ready(sim->o.app.user, sim, r.host, r.sock, r.events);
        }
        sim->nready = sim->headready = 0;
        if (!any && !out)
            return 0;
    }
}

static uint64_t next_event(const ts_sim *sim)
{
    uint64_t t = heap_next(&sim->flight), u = heap_next(&sim->timers);
    if (u < t)
        t = u;
    for (size_t h = 0; h < sim->nhosts; h++) {
        u = ts_stack_next_deadline(sim->hosts[h].stack);
        if (u < t)
            t = u;
    }
    return t;
}

/* Everything due at sim->now: arrivals, stack timers, application timers. */
static int step(ts_sim *sim)
{
    while (heap_next(&sim->flight) <= sim->now) {
        sim_item it = heap_pop(&sim->flight);
        ts_stack_input(sim->hosts[it.host].stack, sim->now, it.pkt, it.len);
        free(it.pkt);
        if (settle(sim) < 0)
            return -1;
    }
    for (size_t h = 0; h < sim->nhosts; h++)
        if (ts_stack_next_deadline(sim->hosts[h].stack) <= sim->now) {
            ts_stack_advance(sim->hosts[h].stack, sim->now);
            if (settle(sim) < 0)
                return -1;
        }
    while (heap_next(&sim->timers) <= sim->now && !sim->stopped) {
        sim_item it = heap_pop(&sim->timers);
        /* Bring every clock to now: the application may act on any host.
         * No timer is due any more, so this fires nothing. */
        for (size_t h = 0; h < sim->nhosts; h++)
            ts_stack_advance(sim->hosts[h].stack, sim->now);
        if (sim->o.app.timer)
            sim->o.app.timer(sim->o.app.user, sim, it.host, it.id);
        if (settle(sim) < 0)
            return -1;
    }
    return 0;
}

int ts_sim_run(ts_sim *sim, uint64_t limit_us)
{
    if (!sim)
        return TS_SIM_STUCK;
    if (!sim->started) {
        sim->started = 1;
        for (size_t h = 0; h < sim->nhosts; h++)
            ts_stack_advance(sim->hosts[h].stack, sim->now);
        if (sim->o.app.start)
            sim->o.app.start(sim->o.app.user, sim);
        if (settle(sim) < 0)
            return TS_SIM_STUCK;
    }
    while (!sim->stopped) {
        uint64_t t = next_event(sim);
        if (t == TS_SIM_NEVER)
            return TS_SIM_IDLE;
        if (t > limit_us) {
            if (sim->now < limit_us)
                sim->now = limit_us;
            return TS_SIM_LIMIT;
        }
        if (t > sim->now) {
            sim->now = t;
            sim->outputs_now = 0;
            sim->steps_now = 0;
        } else if (++sim->steps_now > STUCK_LIMIT) {
            return TS_SIM_STUCK; /* a timer due now that advance never clears */
        }
        if (step(sim) < 0)
            return TS_SIM_STUCK;
    }
    return TS_SIM_STOPPED;
}
