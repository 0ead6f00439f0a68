/*
 * ooo.c — the out-of-order queue of the receive side (RFC 9293 §3.10.7.4
 * seventh step: segments beyond RCV.NXT may be held), and the SACK blocks
 * (RFC 2018) that describe it.
 *
 * A sorted list of received segments beyond rcv_nxt, each a node holding
 * its bytes (memory only while data waits). Overlaps are allowed and
 * resolved when the gap fills: ts_ooo_drain() moves every node that now
 * starts at or before rcv_nxt into the receive queue. Total bytes are
 * bounded by the receive buffer; past it a segment is dropped (TCPOFODrop).
 * Cost: insertion O(nodes), usually a handful.
 */
#include "internal.h"

struct ts_ooo {
    struct ts_ooo *next;
    uint32_t seq, len;
    uint8_t fin;
    uint8_t data[];
};

static uint32_t node_end(const ts_ooo *n) { return n->seq + n->len; }

int ts_ooo_insert(ts_stack *s, ts_conn *c, uint32_t seq, const uint8_t *p, uint32_t len, int fin)
{
    ts_ooo **pp = &c->ooo, *n;
    if (c->ooo_bytes + len > c->rcvbuf)
        return TS_DROP_OFO;
    /* an exact duplicate of a queued segment adds nothing */
    for (n = c->ooo; n; n = n->next)
        if (n->seq == seq && n->len >= len && (n->fin || !fin)) {
            c->ooo_last = n->seq;
            return 0;
        }
    n = ts_alloc(s, sizeof *n + len);
    if (!n)
        return TS_DROP_NOMEM;
    n->seq = seq;
    n->len = len;
    n->fin = (uint8_t)!!fin;
    if (len)
        memcpy(n->data, p, len);
    while (*pp && ts_seq_le((*pp)->seq, seq))
        pp = &(*pp)->next;
    n->next = *pp;
    *pp = n;
    c->ooo_bytes += len;
    c->ooo_last = seq;
    return 0;
}

/* Moves what now follows rcv_nxt into the receive queue. Returns 1 when a
 * queued FIN became in order (the caller processes it). */
int ts_ooo_drain(ts_stack *s, ts_conn *c)
{
    int fin = 0;
    while (c->ooo && ts_seq_le(c->ooo->seq, c->rcv_nxt)) {
        ts_ooo *n = c->ooo;
        uint32_t end = node_end(n);
        c->ooo = n->next;
        c->ooo_bytes -= n->len;
        if (ts_seq_gt(end, c->rcv_nxt)) {
            uint32_t off = c->rcv_nxt - n->seq;
            uint32_t took = ts_bq_append(s, &c->rcvq, n->data + off, n->len - off,
                                         c->rcvbuf + 65535u);
            c->rcv_nxt += took;
            if (took < n->len - off) {
                ts_dealloc(s, n, sizeof *n + n->len);
                ts_ooo_free(s, c); /* no room: the peer retransmits */
                return 0;
            }
        }
        if (n->fin && end == c->rcv_nxt)
            fin = 1;
        ts_dealloc(s, n, sizeof *n + n->len);
    }
    return fin;
}

void ts_ooo_free(ts_stack *s, ts_conn *c)
{
    while (c->ooo) {
        ts_ooo *n = c->ooo;
        c->ooo = n->next;
        ts_dealloc(s, n, sizeof *n + n->len);
    }
    c->ooo_bytes = 0;
}

/* Up to max SACK blocks: the block holding the latest segment first
 * (RFC 2018 §4), then the others in sequence order. */
int ts_ooo_sack(const ts_conn *c, ts_seg *g, int max)
{
    uint32_t l[TS_MAX_SACK + 1], r[TS_MAX_SACK + 1];
    int nb = 0, first = -1;
    for (const ts_ooo *n = c->ooo; n; n = n->next) {
        if (nb && ts_seq_le(n->seq, r[nb - 1])) {
            if (ts_seq_gt(node_end(n), r[nb - 1]))
                r[nb - 1] = node_end(n);
        } else {
            if (nb == TS_MAX_SACK + 1)
                break;
            l[nb] = n->seq;
            r[nb] = node_end(n);
            nb++;
        }
        if (n->seq == c->ooo_last)
            first = nb - 1;
    }
    g->nsack = 0;
    if (first >= 0 && max > 0) {
        g->sack[g->nsack].left = l[first];
        g->sack[g->nsack].right = r[first];
        g->nsack++;
    }
    for (int i = 0; i < nb && g->nsack < max && g->nsack < TS_MAX_SACK; i++) {
        if (i == first)
            continue;
        g->sack[g->nsack].left = l[i];
        g->sack[g->nsack].right = r[i];
        g->nsack++;
    }
    if (g->nsack)
        g->opt_present |= TS_OPT_SACK;
    return g->nsack;
}
