/*
 * tun_apps.c — `serve` and `connect`, the commands of `tcpstate tun`
 * (tun_apps.h), written as event handlers over the TUN driver.
 *
 * Both are plain non-blocking socket programs: they act on readiness
 * events and on one wake-up timer, and every call goes through rstack so a
 * record holds it. A server connection lives in a table indexed by the
 * socket handle's index (the generation tells a reused slot from a stale
 * event). Nothing here sleeps or blocks; flow control is the stack's:
 * ts_send returning TS_EAGAIN stops a sender until the next POLLOUT.
 */
#include "cli/tun_apps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP "tcpstate tun"
#define CHUNK 65536
#define REQ_MAX 8192

/* -------------------------------------------------------------- pattern */

void ts_pattern_fill(uint8_t *buf, uint64_t off, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        uint64_t at = off + i, line = at & ~(uint64_t)15;
        unsigned col = (unsigned)(at & 15);
        buf[i] = col == 15 ? '\n' : (uint8_t)hex[(line >> (4 * (14 - col))) & 15];
    }
}

uint64_t ts_pattern_check(const uint8_t *buf, uint64_t off, size_t n)
{
    uint8_t want[256];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof want ? n - done : sizeof want;
        ts_pattern_fill(want, off + done, k);
        for (size_t i = 0; i < k; i++)
            if (buf[done + i] != want[i])
                return off + done + i;
        done += k;
    }
    return UINT64_MAX;
}

static void addr_str(const ts_addr *a, char *out, size_t n)
{
    snprintf(out, n, "%u.%u.%u.%u:%u", a->ip >> 24, (a->ip >> 16) & 255, (a->ip >> 8) & 255,
             a->ip & 255, a->port);
}

static int set_keepalive(ts_rstack *rs, ts_sock sk, int idle, int intvl, int cnt)
{
    int rc = ts_rs_setsockopt_int(rs, sk, TS_SOL_SOCKET, TS_SO_KEEPALIVE, 1);
    if (!rc && idle > 0)
        rc = ts_rs_setsockopt_int(rs, sk, TS_SOL_TCP, TS_TCP_KEEPIDLE, idle);
    if (!rc && intvl > 0)
        rc = ts_rs_setsockopt_int(rs, sk, TS_SOL_TCP, TS_TCP_KEEPINTVL, intvl);
    if (!rc && cnt > 0)
        rc = ts_rs_setsockopt_int(rs, sk, TS_SOL_TCP, TS_TCP_KEEPCNT, cnt);
    return rc;
}

/* Every app's state starts with its destructor. */
typedef struct app_head {
    void (*destroy)(void *self);
} app_head;

void ts_tun_app_free(ts_tun_app *app)
{
    if (app && app->user)
        ((app_head *)app->user)->destroy(app->user);
    if (app)
        app->user = NULL;
}

/* ================================================================ serve */

typedef struct sconn {
    ts_sock sk;
    int live, eof;
    uint64_t close_at;      /* UINT64_MAX: none */
    /* http */
    char req[REQ_MAX];
    size_t reqlen;
    int responding;
    char hdr[320];
    size_t hdrlen, hdrsent;
    uint64_t body, body_sent;
    /* echo: bytes read and not yet sent back */
    uint8_t *pend;
    size_t pendlen, pendoff;
} sconn;

typedef struct serve_app {
    app_head head;
    serve_opts o;
    ts_sock lsk;
    sconn **c;              /* by socket index */
    size_t cap;
    uint64_t accepted, closed, resets, responses;
    uint8_t buf[CHUNK];
} serve_app;

static void serve_destroy(void *self)
{
    serve_app *a = self;
    for (size_t i = 0; i < a->cap; i++)
        if (a->c[i]) {
            free(a->c[i]->pend);
            free(a->c[i]);
        }
    free(a->c);
    free(a);
}

static sconn *conn_of(serve_app *a, ts_sock sk)
{
    sconn *c = sk.index < a->cap ? a->c[sk.index] : NULL;
    return c && c->live && c->sk.gen == sk.gen ? c : NULL;
}

static void conn_close(serve_app *a, ts_tun *t, sconn *c)
{
    ts_rs_close(ts_tun_rstack(t), c->sk);
    c->live = 0;
    free(c->pend);
    c->pend = NULL;
    a->closed++;
}

/* Reads and drops everything waiting; 1 at the peer's FIN, -1 on error. */
static int read_all(serve_app *a, ts_tun *t, sconn *c)
{
    long r;
    while ((r = ts_rs_recv(ts_tun_rstack(t), c->sk, a->buf, sizeof a->buf)) > 0)
        ;
    if (r == 0)
        c->eof = 1;
    return r == 0 ? 1 : r == TS_EAGAIN ? 0 : -1;
}

static void echo(serve_app *a, ts_tun *t, sconn *c)
{
    ts_rstack *rs = ts_tun_rstack(t);
    for (;;) {
        while (c->pendoff < c->pendlen) {
            long w = ts_rs_send(rs, c->sk, c->pend + c->pendoff, c->pendlen - c->pendoff);
            if (w == TS_EAGAIN)
                return;
            if (w < 0) {
                conn_close(a, t, c);
                return;
            }
            c->pendoff += (size_t)w;
        }
        if (c->eof) {
            conn_close(a, t, c);
            return;
        }
        long r = ts_rs_recv(rs, c->sk, c->pend, CHUNK);
        if (r == TS_EAGAIN)
            return;
        if (r <= 0) {
            c->eof = 1;
            if (r < 0) {
                conn_close(a, t, c);
                return;
            }
            continue;
        }
        c->pendlen = (size_t)r;
        c->pendoff = 0;
    }
}

/* The request is complete: choose the response. */
static void http_answer(serve_app *a, sconn *c)
{
    int get = strncmp(c->req, "GET ", 4) == 0;
    const char *sp = get ? strchr(c->req + 4, ' ') : NULL;
    int ok = get && sp && strncmp(sp + 1, "HTTP/1.", 7) == 0;
    const char *status = ok ? "200 OK" : !get && strchr(c->req, ' ') ? "405 Method Not Allowed"
                                                                      : "400 Bad Request";
    c->body = ok ? a->o.http_bytes : 0;
    int n = snprintf(c->hdr, sizeof c->hdr,
                     "HTTP/1.1 %s\r\nServer: tcpstate/%s\r\n"
                     "Content-Type: %s\r\nContent-Length: %llu\r\n%sConnection: close\r\n\r\n",
                     status, TS_VERSION, ok ? "application/octet-stream" : "text/plain",
                     (unsigned long long)c->body, ok ? "" : "Allow: GET\r\n");
    c->hdrlen = n > 0 && (size_t)n < sizeof c->hdr ? (size_t)n : 0;
    c->responding = 1;
    a->responses++;
}

/* Sends what the window and buffer take; closes once all is queued. */
static void http_send(serve_app *a, ts_tun *t, sconn *c)
{
    ts_rstack *rs = ts_tun_rstack(t);
    while (c->hdrsent < c->hdrlen) {
        long w = ts_rs_send(rs, c->sk, c->hdr + c->hdrsent, c->hdrlen - c->hdrsent);
        if (w <= 0)
            goto stalled;
        c->hdrsent += (size_t)w;
    }
    while (c->body_sent < c->body) {
        size_t n = c->body - c->body_sent < CHUNK ? (size_t)(c->body - c->body_sent) : CHUNK;
        ts_pattern_fill(a->buf, c->body_sent, n);
        long w = ts_rs_send(rs, c->sk, a->buf, n);
        if (w <= 0)
            goto stalled;
        c->body_sent += (uint64_t)w;
    }
    /* Everything is queued: drop what else the client sent (a close with
     * unread data would reset), then close; the stack sends the rest and
     * the FIN. */
    read_all(a, t, c);
    conn_close(a, t, c);
    return;
stalled:
    if (ts_poll(ts_rs_stack(rs), c->sk) & (TS_POLLERR | TS_POLLHUP))
        conn_close(a, t, c);
}

static void http(serve_app *a, ts_tun *t, sconn *c)
{
    ts_rstack *rs = ts_tun_rstack(t);
    while (!c->responding) {
        long r = ts_rs_recv(rs, c->sk, c->req + c->reqlen, sizeof c->req - 1 - c->reqlen);
        if (r == TS_EAGAIN)
            return;
        if (r <= 0) {
            conn_close(a, t, c);
            return;
        }
        c->reqlen += (size_t)r;
        c->req[c->reqlen] = '\0';
        if (strstr(c->req, "\r\n\r\n") || c->reqlen == sizeof c->req - 1)
            http_answer(a, c);
    }
    http_send(a, t, c);
}

static void serve_conn(serve_app *a, ts_tun *t, sconn *c)
{
    if (!c->live)
        return;
    switch (a->o.mode) {
    case SERVE_HTTP: http(a, t, c); break;
    case SERVE_ECHO: echo(a, t, c); break;
    case SERVE_NO_READ:
        if (ts_poll(ts_rs_stack(ts_tun_rstack(t)), c->sk) & TS_POLLERR)
            conn_close(a, t, c);
        break;
    default:
        if (read_all(a, t, c) != 0)
            conn_close(a, t, c);
        break;
    }
}

static sconn *conn_new(serve_app *a, ts_sock sk)
{
    if (sk.index >= a->cap) {
        size_t cap = a->cap ? a->cap : 64;
        while (cap <= sk.index)
            cap *= 2;
        sconn **nc = realloc(a->c, cap * sizeof *nc);
        if (!nc)
            return NULL;
        memset(nc + a->cap, 0, (cap - a->cap) * sizeof *nc);
        a->c = nc;
        a->cap = cap;
    }
    sconn *c = a->c[sk.index];
    if (!c && !(c = a->c[sk.index] = malloc(sizeof *c)))
        return NULL;
    memset(c, 0, offsetof(sconn, req));
    c->reqlen = c->hdrlen = c->hdrsent = 0;
    c->responding = 0;
    c->body = c->body_sent = 0;
    c->pend = NULL;
    c->pendlen = c->pendoff = 0;
    if (a->o.mode == SERVE_ECHO && !(c->pend = malloc(CHUNK)))
        return NULL;
    c->sk = sk;
    c->live = 1;
    c->close_at = UINT64_MAX;
    return c;
}

static void serve_rearm(serve_app *a, ts_tun *t)
{
    uint64_t at = UINT64_MAX;
    for (size_t i = 0; i < a->cap; i++)
        if (a->c[i] && a->c[i]->live && a->c[i]->close_at < at)
            at = a->c[i]->close_at;
    ts_tun_wake(t, at);
}

static void serve_accept(serve_app *a, ts_tun *t)
{
    ts_rstack *rs = ts_tun_rstack(t);
    ts_sock sk;
    while (ts_rs_accept(rs, a->lsk, &sk, NULL) == 0) {
        a->accepted++;
        sconn *c = conn_new(a, sk);
        if (!c) {
            ts_rs_close(rs, sk);
            continue;
        }
        if (a->o.keepalive)
            set_keepalive(rs, sk, a->o.ka_idle, a->o.ka_intvl, a->o.ka_cnt);
        if (a->o.close_after_ms >= 0)
            c->close_at = ts_tun_now(t) + (uint64_t)a->o.close_after_ms * 1000u;
        serve_conn(a, t, c);
    }
    if (a->o.close_after_ms >= 0)
        serve_rearm(a, t);
}

static int serve_start(void *u, ts_tun *t)
{
    serve_app *a = u;
    ts_rstack *rs = ts_tun_rstack(t);
    ts_addr any = { 0, a->o.port };
    int rc = ts_rs_socket(rs, &a->lsk);
    if (!rc)
        rc = ts_rs_setsockopt_int(rs, a->lsk, TS_SOL_SOCKET, TS_SO_REUSEADDR, 1);
    if (!rc)
        rc = ts_rs_bind(rs, a->lsk, &any);
    if (!rc)
        rc = ts_rs_listen(rs, a->lsk, a->o.backlog);
    if (rc) {
        fprintf(stderr, APP " serve: port %u: %s (%s)\n", a->o.port, ts_strerror(rc),
                ts_strerror_text(rc));
        return 1;
    }
    return 0;
}

static void serve_ready(void *u, ts_tun *t, ts_sock s, unsigned events)
{
    serve_app *a = u;
    (void)events;
    if (s.index == a->lsk.index && s.gen == a->lsk.gen) {
        serve_accept(a, t);
        return;
    }
    sconn *c = conn_of(a, s);
    if (c)
        serve_conn(a, t, c);
}

static void serve_timer(void *u, ts_tun *t)
{
    serve_app *a = u;
    uint64_t now = ts_tun_now(t);
    for (size_t i = 0; i < a->cap; i++) {
        sconn *c = a->c[i];
        if (c && c->live && c->close_at <= now)
            conn_close(a, t, c);
    }
    serve_rearm(a, t);
}

static void serve_stop(void *u, ts_tun *t)
{
    serve_app *a = u;
    for (size_t i = 0; i < a->cap; i++)
        if (a->c[i] && a->c[i]->live)
            conn_close(a, t, a->c[i]);
    ts_rs_close(ts_tun_rstack(t), a->lsk);
    fprintf(stderr, APP " serve: %llu connections accepted, %llu HTTP responses\n",
            (unsigned long long)a->accepted, (unsigned long long)a->responses);
}

int ts_tun_serve_app(ts_tun_app *app, const serve_opts *o)
{
    serve_app *a = calloc(1, sizeof *a);
    if (!a)
        return TS_ENOMEM;
    a->head.destroy = serve_destroy;
    a->o = *o;
    memset(app, 0, sizeof *app);
    app->user = a;
    app->start = serve_start;
    app->ready = serve_ready;
    app->timer = serve_timer;
    app->stop = serve_stop;
    return 0;
}

/* ============================================================== connect */

enum { C_CONNECTING, C_HOLDING, C_SENDING, C_DONE };

typedef struct connect_app {
    app_head head;
    connect_opts o;
    ts_sock sk;
    int phase, shut, status;
    uint64_t sent, got, bad_at;
    uint8_t buf[CHUNK];
} connect_app;

static void connect_destroy(void *self)
{
    free(self);
}

static void connect_end(connect_app *a, ts_tun *t, int status)
{
    if (a->phase == C_DONE)
        return;
    ts_rs_close(ts_tun_rstack(t), a->sk);
    a->phase = C_DONE;
    ts_tun_finish(t, status);
}

static void connect_failed(connect_app *a, ts_tun *t, const char *what, int err)
{
    char r[32];
    addr_str(&a->o.remote, r, sizeof r);
    fprintf(stderr, APP " connect: %s: %s: %s (%s)\n", r, what, ts_strerror(err),
            ts_strerror_text(err));
    connect_end(a, t, 1);
}

/* Reads to the peer's FIN, checking the pattern; 1 at the FIN. */
static int connect_read(connect_app *a, ts_tun *t)
{
    ts_rstack *rs = ts_tun_rstack(t);
    long r;
    while ((r = ts_rs_recv(rs, a->sk, a->buf, sizeof a->buf)) > 0) {
        uint64_t bad = ts_pattern_check(a->buf, a->got, (size_t)r);
        if (bad != UINT64_MAX && a->bad_at == UINT64_MAX)
            a->bad_at = bad;
        a->got += (uint64_t)r;
    }
    if (r == 0 || r == TS_EAGAIN)
        return r == 0;
    connect_failed(a, t, "receiving", (int)r);
    return -1;
}

static void connect_done_reading(connect_app *a, ts_tun *t)
{
    if (a->bad_at != UINT64_MAX)
        fprintf(stderr, APP " connect: received %llu bytes, NOT the pattern from byte %llu\n",
                (unsigned long long)a->got, (unsigned long long)a->bad_at);
    else
        fprintf(stderr, APP " connect: received %llu bytes, pattern ok\n",
                (unsigned long long)a->got);
    connect_end(a, t, a->bad_at != UINT64_MAX);
}

static void connect_pump(connect_app *a, ts_tun *t)
{
    ts_rstack *rs = ts_tun_rstack(t);
    while (a->sent < a->o.send_bytes) {
        size_t n = a->o.send_bytes - a->sent < CHUNK ? (size_t)(a->o.send_bytes - a->sent) : CHUNK;
        ts_pattern_fill(a->buf, a->sent, n);
        long w = ts_rs_send(rs, a->sk, a->buf, n);
        if (w == TS_EAGAIN)
            break;
        if (w < 0) {
            connect_failed(a, t, "sending", (int)w);
            return;
        }
        a->sent += (uint64_t)w;
    }
    if (a->sent == a->o.send_bytes && !a->shut) {
        a->shut = 1;
        fprintf(stderr, APP " connect: sent %llu bytes\n", (unsigned long long)a->sent);
        if (!a->o.recv) {
            connect_end(a, t, 0);
            return;
        }
        ts_rs_shutdown(rs, a->sk, TS_SHUT_WR);
    }
    if (a->o.recv && connect_read(a, t) == 1 && a->shut)
        connect_done_reading(a, t);
}

/* The handshake ended: established, or the error SO_ERROR holds. */
static void connect_result(connect_app *a, ts_tun *t, unsigned events)
{
    ts_rstack *rs = ts_tun_rstack(t);
    if (events & (TS_POLLERR | TS_POLLHUP)) {
        int e = 0;
        size_t len = sizeof e;
        ts_rs_getsockopt(rs, a->sk, TS_SOL_SOCKET, TS_SO_ERROR, &e, &len);
        connect_failed(a, t, "connect", e ? -e : TS_ECONNRESET);
        return;
    }
    if (!(events & TS_POLLOUT))
        return;
    ts_info in;
    char l[32], r[32];
    if (ts_sock_info(ts_rs_stack(rs), a->sk, &in) == 0) {
        addr_str(&in.tuple.local, l, sizeof l);
        addr_str(&in.tuple.remote, r, sizeof r);
        fprintf(stderr, APP " connect: connected %s > %s\n", l, r);
    }
    if (a->o.hold_ms > 0) {
        a->phase = C_HOLDING;
        ts_tun_wake(t, ts_tun_now(t) + (uint64_t)a->o.hold_ms * 1000u);
        return;
    }
    a->phase = C_SENDING;
    connect_pump(a, t);
}

static void connect_ready(void *u, ts_tun *t, ts_sock s, unsigned events)
{
    connect_app *a = u;
    if (s.index != a->sk.index || s.gen != a->sk.gen)
        return;
    /* The event is a hint queued earlier (a bound, unconnected socket is
     * POLLOUT|POLLHUP, as on Linux): what counts is the state now. */
    (void)events;
    unsigned now = ts_poll(ts_rs_stack(ts_tun_rstack(t)), a->sk);
    if (a->phase == C_CONNECTING)
        connect_result(a, t, now);
    else if (a->phase == C_SENDING)
        connect_pump(a, t);
    else if (a->phase == C_HOLDING && (now & (TS_POLLERR | TS_POLLHUP)))
        connect_pump(a, t); /* the error surfaces through send/recv */
}

static void connect_timer(void *u, ts_tun *t)
{
    connect_app *a = u;
    if (a->phase != C_HOLDING)
        return;
    a->phase = C_SENDING;
    connect_pump(a, t);
}

static int connect_start(void *u, ts_tun *t)
{
    connect_app *a = u;
    ts_rstack *rs = ts_tun_rstack(t);
    int rc = ts_rs_socket(rs, &a->sk);
    if (!rc && a->o.local_port) {
        ts_addr local = { 0, a->o.local_port };
        rc = ts_rs_bind(rs, a->sk, &local);
    }
    if (!rc && a->o.keepalive)
        rc = set_keepalive(rs, a->sk, a->o.ka_idle, a->o.ka_intvl, a->o.ka_cnt);
    if (!rc && a->o.syncnt > 0)
        rc = ts_rs_setsockopt_int(rs, a->sk, TS_SOL_TCP, TS_TCP_SYNCNT, a->o.syncnt);
    if (!rc) {
        rc = ts_rs_connect(rs, a->sk, &a->o.remote);
        rc = rc == TS_EINPROGRESS ? 0 : rc ? rc : 0;
    }
    if (rc) {
        connect_failed(a, t, "setting up", rc);
        return 1;
    }
    return 0;
}

static void connect_stop(void *u, ts_tun *t)
{
    connect_app *a = u;
    if (a->phase != C_DONE) {
        ts_rs_close(ts_tun_rstack(t), a->sk);
        a->phase = C_DONE;
    }
}

int ts_tun_connect_app(ts_tun_app *app, const connect_opts *o)
{
    connect_app *a = calloc(1, sizeof *a);
    if (!a)
        return TS_ENOMEM;
    a->head.destroy = connect_destroy;
    a->o = *o;
    a->bad_at = UINT64_MAX;
    memset(app, 0, sizeof *app);
    app->user = a;
    app->start = connect_start;
    app->ready = connect_ready;
    app->timer = connect_timer;
    app->stop = connect_stop;
    return 0;
}
