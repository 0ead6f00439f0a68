/*
 * record.c — writing and reading record files (record.h).
 *
 * Owns the byte layout: fixed-width little-endian fields encoded by hand
 * (never a struct written as memory, so the file does not depend on the
 * compiler's padding or the host's byte order), a CRC-32 per record.
 *
 * The reader's invariants: a length is checked against TS_REC_MAX_LEN
 * before anything is allocated for it; the payload buffer only grows; a
 * CRC mismatch, a short read, an unknown type or bytes after END are
 * errors with the record's offset; every decoder checks the payload length
 * before reading a field. So no input file can make it read out of bounds
 * or allocate more than TS_REC_MAX_LEN + a few bytes.
 */
#include "drv/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ts_rec_writer {
    FILE *fp;
    int own;      /* fp was opened here */
    int failed;   /* a write failed: sticky */
};

struct ts_rec_reader {
    FILE *fp;
    int own;
    int ended;
    uint64_t offset, index;
    uint8_t *buf;
    size_t cap;
};

/* --------------------------------------------------------------- helpers */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

/* CRC-32 (reflected polynomial 0xEDB88320, as zlib and Ethernet), one
 * byte at a time through a 256-entry table built on first use. */
static uint32_t crc_table[256];
static int crc_ready;

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = 1;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

uint64_t ts_rec_hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static const char *const op_names[TS_OP_MAX] = {
    [TS_OP_SOCKET] = "SOCKET", [TS_OP_BIND] = "BIND", [TS_OP_LISTEN] = "LISTEN",
    [TS_OP_CONNECT] = "CONNECT", [TS_OP_ACCEPT] = "ACCEPT", [TS_OP_SEND] = "SEND",
    [TS_OP_RECV] = "RECV", [TS_OP_SHUTDOWN] = "SHUTDOWN", [TS_OP_CLOSE] = "CLOSE",
    [TS_OP_SETSOCKOPT] = "SETSOCKOPT", [TS_OP_GETSOCKOPT] = "GETSOCKOPT",
    [TS_OP_SYSCTL] = "SYSCTL",
};

const char *ts_rec_op_name(uint32_t op)
{
    return op < TS_OP_MAX && op_names[op] ? op_names[op] : "?";
}

static const char *const type_names[TS_REC_TYPE_MAX] = {
    [TS_REC_CONFIG] = "CONFIG", [TS_REC_ADDR] = "ADDR", [TS_REC_HOOK] = "HOOK",
    [TS_REC_TRANS] = "TRANSITION", [TS_REC_INPUT] = "INPUT", [TS_REC_OUTPUT] = "OUTPUT",
    [TS_REC_ADVANCE] = "ADVANCE", [TS_REC_CALL] = "CALL", [TS_REC_END] = "END",
};

const char *ts_rec_type_name(int type)
{
    return type > 0 && type < TS_REC_TYPE_MAX ? type_names[type] : "?";
}

static void put_tuple(uint8_t *p, const ts_tuple *t)
{
    put32(p, t->local.ip);
    put16(p + 4, t->local.port);
    put32(p + 6, t->remote.ip);
    put16(p + 10, t->remote.port);
}

static void get_tuple(const uint8_t *p, ts_tuple *t)
{
    t->local.ip = get32(p);
    t->local.port = get16(p + 4);
    t->remote.ip = get32(p + 6);
    t->remote.port = get16(p + 10);
}

/* ---------------------------------------------------------------- writer */

static ts_rec_writer *writer_on(FILE *fp, int own)
{
    ts_rec_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fp = fp;
    w->own = own;
    uint8_t h[TS_REC_HEADER];
    memcpy(h, TS_REC_MAGIC, 8);
    put32(h + 8, TS_REC_VERSION);
    put32(h + 12, 0);
    if (fwrite(h, 1, sizeof h, fp) != sizeof h)
        w->failed = errno ? errno : EIO;
    return w;
}

ts_rec_writer *ts_rec_create(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "wbe");
    if (!fp) {
        snprintf(err, errlen, "cannot create record file %s: %s", path, strerror(errno));
        return NULL;
    }
    ts_rec_writer *w = writer_on(fp, 1);
    if (!w) {
        fclose(fp);
        snprintf(err, errlen, "out of memory");
    }
    return w;
}

ts_rec_writer *ts_rec_create_fp(FILE *fp)
{
    return fp ? writer_on(fp, 0) : NULL;
}

void ts_rec_put(ts_rec_writer *w, int type, uint64_t t_us,
                const void *p1, size_t n1, const void *p2, size_t n2)
{
    if (!w || w->failed)
        return;
    if (n1 + n2 > TS_REC_MAX_LEN) {
        w->failed = EFBIG;
        return;
    }
    uint8_t h[16], c[4];
    h[0] = (uint8_t)type;
    h[1] = 0;
    put16(h + 2, 0);
    put32(h + 4, (uint32_t)(n1 + n2));
    put64(h + 8, t_us);
    uint32_t crc = crc32_update(0, h, sizeof h);
    if (n1)
        crc = crc32_update(crc, p1, n1);
    if (n2)
        crc = crc32_update(crc, p2, n2);
    put32(c, crc);
    if (fwrite(h, 1, sizeof h, w->fp) != sizeof h || (n1 && fwrite(p1, 1, n1, w->fp) != n1) ||
        (n2 && fwrite(p2, 1, n2, w->fp) != n2) || fwrite(c, 1, 4, w->fp) != 4)
        w->failed = errno ? errno : EIO;
}

void ts_rec_put_hook(ts_rec_writer *w, uint64_t t_us, int kind, const ts_tuple *t,
                     uint32_t value)
{
    uint8_t p[1 + TS_REC_TUPLE_SIZE + 4];
    p[0] = (uint8_t)kind;
    put_tuple(p + 1, t);
    put32(p + 1 + TS_REC_TUPLE_SIZE, value);
    ts_rec_put(w, TS_REC_HOOK, t_us, p, sizeof p, NULL, 0);
}

void ts_rec_put_trans(ts_rec_writer *w, const ts_transition_ev *ev)
{
    uint8_t p[8 + TS_REC_TUPLE_SIZE];
    put32(p, ev->conn_id);
    p[4] = (uint8_t)ev->from;
    p[5] = (uint8_t)ev->to;
    put16(p + 6, (uint16_t)ev->cause);
    put_tuple(p + 8, &ev->tuple);
    ts_rec_put(w, TS_REC_TRANS, ev->now_us, p, sizeof p, NULL, 0);
}

void ts_rec_put_call(ts_rec_writer *w, uint64_t t_us, const ts_rec_call *c,
                     const void *data, size_t len)
{
    uint8_t p[TS_REC_CALL_SIZE];
    put32(p, c->op);
    put32(p + 4, c->sk.index);
    put32(p + 8, c->sk.gen);
    put32(p + 12, (uint32_t)c->a0);
    put32(p + 16, (uint32_t)c->a1);
    put32(p + 20, (uint32_t)c->a2);
    put32(p + 24, c->addr.ip);
    put32(p + 28, c->addr.port);
    put64(p + 32, (uint64_t)c->ret);
    put32(p + 40, c->out.index);
    put32(p + 44, c->out.gen);
    put32(p + 48, c->out_addr.ip);
    put32(p + 52, c->out_addr.port);
    put64(p + 56, c->aux);
    ts_rec_put(w, TS_REC_CALL, t_us, p, sizeof p, data, len);
}

int ts_rec_finish(ts_rec_writer *w, uint64_t t_us, int end_record, char *err, size_t errlen)
{
    if (!w)
        return 0;
    if (end_record)
        ts_rec_put(w, TS_REC_END, t_us, NULL, 0, NULL, 0);
    if (fflush(w->fp) != 0 && !w->failed)
        w->failed = errno ? errno : EIO;
    if (w->own && fclose(w->fp) != 0 && !w->failed)
        w->failed = errno ? errno : EIO;
    int failed = w->failed;
    free(w);
    if (failed) {
        snprintf(err, errlen, "writing the record file: %s", strerror(failed));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- reader */

static ts_rec_reader *reader_on(FILE *fp, int own, char *err, size_t errlen)
{
    uint8_t h[TS_REC_HEADER];
    size_t n = fread(h, 1, sizeof h, fp);
    if (n != sizeof h || memcmp(h, TS_REC_MAGIC, 8) != 0) {
        snprintf(err, errlen, "not a tcpstate record file (%s)",
                 n < sizeof h ? "shorter than its header" : "bad magic");
        return NULL;
    }
    if (get32(h + 8) != TS_REC_VERSION || get32(h + 12) != 0) {
        snprintf(err, errlen, "record file version %u, this build reads version %d",
                 get32(h + 8), TS_REC_VERSION);
        return NULL;
    }
    ts_rec_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->fp = fp;
    r->own = own;
    r->offset = TS_REC_HEADER;
    return r;
}

ts_rec_reader *ts_rec_open(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rbe");
    if (!fp) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    ts_rec_reader *r = reader_on(fp, 1, err, errlen);
    if (!r)
        fclose(fp);
    return r;
}

ts_rec_reader *ts_rec_open_fp(FILE *fp, char *err, size_t errlen)
{
    return reader_on(fp, 0, err, errlen);
}

void ts_rec_close(ts_rec_reader *r)
{
    if (!r)
        return;
    if (r->own)
        fclose(r->fp);
    free(r->buf);
    free(r);
}

static int grow(ts_rec_reader *r, size_t need)
{
    if (need <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *nb = realloc(r->buf, cap);
    if (!nb)
        return -1;
    r->buf = nb;
    r->cap = cap;
    return 0;
}

static int bad(ts_rec_reader *r, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "record file %s at byte %llu (record #%llu)", what,
             (unsigned long long)r->offset, (unsigned long long)r->index);
    return -1;
}

int ts_rec_next(ts_rec_reader *r, ts_rec_item *it, char *err, size_t errlen)
{
    uint8_t h[16], c[4];
    size_t n = fread(h, 1, sizeof h, r->fp);
    if (r->ended)
        return n == 0 ? 0 : bad(r, err, errlen, "has bytes after its end record");
    if (n == 0)
        return bad(r, err, errlen, "is truncated: it ends without an end record");
    if (n != sizeof h)
        return bad(r, err, errlen, "is truncated inside a record header");
    uint32_t len = get32(h + 4);
    if (h[0] == 0 || h[0] >= TS_REC_TYPE_MAX || h[1] || get16(h + 2))
        return bad(r, err, errlen, "is corrupt: unknown record type");
    if (len > TS_REC_MAX_LEN)
        return bad(r, err, errlen, "is corrupt: impossible record length");
    if (grow(r, len ? len : 1) < 0)
        return bad(r, err, errlen, "cannot be read: out of memory");
    if (fread(r->buf, 1, len, r->fp) != len || fread(c, 1, 4, r->fp) != 4)
        return bad(r, err, errlen, "is truncated inside a record");
    uint32_t crc = crc32_update(crc32_update(0, h, sizeof h), r->buf, len);
    if (crc != get32(c))
        return bad(r, err, errlen, "is corrupt: checksum mismatch");
    it->type = h[0];
    it->t_us = get64(h + 8);
    it->offset = r->offset;
    it->index = r->index++;
    it->payload = r->buf;
    it->len = len;
    r->offset += sizeof h + len + 4;
    if (it->type == TS_REC_END) {
        r->ended = 1;
        return ts_rec_next(r, it, err, errlen) < 0 ? -1 : 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- decode */

int ts_rec_get_hook(const ts_rec_item *it, int *kind, ts_tuple *t, uint32_t *value)
{
    if (it->type != TS_REC_HOOK || it->len != 1 + TS_REC_TUPLE_SIZE + 4)
        return -1;
    *kind = it->payload[0];
    get_tuple(it->payload + 1, t);
    *value = get32(it->payload + 1 + TS_REC_TUPLE_SIZE);
    return 0;
}

int ts_rec_get_trans(const ts_rec_item *it, ts_transition_ev *ev)
{
    if (it->type != TS_REC_TRANS || it->len != 8 + TS_REC_TUPLE_SIZE)
        return -1;
    memset(ev, 0, sizeof *ev);
    ev->now_us = it->t_us;
    ev->conn_id = get32(it->payload);
    ev->from = it->payload[4];
    ev->to = it->payload[5];
    ev->cause = get16(it->payload + 6);
    get_tuple(it->payload + 8, &ev->tuple);
    return 0;
}

int ts_rec_get_call(const ts_rec_item *it, ts_rec_call *c, const uint8_t **data,
                    size_t *len)
{
    const uint8_t *p = it->payload;
    if (it->type != TS_REC_CALL || it->len < TS_REC_CALL_SIZE)
        return -1;
    c->op = get32(p);
    c->sk.index = get32(p + 4);
    c->sk.gen = get32(p + 8);
    c->a0 = (int32_t)get32(p + 12);
    c->a1 = (int32_t)get32(p + 16);
    c->a2 = (int32_t)get32(p + 20);
    c->addr.ip = get32(p + 24);
    c->addr.port = (uint16_t)get32(p + 28);
    c->ret = (int64_t)get64(p + 32);
    c->out.index = get32(p + 40);
    c->out.gen = get32(p + 44);
    c->out_addr.ip = get32(p + 48);
    c->out_addr.port = (uint16_t)get32(p + 52);
    c->aux = get64(p + 56);
    *data = p + TS_REC_CALL_SIZE;
    *len = it->len - TS_REC_CALL_SIZE;
    return 0;
}
