/*
 * lwpeer.c — the world of lwpeer.h: the virtual clock (and lwIP's sys_now
 * on it), lwIP's two interfaces, the tcpstate stacks, the FIFO link, the
 * pump and the time loop, and views of lwIP's pcb lists.
 *
 * Invariants: every datagram a stack emits goes into the FIFO and is
 * delivered at the same virtual instant, in emission order, outside any
 * call into the stack that emitted it (lwIP is never re-entered from its
 * own output callback). Time moves only in lp_run(), straight to the
 * earliest deadline of any stack: tcpstate's exact µs deadlines, lwIP's
 * whole-ms timeouts (tcp_tmr runs every 250 ms while lwIP has pcbs; its
 * "slow" work — RTO, TIME_WAIT, FIN_WAIT_2 — every other run, 500 ms).
 */
#include "lwpeer.h"

#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwip/priv/tcp_priv.h"

#define LP_MTU 1500
#define LP_MAX_STACKS 2
/* Work at one instant past which a stack (or an endpoint) is looping: a
 * 1 GiB transfer on the zero-delay link is about 1.1 M datagrams. */
#define LP_PUMP_LIMIT 8000000L

static uint64_t lp_clock = 1000000; /* µs; starts at 1 s so sys_now() is never 0 */

/* lwIP's clock: this definition wins over liblwip's own (clock_gettime)
 * because the library calls sys_now through its PLT. */
u32_t sys_now(void) { return (u32_t)(lp_clock / 1000u); }

uint64_t lp_now(void) { return lp_clock; }

/* ------------------------------------------------------------ the FIFO */

typedef struct lp_pkt {
    uint16_t len;
    uint8_t data[LP_MTU];
} lp_pkt;

static struct {
    lp_pkt *slot;
    size_t cap, head, count;
} lp_q;

static uint64_t lp_n_delivered, lp_n_undeliverable;
static lp_tap_fn lp_tap;
static void *lp_tap_user;

/* Room for one more datagram; doubles the ring when full. */
static lp_pkt *lp_q_push(void)
{
    if (lp_q.count == lp_q.cap) {
        size_t ncap = lp_q.cap ? lp_q.cap * 2 : 64;
        lp_pkt *n = malloc(ncap * sizeof *n);
        if (!n)
            return NULL;
        for (size_t i = 0; i < lp_q.count; i++)
            n[i] = lp_q.slot[(lp_q.head + i) % lp_q.cap];
        free(lp_q.slot);
        lp_q.slot = n;
        lp_q.cap = ncap;
        lp_q.head = 0;
    }
    return &lp_q.slot[(lp_q.head + lp_q.count++) % lp_q.cap];
}

/* Gives back the slot lp_q_push just handed out (nothing was put in it). */
static void lp_q_unpush(void) { lp_q.count--; }

static int lp_q_pop(lp_pkt *out)
{
    const lp_pkt *k;
    if (!lp_q.count)
        return 0;
    k = &lp_q.slot[lp_q.head];
    out->len = k->len;
    memcpy(out->data, k->data, k->len);
    lp_q.head = (lp_q.head + 1) % lp_q.cap;
    lp_q.count--;
    return 1;
}

uint64_t lp_delivered(void) { return lp_n_delivered; }
uint64_t lp_undeliverable(void) { return lp_n_undeliverable; }

void lp_set_tap(lp_tap_fn fn, void *user)
{
    lp_tap = fn;
    lp_tap_user = user;
}

/* --------------------------------------------------------------- lwIP */

static struct netif lp_nif[2]; /* [0] 192.0.2.1, [1] 192.0.2.3 */
static int lp_lwip_up;
static int lp_lw_timers_off;
static int lp_stuck;

int lp_is_stuck(void) { return lp_stuck; }

void lp_lw_timers(int on) { lp_lw_timers_off = !on; }

/* lwIP's output: every datagram it sends lands here (no ARP: the
 * interfaces have no NETIF_FLAG_ETHARP, so output gets IP datagrams). */
static err_t lp_nif_output(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
    lp_pkt *k;
    (void)nif;
    (void)dst;
    if (p->tot_len > LP_MTU || !(k = lp_q_push()))
        return ERR_MEM;
    k->len = (uint16_t)pbuf_copy_partial(p, k->data, p->tot_len, 0);
    return ERR_OK;
}

/* No IPv6 address is ever configured; should lwIP still try, drop it. */
static err_t lp_nif_output6(struct netif *nif, struct pbuf *p, const ip6_addr_t *dst)
{
    (void)nif;
    (void)p;
    (void)dst;
    lp_n_undeliverable++;
    return ERR_OK;
}

static err_t lp_nif_init(struct netif *nif)
{
    nif->output = lp_nif_output;
    nif->output_ip6 = lp_nif_output6;
    nif->mtu = LP_MTU;
    nif->name[0] = 't';
    nif->name[1] = 's';
    return ERR_OK;
}

static int lp_nif_add(struct netif *nif, uint32_t ip)
{
    ip4_addr_t a, m, g;
    a.addr = lwip_htonl(ip);
    m.addr = lwip_htonl(0xFFFFFF00u);
    g.addr = 0;
    if (!netif_add(nif, &a, &m, &g, NULL, lp_nif_init, ip4_input))
        return -1;
    netif_set_up(nif);
    netif_set_link_up(nif);
    return 0;
}

static struct netif *lp_nif_of(uint32_t ip)
{
    for (int i = 0; i < 2; i++)
        if (lwip_ntohl(netif_ip4_addr(&lp_nif[i])->addr) == ip)
            return &lp_nif[i];
    return NULL;
}

/* --------------------------------------------------------- tcpstate */

static struct {
    uint32_t ip;
    ts_stack *s;
} lp_st[LP_MAX_STACKS];

#define LP_TRANS_MAX 256
static lp_trans lp_tr[LP_TRANS_MAX];
static size_t lp_tr_n;

static void lp_on_transition(void *user, const ts_transition_ev *ev)
{
    lp_trans *t = &lp_tr[lp_tr_n++ % LP_TRANS_MAX];
    t->t = ev->now_us;
    t->s = user ? *(ts_stack **)user : NULL;
    t->tuple = ev->tuple;
    t->from = ev->from;
    t->to = ev->to;
    t->cause = ev->cause;
}

size_t lp_trans_count(void) { return lp_tr_n < LP_TRANS_MAX ? lp_tr_n : LP_TRANS_MAX; }
void lp_trans_clear(void) { lp_tr_n = 0; }

const lp_trans *lp_trans_get(size_t i)
{
    size_t n = lp_trans_count();
    if (i >= n)
        return NULL;
    return &lp_tr[(lp_tr_n - n + i) % LP_TRANS_MAX];
}

/* RFC 6528's shape without the secret: a mix of the 4-tuple plus the
 * clock; deterministic, so runs repeat exactly. */
static uint32_t lp_isn(void *user, const ts_tuple *t, uint64_t now)
{
    uint32_t h = t->local.ip * 0x9E3779B1u ^ t->remote.ip * 0x85EBCA6Bu;
    (void)user;
    h ^= ((uint32_t)t->local.port << 16 | t->remote.port) * 0xC2B2AE35u;
    h ^= h >> 15;
    return h + (uint32_t)(now / 4u);
}

ts_stack *lp_ts_new(uint32_t ip, const ts_config *cfg)
{
    ts_hooks h;
    for (int i = 0; i < LP_MAX_STACKS; i++) {
        if (lp_st[i].s)
            continue;
        memset(&h, 0, sizeof h);
        h.size = sizeof h;
        h.isn = lp_isn;
        h.on_transition = lp_on_transition;
        lp_st[i].s = ts_stack_new(cfg, &h, &lp_st[i].s);
        if (!lp_st[i].s)
            return NULL;
        lp_st[i].ip = ip;
        if (ts_stack_add_addr(lp_st[i].s, ip) != 0) {
            ts_stack_free(lp_st[i].s);
            lp_st[i].s = NULL;
            return NULL;
        }
        return lp_st[i].s;
    }
    return NULL;
}

void lp_ts_free(ts_stack *s)
{
    for (int i = 0; i < LP_MAX_STACKS; i++)
        if (s && lp_st[i].s == s) {
            ts_stack_free(s);
            lp_st[i].s = NULL;
        }
}

/* ------------------------------------------------------ lwIP watch */

#define LP_WATCH_MAX 64
static struct {
    int on;
    uint16_t lport, rport;
    size_t n;
    int state[LP_WATCH_MAX];
    uint64_t t[LP_WATCH_MAX];
} lp_w;

void lp_lw_watch(uint16_t local_port, uint16_t remote_port)
{
    memset(&lp_w, 0, sizeof lp_w);
    lp_w.on = 1;
    lp_w.lport = local_port;
    lp_w.rport = remote_port;
}

static void lp_watch_sample(void)
{
    int st;
    if (!lp_w.on)
        return;
    st = lp_lw_state(lp_w.lport, lp_w.rport);
    if (lp_w.n && lp_w.state[lp_w.n - 1] == st)
        return;
    if (!lp_w.n && st == TS_CLOSE)
        return; /* nothing yet */
    if (lp_w.n < LP_WATCH_MAX) {
        lp_w.state[lp_w.n] = st;
        lp_w.t[lp_w.n++] = lp_clock;
    }
}

size_t lp_lw_watch_count(void) { return lp_w.n; }
int lp_lw_watch_state(size_t i) { return i < lp_w.n ? lp_w.state[i] : -1; }
uint64_t lp_lw_watch_time(size_t i) { return i < lp_w.n ? lp_w.t[i] : 0; }

/* ----------------------------------------------------- the pump */

void lp_ep_run_all(int *progress); /* lwep.c */
void lp_ep_clear_all(void);         /* lwep.c */

int lp_init(void)
{
    if (!lp_lwip_up) {
        lwip_init();
        if (lp_nif_add(&lp_nif[1], LP_LW2_IP) || lp_nif_add(&lp_nif[0], LP_LW_IP))
            return -1;
        lp_lwip_up = 1;
    }
    /* What a failed test left behind: lwIP's pcbs are aborted; a tcpstate
     * stack is forgotten, not freed (its bytes were counted by that test's
     * allocator, the failure is already reported). */
    lp_lw_reset();
    memset(lp_st, 0, sizeof lp_st);
    lp_ep_clear_all();
    lp_lw_timers_off = 0;
    lp_stuck = 0;
    lp_tap = NULL;
    lp_w.on = 0;
    lp_trans_clear();
    return 0;
}

static void lp_deliver(const lp_pkt *k)
{
    uint32_t dst;
    struct netif *nif;
    if (k->len < 20)
        goto nobody;
    if (lp_tap && lp_tap(lp_tap_user, k->data, k->len))
        return;
    dst = (uint32_t)k->data[16] << 24 | (uint32_t)k->data[17] << 16 |
          (uint32_t)k->data[18] << 8 | k->data[19];
    for (int i = 0; i < LP_MAX_STACKS; i++)
        if (lp_st[i].s && lp_st[i].ip == dst) {
            ts_stack_input(lp_st[i].s, lp_clock, k->data, k->len);
            lp_n_delivered++;
            return;
        }
    if ((nif = lp_nif_of(dst)) != NULL) {
        struct pbuf *p = pbuf_alloc(PBUF_RAW, k->len, PBUF_RAM);
        if (!p)
            goto nobody;
        pbuf_take(p, k->data, k->len);
        nif->input(p, nif); /* ip4_input owns p from here */
        lp_n_delivered++;
        return;
    }
nobody:
    lp_n_undeliverable++;
}

static int lp_drain_stacks(void)
{
    int n = 0;
    for (int i = 0; i < LP_MAX_STACKS; i++) {
        lp_pkt *k;
        size_t len;
        if (!lp_st[i].s)
            continue;
        while ((k = lp_q_push()) != NULL) {
            len = ts_stack_output(lp_st[i].s, lp_clock, k->data, sizeof k->data);
            if (!len) {
                lp_q_unpush();
                break;
            }
            k->len = (uint16_t)len;
            n++;
        }
    }
    return n;
}

long lp_pump(void)
{
    long delivered = 0, rounds = 0;
    int moved;
    lp_pkt k;
    do {
        moved = 0;
        lp_ep_run_all(&moved);
        moved += lp_drain_stacks();
        while (lp_q_pop(&k)) {
            lp_deliver(&k);
            lp_watch_sample();
            moved += 1 + lp_drain_stacks();
            delivered++;
        }
        if (delivered > LP_PUMP_LIMIT || ++rounds > LP_PUMP_LIMIT) {
            lp_stuck = 1;
            lp_q.head = lp_q.count = 0;
            break;
        }
    } while (moved);
    return delivered;
}

/* Earliest deadline of any stack, µs; lwIP's are whole ms. */
static uint64_t lp_next_deadline(void)
{
    uint64_t next = LP_NEVER;
    u32_t sl = lp_lw_timers_off ? SYS_TIMEOUTS_SLEEPTIME_INFINITE : sys_timeouts_sleeptime();
    for (int i = 0; i < LP_MAX_STACKS; i++)
        if (lp_st[i].s) {
            uint64_t d = ts_stack_next_deadline(lp_st[i].s);
            if (d < next)
                next = d;
        }
    if (sl != SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
        uint64_t d = (lp_clock / 1000u + sl) * 1000u;
        if (d < next)
            next = d;
    }
    return next;
}

static void lp_fire(void)
{
    for (int i = 0; i < LP_MAX_STACKS; i++)
        if (lp_st[i].s)
            ts_stack_advance(lp_st[i].s, lp_clock);
    if (!lp_lw_timers_off)
        sys_check_timeouts();
    lp_watch_sample();
}

int lp_run(int (*done)(void *), void *arg, uint64_t limit_us)
{
    for (;;) {
        uint64_t next;
        lp_pump();
        if (lp_stuck)
            return 0;
        if (done && done(arg))
            return 1;
        next = lp_next_deadline();
        if (next > limit_us) {
            if (limit_us != LP_NEVER && lp_clock < limit_us) {
                lp_clock = limit_us;
                lp_fire();
                lp_pump();
            }
            return done ? done(arg) : 0;
        }
        if (next > lp_clock)
            lp_clock = next;
        lp_fire();
    }
}

void lp_wait_ms(uint64_t ms) { lp_run(NULL, NULL, lp_clock + ms * 1000u); }

/* ------------------------------------------------- lwIP pcb views */

static int lp_lw_map_state(enum tcp_state s)
{
    switch (s) {
    case CLOSED: return TS_CLOSE;
    case LISTEN: return TS_LISTEN;
    case SYN_SENT: return TS_SYN_SENT;
    case SYN_RCVD: return TS_SYN_RECV;
    case ESTABLISHED: return TS_ESTABLISHED;
    case FIN_WAIT_1: return TS_FIN_WAIT1;
    case FIN_WAIT_2: return TS_FIN_WAIT2;
    case CLOSE_WAIT: return TS_CLOSE_WAIT;
    case CLOSING: return TS_CLOSING;
    case LAST_ACK: return TS_LAST_ACK;
    case TIME_WAIT: return TS_TIME_WAIT;
    }
    return TS_CLOSE;
}

struct tcp_pcb *lp_lw_pcb(uint16_t local_port, uint16_t remote_port)
{
    struct tcp_pcb *lists[2] = { tcp_active_pcbs, tcp_tw_pcbs };
    for (int i = 0; i < 2; i++)
        for (struct tcp_pcb *p = lists[i]; p; p = p->next)
            if (p->local_port == local_port && p->remote_port == remote_port)
                return p;
    return NULL;
}

int lp_lw_state(uint16_t local_port, uint16_t remote_port)
{
    struct tcp_pcb *p = lp_lw_pcb(local_port, remote_port);
    if (p)
        return lp_lw_map_state(p->state);
    if (remote_port == 0)
        for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
            if (l->local_port == local_port)
                return TS_LISTEN;
    return TS_CLOSE;
}

int lp_lw_count(void)
{
    int n = 0;
    for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
        n++;
    for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
        n++;
    return n;
}

void lp_lw_listener_free(struct tcp_pcb_listen *l); /* lwep.c */

int lp_lw_reset(void)
{
    int n = 0;
    while (tcp_active_pcbs) {
        struct tcp_pcb *p = tcp_active_pcbs;
        tcp_arg(p, NULL);
        tcp_err(p, NULL);
        tcp_abort(p);
        n++;
    }
    while (tcp_tw_pcbs) {
        tcp_abort(tcp_tw_pcbs);
        n++;
    }
    while (tcp_listen_pcbs.listen_pcbs) {
        lp_lw_listener_free(tcp_listen_pcbs.listen_pcbs);
        n++;
    }
    while (tcp_bound_pcbs) {
        tcp_close(tcp_bound_pcbs);
        n++;
    }
    lp_q.head = lp_q.count = 0;
    return n;
}
