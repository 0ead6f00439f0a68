/*
 * sack.c — the sender's SACK scoreboard (RFC 2018, RFC 6675 in a reduced
 * form) and loss recovery on top of it.
 *
 * The scoreboard is a short sorted list of disjoint ranges above snd_una
 * that the peer reported holding. Recovery (entered on three duplicate
 * ACKs, or when SACKed data above the first hole exceeds three segments,
 * RFC 6675 §5 IsLost's rule of thumb) retransmits the holes once each, one
 * per arriving ACK (the ACK clock), until snd_una passes the recovery point;
 * new data keeps flowing within the halved cwnd. After a timeout the
 * go-back-N resend skips what the peer already holds.
 *
 * Cost: TS_SACK_RANGES pairs per connection; updates O(ranges).
 */
#include "internal.h"

static void remove_at(ts_conn *c, int i)
{
    for (int j = i + 1; j < c->nsacked; j++)
        c->sacked[j - 1] = c->sacked[j];
    c->nsacked--;
}

/* Adds [l, r) and merges neighbours; the oldest range gives way when full. */
static void add_range(ts_conn *c, uint32_t l, uint32_t r)
{
    int i = 0;
    while (i < c->nsacked && ts_seq_lt(c->sacked[i].r, l))
        i++;
    /* merge every range that touches [l, r) */
    while (i < c->nsacked && ts_seq_le(c->sacked[i].l, r)) {
        l = ts_seq_min(l, c->sacked[i].l);
        r = ts_seq_max(r, c->sacked[i].r);
        remove_at(c, i);
    }
    if (c->nsacked == TS_SACK_RANGES) {
        if (i == TS_SACK_RANGES)
            return; /* keep the lower ranges: they matter for the next holes */
        c->nsacked--;
    }
    for (int j = c->nsacked; j > i; j--)
        c->sacked[j] = c->sacked[j - 1];
    c->sacked[i].l = l;
    c->sacked[i].r = r;
    c->nsacked++;
}

/* Takes the SACK blocks of an acceptable ACK (only those inside
 * (snd_una, snd_max]: RFC 2018 §5 lets the sender ignore the rest). */
void ts_sack_update(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (!(c->flags & TS_CF_SACK_OK) || !(g->opt_present & TS_OPT_SACK))
        return;
    for (int i = 0; i < g->nsack; i++) {
        uint32_t l = g->sack[i].left, r = g->sack[i].right;
        if (!ts_seq_lt(l, r) || !ts_seq_gt(l, g->ack) || ts_seq_gt(r, c->snd_max))
            continue;
        /* the timed segment SACKed: its RTT is measured now (Linux's
         * sack_rtt); the cumulative ACK that comes once the holes below it
         * are filled says nothing about the path (tcp_clean_rtx_queue
         * skips SACKed data for seq_rtt) */
        if (c->rtt_time != TS_NEVER && !c->retransmits && ts_seq_gt(c->rtt_seq, l) &&
            ts_seq_le(c->rtt_seq, r)) {
            ts_rtt_sample(s, c, s->now - c->rtt_time);
            c->rtt_time = TS_NEVER;
        }
        add_range(c, l, r);
    }
}

/* Forgets what snd_una has passed. */
void ts_sack_clean(ts_conn *c)
{
    while (c->nsacked && ts_seq_le(c->sacked[0].r, c->snd_una))
        remove_at(c, 0);
    if (c->nsacked && ts_seq_lt(c->sacked[0].l, c->snd_una))
        c->sacked[0].l = c->snd_una;
}

uint32_t ts_sack_bytes(const ts_conn *c)
{
    uint32_t n = 0;
    for (int i = 0; i < c->nsacked; i++)
        n += c->sacked[i].r - c->sacked[i].l;
    return n;
}

/* If seq lies in a SACKed range, the range's end; else seq. */
uint32_t ts_sack_skip(const ts_conn *c, uint32_t seq)
{
    for (int i = 0; i < c->nsacked; i++)
        if (ts_seq_ge(seq, c->sacked[i].l) && ts_seq_lt(seq, c->sacked[i].r))
            return c->sacked[i].r;
    return seq;
}

/* The first SACKed byte above seq, or `limit` when none below it. */
uint32_t ts_sack_next_left(const ts_conn *c, uint32_t seq, uint32_t limit)
{
    for (int i = 0; i < c->nsacked; i++)
        if (ts_seq_gt(c->sacked[i].l, seq))
            return ts_seq_min(c->sacked[i].l, limit);
    return limit;
}

/* Next hole to retransmit in recovery: [*seq, *seq + *len). 0 if none
 * (or no ACK has paid for one yet). Without SACK information above it,
 * only the segment at snd_una is known lost (RFC 6582 NewReno). */
int ts_sack_next_hole(const ts_conn *c, uint32_t *seq, uint32_t *len)
{
    uint32_t h, end;
    if (!c->in_recovery || !c->rexmit_credit)
        return 0;
    end = ts_seq_min(c->recover, c->snd_una + c->sndq.len); /* the FIN is no hole */
    h = ts_sack_skip(c, ts_seq_max(c->rexmit_nxt, c->snd_una));
    if (!ts_seq_lt(h, end))
        return 0;
    if (h != c->snd_una && (!c->nsacked || !ts_seq_lt(h, c->sacked[c->nsacked - 1].r)))
        return 0;
    *seq = h;
    *len = TS_MIN(ts_sack_next_left(c, h, end) - h, (uint32_t)c->mss);
    return *len > 0;
}

/* RFC 5827 early retransmit: with fewer than four segments in flight,
 * three duplicate ACKs can never come; the threshold is flight - 1. */
uint32_t ts_dupthresh(const ts_conn *c)
{
    uint32_t segs = (c->snd_max - c->snd_una + c->mss - 1) / TS_MAX(c->mss, 1u);
    if (segs >= 4)
        return 3;
    return segs > 2 ? segs - 1 : 1;
}

/* Three duplicate ACKs, or enough SACKed above the first hole. */
void ts_sack_on_dupack(ts_stack *s, ts_conn *c)
{
    uint32_t flight;
    if (c->in_recovery) {
        c->rexmit_credit++;
        return;
    }
    if (c->dupacks < ts_dupthresh(c) && ts_sack_bytes(c) < ts_dupthresh(c) * (uint32_t)c->mss)
        return;
    flight = c->snd_max - c->snd_una;
    c->ssthresh = TS_MAX(flight / 2, 2u * c->mss);
    c->cwnd = c->ssthresh;
    c->in_recovery = 1;
    c->recover = c->snd_max;
    c->rexmit_nxt = c->snd_una;
    c->rexmit_credit = 1;
    c->rtt_time = TS_NEVER;
    TS_MIB_INC(s, TS_MIB_TCPFastRetrans);
}

/* An ACK that moved snd_una: partial (keep going) or full (done). */
void ts_sack_on_advance(ts_conn *c)
{
    ts_sack_clean(c);
    if (!c->in_recovery)
        return;
    if (ts_seq_ge(c->snd_una, c->recover)) {
        c->in_recovery = 0;
        c->rexmit_credit = 0;
        return;
    }
    if (ts_seq_lt(c->rexmit_nxt, c->snd_una))
        c->rexmit_nxt = c->snd_una;
    c->rexmit_credit++;
}
