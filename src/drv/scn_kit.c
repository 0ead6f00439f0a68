/*
 * scn_kit.c — runs a scenario (scenarios.h) in the simulator and does the
 * application work for it: listening, connecting, accepting, sending a
 * check pattern, reading and verifying it, closing by policy, and checking
 * the outcome.
 *
 * Owns: the hosts' configurations until the stacks exist, the peers (one
 * per socket the application holds, addressed by index: the array grows),
 * the per-connection state paths recorded from the trace, the checks.
 *
 * The application is event-driven like a real non-blocking program: every
 * readiness event pumps its peer (accept all, read all, send what the
 * buffer takes, close when the policy says so); the stack's own on_ready
 * tells when to try again. Every action is a NOTE in the trace.
 *
 * Byte-exactness: the pattern byte at offset i depends on i and on the
 * sending host, so a lost, duplicated or reordered byte that reached the
 * application is found at its offset.
 */
#include "drv/scenarios.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define IOBUF 65536
#define SEND_CHUNK 16384 /* a send buffer's worth: filled, then mostly taken */
#define PATH_LEN 240
#define DEFAULT_LIMIT_US (24ull * 3600 * 1000000)
#define DEFAULT_DELAY_US 10000

typedef struct scn_peer_st {
    int host, listener, accepts_left;
    int remote_host;      /* whose pattern arrives here */
    ts_sock sk;
    uint32_t conn_id;
    scn_beh beh;
    size_t sent, rcvd;
    int connected, eof, err, closed, close_armed;
    int bad;              /* pattern mismatch seen */
    size_t bad_at;
} scn_peer_st;

typedef struct scn_path {
    int host;
    uint32_t conn;
    char text[PATH_LEN];
} scn_path;

struct ts_scn {
    const ts_scenario *sc;
    ts_scn_opts o;
    ts_sim *sim;
    int nhosts;
    char names[TS_SIM_MAX_HOSTS][32];
    ts_config cfg[TS_SIM_MAX_HOSTS];
    ts_config scratch;
    ts_sim_link link;
    uint64_t limit_us;
    int in_setup;
    scn_peer_st *peers;
    size_t npeers, cappeers;
    scn_path *paths;
    size_t npaths, cappaths;
    int failed, checks, end_reason;
    int vars[SCN_NVARS];
    char failure[320];
    uint8_t *io;          /* IOBUF bytes: what is sent or received */
    uint8_t *expect;      /* IOBUF bytes: the pattern a receive should match */
    scn_tlog *tlog;       /* times of transitions and segments (scn_timing.c) */
};

static void peer_pump(ts_scn *s, int i);

/* --------------------------------------------------------- the pattern */

static uint32_t pattern_word(int host, size_t off)
{
    uint32_t v = (uint32_t)(off >> 2) * 2654435761u + (uint32_t)host * 0x9e3779b9u;
    return v ^ (v >> 15);
}

static uint8_t pattern_byte(int host, size_t off)
{
    return (uint8_t)(pattern_word(host, off) >> ((off & 3) * 8));
}

/* A word at a time: filling is most of what a bulk sender costs. */
static void pattern_fill(uint8_t *buf, size_t n, int host, size_t off)
{
    size_t i = 0;
    for (; i < n && ((off + i) & 3); i++)
        buf[i] = pattern_byte(host, off + i);
    for (; i + 4 <= n; i += 4) {
        uint32_t v = pattern_word(host, off + i);
        buf[i] = (uint8_t)v;
        buf[i + 1] = (uint8_t)(v >> 8);
        buf[i + 2] = (uint8_t)(v >> 16);
        buf[i + 3] = (uint8_t)(v >> 24);
    }
    for (; i < n; i++)
        buf[i] = pattern_byte(host, off + i);
}

/* ------------------------------------------------------------- records */

static void fail(ts_scn *s, const char *fmt, va_list ap)
{
    if (s->failed++)
        return;
    vsnprintf(s->failure, sizeof s->failure, fmt, ap);
}

void scn_expect(ts_scn *s, int cond, const char *fmt, ...)
{
    va_list ap;
    if (cond) {
        s->checks++;
        return;
    }
    va_start(ap, fmt);
    fail(s, fmt, ap);
    va_end(ap);
}

static scn_path *path_of(ts_scn *s, int host, uint32_t conn, int from)
{
    for (size_t i = s->npaths; i-- > 0;)
        if (s->paths[i].host == host && s->paths[i].conn == conn)
            return &s->paths[i];
    if (s->npaths == s->cappaths) {
        size_t cap = s->cappaths ? s->cappaths * 2 : 16;
        scn_path *np = realloc(s->paths, cap * sizeof *np);
        if (!np)
            return NULL;
        s->paths = np;
        s->cappaths = cap;
    }
    s->paths[s->npaths].host = host;
    s->paths[s->npaths].conn = conn;
    snprintf(s->paths[s->npaths].text, PATH_LEN, "%s", ts_state_name(from));
    return &s->paths[s->npaths++];
}

static void on_trace(void *user, const ts_trace_ev *ev)
{
    ts_scn *s = user;
    scn_tlog_add(s->tlog, ev);
    if (ev->kind == TS_TRACE_STATE) {
        scn_path *p = path_of(s, ev->host, ev->conn_id, ev->from);
        size_t n = p ? strlen(p->text) : 0;
        if (p && n + 16 < PATH_LEN)
            snprintf(p->text + n, PATH_LEN - n, " %s", ts_state_name(ev->to));
    }
    if (s->o.on_event)
        s->o.on_event(s->o.event_user, ev);
}

/* --------------------------------------------------------------- peers */

static ts_stack *stack_of(ts_scn *s, int host) { return ts_sim_stack(s->sim, host); }

static int peer_add(ts_scn *s, int host, ts_sock sk, const scn_beh *b)
{
    scn_peer_st *p;
    ts_info info;
    if (s->npeers == s->cappeers) {
        size_t cap = s->cappeers ? s->cappeers * 2 : 16;
        scn_peer_st *np = realloc(s->peers, cap * sizeof *np);
        if (!np)
            return TS_ENOMEM;
        s->peers = np;
        s->cappeers = cap;
    }
    p = &s->peers[s->npeers];
    memset(p, 0, sizeof *p);
    p->host = host;
    p->sk = sk;
    if (b)
        p->beh = *b;
    p->remote_host = -1;
    if (ts_sock_info(stack_of(s, host), sk, &info) == 0) {
        p->conn_id = info.conn_id;
        p->remote_host = ts_sim_host_of(s->sim, info.tuple.remote.ip);
    }
    return (int)s->npeers++;
}

static int peer_find(const ts_scn *s, int host, ts_sock sk)
{
    for (size_t i = 0; i < s->npeers; i++)
        if (s->peers[i].host == host && s->peers[i].sk.index == sk.index &&
            s->peers[i].sk.gen == sk.gen && !s->peers[i].closed)
            return (int)i;
    return -1;
}

static void addr_str(ts_addr a, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u:%u", a.ip >> 24, (a.ip >> 16) & 255, (a.ip >> 8) & 255,
             a.ip & 255, a.port);
}

static void do_close(ts_scn *s, int i, const char *why)
{
    scn_peer_st *p = &s->peers[i];
    if (p->closed)
        return;
    p->closed = 1;
    ts_sim_note(s->sim, p->host, "close()%s", why);
    ts_close(stack_of(s, p->host), p->sk);
}

void scn_close(ts_scn *s, int peer)
{
    if (peer >= 0 && (size_t)peer < s->npeers)
        do_close(s, peer, "");
}

void scn_close_host(ts_scn *s, int host)
{
    for (size_t i = 0; i < s->npeers; i++)
        if (s->peers[i].host == host && !s->peers[i].listener)
            do_close(s, (int)i, "");
}

int scn_nth_peer(const ts_scn *s, int host, int n)
{
    for (size_t i = 0; i < s->npeers; i++)
        if (s->peers[i].host == host && !s->peers[i].listener && n-- == 0)
            return (int)i;
    return -1;
}

void scn_stop(ts_scn *s) { ts_sim_stop(s->sim); }

ts_stack *scn_stack(ts_scn *s, int host) { return stack_of(s, host); }

int scn_link_set(ts_scn *s, int from, int to, const ts_sim_link *link)
{
    return ts_sim_set_link(s->sim, from, to, link);
}

/* The behaviour's socket options; a failure is noted and kept as the
 * peer's error by the caller's checks (scn_expect_io). */
static int apply_opts(ts_scn *s, int host, ts_sock sk, const scn_beh *b)
{
    for (int k = 0; b && k < SCN_MAX_OPTS && b->opt[k].level; k++) {
        const scn_sockopt *o = &b->opt[k];
        ts_linger lg = { 1, o->val };
        int r = o->level == TS_SOL_SOCKET && o->opt == TS_SO_LINGER
                    ? ts_setsockopt(stack_of(s, host), sk, o->level, o->opt, &lg, sizeof lg)
                    : ts_setsockopt(stack_of(s, host), sk, o->level, o->opt, &o->val,
                                    sizeof o->val);
        if (r) {
            ts_sim_note(s->sim, host, "setsockopt(%d, %d): %s", o->level, o->opt,
                        ts_strerror(r));
            return r;
        }
    }
    return 0;
}

void scn_timer(ts_scn *s, uint64_t at_us, int host, int id)
{
    ts_sim_timer(s->sim, at_us, host, id < 0 ? 0 : id);
}

/* The kit's own timers (delayed closes) use negative ids. */
static void close_later(ts_scn *s, int i)
{
    scn_peer_st *p = &s->peers[i];
    if (p->close_armed || p->closed)
        return;
    p->close_armed = 1;
    if (p->beh.close_delay_us == 0)
        do_close(s, i, "");
    else
        ts_sim_timer(s->sim, ts_sim_now(s->sim) + p->beh.close_delay_us, p->host, -1 - i);
}

/* ------------------------------------------------------------- pumping */

static void pump_accept(ts_scn *s, int i)
{
    int host = s->peers[i].host;
    for (;;) {
        scn_beh beh;
        ts_sock c;
        ts_addr from;
        char a[32];
        int r = ts_accept(stack_of(s, host), s->peers[i].sk, &c, &from), child;
        if (r != 0)
            return;
        addr_str(from, a, sizeof a);
        beh = s->peers[i].beh; /* peer_add may move s->peers */
        child = peer_add(s, host, c, &beh);
        if (child < 0)
            return;
        s->peers[child].connected = 1;
        ts_sim_note(s->sim, host, "accept() from %s", a);
        if (apply_opts(s, host, c, &s->peers[i].beh) != 0)
            s->peers[child].err = TS_EINVAL;
        peer_pump(s, child);
        if (s->peers[i].accepts_left > 0 && --s->peers[i].accepts_left == 0) {
            do_close(s, i, " the listener");
            return;
        }
    }
}

static void record_err(ts_scn *s, int i, const char *call, long r)
{
    scn_peer_st *p = &s->peers[i];
    if (!p->err)
        p->err = (int)r;
    ts_sim_note(s->sim, p->host, "%s: %s", call, ts_strerror((int)r));
}

static void pump_recv(ts_scn *s, int i)
{
    scn_peer_st *p = &s->peers[i];
    ts_stack *st = stack_of(s, p->host);
    size_t got = 0;

    for (;;) {
        long n = ts_recv(st, p->sk, s->io, IOBUF);
        if (n > 0) {
            pattern_fill(s->expect, (size_t)n, p->remote_host, p->rcvd);
            if (!p->bad && memcmp(s->io, s->expect, (size_t)n) != 0) {
                size_t k = 0;
                while (s->io[k] == s->expect[k])
                    k++;
                p->bad = 1;
                p->bad_at = p->rcvd + k;
            }
            p->rcvd += (size_t)n;
            got += (size_t)n;
            continue;
        }
        if (got)
            ts_sim_note(s->sim, p->host, "recv %zu bytes", got);
        got = 0;
        if (n == 0 && !p->eof) {
            p->eof = 1;
            ts_sim_note(s->sim, p->host, "recv: end of stream");
        } else if (n < 0 && n != TS_EAGAIN) {
            record_err(s, i, "recv", n);
        }
        return;
    }
}

/* Room in the send buffer, so a bulk sender fills only what will be taken
 * (at least 1 byte: a full buffer must still answer EAGAIN). */
static size_t send_room(ts_scn *s, const scn_peer_st *p)
{
    ts_stack *st = stack_of(s, p->host);
    ts_info info;
    int buf = 0;
    size_t len = sizeof buf;
    if (ts_getsockopt(st, p->sk, TS_SOL_SOCKET, TS_SO_SNDBUF, &buf, &len) != 0 ||
        ts_sock_info(st, p->sk, &info) != 0 || buf <= 0)
        return SEND_CHUNK;
    return (size_t)buf > info.snd_queued ? (size_t)buf - info.snd_queued : 1;
}

static void pump_send(ts_scn *s, int i)
{
    scn_peer_st *p = &s->peers[i];
    size_t total = 0;
    while (p->sent < p->beh.send && p->rcvd >= p->beh.send_after && !p->err) {
        size_t n = p->beh.send - p->sent, room = send_room(s, p);
        long r;
        if (n > SEND_CHUNK)
            n = SEND_CHUNK;
        if (n > room)
            n = room;
        pattern_fill(s->io, n, p->host, p->sent);
        r = ts_send(stack_of(s, p->host), p->sk, s->io, n);
        if (r > 0) {
            p->sent += (size_t)r;
            total += (size_t)r;
            continue;
        }
        if (r != TS_EAGAIN && r != 0)
            record_err(s, i, "send", r);
        break;
    }
    if (total)
        ts_sim_note(s->sim, p->host, "send %zu bytes", total);
}

/* Connecting: done (POLLOUT) or failed (a pending error, read with SO_ERROR
 * as a non-blocking program does). Returns 1 once connected. */
static int pump_connect(ts_scn *s, int i)
{
    scn_peer_st *p = &s->peers[i];
    ts_stack *st = stack_of(s, p->host);
    unsigned ev = ts_poll(st, p->sk);
    if (ev & TS_POLLERR) {
        int v = 0;
        size_t len = sizeof v;
        if (ts_getsockopt(st, p->sk, TS_SOL_SOCKET, TS_SO_ERROR, &v, &len) == 0 && v) {
            record_err(s, i, "connect", -v);
            do_close(s, i, "");
            return 0;
        }
    }
    if (!(ev & TS_POLLOUT))
        return 0;
    p->connected = 1;
    ts_sim_note(s->sim, p->host, "connected");
    return 1;
}

static void maybe_close(ts_scn *s, int i)
{
    scn_peer_st *p = &s->peers[i];
    int sent_all = p->sent >= p->beh.send;
    switch (p->beh.close) {
    case SCN_CLOSE_NEVER:
        return;
    case SCN_CLOSE_AFTER_IO:
        if (sent_all && p->rcvd >= p->beh.expect)
            close_later(s, i);
        break;
    case SCN_CLOSE_ON_EOF:
        if (sent_all && p->eof)
            close_later(s, i);
        break;
    case SCN_CLOSE_UNREAD:
        break;
    }
    if (p->err && !p->closed) /* a program closes a socket that failed */
        do_close(s, i, "");
}

static void peer_pump(ts_scn *s, int i)
{
    scn_peer_st *p = &s->peers[i];
    if (p->closed)
        return;
    if (p->listener) {
        pump_accept(s, i);
        return;
    }
    if (!p->connected && !pump_connect(s, i))
        return;
    if (p->beh.close == SCN_CLOSE_UNREAD) {
        long n = ts_recv_pending(stack_of(s, p->host), p->sk);
        char why[64];
        pump_send(s, i);
        snprintf(why, sizeof why, " with %ld bytes unread", n);
        if (n > 0)
            do_close(s, i, why);
        return;
    }
    pump_recv(s, i);
    pump_send(s, i);
    maybe_close(s, i);
}

/* ------------------------------------------------------------- sockets */

int scn_listen(ts_scn *s, int host, uint16_t port, const scn_beh *child, int accepts)
{
    ts_stack *st = stack_of(s, host);
    ts_addr a = { ts_sim_host_ip(host), port };
    ts_sock sk;
    char as[32];
    int r, i;

    addr_str(a, as, sizeof as);
    /* noted before the call, so the note precedes the transition it causes */
    ts_sim_note(s->sim, host, "listen(%s)", as);
    if ((r = ts_socket(st, &sk)) == 0 && (r = apply_opts(s, host, sk, child)) == 0 &&
        (r = ts_bind(st, sk, &a)) == 0)
        r = ts_listen(st, sk, -1);
    if (r) {
        ts_sim_note(s->sim, host, "listen: %s", ts_strerror(r));
        return r;
    }
    i = peer_add(s, host, sk, child);
    if (i >= 0) {
        s->peers[i].listener = 1;
        s->peers[i].accepts_left = accepts;
    }
    return i;
}

int scn_connect(ts_scn *s, int host, uint16_t lport, int to_host, uint16_t port,
                const scn_beh *b)
{
    ts_stack *st = stack_of(s, host);
    ts_addr local = { ts_sim_host_ip(host), lport }, remote = { ts_sim_host_ip(to_host), port };
    ts_sock sk;
    char as[32];
    int r, i;

    addr_str(remote, as, sizeof as);
    r = ts_socket(st, &sk);
    if (r == 0)
        r = apply_opts(s, host, sk, b);
    if (r == 0 && lport)
        r = ts_bind(st, sk, &local);
    if (r == 0) {
        ts_sim_note(s->sim, host, "connect(%s)", as);
        r = ts_connect(st, sk, &remote);
        if (r == TS_EINPROGRESS)
            r = 0;
    }
    if (r) {
        ts_sim_note(s->sim, host, "connect: %s", ts_strerror(r));
        return r;
    }
    i = peer_add(s, host, sk, b);
    if (i >= 0)
        peer_pump(s, i);
    return i;
}

/* ------------------------------------------------------------ sim glue */

static void app_start(void *user, ts_sim *sim)
{
    ts_scn *s = user;
    ts_scn_ev ev = { TS_SCN_START, -1, -1, 0, 0 };
    (void)sim;
    s->sc->fn(s, &ev);
}

static void app_ready(void *user, ts_sim *sim, int host, ts_sock sk, unsigned events)
{
    ts_scn *s = user;
    int i = peer_find(s, host, sk);
    ts_scn_ev ev = { TS_SCN_READY, host, i, events, 0 };
    (void)sim;
    if (i >= 0)
        peer_pump(s, i);
    s->sc->fn(s, &ev);
}

static void app_timer(void *user, ts_sim *sim, int host, int id)
{
    ts_scn *s = user;
    ts_scn_ev ev = { TS_SCN_TIMER, host, -1, 0, id };
    (void)sim;
    if (id < 0) {
        if ((size_t)(-1 - id) < s->npeers)
            do_close(s, -1 - id, "");
        return;
    }
    s->sc->fn(s, &ev);
}

/* --------------------------------------------------------------- setup */

int scn_host(ts_scn *s, const char *name)
{
    int i;
    if (!s->in_setup || s->nhosts >= TS_SIM_MAX_HOSTS)
        return TS_EINVAL;
    i = s->nhosts++;
    snprintf(s->names[i], sizeof s->names[i], "%s", name);
    ts_config_default(&s->cfg[i]);
    return i;
}

ts_config *scn_cfg(ts_scn *s, int host)
{
    if (!s->in_setup || host < 0 || host >= s->nhosts) {
        ts_config_default(&s->scratch); /* a late or bad call changes nothing */
        return &s->scratch;
    }
    return &s->cfg[host];
}

ts_sim_link *scn_link(ts_scn *s) { return &s->link; }

void scn_limit(ts_scn *s, uint64_t limit_us) { s->limit_us = limit_us; }

/* "net.ipv4.tcp_fin_timeout=30" to every host. */
static int apply_sysctl(ts_scn *s, const char *item, char *err, size_t errlen)
{
    char name[128];
    const char *eq = strchr(item, '=');
    size_t n = eq ? (size_t)(eq - item) : 0;
    if (!eq || n == 0 || n >= sizeof name) {
        snprintf(err, errlen, "bad sysctl '%s': expected net.ipv4.NAME=VALUE", item);
        return TS_EINVAL;
    }
    memcpy(name, item, n);
    name[n] = '\0';
    for (int h = 0; h < s->nhosts; h++) {
        int r = ts_config_set(&s->cfg[h], name, eq + 1, err, errlen);
        if (r)
            return r;
    }
    return 0;
}

static int build_sim(ts_scn *s, char *err, size_t errlen)
{
    ts_sim_opts so;
    memset(&so, 0, sizeof so);
    so.seed = s->o.seed;
    so.app.user = s;
    so.app.start = app_start;
    so.app.ready = app_ready;
    so.app.timer = app_timer;
    so.on_event = on_trace;
    so.event_user = s;
    s->sim = ts_sim_new(&so);
    if (!s->sim) {
        snprintf(err, errlen, "out of memory");
        return TS_ENOMEM;
    }
    for (int h = 0; h < s->nhosts; h++) {
        if (s->o.mem.malloc || s->o.mem.free)
            s->cfg[h].mem = s->o.mem;
        if (ts_sim_add_host(s->sim, s->names[h], &s->cfg[h]) < 0) {
            snprintf(err, errlen, "cannot create the stack of host %s", s->names[h]);
            return TS_ENOMEM;
        }
    }
    if (ts_sim_set_link(s->sim, -1, -1, &s->link) != 0) {
        snprintf(err, errlen, "bad link settings");
        return TS_EINVAL;
    }
    return 0;
}

ts_scn *ts_scn_new(const ts_scenario *sc, const ts_scn_opts *opts, char *err, size_t errlen)
{
    ts_scn *s;
    ts_scn_ev ev = { TS_SCN_SETUP, -1, -1, 0, 0 };
    if (!sc || !sc->fn) {
        snprintf(err, errlen, "no such scenario");
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->io = malloc(IOBUF)) || !(s->expect = malloc(IOBUF))) {
        if (s)
            free(s->io);
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->sc = sc;
    if (opts)
        s->o = *opts;
    s->tlog = scn_tlog_new();
    s->link.delay_us = DEFAULT_DELAY_US;
    s->limit_us = DEFAULT_LIMIT_US;
    s->in_setup = 1;
    sc->fn(s, &ev);
    if (s->nhosts == 0) {
        scn_host(s, "client");
        scn_host(s, "server");
    }
    s->in_setup = 0;
    if (s->o.loss_set)
        s->link.loss = s->o.loss;
    if (s->o.delay_set)
        s->link.delay_us = s->o.delay_us;
    if (s->o.limit_us)
        s->limit_us = s->o.limit_us;
    for (size_t i = 0; i < s->o.nsysctl; i++)
        if (apply_sysctl(s, s->o.sysctl[i], err, errlen) != 0) {
            ts_scn_free(s);
            return NULL;
        }
    if (build_sim(s, err, errlen) != 0) {
        ts_scn_free(s);
        return NULL;
    }
    return s;
}

void ts_scn_free(ts_scn *s)
{
    if (!s)
        return;
    ts_sim_free(s->sim);
    free(s->peers);
    free(s->paths);
    free(s->io);
    free(s->expect);
    scn_tlog_free(s->tlog);
    free(s);
}

int ts_scn_run(ts_scn *s)
{
    ts_scn_ev ev = { TS_SCN_END, -1, -1, 0, 0 };
    s->end_reason = ts_sim_run(s->sim, s->limit_us);
    if (s->end_reason == TS_SIM_STUCK)
        scn_expect(s, 0, "a stack kept sending at t=%.6f s (stopped)",
                   (double)ts_sim_now(s->sim) / 1e6);
    for (size_t i = 0; i < s->npeers; i++)
        scn_expect(s, !s->peers[i].bad, "%s: received byte %zu differs from what was sent",
                   ts_sim_host_name(s->sim, s->peers[i].host), s->peers[i].bad_at);
    s->sc->fn(s, &ev);
    return s->failed ? -1 : 0;
}

const char *ts_scn_failure(const ts_scn *s) { return s->failed ? s->failure : NULL; }
int ts_scn_checks(const ts_scn *s) { return s->checks; }
int ts_scn_end_reason(const ts_scn *s) { return s->end_reason; }
ts_sim *ts_scn_sim(ts_scn *s) { return s->sim; }
size_t scn_peer_count(const ts_scn *s) { return s->npeers; }

int scn_peer(const ts_scn *s, int peer, scn_peer_view *out)
{
    const scn_peer_st *p;
    if (peer < 0 || (size_t)peer >= s->npeers)
        return TS_EINVAL;
    p = &s->peers[peer];
    out->host = p->host;
    out->sk = p->sk;
    out->sent = p->sent;
    out->rcvd = p->rcvd;
    out->eof = p->eof;
    out->err = p->err;
    out->closed = p->closed;
    out->listener = p->listener;
    return 0;
}

/* -------------------------------------------------------------- checks */

uint64_t scn_now(const ts_scn *s) { return ts_sim_now(s->sim); }

int *scn_vars(ts_scn *s) { return s->vars; }

int scn_perfect(const ts_scn *s)
{
    return s->link.loss == 0 && s->link.dup == 0 && s->link.reorder == 0;
}

int scn_as_designed(const ts_scn *s)
{
    return scn_perfect(s) && !s->o.loss_set && !s->o.delay_set && s->o.nsysctl == 0 &&
           !s->o.limit_us;
}

const scn_tlog *scn_tlog_of(const ts_scn *s) { return s->tlog; }

void scn_expect_path(ts_scn *s, int host, const char *path)
{
    if (!scn_perfect(s))
        return;
    for (size_t i = 0; i < s->npaths; i++)
        if (s->paths[i].host == host && strcmp(s->paths[i].text, path) == 0) {
            s->checks++;
            return;
        }
    scn_expect(s, 0, "no connection of %s went through %s", ts_sim_host_name(s->sim, host),
               path);
}

int scn_io_done(const ts_scn *s)
{
    for (size_t i = 0; i < s->npeers; i++) {
        const scn_peer_st *p = &s->peers[i];
        if (!p->listener && (p->sent < p->beh.send || p->rcvd < p->beh.expect))
            return 0;
    }
    return 1;
}

void scn_expect_io(ts_scn *s)
{
    for (size_t i = 0; i < s->npeers; i++) {
        const scn_peer_st *p = &s->peers[i];
        const char *h = ts_sim_host_name(s->sim, p->host);
        if (p->listener)
            continue;
        scn_expect(s, p->err == 0, "%s: a call failed with %s", h, ts_strerror(p->err));
        scn_expect(s, p->sent == p->beh.send, "%s: sent %zu of %zu bytes", h, p->sent,
                   p->beh.send);
        scn_expect(s, p->rcvd == p->beh.expect, "%s: received %zu bytes, expected %zu", h,
                   p->rcvd, p->beh.expect);
    }
}

void scn_expect_gone(ts_scn *s)
{
    for (size_t h = 0; h < ts_sim_host_count(s->sim); h++) {
        size_t n = ts_stack_conn_count(ts_sim_stack(s->sim, (int)h));
        scn_expect(s, n == 0, "%s still has %zu connection%s at the end",
                   ts_sim_host_name(s->sim, (int)h), n, n == 1 ? "" : "s");
    }
}

void scn_expect_err(ts_scn *s, int peer, int err)
{
    scn_peer_view v;
    if (scn_peer(s, peer, &v) != 0) {
        scn_expect(s, 0, "peer %d does not exist (expected %s)", peer, ts_strerror(err));
        return;
    }
    scn_expect(s, v.err == err, "%s: the first error was %s, expected %s",
               ts_sim_host_name(s->sim, v.host), ts_strerror(v.err), ts_strerror(err));
}

void scn_expect_counter(ts_scn *s, int host, const char *name, uint64_t v)
{
    uint64_t got = ts_stack_counter_by_name(ts_sim_stack(s->sim, host), name);
    scn_expect(s, got == v, "%s: counter %s is %llu, expected %llu",
               ts_sim_host_name(s->sim, host), name, (unsigned long long)got,
               (unsigned long long)v);
}

/* ------------------------------------------------------------ printing */

void ts_scn_print_paths(const ts_scn *s, FILE *out, const char *indent)
{
    for (size_t i = 0; i < s->npaths; i++) {
        const char *t = s->paths[i].text;
        char tag[48];
        snprintf(tag, sizeof tag, "%s #%u", ts_sim_host_name(s->sim, s->paths[i].host),
                 s->paths[i].conn);
        fprintf(out, "%s%-12s ", indent, tag);
        for (; *t; t++) {
            if (*t == ' ')
                fputs(" -> ", out);
            else
                fputc(*t, out);
        }
        fputc('\n', out);
    }
}

void ts_scn_print_io(const ts_scn *s, FILE *out, const char *indent)
{
    for (size_t i = 0; i < s->npeers; i++) {
        const scn_peer_st *p = &s->peers[i];
        char tag[48];
        if (p->listener || (p->sent == 0 && p->rcvd == 0 && !p->err))
            continue;
        snprintf(tag, sizeof tag, "%s #%u", ts_sim_host_name(s->sim, p->host), p->conn_id);
        fprintf(out, "%s%-12s sent %zu bytes, received %zu%s%s%s%s\n", indent, tag, p->sent,
                p->rcvd, p->rcvd ? (p->bad ? " (CORRUPT)" : " (intact)") : "",
                p->eof ? ", then end of stream" : "", p->err ? ", error " : "",
                p->err ? ts_strerror(p->err) : "");
    }
}

void ts_scn_describe_links(const ts_scn *s, char *buf, size_t len)
{
    const ts_sim_link *l = &s->link;
    int n = snprintf(buf, len, "delay %.3g ms each way", (double)l->delay_us / 1000.0);
    if (n < 0 || (size_t)n >= len)
        return;
    if (l->jitter_us)
        n += snprintf(buf + n, len - (size_t)n, " + up to %.3g ms jitter",
                      (double)l->jitter_us / 1000.0);
    if ((size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ", %.3g%% loss", l->loss * 100.0);
    if ((size_t)n < len && l->dup > 0)
        n += snprintf(buf + n, len - (size_t)n, ", %.3g%% duplicated", l->dup * 100.0);
    if ((size_t)n < len && l->reorder > 0)
        snprintf(buf + n, len - (size_t)n, ", %.3g%% reordered", l->reorder * 100.0);
}
