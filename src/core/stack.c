/*
 * stack.c — the stack object and its shared machinery: memory accounting,
 * socket handles, the 4-tuple hash, the listener and port tables, the
 * timer heap, the output FIFO, the stateless-reply ring and the event queue.
 *
 * Costs: hash lookup O(1) expected (the table doubles past 1 entry per
 * bucket); heap update O(log n); ts_stack_next_deadline O(1) (the heap's
 * root); output FIFO push/pop O(1), removal O(length) but only on the rare
 * path of freeing a queued object. Nothing here scans all connections.
 *
 * Invariants: heap[i]->heap_idx == i + 1; an object is on the FIFO iff
 * out_queued; handles are {index, generation}, generation bumped on release
 * so stale handles give TS_EBADF.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------- memory */

void *ts_alloc(ts_stack *s, size_t n)
{
    void *p = s->cfg.mem.malloc ? s->cfg.mem.malloc(s->cfg.mem.user, n) : malloc(n);
    if (p) {
        s->mem_live += n;
        memset(p, 0, n);
    }
    return p;
}

void ts_dealloc(ts_stack *s, void *p, size_t n)
{
    if (!p)
        return;
    s->mem_live -= n;
    if (s->cfg.mem.free)
        s->cfg.mem.free(s->cfg.mem.user, p, n);
    else
        free(p);
}

size_t ts_stack_mem_live(const ts_stack *s) { return s ? s->mem_live : 0; }

/* ------------------------------------------------------------- logging */

void ts_log(ts_stack *s, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    if (!s->hooks.log)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s->hooks.log(s->user, buf);
}

/* ------------------------------------------------------------- stack */

ts_stack *ts_stack_new(const ts_config *cfg, const ts_hooks *hooks, void *user)
{
    ts_config c;
    ts_stack *s;

    if (cfg && cfg->size > sizeof(ts_config))
        return NULL;
    if (hooks && hooks->size > sizeof(ts_hooks))
        return NULL;
    ts_config_default(&c);
    if (cfg)
        memcpy(&c, cfg, cfg->size ? cfg->size : sizeof c);
    c.size = sizeof c;
    s = c.mem.malloc ? c.mem.malloc(c.mem.user, sizeof *s) : malloc(sizeof *s);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->cfg = c;
    s->mem_live = sizeof *s;
    if (hooks)
        memcpy(&s->hooks, hooks, hooks->size ? hooks->size : sizeof s->hooks);
    s->user = user;
    s->next_conn_id = 1;
    s->hash_mask = 63;
    s->hash = ts_alloc(s, (s->hash_mask + 1) * sizeof *s->hash);
    s->phash_mask = 1023; /* 8 KiB: chains of at most 64 of the 65536 ports */
    s->phash = ts_alloc(s, (s->phash_mask + 1) * sizeof *s->phash);
    if (!s->hash || !s->phash) {
        ts_stack_free(s);
        return NULL;
    }
    return s;
}

/* Cuts the links between listeners and their requests and children, so
 * each object can be freed on its own. */
static void unlink_listeners(ts_stack *s)
{
    for (uint32_t i = 1; i < s->nslots; i++) {
        ts_conn *l = s->slots[i].conn;
        if (!l || l->c.state != TS_LISTEN)
            continue;
        for (ts_req *r = l->req_head; r; r = r->lnext)
            r->listener = NULL;
        for (ts_conn *c = l->acc_head; c; c = c->acc_next)
            c->listener = NULL;
        l->req_head = NULL;
        l->acc_head = l->acc_tail = NULL;
        l->req_count = l->acc_len = 0;
    }
}

static void free_all_of_kind(ts_stack *s)
{
    /* Every object is in the hash (or is a listener / unhashed full socket
     * reachable through a handle). Free hashed ones first. */
    unlink_listeners(s);
    /* Empty the output FIFO in one pass first: removing objects one by one
     * costs each a walk of the FIFO, quadratic for a long one (1M
     * connections with output pending: bench/timers.c) */
    while (s->out_head) {
        ts_skc *k = s->out_head;
        s->out_head = k->out_next;
        k->out_queued = 0;
        k->out_next = NULL;
    }
    s->out_tail = NULL;
    for (uint32_t b = 0; b <= s->hash_mask; b++) {
        while (s->hash[b]) {
            ts_skc *k = s->hash[b];
            ts_hash_remove(s, k);
            ts_out_remove(s, k);
            ts_heap_update(s, k, TS_NEVER);
            if (k->kind == TS_K_TW)
                ts_tw_free(s, (ts_tw *)k);
            else if (k->kind == TS_K_REQ)
                ts_req_free(s, (ts_req *)k, 0, 0);
            else {
                ts_conn *c = (ts_conn *)k;
                if (c->handle.index)
                    ts_handle_release(s, c);
                ts_conn_free(s, c);
            }
        }
    }
    for (uint32_t i = 1; i < s->nslots; i++) {
        ts_conn *c = s->slots[i].conn;
        if (c) {
            ts_handle_release(s, c);
            ts_conn_free(s, c);
        }
    }
}

void ts_stack_free(ts_stack *s)
{
    if (!s)
        return;
    s->hooks.on_transition = NULL;
    s->hooks.on_segment = NULL;
    s->hooks.on_ready = NULL;
    if (s->hash)
        free_all_of_kind(s);
    for (int i = 0; i < 256; i++)
        while (s->lhash[i])
            ts_listen_remove(s, s->lhash[i]);
    if (s->phash) {
        for (uint32_t b = 0; b <= s->phash_mask; b++) {
            while (s->phash[b]) {
                ts_port *p = s->phash[b];
                s->phash[b] = p->next;
                ts_dealloc(s, p, sizeof *p);
            }
        }
    }
    ts_dealloc(s, s->hash, (s->hash_mask + 1) * sizeof *s->hash);
    ts_dealloc(s, s->phash, (s->phash_mask + 1) * sizeof *s->phash);
    ts_dealloc(s, s->heap, s->heap_cap * sizeof *s->heap);
    ts_dealloc(s, s->slots, s->nslots * sizeof *s->slots);
    ts_dealloc(s, s->ev, s->ev_cap * sizeof *s->ev);
    s->mem_live -= sizeof *s;
    if (s->cfg.mem.free)
        s->cfg.mem.free(s->cfg.mem.user, s, sizeof *s);
    else
        free(s);
}

int ts_stack_add_addr(ts_stack *s, uint32_t ip)
{
    if (!s || ip == 0 || ip == 0xffffffffu)
        return TS_EINVAL;
    if (ts_addr_is_local(s, ip))
        return 0;
    if (s->naddrs >= (int)(sizeof s->addrs / sizeof s->addrs[0]))
        return TS_ENOBUFS;
    s->addrs[s->naddrs++] = ip;
    return 0;
}

int ts_addr_is_local(const ts_stack *s, uint32_t ip)
{
    for (int i = 0; i < s->naddrs; i++)
        if (s->addrs[i] == ip)
            return 1;
    return 0;
}

uint32_t ts_new_conn_id(ts_stack *s) { return s->next_conn_id++; }

const ts_config *ts_stack_config(const ts_stack *s) { return s ? &s->cfg : NULL; }

int ts_stack_sysctl(ts_stack *s, const char *name, const char *value, char *err, size_t errlen)
{
    ts_config c;
    int rc;
    if (!s)
        return TS_EINVAL;
    c = s->cfg;
    rc = ts_config_set(&c, name, value, err, errlen);
    if (rc == 0) {
        c.mem = s->cfg.mem; /* the allocator never changes under a live stack */
        s->cfg = c;
    }
    return rc;
}

size_t ts_stack_conn_count(const ts_stack *s) { return s ? s->hash_count : 0; }

/* ------------------------------------------------------------- handles */

int ts_handle_new(ts_stack *s, ts_conn *c)
{
    uint32_t i = s->free_slot;
    if (!i) {
        uint32_t n = s->nslots ? s->nslots * 2 : 16;
        ts_slot *ns = ts_alloc(s, n * sizeof *ns);
        if (!ns)
            return TS_ENOMEM;
        if (s->slots)
            memcpy(ns, s->slots, s->nslots * sizeof *ns);
        ts_dealloc(s, s->slots, s->nslots * sizeof *ns);
        for (uint32_t j = n - 1; j >= (s->nslots ? s->nslots : 1); j--) {
            ns[j].next_free = s->free_slot;
            s->free_slot = j;
        }
        s->slots = ns;
        s->nslots = n;
        i = s->free_slot;
    }
    s->free_slot = s->slots[i].next_free;
    s->slots[i].conn = c;
    s->slots[i].gen++;
    if (s->slots[i].gen == 0)
        s->slots[i].gen = 1;
    s->slots[i].last_events = 0;
    c->handle.index = i;
    c->handle.gen = s->slots[i].gen;
    return 0;
}

void ts_handle_release(ts_stack *s, ts_conn *c)
{
    uint32_t i = c->handle.index;
    if (!i || i >= s->nslots || s->slots[i].conn != c)
        return;
    s->slots[i].conn = NULL;
    s->slots[i].gen++;
    s->slots[i].next_free = s->free_slot;
    s->free_slot = i;
    c->handle.index = 0;
    c->handle.gen = 0;
}

ts_conn *ts_conn_from_handle(ts_stack *s, ts_sock h)
{
    if (!s || h.index == 0 || h.index >= s->nslots)
        return NULL;
    if (s->slots[h.index].gen != h.gen)
        return NULL;
    return s->slots[h.index].conn;
}

/* ------------------------------------------------------------- 4-tuple hash */

static uint32_t mix32(uint32_t h)
{
    /* murmur3's finaliser: every input bit reaches every output bit */
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static uint32_t tuple_hash(uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp)
{
    return mix32(la ^ mix32(ra ^ mix32(((uint32_t)lp << 16) | rp)));
}

static uint32_t skc_hash(const ts_skc *k)
{
    return tuple_hash(k->tuple.local.ip, k->tuple.local.port, k->tuple.remote.ip,
                      k->tuple.remote.port);
}

static void hash_grow(ts_stack *s)
{
    uint32_t nmask = s->hash_mask * 2 + 1;
    ts_skc **nh = ts_alloc(s, (nmask + 1) * sizeof *nh);
    if (!nh)
        return; /* keep working with longer chains */
    for (uint32_t b = 0; b <= s->hash_mask; b++) {
        ts_skc *k = s->hash[b];
        while (k) {
            ts_skc *next = k->hnext;
            uint32_t nb = skc_hash(k) & nmask;
            k->hnext = nh[nb];
            nh[nb] = k;
            k = next;
        }
    }
    ts_dealloc(s, s->hash, (s->hash_mask + 1) * sizeof *s->hash);
    s->hash = nh;
    s->hash_mask = nmask;
}

void ts_hash_insert(ts_stack *s, ts_skc *k)
{
    uint32_t b;
    if (k->hashed)
        return;
    if (s->hash_count >= s->hash_mask + 1)
        hash_grow(s);
    b = skc_hash(k) & s->hash_mask;
    k->hnext = s->hash[b];
    s->hash[b] = k;
    k->hashed = 1;
    s->hash_count++;
}

void ts_hash_remove(ts_stack *s, ts_skc *k)
{
    ts_skc **pp;
    if (!k->hashed)
        return;
    pp = &s->hash[skc_hash(k) & s->hash_mask];
    while (*pp && *pp != k)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = k->hnext;
    k->hnext = NULL;
    k->hashed = 0;
    s->hash_count--;
}

ts_skc *ts_hash_lookup(ts_stack *s, uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp)
{
    ts_skc *k = s->hash[tuple_hash(la, lp, ra, rp) & s->hash_mask];
    for (; k; k = k->hnext)
        if (k->tuple.local.ip == la && k->tuple.local.port == lp &&
            k->tuple.remote.ip == ra && k->tuple.remote.port == rp)
            return k;
    return NULL;
}

/* ------------------------------------------------------------- listeners */

void ts_listen_insert(ts_stack *s, ts_conn *l)
{
    ts_conn **b = &s->lhash[l->c.tuple.local.port & 255];
    l->lnext = *b;
    *b = l;
}

void ts_listen_remove(ts_stack *s, ts_conn *l)
{
    ts_conn **pp = &s->lhash[l->c.tuple.local.port & 255];
    while (*pp && *pp != l)
        pp = &(*pp)->lnext;
    if (*pp)
        *pp = l->lnext;
    l->lnext = NULL;
}

/* An exact-address listener wins over a wildcard one (Linux scores them). */
ts_conn *ts_listen_lookup(ts_stack *s, uint32_t laddr, uint16_t lport)
{
    ts_conn *wild = NULL;
    for (ts_conn *l = s->lhash[lport & 255]; l; l = l->lnext) {
        if (l->c.tuple.local.port != lport)
            continue;
        if (l->c.tuple.local.ip == laddr)
            return l;
        if (l->c.tuple.local.ip == 0)
            wild = l;
    }
    return wild;
}

/* ------------------------------------------------------------- ports */

ts_port *ts_port_find(ts_stack *s, uint16_t port)
{
    ts_port *p = s->phash[mix32(port) & s->phash_mask];
    while (p && p->port != port)
        p = p->next;
    return p;
}

/* Port users by kind (TS_PK_*): explicit bind or accepted child, listener,
 * TIME_WAIT entry, port picked by connect. bind() conflicts with the
 * first three; connect's search avoids ports with explicit users. */
int ts_port_get(ts_stack *s, uint16_t port, int kind, int reuse)
{
    ts_port *p = ts_port_find(s, port);
    if (!p) {
        uint32_t b = mix32(port) & s->phash_mask;
        p = ts_alloc(s, sizeof *p);
        if (!p)
            return TS_ENOMEM;
        p->port = port;
        p->next = s->phash[b];
        s->phash[b] = p;
    }
    if (kind == TS_PK_LISTEN)
        p->n_listen++;
    else if (kind == TS_PK_TW)
        p->n_tw++;
    else if (kind == TS_PK_AUTO)
        p->n_auto++;
    else {
        p->n_conn++;
        if (!reuse)
            p->n_noreuse++;
    }
    return 0;
}

void ts_port_put(ts_stack *s, uint16_t port, int kind, int reuse)
{
    ts_port **pp = &s->phash[mix32(port) & s->phash_mask];
    ts_port *p;
    while (*pp && (*pp)->port != port)
        pp = &(*pp)->next;
    p = *pp;
    if (!p)
        return;
    if (kind == TS_PK_LISTEN && p->n_listen)
        p->n_listen--;
    else if (kind == TS_PK_TW && p->n_tw)
        p->n_tw--;
    else if (kind == TS_PK_AUTO && p->n_auto)
        p->n_auto--;
    else if (kind == TS_PK_CONN && p->n_conn) {
        p->n_conn--;
        if (!reuse && p->n_noreuse)
            p->n_noreuse--;
    }
    if (!p->n_listen && !p->n_conn && !p->n_tw && !p->n_auto) {
        *pp = p->next;
        ts_dealloc(s, p, sizeof *p);
    }
}

/* ------------------------------------------------------------- timer heap */

static int heap_less(const ts_skc *a, const ts_skc *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return (int32_t)(a->heap_seq - b->heap_seq) < 0;
}

static void heap_set(ts_stack *s, uint32_t i, ts_skc *k)
{
    s->heap[i] = k;
    k->heap_idx = i + 1;
}

static void heap_up(ts_stack *s, uint32_t i)
{
    ts_skc *k = s->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!heap_less(k, s->heap[p]))
            break;
        heap_set(s, i, s->heap[p]);
        i = p;
    }
    heap_set(s, i, k);
}

static void heap_down(ts_stack *s, uint32_t i)
{
    ts_skc *k = s->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const ts_skc *best = k;
        if (l < s->heap_len && heap_less(s->heap[l], best)) {
            m = l;
            best = s->heap[l];
        }
        if (r < s->heap_len && heap_less(s->heap[r], best))
            m = r;
        if (m == i)
            break;
        heap_set(s, i, s->heap[m]);
        i = m;
    }
    heap_set(s, i, k);
}

static void heap_remove(ts_stack *s, ts_skc *k)
{
    uint32_t i = k->heap_idx - 1;
    ts_skc *last = s->heap[--s->heap_len];
    k->heap_idx = 0;
    if (last != k) {
        heap_set(s, i, last);
        heap_up(s, i);
        heap_down(s, last->heap_idx - 1);
    }
}

/* Re-keys k. A changed deadline gets a new insertion number, so equal
 * deadlines fire in the order they were set. */
void ts_heap_update(ts_stack *s, ts_skc *k, uint64_t deadline)
{
    if (k->heap_idx && k->deadline == deadline)
        return;
    if (k->heap_idx)
        heap_remove(s, k);
    k->deadline = deadline;
    if (deadline == TS_NEVER)
        return;
    if (s->heap_len == s->heap_cap) {
        uint32_t n = s->heap_cap ? s->heap_cap * 2 : 64;
        ts_skc **nh = ts_alloc(s, n * sizeof *nh);
        if (!nh) {
            k->deadline = TS_NEVER; /* out of memory: the timer is lost; counted */
            s->drops[TS_DROP_NOMEM]++;
            return;
        }
        if (s->heap)
            memcpy(nh, s->heap, s->heap_len * sizeof *nh);
        ts_dealloc(s, s->heap, s->heap_cap * sizeof *nh);
        s->heap = nh;
        s->heap_cap = n;
    }
    k->heap_seq = ++s->heap_seq;
    s->heap[s->heap_len] = k;
    k->heap_idx = ++s->heap_len;
    heap_up(s, s->heap_len - 1);
}

uint64_t ts_stack_next_deadline(const ts_stack *s)
{
    if (!s || !s->heap_len)
        return TS_NEVER;
    return s->heap[0]->deadline;
}

/* ------------------------------------------------------------- output FIFO */

void ts_out_push(ts_stack *s, ts_skc *k)
{
    if (k->out_queued)
        return;
    k->out_queued = 1;
    k->out_next = NULL;
    if (s->out_tail)
        s->out_tail->out_next = k;
    else
        s->out_head = k;
    s->out_tail = k;
}

void ts_out_remove(ts_stack *s, ts_skc *k)
{
    ts_skc **pp = &s->out_head, *prev = NULL;
    if (!k->out_queued)
        return;
    while (*pp && *pp != k) {
        prev = *pp;
        pp = &(*pp)->out_next;
    }
    if (*pp) {
        *pp = k->out_next;
        if (s->out_tail == k)
            s->out_tail = prev;
    }
    k->out_queued = 0;
    k->out_next = NULL;
}

ts_seg *ts_ctl_push(ts_stack *s, uint32_t conn_id)
{
    ts_ctl *c;
    if (s->ctl_len == TS_CTL_RING) {
        s->drops[TS_DROP_NOMEM]++; /* a reply lost to a burst; the peer retries */
        return NULL;
    }
    c = &s->ctl[(s->ctl_head + s->ctl_len++) % TS_CTL_RING];
    memset(c, 0, sizeof *c);
    c->conn_id = conn_id;
    return &c->seg;
}

/* ------------------------------------------------------------- events */

static ts_event *ev_push(ts_stack *s)
{
    if (s->ev_len == s->ev_cap) {
        uint32_t n = s->ev_cap ? s->ev_cap * 2 : 32;
        ts_event *ne = ts_alloc(s, n * sizeof *ne);
        if (!ne)
            return NULL;
        if (s->ev)
            memcpy(ne, s->ev, s->ev_len * sizeof *ne);
        ts_dealloc(s, s->ev, s->ev_cap * sizeof *ne);
        s->ev = ne;
        s->ev_cap = n;
    }
    return &s->ev[s->ev_len++];
}

void ts_ev_transition(ts_stack *s, ts_skc *k, ts_sock h, int from, int to, int cause)
{
    ts_event *e;
    if (!s->hooks.on_transition || !(e = ev_push(s)))
        return;
    e->type = TS_EV_TRANSITION;
    e->u.tr.now_us = s->now;
    e->u.tr.conn_id = k->conn_id;
    e->u.tr.sock = h;
    e->u.tr.tuple = k->tuple;
    e->u.tr.from = ts_state_public(from);
    e->u.tr.to = ts_state_public(to);
    e->u.tr.cause = cause;
}

void ts_ev_segment(ts_stack *s, int kind, uint32_t conn_id, const ts_seg *seg, int reason)
{
    ts_event *e;
    if (kind == TS_SEG_DROP) {
        if (reason > 0 && reason < TS_DROP_MAX)
            s->drops[reason]++;
        TS_MIB_INC(s, TS_MIB_TCPStateDrops);
    }
    if (!s->hooks.on_segment || !(e = ev_push(s)))
        return;
    e->type = TS_EV_SEGMENT;
    e->u.seg.now_us = s->now;
    e->u.seg.kind = kind;
    e->u.seg.conn_id = conn_id;
    if (kind == TS_SEG_TX) {
        e->u.seg.tuple.local.ip = seg->src_ip;
        e->u.seg.tuple.local.port = seg->src_port;
        e->u.seg.tuple.remote.ip = seg->dst_ip;
        e->u.seg.tuple.remote.port = seg->dst_port;
    } else {
        e->u.seg.tuple.local.ip = seg->dst_ip;
        e->u.seg.tuple.local.port = seg->dst_port;
        e->u.seg.tuple.remote.ip = seg->src_ip;
        e->u.seg.tuple.remote.port = seg->src_port;
    }
    e->u.seg.flags = seg->flags;
    e->u.seg.seq = seg->seq;
    e->u.seg.ack = seg->ack;
    e->u.seg.win = seg->win;
    e->u.seg.len = seg->len;
    e->u.seg.reason = reason;
}

void ts_ev_ready(ts_stack *s, ts_sock h, unsigned events)
{
    ts_event *e;
    if (!s->hooks.on_ready || !(e = ev_push(s)))
        return;
    e->type = TS_EV_READY;
    e->u.ready.sock = h;
    e->u.ready.events = events;
}

/* Delivers queued hooks once the stack is consistent. A hook that calls a
 * mutating function gets TS_EBUSY (s->in_hook). */
void ts_ev_flush(ts_stack *s)
{
    if (s->in_hook)
        return;
    s->in_hook = 1;
    for (uint32_t i = 0; i < s->ev_len; i++) {
        ts_event *e = &s->ev[i];
        if (e->type == TS_EV_TRANSITION && s->hooks.on_transition)
            s->hooks.on_transition(s->user, &e->u.tr);
        else if (e->type == TS_EV_SEGMENT && s->hooks.on_segment)
            s->hooks.on_segment(s->user, &e->u.seg);
        else if (e->type == TS_EV_READY && s->hooks.on_ready)
            s->hooks.on_ready(s->user, e->u.ready.sock, e->u.ready.events);
    }
    s->ev_len = 0;
    s->in_hook = 0;
}

/* ------------------------------------------------------------- counters */

#define TS_MIB_NAME(g, n) #n,
#define TS_MIB_GROUP(g, n) #g,
static const char *const mib_names[] = { TS_MIB_LIST(TS_MIB_NAME) };
static const char *const mib_groups[] = { TS_MIB_LIST(TS_MIB_GROUP) };

const char *ts_counter_name(size_t i) { return i < TS_MIB_MAX ? mib_names[i] : NULL; }
const char *ts_counter_group(size_t i) { return i < TS_MIB_MAX ? mib_groups[i] : NULL; }

uint64_t ts_stack_counter(const ts_stack *s, size_t i)
{
    if (!s || i >= TS_MIB_MAX)
        return 0;
    if (i == TS_MIB_TCPOrphanCount)
        return s->n_orphans;
    if (i == TS_MIB_TCPTimeWaitCount)
        return s->n_tw;
    return s->mib[i];
}

uint64_t ts_stack_counter_by_name(const ts_stack *s, const char *name)
{
    if (!name)
        return UINT64_MAX; /* bad input never crashes: "unknown" */
    for (size_t i = 0; i < TS_MIB_MAX; i++) {
        size_t gl = strlen(mib_groups[i]);
        if (strcmp(name, mib_names[i]) == 0 ||
            (strncmp(name, mib_groups[i], gl) == 0 && strcmp(name + gl, mib_names[i]) == 0))
            return ts_stack_counter(s, i);
    }
    return UINT64_MAX;
}

uint64_t ts_stack_drops(const ts_stack *s, int reason)
{
    if (!s || reason <= 0 || reason >= TS_DROP_MAX)
        return 0;
    return s->drops[reason];
}

/* ------------------------------------------------------------- snapshot */

size_t ts_stack_conns(const ts_stack *s, ts_conn_summary *out, size_t cap)
{
    size_t n = 0;
    if (!s)
        return 0;
    if (!out)
        cap = 0; /* nowhere to write: just count */
    /* Collect, then order by conn id: hash order must never leak out. */
    for (uint32_t b = 0; b <= s->hash_mask; b++) {
        for (ts_skc *k = s->hash[b]; k; k = k->hnext) {
            if (n < cap) {
                ts_conn_summary *e = &out[n];
                size_t j = n;
                ts_conn_summary v;
                memset(&v, 0, sizeof v);
                v.conn_id = k->conn_id;
                v.tuple = k->tuple;
                v.state = ts_state_public(k->state);
                if (k->kind == TS_K_FULL) {
                    v.sock = ((const ts_conn *)k)->handle;
                    v.orphan = !!(((const ts_conn *)k)->flags & TS_CF_ORPHAN);
                } else if (k->kind == TS_K_TW) {
                    v.orphan = 1;
                }
                while (j > 0 && out[j - 1].conn_id > v.conn_id) {
                    out[j] = out[j - 1];
                    j--;
                }
                out[j] = v;
                (void)e;
            }
            n++;
        }
    }
    /* listeners and unhashed full sockets with handles */
    for (uint32_t i = 1; i < s->nslots; i++) {
        const ts_conn *c = s->slots[i].conn;
        if (!c || c->c.hashed)
            continue;
        if (n < cap) {
            ts_conn_summary v;
            size_t j = n;
            memset(&v, 0, sizeof v);
            v.conn_id = c->c.conn_id;
            v.tuple = c->c.tuple;
            v.state = ts_state_public(c->c.state);
            v.sock = c->handle;
            while (j > 0 && out[j - 1].conn_id > v.conn_id) {
                out[j] = out[j - 1];
                j--;
            }
            out[j] = v;
        }
        n++;
    }
    return n;
}
