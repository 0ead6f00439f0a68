/*
 * run_packet.c — packet lines: which connection a line belongs to (4.7),
 * relative sequence numbers (4.6), building and injecting `<` lines (4.4),
 * reading and comparing the stack's output for `>` lines (4.5, 4.8), and
 * the final RST of each connection.
 *
 * The runner decodes and encodes IPv4/TCP itself rather than through the
 * core's wire layer: it is the oracle that checks what the stack put on the
 * wire, so it must not share the stack's parser.
 *
 * Invariants: a connection's R, L and Ls are set once (the state machine
 * of run_conn_state guards them); all mapping is modulo 2^32; only packets
 * of the connection under test are compared, others are shown in the
 * trace and dropped, as packetdrill drops them.
 */
#include "script/run_int.h"

#include <stdlib.h>
#include <string.h>

#include "tcpstate.h"

#define PKT_MAX 65536
#define SNIFF_GRACE_US 2000000   /* packetdrill waits 2 s past the expected time */

/* ---------------------------------------------------------------- codec */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* RFC 1071 one's complement sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += rd16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* 0: TCP decoded; 1: a well-formed datagram that is not TCP; -1: malformed. */
int run_pkt_parse(const uint8_t *b, size_t n, run_pkt *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (n < 20 || b[0] >> 4 != 4)
        return snprintf(err, errlen, n < 20 ? "%zu bytes: no IPv4 header" : "not IPv4", n), -1;
    p->ihl = (b[0] & 15) * 4;
    size_t tot = rd16(b + 2);
    if (p->ihl < 20 || tot < (size_t)p->ihl || tot > n)
        return snprintf(err, errlen, "bad IPv4 header length %d or total length %zu", p->ihl,
                        tot), -1;
    p->ip_csum_ok = csum_fold(csum_add(0, b, (size_t)p->ihl)) == 0;
    p->tos = b[1];
    p->ttl = b[8];
    p->sip = rd32(b + 12);
    p->dip = rd32(b + 16);
    if (b[9] != 6)
        return 1;
    if (rd16(b + 6) & 0x3fff)
        return snprintf(err, errlen, "fragmented IPv4 datagram"), -1;
    const uint8_t *t = b + p->ihl;
    size_t tl = tot - (size_t)p->ihl;
    if (tl < 20)
        return snprintf(err, errlen, "TCP header truncated (%zu bytes)", tl), -1;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || doff > tl)
        return snprintf(err, errlen, "bad TCP data offset %zu", doff), -1;
    p->sport = rd16(t);
    p->dport = rd16(t + 2);
    p->seq = rd32(t + 4);
    p->ack = rd32(t + 8);
    p->flags = t[13] | ((t[12] & 1u) << 8);
    p->res = (t[12] >> 1) & 7;
    p->win = rd16(t + 14);
    p->urg = rd16(t + 18);
    p->optlen = (int)doff - 20;
    memcpy(p->opt, t + 20, (size_t)p->optlen);
    p->len = (uint32_t)(tl - doff);
    for (size_t i = doff; i < tl && !p->nonzero; i++)
        p->nonzero = t[i] != 0;
    return 0;
}

/* IPv4 as packetdrill injects it: ID 0, no DF, zero payload (4.4). */
static size_t pkt_build(const run_pkt *p, uint8_t *b, size_t cap)
{
    size_t tl = 20 + (size_t)p->optlen + p->len, tot = 20 + tl;
    if (tot > cap || tot > 65535)
        return 0;
    memset(b, 0, tot);
    b[0] = 0x45;
    b[1] = p->tos;
    wr16(b + 2, (uint32_t)tot);
    b[8] = p->ttl;
    b[9] = 6;
    wr32(b + 12, p->sip);
    wr32(b + 16, p->dip);
    wr16(b + 10, csum_fold(csum_add(0, b, 20)));
    uint8_t *t = b + 20;
    wr16(t, p->sport);
    wr16(t + 2, p->dport);
    wr32(t + 4, p->seq);
    wr32(t + 8, p->ack);
    t[12] = (uint8_t)((5 + p->optlen / 4) << 4 | (p->res & 7) << 1 | ((p->flags >> 8) & 1));
    t[13] = (uint8_t)p->flags;
    wr16(t + 14, p->win);
    wr16(t + 18, p->urg);
    memcpy(t + 20, p->opt, (size_t)p->optlen);
    uint8_t ph[12];
    wr32(ph, p->sip);
    wr32(ph + 4, p->dip);
    ph[8] = 0;
    ph[9] = 6;
    wr16(ph + 10, (uint32_t)tl);
    wr16(t + 16, csum_fold(csum_add(csum_add(0, ph, 12), t, tl)));
    return tot;
}

/* ------------------------------------------------------------- options */

/* Walks options as packetdrill does: EOL and NOP are one byte, everything
 * else has a length byte. Returns the next offset, -1 when malformed. */
static int opt_next(const uint8_t *o, int len, int i)
{
    if (o[i] == TS_TCPOPT_EOL || o[i] == TS_TCPOPT_NOP)
        return i + 1;
    if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
        return -1;
    return i + o[i + 1];
}

void run_opts_str(const uint8_t *o, int len, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "<");
    for (int i = 0; i < len && n < cap;) {
        int j = opt_next(o, len, i);
        const char *sep = i ? "," : "";
        int w;
        if (j < 0) {
            w = snprintf(buf + n, cap - n, "%s(malformed)", sep);
            n += w > 0 ? (size_t)w : 0;
            break;
        }
        int k = o[i], l = j - i;
        if (k == TS_TCPOPT_NOP || k == TS_TCPOPT_EOL)
            w = snprintf(buf + n, cap - n, "%s%s", sep, k ? "nop" : "eol");
        else if (k == TS_TCPOPT_MSS && l == 4)
            w = snprintf(buf + n, cap - n, "%smss %u", sep, rd16(o + i + 2));
        else if (k == TS_TCPOPT_WSCALE && l == 3)
            w = snprintf(buf + n, cap - n, "%swscale %u", sep, o[i + 2]);
        else if (k == TS_TCPOPT_SACKOK && l == 2)
            w = snprintf(buf + n, cap - n, "%ssackOK", sep);
        else if (k == TS_TCPOPT_TS && l == 10)
            w = snprintf(buf + n, cap - n, "%sTS val %u ecr %u", sep, rd32(o + i + 2),
                         rd32(o + i + 6));
        else if (k == TS_TCPOPT_SACK && (l - 2) % 8 == 0) {
            w = snprintf(buf + n, cap - n, "%ssack", sep);
            for (int b = i + 2; b < j && w > 0 && n + (size_t)w < cap; b += 8)
                w += snprintf(buf + n + w, cap - n - (size_t)w, " %u:%u", rd32(o + b),
                              rd32(o + b + 4));
        } else
            w = snprintf(buf + n, cap - n, "%skind %d len %d", sep, k, l);
        n += w > 0 ? (size_t)w : 0;
        i = j;
    }
    if (n < cap)
        snprintf(buf + n, cap - n, ">");
}

/* The written options as bytes; SACK edges and TS ecr as given. */
static int spec_opts_bytes(const ts_pkt_spec *k, uint8_t *o)
{
    int n = 0;
    for (int i = 0; i < k->nopts; i++) {
        const ts_tcpopt *x = &k->opts[i];
        o[n] = (uint8_t)x->kind;
        switch (x->kind) {
        case TS_TCPOPT_EOL:
        case TS_TCPOPT_NOP: n += 1; break;
        case TS_TCPOPT_MSS: o[n + 1] = 4; wr16(o + n + 2, x->v); n += 4; break;
        case TS_TCPOPT_WSCALE: o[n + 1] = 3; o[n + 2] = (uint8_t)x->v; n += 3; break;
        case TS_TCPOPT_SACKOK: o[n + 1] = 2; n += 2; break;
        case TS_TCPOPT_TS:
            o[n + 1] = 10; wr32(o + n + 2, x->val); wr32(o + n + 6, x->ecr); n += 10;
            break;
        case TS_TCPOPT_SACK:
            o[n + 1] = (uint8_t)(2 + 8 * x->nsack);
            for (int b = 0; b < x->nsack; b++) {
                wr32(o + n + 2 + 8 * b, x->sack[b][0]);
                wr32(o + n + 6 + 8 * b, x->sack[b][1]);
            }
            n += 2 + 8 * x->nsack;
            break;
        }
    }
    return n;
}

/* Adds off to every SACK edge in an option block (4.6). -1: malformed. */
static int offset_sack(uint8_t *o, int len, uint32_t off)
{
    for (int i = 0; i < len;) {
        int j = opt_next(o, len, i);
        if (j < 0)
            return -1;
        if (o[i] == TS_TCPOPT_SACK)
            for (int b = i + 2; b + 4 <= j; b += 4)
                wr32(o + b, rd32(o + b) + off);
        i = j;
    }
    return 0;
}

/* Offset of the TS option's val field, -1 when none. */
static int find_ts(const uint8_t *o, int len)
{
    int at = -1;
    for (int i = 0; i < len;) {
        int j = opt_next(o, len, i);
        if (j < 0)
            return -1;
        if (o[i] == TS_TCPOPT_TS && j - i == 10)
            at = i + 2;
        i = j;
    }
    return at;
}

/* ---------------------------------------------------------- description */

static void flags_str(unsigned f, char *buf)
{
    /* packetdrill's order: F S R P . U E W A (4.2) */
    static const struct { unsigned bit; char c; } order[] = {
        { TS_TH_FIN, 'F' }, { TS_TH_SYN, 'S' }, { TS_TH_RST, 'R' }, { TS_TH_PSH, 'P' },
        { TS_TH_ACK, '.' }, { TS_TH_URG, 'U' }, { TS_TH_ECE, 'E' }, { TS_TH_CWR, 'W' },
        { TS_PKT_AE, 'A' },
    };
    int n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (f & order[i].bit)
            buf[n++] = order[i].c;
    if (n == 0)
        buf[n++] = '-';
    buf[n] = '\0';
}

/* A packet in script syntax: "> S. 0:0(0) ack 1 win 65535 <mss 1460>". */
static void pkt_describe(const run_pkt *p, int dir, char *buf, size_t cap)
{
    char fl[12], opts[200] = "";
    flags_str(p->flags, fl);
    if (p->optlen)
        run_opts_str(p->opt, p->optlen, opts, sizeof opts);
    snprintf(buf, cap, "%c %s %u:%u(%u) ack %u win %u%s%s", dir, fl, p->seq, p->seq + p->len,
             p->len, p->ack, p->win, p->optlen ? " " : "", opts);
}

/* ---------------------------------------------------------- connections */

run_conn *run_conn_new(run_state *st)
{
    if (st->nconns == st->capconns) {
        size_t cap = st->capconns ? st->capconns * 2 : 8;
        run_conn *c = realloc(st->conns, cap * sizeof *c);
        if (!c)
            return NULL;
        st->conns = c;
        st->capconns = cap;
    }
    run_conn *c = &st->conns[st->nconns++];
    memset(c, 0, sizeof *c);
    c->script_fd = c->live_fd = -1;
    st->under_test = (int)(st->nconns - 1);
    return c;
}

/* 4.7: an inbound line while the connection under test listens (or when
 * there is none) creates a passive connection from a fresh peer port. */
static run_conn *conn_for_inbound(run_state *st, const ts_pkt_spec *k)
{
    run_conn *c = st->under_test >= 0 ? &st->conns[st->under_test] : NULL;
    if (c && c->state != CS_LISTENING) {
        if ((!c->lport || !c->rport) && !(k->src_port && k->dst_port)) {
            run_fail(st, st->ev->line, "inbound packet, but the connection under test has "
                     "no addresses yet (no listen(), and no connect() with its SYN line)");
            return NULL;
        }
        return c;
    }
    c = run_conn_new(st);
    if (!c) {
        run_fail(st, st->ev->line, "out of memory");
        return NULL;
    }
    c->state = CS_PASSIVE_RCVD;
    c->lip = st->cfg.local_ip;
    c->lport = st->cfg.bind_port;
    c->rip = st->cfg.remote_ip;
    c->rport = st->next_port++;
    c->R = k->seq;
    return c;
}

static run_conn *conn_for_outbound(run_state *st, const ts_pkt_spec *k)
{
    if (st->under_test < 0) {
        run_fail(st, st->ev->line, "outbound packet, but there is no connection under test "
                 "(no socket() and no inbound packet yet)");
        return NULL;
    }
    run_conn *c = &st->conns[st->under_test];
    int syn_only = (k->flags & (TS_TH_SYN | TS_TH_ACK)) == TS_TH_SYN;
    if (c->state == CS_CONNECTING && syn_only) {
        c->state = CS_SYN_SENT;
        c->Ls = k->seq;
    }
    if (c->state == CS_PASSIVE_RCVD && (k->flags & TS_TH_SYN) && (k->flags & TS_TH_ACK))
        c->Ls = k->seq;
    return c;
}

/* ------------------------------------------------------------- inbound */

static int ts_ecr_live(run_state *st, run_conn *c, uint32_t script, uint32_t *live)
{
    for (int i = c->nts; i-- > 0;)
        if (c->ts[i].script == script) {
            *live = c->ts[i].live;
            return 0;
        }
    if (st->ts_ecr_scaled && c->found_first_ts) {
        *live = script - c->first_script_val + c->first_actual_val;
        return 0;
    }
    return run_fail(st, st->ev->line, "unable to infer live TS ecr for script TS ecr %u: no "
                    "earlier outbound line wrote TS val %u", script, script);
}

/* Script values to live values (4.6, 4.5 for the ecr). */
static int map_inbound(run_state *st, run_conn *c, const ts_pkt_spec *k, run_pkt *p)
{
    int syn = (k->flags & TS_TH_SYN) != 0;
    uint32_t ack_off = syn ? c->L - c->Ls : c->L;
    p->seq = k->seq + (syn ? 0 : c->R);
    p->ack = (k->flags & TS_TH_ACK) ? k->ack + ack_off : k->ack;
    p->optlen = spec_opts_bytes(k, p->opt);
    offset_sack(p->opt, p->optlen, ack_off);
    int ts = find_ts(p->opt, p->optlen);
    if (ts >= 0 && (k->flags & TS_TH_ACK)) {
        uint32_t live = 0;
        if (ts_ecr_live(st, c, rd32(p->opt + ts + 4), &live) < 0)
            return -1;
        wr32(p->opt + ts + 4, live);
    }
    return 0;
}

static int inject(run_state *st, run_conn *c, run_pkt *p)
{
    uint8_t buf[PKT_MAX];
    size_t n = pkt_build(p, buf, sizeof buf);
    if (n == 0)
        return run_fail(st, st->ev ? st->ev->line : 0, "cannot build the packet");
    int64_t now = run_now(st);
    run_trace_pkt(st, now, 0, p);
    if (st->verbose) {
        char d[400];
        pkt_describe(p, '<', d, sizeof d);
        run_log(st, "%9.6f   inject %s (live)\n", now / 1e6, d);
    }
    c->have_inj = 1;
    c->inj_seq = p->seq;
    c->inj_ack = p->ack;
    c->inj_win = p->win;
    c->inj_flags = p->flags;
    c->inj_len = p->len;
    if (st->ops->inject(st->t, buf, n) < 0)
        return run_fail(st, st->ev ? st->ev->line : 0, "the %s target could not inject the "
                        "packet", st->ops->name);
    return 0;
}

static int run_inbound(run_state *st)
{
    const ts_pkt_spec *k = st->ev->pkt;
    run_conn *c = conn_for_inbound(st, k);
    if (!c || run_wait_event(st, "inbound packet") < 0)
        return -1;
    if (c->state == CS_SYNACK_SENT && (k->flags & TS_TH_ACK)) {
        c->state = CS_SYNACK_ACKED;
    } else if (c->state == CS_SYN_SENT && (k->flags & TS_TH_SYN) && (k->flags & TS_TH_ACK)) {
        c->state = CS_SYN_ACKED;
        c->R = k->seq;
    }
    run_pkt p;
    memset(&p, 0, sizeof p);
    p.sip = c->rip;
    p.dip = c->lip;
    p.sport = k->src_port ? k->src_port : c->rport;
    p.dport = k->dst_port ? k->dst_port : c->lport;
    p.ttl = k->ttl ? (uint8_t)k->ttl : 255;
    p.tos = (uint8_t)(k->tos_check == TS_TOS_ECN || k->tos_check == TS_TOS_FULL ? k->tos : 0);
    p.flags = k->flags;
    p.win = (uint16_t)k->win;
    p.urg = (uint16_t)k->urg;
    p.len = k->len;
    if (map_inbound(st, c, k, &p) < 0)
        return -1;
    return inject(st, c, &p);
}

int run_reset_conn(run_state *st, run_conn *c)
{
    run_pkt p;
    memset(&p, 0, sizeof p);
    if (c->have_inj && (c->inj_flags & TS_TH_ACK)) {
        p.seq = c->inj_seq + !!(c->inj_flags & TS_TH_SYN) + !!(c->inj_flags & TS_TH_FIN) +
                c->inj_len;
        p.ack = c->inj_ack;
        p.win = c->inj_win;
    } else if (c->have_out && (c->out_flags & TS_TH_ACK)) {
        p.seq = c->out_ack;
        p.ack = c->out_seq;
    } else {
        p.ack = c->out_seq + 1;
    }
    p.flags = TS_TH_RST | TS_TH_ACK;
    p.sip = c->rip;
    p.dip = c->lip;
    p.sport = c->rport;
    p.dport = c->lport;
    p.ttl = 255;
    run_log(st, "%9.6f end: RST to reset %u>%u\n", run_now(st) / 1e6, c->rport, c->lport);
    return inject(st, c, &p);
}

/* ------------------------------------------------------------ outbound */

static int tuple_is(const run_conn *c, const run_pkt *p)
{
    return c->lport && c->rport && p->sip == c->lip && p->sport == c->lport &&
           p->dip == c->rip && p->dport == c->rport;
}

/* Reads the stack's output until a packet of connection c comes (1), or
 * nothing does by the deadline (0). Other connections' packets are shown
 * in the trace and dropped; a connecting socket adopts the first SYN to
 * remote_ip:connect_port, which fixes its local address and L (4.7). */
static int sniff(run_state *st, run_conn *c, run_pkt *p, int64_t deadline)
{
    uint8_t buf[PKT_MAX];
    for (;;) {
        uint64_t when = 0, dl = deadline == INT64_MAX ? UINT64_MAX : st->t0 + (uint64_t)deadline;
        long n = st->ops->receive(st->t, buf, sizeof buf, &when, dl);
        if (n < 0)
            return run_fail(st, st->ev->line, "the %s target failed while reading the stack's "
                            "output", st->ops->name);
        if (n == 0)
            return 0;
        char err[128];
        int r = run_pkt_parse(buf, (size_t)n, p, err, sizeof err);
        p->when = when > st->t0 ? when - st->t0 : 0;
        if (r < 0)
            return run_fail(st, st->ev->line, "malformed outbound packet at %.6f s: %s",
                            p->when / 1e6, err);
        if (r > 0)
            continue; /* not TCP: packetdrill drops it too */
        int syn_only = (p->flags & (TS_TH_SYN | TS_TH_ACK)) == TS_TH_SYN;
        if (!tuple_is(c, p) && c->state == CS_SYN_SENT && syn_only && p->dip == c->rip &&
            p->dport == c->rport) {
            c->lip = p->sip;
            c->lport = p->sport;
            c->L = p->seq;
        }
        run_trace_pkt(st, (int64_t)p->when, 1, p);
        if (tuple_is(c, p))
            return 1;
        run_log(st, "%9.6f   (other connection %u>%u, ignored)\n", p->when / 1e6, p->sport,
                p->dport);
    }
}

/* packetdrill's segment merging (4.5): a shorter packet is completed with
 * the next ones of the same 4-tuple, contiguous, same SYN/RST/ACK and ack;
 * the result keeps the first seq and the last flags, window and time. */
static int merge(run_state *st, run_conn *c, run_pkt *p, uint32_t want, int64_t deadline)
{
    while (p->len < want && !st->strict_segments) {
        run_pkt q;
        int r = sniff(st, c, &q, deadline);
        if (r <= 0)
            return r;
        unsigned keep = TS_TH_SYN | TS_TH_RST | TS_TH_ACK;
        if (q.seq != p->seq + p->len || (q.flags & keep) != (p->flags & keep) || q.ack != p->ack)
            return run_fail(st, st->ev->line, "expected %u bytes of payload in one packet; "
                            "the stack sent %u bytes, then a packet that does not continue "
                            "it (seq %u, flags 0x%x)", want, p->len, q.seq, q.flags);
        uint32_t seq = p->seq, len = p->len + q.len;
        int nonzero = p->nonzero || q.nonzero;
        *p = q;
        p->seq = seq;
        p->len = len;
        p->nonzero = nonzero;
    }
    return 1;
}

/* Live values to script values (4.6), and the TS val record (4.5). */
static void map_outbound(run_conn *c, const ts_pkt_spec *k, run_pkt *p)
{
    int syn = (p->flags & TS_TH_SYN) != 0;
    uint32_t ack_off = syn ? 0 : c->R;
    p->seq -= syn ? c->L - c->Ls : c->L;
    if (p->flags & TS_TH_ACK)
        p->ack -= ack_off;
    offset_sack(p->opt, p->optlen, (uint32_t)-ack_off);
    uint8_t so[40];
    int sl = k->opt_any ? 0 : spec_opts_bytes(k, so);
    int sts = find_ts(so, sl), ats = find_ts(p->opt, p->optlen);
    if (sts < 0 || ats < 0)
        return;
    uint32_t sval = rd32(so + sts), aval = rd32(p->opt + ats);
    int i;
    for (i = 0; i < c->nts && c->ts[i].script != sval; i++)
        ;
    if (i == c->nts && c->nts < RUN_TSMAP)
        c->nts++;
    if (i < RUN_TSMAP) {
        c->ts[i].script = sval;
        c->ts[i].live = aval;
    }
    if (!c->found_first_ts) {
        c->found_first_ts = 1;
        c->first_script_val = sval;
        c->first_actual_val = aval;
    }
    wr32(p->opt + ats, c->first_script_val + (aval - c->first_actual_val));
}

static int field(run_state *st, const char *name, uint32_t want, uint32_t got)
{
    if (want == got)
        return 0;
    return run_fail(st, st->ev->line, "%s: expected %u, got %u", name, want, got);
}

/* Option by option, as packetdrill's verify_outbound_live_tcp_options. */
static int verify_opts(run_state *st, const ts_pkt_spec *k, const run_pkt *p)
{
    uint8_t so[40];
    char want[200], got[200];
    int sl = spec_opts_bytes(k, so), i = 0, j = 0, bad = 0;
    while ((i < sl || j < p->optlen) && !bad) {
        int ni = i < sl ? opt_next(so, sl, i) : -1, nj = j < p->optlen ? opt_next(p->opt, p->optlen, j) : -1;
        if (ni < 0 || nj < 0 || so[i] != p->opt[j]) {
            bad = 1;
        } else if (so[i] == TS_TCPOPT_TS && st->ts_tick_usecs) {
            int64_t tol = run_tolerance(st, st->sched, 0, 1);
            int32_t d = (int32_t)(rd32(p->opt + j + 2) - rd32(so + i + 2));
            if ((int64_t)(d < 0 ? -d : d) * st->ts_tick_usecs > tol)
                return run_fail(st, st->ev->line, "bad outbound TCP timestamp value: expected "
                                "%u, got %u (tolerance %lld us)", rd32(so + i + 2),
                                rd32(p->opt + j + 2), (long long)tol);
        } else if (so[i] != TS_TCPOPT_TS && so[i] > TS_TCPOPT_NOP &&
                   (ni - i != nj - j || memcmp(so + i, p->opt + j, (size_t)(ni - i)) != 0)) {
            bad = 1;
        }
        i = ni;
        j = nj;
    }
    if (!bad)
        return 0;
    run_opts_str(so, sl, want, sizeof want);
    run_opts_str(p->opt, p->optlen, got, sizeof got);
    return run_fail(st, st->ev->line, "TCP options: expected %s, got %s", sl ? want : "none",
                    p->optlen ? got : "none");
}

static int verify_ip(run_state *st, const ts_pkt_spec *k, const run_pkt *p)
{
    if (!p->ip_csum_ok)
        return run_fail(st, st->ev->line, "bad outbound IPv4 header checksum");
    if (p->ihl != 20)
        return field(st, "IPv4 header length", 20, (uint32_t)p->ihl);
    if (k->tos_check == TS_TOS_ECN && (p->tos & 3) != k->tos)
        return run_fail(st, st->ev->line, "ECN codepoint: expected %d, got %d", k->tos, p->tos & 3);
    if (k->tos_check == TS_TOS_ECT01 && (p->tos & 3) != 1 && (p->tos & 3) != 2)
        return run_fail(st, st->ev->line, "ECN codepoint: expected ECT(0) or ECT(1), got %d",
                        p->tos & 3);
    if (k->tos_check == TS_TOS_FULL && p->tos != k->tos)
        return field(st, "TOS", (uint32_t)k->tos, p->tos);
    if (k->ttl && p->ttl != k->ttl)
        return field(st, "TTL", (uint32_t)k->ttl, p->ttl);
    return 0;
}

static int verify_fields(run_state *st, const ts_pkt_spec *k, const run_pkt *p)
{
    if (p->flags != k->flags) {
        char want[12], got[12];
        flags_str(k->flags, want);
        flags_str(p->flags, got);
        return run_fail(st, st->ev->line, "flags: expected %s, got %s", want, got);
    }
    if (field(st, "reserved TCP header bits", 0, p->res) < 0 ||
        field(st, "seq", k->seq, p->seq) < 0 || field(st, "ack", k->ack, p->ack) < 0 ||
        field(st, "payload length", k->len, p->len) < 0 ||
        (k->has_win && field(st, "win", k->win, p->win) < 0) ||
        field(st, "urgent pointer", k->urg, p->urg) < 0 ||
        (!k->opt_any && verify_opts(st, k, p) < 0) || verify_ip(st, k, p) < 0)
        return -1;
    if (p->nonzero)
        return run_fail(st, st->ev->line, "the payload bytes are not all zero");
    return 0;
}

static int verify_time(run_state *st, const run_pkt *p, int64_t tol)
{
    int64_t t = (int64_t)p->when;
    int kind = st->ev->time_kind;
    if (kind == TS_TIME_ANY || (t >= st->sched - tol && t <= st->sched_end + tol))
        return 0;
    if (kind == TS_TIME_ABS_RANGE || kind == TS_TIME_REL_RANGE)
        return run_fail(st, st->ev->line, "timing error: expected the packet in %.6f~%.6f s, "
                        "it was sent at %.6f s (tolerance %.6f s)", st->sched / 1e6,
                        st->sched_end / 1e6, t / 1e6, tol / 1e6);
    return run_fail(st, st->ev->line, "timing error: expected the packet at %.6f s, it was "
                    "sent at %.6f s (tolerance %.6f s)", st->sched / 1e6, t / 1e6, tol / 1e6);
}

static int run_outbound(run_state *st)
{
    const ts_pkt_spec *k = st->ev->pkt;
    run_conn *c = conn_for_outbound(st, k);
    if (!c)
        return -1;
    int64_t tol = run_tolerance(st, st->sched, st->prev_sched, st->have_prev);
    int64_t deadline = st->sched_end + tol + SNIFF_GRACE_US;
    if (st->ev->time_kind == TS_TIME_ANY)
        deadline = st->virtual_time ? INT64_MAX : run_now(st) + 60 * 1000000LL;
    run_pkt p;
    int r = sniff(st, c, &p, deadline);
    if (r > 0 && c->state == CS_PASSIVE_RCVD && (k->flags & TS_TH_SYN) && (k->flags & TS_TH_ACK)) {
        c->state = CS_SYNACK_SENT;
        c->L = p.seq;
    }
    if (r > 0)
        r = merge(st, c, &p, k->len, deadline);
    if (r < 0)
        return -1;
    if (r == 0)
        return run_fail(st, st->ev->line, "expected an outbound packet at %.6f s; the stack "
                        "sent nothing%s", st->sched / 1e6, deadline == INT64_MAX ? " (no timer "
                        "left to fire)" : "");
    c->have_out = 1;
    c->out_seq = p.seq;
    c->out_ack = p.ack;
    c->out_flags = p.flags;
    map_outbound(c, k, &p);
    char d[400];
    pkt_describe(&p, '>', d, sizeof d);
    snprintf(st->r->actual, sizeof st->r->actual, "%.6f %.290s", p.when / 1e6, d);
    run_log(st, "%9.6f   sniffed %s\n", p.when / 1e6, d);
    if (verify_fields(st, k, &p) < 0 || verify_time(st, &p, tol) < 0)
        return -1;
    return 0;
}

int run_packet_event(run_state *st)
{
    return st->ev->pkt->dir == '<' ? run_inbound(st) : run_outbound(st);
}
