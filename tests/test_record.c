/*
 * test_record.c — record and replay without root: two stacks joined by an
 * in-memory link in virtual time (a client whose every call is recorded
 * through rstack.c, a server that is not), a transfer each way with losses
 * and a close; then the record is replayed (src/drv/replay.c) and must
 * reproduce every transition and datagram. Edited records must be caught
 * (a changed ISN, a changed datagram, a missing timer call), and every
 * truncation and sampled bit flip of a record must be a clean BAD_FILE.
 */
#include "harness.h"
#include "drv/record.h"
#include "drv/replay.h"
#include "drv/rstack.h"

#include <stdio.h>
#include <stdlib.h>

#define IP_A 0xC0000201u /* recorded client */
#define IP_B 0xC0000202u /* server */
#define DELAY_US 2000
#define QCAP 4096

typedef struct qpkt {
    uint64_t at;
    size_t len;
    uint8_t b[1600];
} qpkt;

typedef struct wire_q {
    qpkt *v;
    size_t head, n;
} wire_q;

typedef struct pair {
    ts_rstack *a, *b;
    wire_q ab, ba;
    uint64_t now;
    unsigned nb_out;      /* datagrams B sent: every 40th is lost */
    ts_sock ca, lb, cb;   /* client, listener, accepted */
    size_t a_sent, a_got, b_got, b_sent;
    size_t a_to_send, b_to_send;
    int a_closed, b_closed, a_eof, b_eof;
    uint8_t io[8192];
} pair;

static uint32_t isn_a(void *u, const ts_tuple *t, uint64_t now)
{
    (void)u;
    return t->local.port * 7919u + (uint32_t)now;
}

static uint32_t isn_b(void *u, const ts_tuple *t, uint64_t now)
{
    (void)u;
    return 0x80000000u + t->remote.port * 104729u + (uint32_t)now;
}

static uint32_t port_a(void *u, const ts_tuple *t)
{
    (void)u;
    return t->remote.port * 31u;
}

static uint32_t tsoff_a(void *u, const ts_tuple *t)
{
    (void)u;
    return t->remote.ip ^ 0x5a5a5a5au;
}

static int q_push(wire_q *q, uint64_t at, const uint8_t *b, size_t len)
{
    if (q->n == QCAP || len > sizeof q->v[0].b)
        return -1;
    qpkt *p = &q->v[(q->head + q->n++) % QCAP];
    p->at = at;
    p->len = len;
    memcpy(p->b, b, len);
    return 0;
}

static void drain(pair *p, ts_rstack *from, wire_q *q, int lossy)
{
    uint8_t buf[TS_RS_BUF];
    size_t n;
    while ((n = ts_rs_output(from, p->now, buf)) > 0) {
        if (lossy && ++p->nb_out % 40 == 0)
            continue;
        q_push(q, p->now + DELAY_US, buf, n);
    }
}

static void deliver(pair *p, ts_rstack *to, wire_q *q)
{
    while (q->n && q->v[q->head].at <= p->now) {
        qpkt *k = &q->v[q->head];
        ts_rs_input(to, p->now, k->b, k->len);
        q->head = (q->head + 1) % QCAP;
        q->n--;
    }
}

static void fill(uint8_t *b, size_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((off + i) * 131u >> 3);
}

/* The client: sends a_to_send bytes, shuts down writing, reads to EOF, closes. */
static void app_a(pair *p)
{
    long r;
    while (p->a_sent < p->a_to_send) {
        size_t n = p->a_to_send - p->a_sent < sizeof p->io ? p->a_to_send - p->a_sent : sizeof p->io;
        fill(p->io, p->a_sent, n);
        if ((r = ts_rs_send(p->a, p->ca, p->io, n)) <= 0)
            break;
        p->a_sent += (size_t)r;
    }
    if (p->a_sent == p->a_to_send && !p->a_closed && !p->a_eof)
        if (ts_poll(ts_rs_stack(p->a), p->ca) & TS_POLLOUT)
            ts_rs_shutdown(p->a, p->ca, TS_SHUT_WR), p->a_sent++;
    while (!p->a_eof && (r = ts_rs_recv(p->a, p->ca, p->io, sizeof p->io)) >= 0) {
        if (r == 0)
            p->a_eof = 1;
        p->a_got += (size_t)r;
    }
    if (p->a_eof && !p->a_closed) {
        ts_rs_close(p->a, p->ca);
        p->a_closed = 1;
    }
}

/* The server: accepts, reads to EOF, sends b_to_send bytes, closes. */
static void app_b(pair *p)
{
    long r;
    if (!p->cb.index && ts_rs_accept(p->b, p->lb, &p->cb, NULL) != 0)
        return;
    while (!p->b_eof && (r = ts_rs_recv(p->b, p->cb, p->io, sizeof p->io)) >= 0) {
        if (r == 0)
            p->b_eof = 1;
        p->b_got += (size_t)r;
    }
    while (p->b_eof && p->b_sent < p->b_to_send) {
        size_t n = p->b_to_send - p->b_sent < sizeof p->io ? p->b_to_send - p->b_sent : sizeof p->io;
        fill(p->io, p->b_sent, n);
        if ((r = ts_rs_send(p->b, p->cb, p->io, n)) <= 0)
            break;
        p->b_sent += (size_t)r;
    }
    if (p->b_eof && p->b_sent == p->b_to_send && !p->b_closed) {
        ts_rs_close(p->b, p->cb);
        p->b_closed = 1;
    }
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Runs the whole exchange; the client's calls go into w. */
static int run_pair(ts_rec_writer *w, size_t up, size_t down)
{
    static pair p;
    memset(&p, 0, sizeof p);
    p.ab.v = calloc(QCAP, sizeof(qpkt));
    p.ba.v = calloc(QCAP, sizeof(qpkt));
    ts_config cfg;
    ts_config_default(&cfg);
    cfg.mem = th_mem();
    ts_hooks ha = { .size = sizeof ha, .isn = isn_a, .port_offset = port_a, .ts_offset = tsoff_a };
    ts_hooks hb = { .size = sizeof hb, .isn = isn_b };
    p.a = ts_rs_new(&cfg, &ha, NULL, w);
    p.b = ts_rs_new(&cfg, &hb, NULL, NULL);
    int ok = p.ab.v && p.ba.v && p.a && p.b;
    if (ok) {
        char err[128];
        ts_rs_add_addr(p.a, IP_A);
        ts_rs_add_addr(p.b, IP_B);
        ts_rs_sysctl(p.a, "tcp_fin_timeout", "30", err, sizeof err);
        ts_addr la = { IP_B, 80 }, rb = { IP_B, 80 };
        ts_rs_socket(p.b, &p.lb);
        ts_rs_bind(p.b, p.lb, &la);
        ts_rs_listen(p.b, p.lb, 16);
        ts_rs_socket(p.a, &p.ca);
        ts_rs_setsockopt_int(p.a, p.ca, TS_SOL_SOCKET, TS_SO_KEEPALIVE, 1);
        ts_rs_connect(p.a, p.ca, &rb);
        p.a_to_send = up;
        p.b_to_send = down;
    }
    for (int steps = 0; ok && steps < 200000; steps++) {
        deliver(&p, p.a, &p.ba);
        deliver(&p, p.b, &p.ab);
        if (ts_stack_next_deadline(ts_rs_stack(p.a)) <= p.now)
            ts_rs_advance(p.a, p.now);
        if (ts_stack_next_deadline(ts_rs_stack(p.b)) <= p.now)
            ts_rs_advance(p.b, p.now);
        app_a(&p);
        app_b(&p);
        drain(&p, p.a, &p.ab, 0);
        drain(&p, p.b, &p.ba, 1);
        uint64_t next = min3(p.ab.n ? p.ab.v[p.ab.head].at : UINT64_MAX,
                             p.ba.n ? p.ba.v[p.ba.head].at : UINT64_MAX,
                             ts_stack_next_deadline(ts_rs_stack(p.a)));
        next = min3(next, ts_stack_next_deadline(ts_rs_stack(p.b)), UINT64_MAX);
        if (next == UINT64_MAX || next > 600000000u)
            break;
        p.now = next > p.now ? next : p.now;
    }
    ok = ok && p.b_got == up && p.a_got == down && p.a_closed && p.b_closed;
    ts_rs_free(p.a);
    ts_rs_free(p.b);
    free(p.ab.v);
    free(p.ba.v);
    return ok;
}

/* A record in memory. */
typedef struct mrec {
    char *buf;
    size_t len;
} mrec;

static int make_record(mrec *m, size_t up, size_t down)
{
    FILE *fp = open_memstream(&m->buf, &m->len);
    ts_rec_writer *w = ts_rec_create_fp(fp);
    int ok = run_pair(w, up, down);
    char err[128];
    ok = ts_rec_finish(w, 0, 1, err, sizeof err) == 0 && ok;
    fclose(fp);
    return ok;
}

static int replay_mem(const char *buf, size_t len, ts_replay_stats *st, char *msg, size_t n)
{
    FILE *fp = fmemopen((void *)buf, len ? len : 1, "rb");
    if (!fp)
        return -1;
    if (len == 0)
        fgetc(fp); /* an empty stream: fmemopen needs a size of at least 1 */
    char err[256];
    ts_rec_reader *r = ts_rec_open_fp(fp, err, sizeof err);
    int rc = TS_REPLAY_BAD_FILE;
    if (r)
        rc = ts_replay(r, NULL, st, msg, n);
    else
        snprintf(msg, n, "%s", err);
    ts_rec_close(r);
    fclose(fp);
    return rc;
}

TS_TEST(record_replay_reproduces_a_lossy_transfer)
{
    mrec m = { NULL, 0 };
    CHECK(make_record(&m, 300000, 200000));
    ts_replay_stats st;
    char msg[1024] = "";
    int rc = replay_mem(m.buf, m.len, &st, msg, sizeof msg);
    if (rc != TS_REPLAY_SAME)
        printf("  %s\n", msg);
    CHECK_EQ(rc, TS_REPLAY_SAME);
    CHECK(st.datagrams_out > 200); /* ~300 KB at 1460 bytes a segment */
    CHECK(st.inputs > 150);
    CHECK(st.hooks >= 3);          /* port offset, ISN, timestamp offset */
    CHECK(st.transitions >= 4);    /* SYN_SENT, ESTABLISHED, FIN_WAIT_1, ... */
    CHECK(st.advances > 0);        /* the losses made timers fire */
    free(m.buf);
}

/* Rewrites a record through the reader and writer, letting edit() change
 * or drop (return 0) records. */
typedef int (*edit_fn)(ts_rec_item *it, uint8_t *copy, int *nth);

static int rewrite(const mrec *in, mrec *out, edit_fn edit)
{
    FILE *src = fmemopen(in->buf, in->len, "rb");
    FILE *dst = open_memstream(&out->buf, &out->len);
    char err[256];
    ts_rec_reader *r = ts_rec_open_fp(src, err, sizeof err);
    ts_rec_writer *w = ts_rec_create_fp(dst);
    ts_rec_item it;
    int nth = 0, n;
    static uint8_t copy[TS_REC_MAX_LEN];
    while (r && (n = ts_rec_next(r, &it, err, sizeof err)) == 1) {
        memcpy(copy, it.payload, it.len);
        if (edit(&it, copy, &nth))
            ts_rec_put(w, it.type, it.t_us, copy, it.len, NULL, 0);
    }
    ts_rec_close(r);
    int rc = ts_rec_finish(w, 0, 1, err, sizeof err);
    fclose(src);
    fclose(dst);
    return rc;
}

static int edit_isn(ts_rec_item *it, uint8_t *copy, int *nth)
{
    (void)nth;
    if (it->type == TS_REC_HOOK && copy[0] == TS_REC_HOOK_ISN)
        copy[it->len - 1] ^= 0x10;
    return 1;
}

static int edit_input(ts_rec_item *it, uint8_t *copy, int *nth)
{
    if (it->type == TS_REC_INPUT && it->len > 200 && ++*nth == 5)
        copy[it->len - 1] ^= 0xff; /* a payload byte: the checksum fails now */
    return 1;
}

static int edit_drop_advance(ts_rec_item *it, uint8_t *copy, int *nth)
{
    (void)copy;
    return !(it->type == TS_REC_ADVANCE && ++*nth == 1);
}

TS_TEST(record_replay_reports_the_first_difference)
{
    mrec m = { NULL, 0 };
    CHECK(make_record(&m, 20000, 20000));
    edit_fn edits[] = { edit_isn, edit_input, edit_drop_advance };
    const char *want[] = { "datagram out", "verdict", "" };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        mrec e = { NULL, 0 };
        CHECK_EQ(rewrite(&m, &e, edits[i]), 0);
        char msg[1024] = "";
        int rc = replay_mem(e.buf, e.len, NULL, msg, sizeof msg);
        printf("  edit %zu: %s\n", i, msg);
        free(e.buf);
        CHECK_EQ(rc, TS_REPLAY_DIFFERS);
        CHECK(strstr(msg, "first difference at record #") != NULL);
        CHECK(strstr(msg, want[i]) != NULL);
    }
    free(m.buf);
}

TS_TEST(record_truncated_or_flipped_is_a_clean_error)
{
    mrec m = { NULL, 0 };
    CHECK(make_record(&m, 3000, 2000));
    char msg[512];
    CHECK(m.len > 1000);
    /* every truncation (the last byte included) is an error, never SAME */
    for (size_t cut = 0; cut < m.len; cut += (cut < 64 || m.len - cut < 64) ? 1 : 3) {
        int rc = replay_mem(m.buf, cut, NULL, msg, sizeof msg);
        if (rc != TS_REPLAY_BAD_FILE)
            printf("  cut at %zu: rc %d: %s\n", cut, rc, msg);
        CHECK_EQ(rc, TS_REPLAY_BAD_FILE);
    }
    /* single bit flips anywhere: CRC-32 catches each one */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char *copy = malloc(m.len);
    CHECK(copy != NULL);
    for (int i = 0; i < 1500; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t bit = (size_t)(x % (m.len * 8));
        memcpy(copy, m.buf, m.len);
        copy[bit / 8] ^= (char)(1u << (bit % 8));
        int rc = replay_mem(copy, m.len, NULL, msg, sizeof msg);
        if (rc != TS_REPLAY_BAD_FILE)
            printf("  flip of bit %zu: rc %d: %s\n", bit, rc, msg);
        CHECK_EQ(rc, TS_REPLAY_BAD_FILE);
    }
    /* garbage after the end record */
    char *longer = malloc(m.len + 3);
    memcpy(longer, m.buf, m.len);
    memcpy(longer + m.len, "xyz", 3);
    CHECK_EQ(replay_mem(longer, m.len + 3, NULL, msg, sizeof msg), TS_REPLAY_BAD_FILE);
    CHECK(strstr(msg, "after its end record") != NULL);
    free(longer);
    free(copy);
    free(m.buf);
}
