/*
 * bq.c — byte queues for the send and receive buffers.
 *
 * Memory is paid for when used: a queue is a list of chunks allocated as
 * bytes arrive and freed as soon as they are consumed, so an idle
 * connection holds no buffer memory at all. Chunks are up to 16 KiB; a small
 * write gets a small chunk (rounded up to 256 bytes).
 *
 * Invariant: q->len == sum over chunks of (end - start); no chunk is empty
 * except transiently inside a call.
 */
#include "internal.h"

#define BQ_CHUNK_MAX 16384u
#define BQ_CHUNK_MIN 256u

/* Appends up to n bytes, never letting q->len exceed limit. Returns the
 * number of bytes taken (short on a full queue or on allocation failure). */
uint32_t ts_bq_append(ts_stack *s, ts_bq *q, const uint8_t *p, uint32_t n, uint32_t limit)
{
    uint32_t done = 0;
    if (q->len >= limit)
        return 0;
    if (n > limit - q->len)
        n = limit - q->len;
    while (done < n) {
        ts_chunk *t = q->tail;
        uint32_t room = t ? t->cap - t->end : 0;
        uint32_t k;
        if (room == 0) {
            uint32_t want = n - done;
            uint32_t cap = want > BQ_CHUNK_MAX ? BQ_CHUNK_MAX : want;
            cap = (cap + BQ_CHUNK_MIN - 1) / BQ_CHUNK_MIN * BQ_CHUNK_MIN;
            t = ts_alloc(s, sizeof *t + cap);
            if (!t)
                break;
            t->cap = cap;
            if (q->tail)
                q->tail->next = t;
            else
                q->head = t;
            q->tail = t;
            room = cap;
        }
        k = n - done < room ? n - done : room;
        if (p)
            memcpy(t->data + t->end, p + done, k);
        else
            memset(t->data + t->end, 0, k);
        t->end += k;
        done += k;
    }
    q->len += done;
    return done;
}

/* Copies up to n bytes starting off bytes into the queue. */
uint32_t ts_bq_peek(const ts_bq *q, uint32_t off, uint8_t *out, uint32_t n)
{
    uint32_t done = 0;
    const ts_chunk *c = q->head;
    while (c && off >= c->end - c->start) {
        off -= c->end - c->start;
        c = c->next;
    }
    while (c && done < n) {
        uint32_t avail = c->end - c->start - off;
        uint32_t k = n - done < avail ? n - done : avail;
        if (out)
            memcpy(out + done, c->data + c->start + off, k);
        done += k;
        off = 0;
        c = c->next;
    }
    return done;
}

void ts_bq_consume(ts_stack *s, ts_bq *q, uint32_t n)
{
    if (n > q->len)
        n = q->len;
    q->len -= n;
    while (n && q->head) {
        ts_chunk *c = q->head;
        uint32_t avail = c->end - c->start;
        uint32_t k = n < avail ? n : avail;
        c->start += k;
        n -= k;
        if (c->start == c->end) {
            q->head = c->next;
            if (!q->head)
                q->tail = NULL;
            ts_dealloc(s, c, sizeof *c + c->cap);
        }
    }
}

void ts_bq_free(ts_stack *s, ts_bq *q)
{
    while (q->head) {
        ts_chunk *c = q->head;
        q->head = c->next;
        ts_dealloc(s, c, sizeof *c + c->cap);
    }
    q->tail = NULL;
    q->len = 0;
}
