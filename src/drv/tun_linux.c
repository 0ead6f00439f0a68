/*
 * tun_linux.c — the TUN driver (tun_linux.h): one stack on a Linux TUN
 * device, in real time.
 *
 * The loop. epoll waits on three descriptors: the device (readable: the
 * kernel sent datagrams), a timerfd armed at the earliest of the stack's
 * next deadline, the app's wake-up and the wind-down deadline (absolute
 * CLOCK_MONOTONIC, so a late wake-up never drifts), and a signalfd for
 * SIGINT/SIGTERM. Each turn reads the clock once, feeds every waiting
 * datagram to the stack, fires expired timers, then settles: hands the
 * queued readiness events to the app and writes out everything the stack
 * has to send, until neither produces more. Time given to the stack only
 * moves forward.
 *
 * Invariants.
 *   - The stack is only called from the loop, never from a hook: hooks
 *     queue (readiness) or print (JSON) and return.
 *   - Every datagram read or written goes to the capture, bad ones too;
 *     a datagram the stack rejects is counted, never fatal.
 *   - A held datagram (--hold-syn / --hold-fin, a debugging aid to force a
 *     simultaneous open or close) keeps its place: later datagrams of the
 *     same 4-tuple queue behind it until it is released.
 *   - The secrets never leave this file; what the hooks returned is what
 *     the record keeps.
 */
#include "drv/tun_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/wire.h"
#include "drv/ladder.h"
#include "drv/siphash.h"
#include "drv/tundev.h"

#define HOLD_MAX 64           /* datagrams held behind a held SYN/FIN */
#define HOLD_LIMIT_US 10000000 /* a hold never lasts longer than 10 s */
#define READ_BATCH 512        /* datagrams read per turn before settling */

typedef struct held_pkt {
    size_t len;
    uint8_t b[1600];
} held_pkt;

typedef struct ready_ev {
    ts_sock sock;
    unsigned events;
} ready_ev;

struct ts_tun {
    ts_tun_opts o;
    char dev[16];
    int fd, ep, tfd, sfd;
    uint64_t t0_ns, now;
    ts_rstack *rs;
    ts_rec_writer *rec;
    pcap_t *pc;
    pcap_dumper_t *pd;
    uint8_t key_isn[16], key_port[16], key_ts[16], key_cookie[2][16];
    ready_ev *ready;
    size_t nready, capready;
    uint64_t wake_at;
    int finished, status, stopping;
    uint64_t wind_down_at;
    /* holds */
    int hold_syn, hold_fin;   /* still armed */
    held_pkt *held;
    size_t nheld;
    ts_seg held_seg;          /* the held datagram's addresses */
    uint64_t held_since;
    ts_trace_host hosts[2];
    /* driver counters */
    uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, rx_dropped, tx_errors, rx_errors, held_pkts;
    uint8_t buf[TS_RS_BUF];
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_now(ts_tun *t)
{
    uint64_t us = (mono_ns() - t->t0_ns) / 1000u;
    if (us > t->now)
        t->now = us;
    return t->now;
}

/* ------------------------------------------------------------ the hooks */

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secret),
 * M a clock. Linux ticks M every 64 ns (ktime_get_real_ns() >> 6); so does
 * this. */
static uint32_t hook_isn(void *u, const ts_tuple *tp, uint64_t now_us)
{
    ts_tun *t = u;
    (void)now_us;
    uint8_t m[12];
    memcpy(m, &tp->local.ip, 4);
    memcpy(m + 4, &tp->remote.ip, 4);
    memcpy(m + 8, &tp->local.port, 2);
    memcpy(m + 10, &tp->remote.port, 2);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return (uint32_t)(ns >> 6) + (uint32_t)ts_siphash24(t->key_isn, m, sizeof m);
}

/* RFC 6056 algorithm 3: offset = F(localip, remoteip, remoteport, secret);
 * the local port is what is being chosen, so it is not an input. */
static uint32_t hook_port_offset(void *u, const ts_tuple *tp)
{
    ts_tun *t = u;
    uint8_t m[10];
    memcpy(m, &tp->local.ip, 4);
    memcpy(m + 4, &tp->remote.ip, 4);
    memcpy(m + 8, &tp->remote.port, 2);
    return (uint32_t)ts_siphash24(t->key_port, m, sizeof m);
}

/* Timestamps: a per address pair offset (Linux secure_tcp_ts_off), so the
 * clock does not reveal uptime and differs between peers. */
static uint32_t hook_ts_offset(void *u, const ts_tuple *tp)
{
    ts_tun *t = u;
    uint8_t m[8];
    memcpy(m, &tp->local.ip, 4);
    memcpy(m + 4, &tp->remote.ip, 4);
    return (uint32_t)ts_siphash24(t->key_ts, m, sizeof m);
}

/* SYN cookies: SipHash of the 4-tuple and the minute counter under one of
 * two random keys, as Linux's cookie_hash (siphash_4u32). */
static uint32_t hook_cookie_hash(void *u, const ts_tuple *tp, uint32_t count, int which)
{
    ts_tun *t = u;
    uint8_t m[16];
    memcpy(m, &tp->local.ip, 4);
    memcpy(m + 4, &tp->remote.ip, 4);
    memcpy(m + 8, &tp->local.port, 2);
    memcpy(m + 10, &tp->remote.port, 2);
    memcpy(m + 12, &count, 4);
    return (uint32_t)ts_siphash24(t->key_cookie[which & 1], m, sizeof m);
}

static void json_out(ts_tun *t, const ts_trace_ev *ev)
{
    if (t->o.json)
        ts_json_event(t->o.json, t->hosts, 2, ev);
}

static void hook_transition(void *u, const ts_transition_ev *tev)
{
    ts_trace_ev ev;
    ts_trace_from_transition(&ev, tev);
    json_out(u, &ev);
}

static void hook_segment(void *u, const ts_segment_ev *sev)
{
    ts_trace_ev ev;
    ts_trace_from_segment(&ev, sev);
    json_out(u, &ev);
}

static void hook_ready(void *u, ts_sock s, unsigned events)
{
    ts_tun *t = u;
    if (t->nready == t->capready) {
        size_t cap = t->capready ? t->capready * 2 : 64;
        ready_ev *nr = realloc(t->ready, cap * sizeof *nr);
        if (!nr)
            return; /* one wake-up missed; ts_poll still tells the truth */
        t->ready = nr;
        t->capready = cap;
    }
    t->ready[t->nready].sock = s;
    t->ready[t->nready].events = events;
    t->nready++;
}

static void hook_log(void *u, const char *msg)
{
    (void)u;
    fprintf(stderr, "tcpstate: %s\n", msg);
}

/* ------------------------------------------------------------- capture */

static void capture(ts_tun *t, const uint8_t *p, size_t len)
{
    if (!t->pd)
        return;
    struct pcap_pkthdr h;
    gettimeofday(&h.ts, NULL);
    h.caplen = (bpf_u_int32)len;
    h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)t->pd, &h, p);
}

static int open_capture(ts_tun *t, char *err, size_t errlen)
{
    if (!t->o.pcap_path)
        return 0;
    /* DLT_RAW: each record is an IPv4 datagram, as the device gives it */
    t->pc = pcap_open_dead(DLT_RAW, 65535);
    if (t->pc)
        t->pd = pcap_dump_open(t->pc, t->o.pcap_path);
    if (!t->pd) {
        snprintf(err, errlen, "cannot write capture %s: %s", t->o.pcap_path,
                 t->pc ? pcap_geterr(t->pc) : "out of memory");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- output */

static void tun_write(ts_tun *t, const uint8_t *p, size_t len)
{
    capture(t, p, len);
    ssize_t w;
    do
        w = write(t->fd, p, len);
    while (w < 0 && errno == EINTR);
    if (w == (ssize_t)len) {
        t->tx_pkts++;
        t->tx_bytes += len;
    } else {
        t->tx_errors++; /* the device's queue is full or it went down: a loss */
    }
}

static int same_flow(const ts_seg *a, const ts_seg *b)
{
    return a->src_ip == b->src_ip && a->dst_ip == b->dst_ip && a->src_port == b->src_port &&
           a->dst_port == b->dst_port;
}

static void release_held(ts_tun *t)
{
    for (size_t i = 0; i < t->nheld; i++)
        tun_write(t, t->held[i].b, t->held[i].len);
    t->nheld = 0;
}

/* Whether p (ours, going out) is held: the first SYN (--hold-syn) or FIN
 * (--hold-fin), and whatever follows it on the same 4-tuple. */
static int hold_out(ts_tun *t, const uint8_t *p, size_t len)
{
    ts_seg seg;
    if ((!t->hold_syn && !t->hold_fin && !t->nheld) || len > sizeof t->held[0].b ||
        ts_wire_parse(p, len, &seg) != TS_DROP_NONE)
        return 0;
    if (t->nheld) {
        if (!same_flow(&seg, &t->held_seg) || t->nheld == HOLD_MAX)
            return 0;
    } else {
        int syn = t->hold_syn && (seg.flags & (TS_TH_SYN | TS_TH_ACK)) == TS_TH_SYN;
        int fin = t->hold_fin && (seg.flags & TS_TH_FIN);
        if (!syn && !fin)
            return 0;
        if (syn)
            t->hold_syn = 0;
        if (fin)
            t->hold_fin = 0;
        t->held_seg = seg;
        t->held_since = t->now;
        fprintf(stderr, "tcpstate tun: holding our %s until the peer's arrives\n",
                syn ? "SYN" : "FIN");
    }
    memcpy(t->held[t->nheld].b, p, len);
    t->held[t->nheld++].len = len;
    t->held_pkts++;
    return 1;
}

/* An arriving datagram releases the held ones when it is the peer's SYN
 * (or FIN) on the held 4-tuple: ours goes out first, so both cross. */
static void hold_in(ts_tun *t, const uint8_t *p, size_t len)
{
    ts_seg in;
    if (!t->nheld || ts_wire_parse(p, len, &in) != TS_DROP_NONE)
        return;
    const ts_seg *h = &t->held_seg;
    if (in.src_ip != h->dst_ip || in.dst_ip != h->src_ip || in.src_port != h->dst_port ||
        in.dst_port != h->src_port)
        return;
    if ((in.flags & h->flags & (TS_TH_SYN | TS_TH_FIN)) || (in.flags & TS_TH_RST))
        release_held(t);
}

static int drain_output(ts_tun *t)
{
    size_t n;
    int any = 0;
    /* the clock is read again: app work since the turn began must not
     * make datagrams leave "earlier" than they do (pcap, JSON, RTT) */
    while ((n = ts_rs_output(t->rs, clock_now(t), t->buf)) > 0) {
        any = 1;
        if (!hold_out(t, t->buf, n))
            tun_write(t, t->buf, n);
    }
    if (t->nheld && t->now - t->held_since >= HOLD_LIMIT_US)
        release_held(t);
    return any;
}

/* Readiness to the app, output to the device, until both are quiet. */
static void settle(ts_tun *t)
{
    for (int round = 0; round < 100000; round++) {
        int any = drain_output(t);
        if (t->nready == 0 && !any)
            return;
        size_t n = t->nready;
        if (n == 0)
            continue;
        ready_ev *evs = malloc(n * sizeof *evs);
        if (!evs)
            return;
        memcpy(evs, t->ready, n * sizeof *evs);
        t->nready = 0;
        for (size_t i = 0; i < n; i++)
            if (t->o.app.ready)
                t->o.app.ready(t->o.app.user, t, evs[i].sock, evs[i].events);
        free(evs);
    }
}

/* -------------------------------------------------------------- input */

static int read_device(ts_tun *t)
{
    for (int i = 0; i < READ_BATCH; i++) {
        ssize_t n = read(t->fd, t->buf, sizeof t->buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            t->rx_errors++;
            return errno == EBADFD || errno == EIO ? -1 : 0;
        }
        if (n == 0)
            continue;
        t->rx_pkts++;
        t->rx_bytes += (uint64_t)n;
        capture(t, t->buf, (size_t)n);
        hold_in(t, t->buf, (size_t)n);
        /* Anything the kernel sends (IPv6, ICMP, garbage) reaches the
         * stack, which counts and drops what is not for it. */
        if (ts_rs_input(t->rs, clock_now(t), t->buf, (size_t)n) != 0)
            t->rx_dropped++;
    }
    return 0;
}

/* --------------------------------------------------------------- loop */

/* Nothing left that still needs packets: no connection outside TIME_WAIT,
 * FIN_WAIT_2 (our FIN is ACKed) or CLOSED. */
static int quiescent(ts_tun *t)
{
    ts_stack *s = ts_rs_stack(t->rs);
    size_t n = ts_stack_conns(s, NULL, 0);
    if (n == 0)
        return 1;
    ts_conn_summary *c = calloc(n, sizeof *c);
    if (!c)
        return 0;
    n = ts_stack_conns(s, c, n);
    int quiet = 1;
    for (size_t i = 0; i < n && quiet; i++)
        quiet = c[i].state == TS_TIME_WAIT || c[i].state == TS_FIN_WAIT2 ||
                c[i].state == TS_CLOSE;
    free(c);
    return quiet;
}

static int arm_timer(ts_tun *t)
{
    uint64_t at = ts_stack_next_deadline(ts_rs_stack(t->rs));
    if (t->wake_at < at)
        at = t->wake_at;
    if (t->wind_down_at < at)
        at = t->wind_down_at;
    if (t->nheld && t->held_since + HOLD_LIMIT_US < at)
        at = t->held_since + HOLD_LIMIT_US;
    /* A far deadline is met by waking once an hour and looking again;
     * it keeps t0 + at from overflowing. */
    if (at != UINT64_MAX && at > t->now + 3600000000u)
        at = t->now + 3600000000u;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (at != UINT64_MAX) {
        /* absolute: t0 + at; at least 1 ns, since all zeros disarms */
        uint64_t abs_ns = t->t0_ns + at * 1000u;
        if (abs_ns == 0)
            abs_ns = 1;
        its.it_value.tv_sec = (time_t)(abs_ns / 1000000000u);
        its.it_value.tv_nsec = (long)(abs_ns % 1000000000u);
    }
    return timerfd_settime(t->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void begin_wind_down(ts_tun *t)
{
    unsigned ms = t->o.linger_ms ? t->o.linger_ms : 3000;
    if (t->wind_down_at == UINT64_MAX)
        t->wind_down_at = t->now + (uint64_t)ms * 1000u;
}

/* SIGINT/SIGTERM: the first asks the app to close everything; another
 * one ends the loop at once. Returns 1 to end now. */
static int on_signal(ts_tun *t)
{
    struct signalfd_siginfo si;
    int end = 0;
    while (read(t->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (t->stopping) {
            end = 1;
            continue;
        }
        t->stopping = 1;
        fprintf(stderr, "tcpstate tun: %s: closing\n", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        if (t->o.app.stop)
            t->o.app.stop(t->o.app.user, t);
        begin_wind_down(t);
    }
    return end;
}

/* One turn after epoll_wait: input, timers, app wake-up, settle. */
static int turn(ts_tun *t, const struct epoll_event *evs, int n)
{
    uint64_t expirations;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.fd == t->sfd && on_signal(t))
            return 1;
        if (evs[i].data.fd == t->tfd)
            (void)!read(t->tfd, &expirations, sizeof expirations);
    }
    clock_now(t);
    for (int i = 0; i < n; i++)
        if (evs[i].data.fd == t->fd && read_device(t) < 0) {
            fprintf(stderr, "tcpstate tun: the device %s went away\n", t->dev);
            return 1;
        }
    /* Always: it fires what expired, and it tells the stack the time, so
     * calls the app makes below are stamped now, not at the last packet. */
    ts_rs_advance(t->rs, t->now);
    if (t->wake_at <= t->now) {
        t->wake_at = UINT64_MAX;
        if (t->o.app.timer)
            t->o.app.timer(t->o.app.user, t);
    }
    settle(t);
    return 0;
}

int ts_tun_run(ts_tun *t)
{
    /* the stack learns the time first: the app's first calls are stamped
     * with it. "up" is printed once the command has started (a listener
     * exists), since scripts wait for that line. */
    ts_rs_advance(t->rs, clock_now(t));
    if (t->o.app.start) {
        int rc = t->o.app.start(t->o.app.user, t);
        if (rc)
            return rc;
    }
    fprintf(stderr, "tcpstate tun: %s up: tcpstate %u.%u.%u.%u, kernel %u.%u.%u.%u/%d\n", t->dev,
            t->o.addr >> 24, (t->o.addr >> 16) & 255, (t->o.addr >> 8) & 255, t->o.addr & 255,
            t->o.kernel_addr >> 24, (t->o.kernel_addr >> 16) & 255,
            (t->o.kernel_addr >> 8) & 255, t->o.kernel_addr & 255, t->o.prefix);
    settle(t);
    for (;;) {
        if (t->finished || t->stopping) {
            begin_wind_down(t);
            if (quiescent(t) || t->now >= t->wind_down_at)
                break;
        }
        if (arm_timer(t) < 0) {
            fprintf(stderr, "tcpstate tun: timerfd_settime: %s\n", strerror(errno));
            return 1;
        }
        struct epoll_event evs[4];
        int n = epoll_wait(t->ep, evs, 4, -1);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "tcpstate tun: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        if (turn(t, evs, n > 0 ? n : 0))
            break;
    }
    release_held(t);
    return t->finished ? t->status : 0;
}

void ts_tun_finish(ts_tun *t, int status)
{
    if (!t->finished) {
        t->finished = 1;
        t->status = status;
    }
}

void ts_tun_wake(ts_tun *t, uint64_t at_us)
{
    t->wake_at = at_us;
}

uint64_t ts_tun_now(const ts_tun *t)
{
    return t->now;
}

ts_rstack *ts_tun_rstack(ts_tun *t)
{
    return t->rs;
}

const char *ts_tun_dev(const ts_tun *t)
{
    return t->dev;
}

/* -------------------------------------------------------- open, close */

static int add_fd(ts_tun *t, int fd, char *err, size_t errlen)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
    return -1;
}

static int make_fds(ts_tun *t, char *err, size_t errlen)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
        (t->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        snprintf(err, errlen, "signalfd: %s", strerror(errno));
        return -1;
    }
    t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    if (t->tfd < 0 || t->ep < 0) {
        snprintf(err, errlen, "timerfd/epoll: %s", strerror(errno));
        return -1;
    }
    if (fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "fcntl O_NONBLOCK: %s", strerror(errno));
        return -1;
    }
    return add_fd(t, t->fd, err, errlen) || add_fd(t, t->tfd, err, errlen) ||
           add_fd(t, t->sfd, err, errlen) ? -1 : 0;
}

static int make_keys(ts_tun *t, char *err, size_t errlen)
{
    uint8_t k[80];
    size_t got = 0;
    while (got < sizeof k) {
        ssize_t n = getrandom(k + got, sizeof k - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "getrandom: %s", strerror(errno));
            return -1;
        }
        got += (size_t)n;
    }
    memcpy(t->key_isn, k, 16);
    memcpy(t->key_port, k + 16, 16);
    memcpy(t->key_ts, k + 32, 16);
    memcpy(t->key_cookie[0], k + 48, 16);
    memcpy(t->key_cookie[1], k + 64, 16);
    return 0;
}

static int make_stack(ts_tun *t, char *err, size_t errlen)
{
    if (t->o.record_path && !(t->rec = ts_rec_create(t->o.record_path, err, errlen)))
        return -1;
    ts_hooks h;
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.isn = hook_isn;
    h.port_offset = hook_port_offset;
    h.ts_offset = hook_ts_offset;
    h.cookie_hash = hook_cookie_hash;
    h.on_transition = hook_transition;
    h.on_segment = hook_segment;
    h.on_ready = hook_ready;
    h.log = hook_log;
    t->rs = ts_rs_new(t->o.cfg, &h, t, t->rec);
    if (!t->rs || ts_rs_add_addr(t->rs, t->o.addr) != 0) {
        snprintf(err, errlen, "cannot make the stack (out of memory)");
        return -1;
    }
    return 0;
}

int ts_tun_check_addrs(const ts_tun_opts *o, char *err, size_t errlen)
{
    uint32_t mask = o->prefix >= 1 && o->prefix <= 30 ? 0xffffffffu << (32 - o->prefix) : 0;
    if (!mask) {
        snprintf(err, errlen, "bad prefix length /%d (1 to 30)", o->prefix);
        return -1;
    }
    if ((o->addr & mask) != (o->kernel_addr & mask) || o->addr == o->kernel_addr ||
        (o->addr & ~mask) == 0 || (o->addr & ~mask) == ~mask) {
        snprintf(err, errlen, "tcpstate's address must be another host of the kernel's /%d",
                 o->prefix);
        return -1;
    }
    return 0;
}

int ts_tun_open(ts_tun **out, const ts_tun_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    if (ts_tun_check_addrs(o, err, errlen) < 0)
        return TS_TUN_ERR_SETUP;
    int why = ts_tundev_precheck(err, errlen);
    if (why != TS_TUNDEV_OK)
        return why == TS_TUNDEV_NO_DEVICE ? TS_TUN_ERR_NO_DEVICE : TS_TUN_ERR_NOT_ROOT;
    ts_tun *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return TS_TUN_ERR_SETUP;
    }
    t->o = *o;
    t->fd = t->ep = t->tfd = t->sfd = -1;
    t->wake_at = t->wind_down_at = UINT64_MAX;
    t->hold_syn = o->hold_syn;
    t->hold_fin = o->hold_fin;
    snprintf(t->dev, sizeof t->dev, "%s", o->dev ? o->dev : "tcpstate0");
    t->hosts[0] = (ts_trace_host){ "tcpstate", o->addr };
    t->hosts[1] = (ts_trace_host){ "kernel", o->kernel_addr };
    t->held = calloc(HOLD_MAX, sizeof *t->held);
    int mtu = o->cfg ? o->cfg->mtu : 1500;
    if (!t->held || make_keys(t, err, errlen) < 0 ||
        (t->fd = ts_tundev_open(t->dev, err, errlen)) < 0 ||
        ts_tundev_config(t->dev, o->kernel_addr, o->prefix, mtu, err, errlen) < 0 ||
        make_fds(t, err, errlen) < 0 || open_capture(t, err, errlen) < 0 ||
        make_stack(t, err, errlen) < 0) {
        if (!t->held)
            snprintf(err, errlen, "out of memory");
        t->o.record_path = NULL;
        ts_tun_close(t);
        return TS_TUN_ERR_SETUP;
    }
    t->t0_ns = mono_ns();
    *out = t;
    return 0;
}

int ts_tun_close(ts_tun *t)
{
    if (!t)
        return 0;
    int rc = 0;
    char err[256];
    if (t->pd) {
        pcap_dump_flush(t->pd);
        pcap_dump_close(t->pd);
    }
    if (t->pc)
        pcap_close(t->pc);
    if (t->rec && ts_rec_finish(t->rec, t->now, 1, err, sizeof err) < 0) {
        fprintf(stderr, "tcpstate tun: %s\n", err);
        rc = -1;
    }
    ts_rs_free(t->rs);
    int fds[] = { t->fd, t->ep, t->tfd, t->sfd };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(t->ready);
    free(t->held);
    free(t);
    return rc;
}

/* ----------------------------------------------------------- counters */

typedef struct drv_ctr {
    const char *name;
    size_t off;
} drv_ctr;

static const drv_ctr drv_ctrs[] = {
    { "TunInDatagrams", offsetof(ts_tun, rx_pkts) },
    { "TunInBytes", offsetof(ts_tun, rx_bytes) },
    { "TunInDropped", offsetof(ts_tun, rx_dropped) },
    { "TunInErrors", offsetof(ts_tun, rx_errors) },
    { "TunOutDatagrams", offsetof(ts_tun, tx_pkts) },
    { "TunOutBytes", offsetof(ts_tun, tx_bytes) },
    { "TunOutErrors", offsetof(ts_tun, tx_errors) },
    { "TunHeld", offsetof(ts_tun, held_pkts) },
};

static uint64_t drv_val(const ts_tun *t, size_t i)
{
    uint64_t v;
    memcpy(&v, (const char *)t + drv_ctrs[i].off, sizeof v);
    return v;
}

/* Calls put(name, value) for every counter worth showing. */
static void each_counter(ts_tun *t, void (*put)(void *, const char *, uint64_t), void *u)
{
    char full[96];
    const char *name;
    ts_stack *s = ts_rs_stack(t->rs);
    for (size_t i = 0; i < sizeof drv_ctrs / sizeof drv_ctrs[0]; i++)
        put(u, drv_ctrs[i].name, drv_val(t, i));
    for (size_t i = 0; (name = ts_counter_name(i)) != NULL; i++) {
        uint64_t v = ts_stack_counter(s, i);
        snprintf(full, sizeof full, "%s%s", ts_counter_group(i), name);
        if (v)
            put(u, full, v);
    }
    for (int r = 1; r < TS_DROP_MAX; r++) {
        uint64_t v = ts_stack_drops(s, r);
        snprintf(full, sizeof full, "TcpstateDrop_%s", ts_drop_reason_name(r));
        if (v)
            put(u, full, v);
    }
}

static void put_text(void *u, const char *name, uint64_t v)
{
    fprintf(u, "%-32s%llu\n", name, (unsigned long long)v);
}

void ts_tun_print_counters(ts_tun *t, FILE *out)
{
    each_counter(t, put_text, out);
}

typedef struct json_ctx {
    FILE *out;
    int first;
} json_ctx;

static void put_json(void *u, const char *name, uint64_t v)
{
    json_ctx *c = u;
    fprintf(c->out, "%s\"%s\": %llu", c->first ? "" : ", ", name, (unsigned long long)v);
    c->first = 0;
}

void ts_tun_json_counters(ts_tun *t, FILE *out)
{
    json_ctx c = { out, 1 };
    fprintf(out, "{\"t\": %llu.%06llu, \"ev\": \"counters\", \"host\": \"tcpstate\", \"counters\": {",
            (unsigned long long)(t->now / 1000000), (unsigned long long)(t->now % 1000000));
    each_counter(t, put_json, &c);
    fputs("}}\n", out);
}

void ts_tun_json_end(ts_tun *t, FILE *out)
{
    ts_stack *s = ts_rs_stack(t->rs);
    size_t n = ts_stack_conns(s, NULL, 0);
    ts_conn_summary *c = calloc(n ? n : 1, sizeof *c);
    ts_trace_conn *tc = calloc(n ? n : 1, sizeof *tc);
    if (c && tc) {
        n = ts_stack_conns(s, c, n);
        for (size_t i = 0; i < n; i++)
            tc[i] = (ts_trace_conn){ 0, c[i].conn_id, c[i].state };
    } else {
        n = 0;
    }
    ts_json_end(out, t->hosts, 2, t->now, tc, n);
    free(c);
    free(tc);
}
