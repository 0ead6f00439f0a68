/*
 * wire.c — IPv4 + TCP bytes <-> ts_seg.
 *
 * Owns: validation of inbound datagrams (ts_wire_parse), the layout of
 * outbound ones (ts_wire_build, ts_wire_build_raw), the RFC 1071 checksum
 * and tcpdump-style flag names. No state, no allocation: the payload and raw
 * option bytes of a parsed segment point into the caller's buffer.
 *
 * Invariants of ts_wire_parse:
 *   - every read is bounds-checked before it happens: the IPv4 header
 *     against the buffer length, all after it against the IPv4 total
 *     length, itself checked to be <= the buffer length;
 *   - when it returns TS_DROP_NONE, opt[0..optlen) and data[0..len) lie
 *     inside pkt[0..len), both checksums were verified and every option
 *     with a known kind had its exact length;
 *   - on a drop, seg holds what was parsed before the failing check (the
 *     addresses once the IPv4 checksum passed, the TCP header fields once
 *     the data offset did) and zero elsewhere, so drops can be traced.
 *
 * Flags are not judged here (SYN+RST, no ACK, ...): that is the state
 * machine's business (TS_DROP_TCP_FLAGS, TS_DROP_NO_ACK), as in Linux where
 * tcp_v4_rcv() only checks the header length and the checksum.
 *
 * Cost: one pass over the datagram for the checksums, one over the options.
 */
#include "wire.h"

#include <string.h>

#define TS_IPPROTO_TCP 6
#define TS_IP_DF 0x4000u
#define TS_IP_MF 0x2000u
#define TS_IP_OFFMASK 0x1fffu
#define TS_DEFAULT_TTL 64

/* TCP option kinds and lengths (RFC 9293 §3.2, RFC 7323, RFC 2018). */
enum {
    TCPOPT_EOL = 0, TCPOPT_NOP = 1, TCPOPT_MSS = 2, TCPOPT_WINDOW = 3,
    TCPOPT_SACK_PERM = 4, TCPOPT_SACK = 5, TCPOPT_TIMESTAMP = 8
};
enum {
    TCPOLEN_MSS = 4, TCPOLEN_WINDOW = 3, TCPOLEN_SACK_PERM = 2,
    TCPOLEN_SACK_BASE = 2, TCPOLEN_SACK_PERBLOCK = 8, TCPOLEN_TIMESTAMP = 10
};

/* ------------------------------------------------------------ byte order */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint8_t *wr8(uint8_t *p, unsigned v)
{
    *p = (uint8_t)v;
    return p + 1;
}

static uint8_t *wr16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* -------------------------------------------------------------- checksum */

/* RFC 1071: the one's-complement sum of big-endian 16-bit words. An odd
 * final byte is the high half of a word padded with zero, so only the last
 * piece of a chained sum may have an odd length. The result is kept folded
 * to 16 bits (end-around carry), so chaining never overflows. */
uint32_t ts_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = sum;
    size_t i;

    if (!p)
        len = 0;
    for (i = 0; i + 1 < len; i += 2)
        acc += (uint32_t)((p[i] << 8) | p[i + 1]);
    if (len & 1)
        acc += (uint32_t)p[len - 1] << 8;
    while (acc >> 16)
        acc = (acc & 0xffffu) + (acc >> 16);
    return (uint32_t)acc;
}

/* The value to store in a checksum field; over data that already holds a
 * correct checksum field it gives 0. */
uint16_t ts_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* RFC 9293 §3.1: the TCP checksum covers a pseudo-header of the two
 * addresses, zero, the protocol and the TCP length. */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint32_t tcp_len)
{
    uint8_t ph[12];
    uint8_t *p = ph;

    p = wr32(p, src);
    p = wr32(p, dst);
    p = wr8(p, 0);
    p = wr8(p, TS_IPPROTO_TCP);
    wr16(p, tcp_len);
    return ts_csum_add(0, ph, sizeof ph);
}

/* ----------------------------------------------------------------- parse */

/* Fills seg's option fields from one option whose kind is known and whose
 * length byte (l) fits the option area. Linux's tcp_parse_options() skips a
 * known option with a wrong length and keeps parsing; we drop the segment
 * instead (TS_DROP_TCP_OPT): no conforming sender emits one, and a strict
 * parser leaves the state machine no half-understood segment. Linux reads
 * MSS / wscale / sackOK only on a SYN; here they are recorded on any
 * segment and the state machine decides whether they count. */
static int parse_known_opt(const uint8_t *o, unsigned l, ts_seg *seg)
{
    switch (o[0]) {
    case TCPOPT_MSS:
        if (l != TCPOLEN_MSS)
            return TS_DROP_TCP_OPT;
        seg->mss = rd16(o + 2);
        seg->opt_present |= TS_OPT_MSS;
        return TS_DROP_NONE;
    case TCPOPT_WINDOW:
        if (l != TCPOLEN_WINDOW)
            return TS_DROP_TCP_OPT;
        seg->wscale = o[2];
        seg->opt_present |= TS_OPT_WSCALE;
        return TS_DROP_NONE;
    case TCPOPT_SACK_PERM:
        if (l != TCPOLEN_SACK_PERM)
            return TS_DROP_TCP_OPT;
        seg->opt_present |= TS_OPT_SACKOK;
        return TS_DROP_NONE;
    case TCPOPT_SACK: {
        /* RFC 2018 §3: 1 to 4 blocks (Linux also ignores an empty one). */
        unsigned n = (l - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_PERBLOCK;
        if (l < TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK ||
            (l - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK || n > TS_MAX_SACK)
            return TS_DROP_TCP_OPT;
        for (unsigned i = 0; i < n; i++) {
            seg->sack[i].left = rd32(o + 2 + 8 * i);
            seg->sack[i].right = rd32(o + 6 + 8 * i);
        }
        seg->nsack = (uint8_t)n;
        seg->opt_present |= TS_OPT_SACK;
        return TS_DROP_NONE;
    }
    case TCPOPT_TIMESTAMP:
        if (l != TCPOLEN_TIMESTAMP)
            return TS_DROP_TCP_OPT;
        seg->tsval = rd32(o + 2);
        seg->tsecr = rd32(o + 6);
        seg->opt_present |= TS_OPT_TS;
        return TS_DROP_NONE;
    default:
        return TS_DROP_NONE; /* unknown kinds: skipped by their length */
    }
}

/* Walks opt[0..n). EOL ends the list (what follows is padding); NOP is one
 * byte; every other kind has a length byte >= 2 that must fit the area.
 * Linux stops parsing at such a "silly" option but keeps the segment; we
 * drop it (TS_DROP_TCP_OPT), as wire.h promises. A repeated option
 * overwrites the earlier one, as in Linux. */
static int parse_opts(const uint8_t *opt, unsigned n, ts_seg *seg)
{
    unsigned i = 0;

    while (i < n) {
        unsigned kind = opt[i], l;
        if (kind == TCPOPT_EOL)
            break;
        if (kind == TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= n)
            return TS_DROP_TCP_OPT;
        l = opt[i + 1];
        if (l < 2 || l > n - i)
            return TS_DROP_TCP_OPT;
        int r = parse_known_opt(opt + i, l, seg);
        if (r != TS_DROP_NONE)
            return r;
        i += l;
    }
    return TS_DROP_NONE;
}

/* RFC 791 header checks, in the order of Linux's ip_rcv_core(): version
 * and IHL, the header checksum, then the total length against the buffer
 * (too long: truncated; shorter than the header: bad header). Fragments and
 * the protocol are judged after, as ip_local_deliver() does. A header cut
 * by the end of the buffer is truncated too (Linux counts it as a header
 * error; TRUNCATED says more). On success *ihl_out and *tot_out hold the
 * header and total lengths in bytes. */
static int parse_ip(const uint8_t *pkt, size_t len, ts_seg *seg,
                    unsigned *ihl_out, unsigned *tot_out)
{
    unsigned ihl, tot;

    if (len < TS_IP_HDR_MIN)
        return TS_DROP_TRUNCATED;
    if (pkt[0] >> 4 != 4)
        return TS_DROP_IP_VERSION;
    ihl = (pkt[0] & 0x0fu) * 4u;
    if (ihl < TS_IP_HDR_MIN)
        return TS_DROP_IP_HDR;
    if (ihl > len)
        return TS_DROP_TRUNCATED;
    if (ts_csum_fold(ts_csum_add(0, pkt, ihl)) != 0)
        return TS_DROP_IP_CSUM;
    tot = rd16(pkt + 2);
    if (tot > len)
        return TS_DROP_TRUNCATED;
    if (tot < ihl)
        return TS_DROP_IP_HDR;
    seg->tos = pkt[1];
    seg->ttl = pkt[8];
    seg->src_ip = rd32(pkt + 12);
    seg->dst_ip = rd32(pkt + 16);
    if (rd16(pkt + 6) & (TS_IP_MF | TS_IP_OFFMASK))
        return TS_DROP_IP_FRAGMENT;
    if (pkt[9] != TS_IPPROTO_TCP)
        return TS_DROP_IP_PROTO;
    /* A TCP datagram must hold at least a minimal TCP header; a total
     * length that says otherwise is a bad total length. */
    if (tot - ihl < TS_TCP_HDR_MIN)
        return TS_DROP_IP_HDR;
    *ihl_out = ihl;
    *tot_out = tot;
    return TS_DROP_NONE;
}

/* th[0..tcp_len) is the whole TCP segment (tcp_len >= 20). */
static int parse_tcp(const uint8_t *th, unsigned tcp_len, ts_seg *seg)
{
    unsigned doff = (th[12] >> 4) * 4u;

    if (doff < TS_TCP_HDR_MIN || doff > tcp_len)
        return TS_DROP_TCP_HDR;
    seg->src_port = rd16(th);
    seg->dst_port = rd16(th + 2);
    seg->seq = rd32(th + 4);
    seg->ack = rd32(th + 8);
    seg->flags = th[13];
    seg->win = rd16(th + 14);
    seg->urg = rd16(th + 18);
    uint32_t sum = pseudo_sum(seg->src_ip, seg->dst_ip, tcp_len);
    if (ts_csum_fold(ts_csum_add(sum, th, tcp_len)) != 0)
        return TS_DROP_TCP_CSUM;
    seg->opt = th + TS_TCP_HDR_MIN;
    seg->optlen = (uint8_t)(doff - TS_TCP_HDR_MIN);
    int r = parse_opts(seg->opt, seg->optlen, seg);
    if (r != TS_DROP_NONE)
        return r;
    seg->data = th + doff;
    seg->len = tcp_len - doff;
    return TS_DROP_NONE;
}

int ts_wire_parse(const uint8_t *pkt, size_t len, ts_seg *seg)
{
    unsigned ihl = 0, tot = 0;
    int r;

    if (!seg)
        return TS_DROP_TRUNCATED;
    memset(seg, 0, sizeof *seg);
    if (!pkt)
        return TS_DROP_TRUNCATED;
    r = parse_ip(pkt, len, seg, &ihl, &tot);
    if (r != TS_DROP_NONE)
        return r;
    /* Bytes past the total length are link padding (a 40-byte ACK in a
     * 60-byte Ethernet frame): everything below uses tot, never len. */
    return parse_tcp(pkt + ihl, tot - ihl, seg);
}

/* ----------------------------------------------------------------- build */

/* Option bytes in Linux's order, as tcp_options_write() in
 * net/ipv4/tcp_output.c writes them (Linux 6.x, without MD5/AO, AccECN,
 * Fast Open or MPTCP, which we do not implement):
 *
 *   if mss:          02 04 mm mm                          (MSS)
 *   if ts && sackOK: 04 02 08 0a <tsval> <tsecr>          (sackOK folded in)
 *   if ts only:      01 01 08 0a <tsval> <tsecr>          (NOP, NOP, TS)
 *   if sackOK, !ts:  01 01 04 02                          (NOP, NOP, sackOK)
 *   if wscale:       01 03 03 ws                          (NOP, wscale)
 *   if sack blocks:  01 01 05 <2+8n> <left right>...      (NOP, NOP, SACK)
 *
 * so a SYN is "mss, sackOK, TS, nop, wscale" with timestamps and
 * "mss, nop, nop, sackOK, nop, wscale" without, and other segments are
 * "nop, nop, TS" then "nop, nop, sack". The kernel comments that the
 * ordering matters to middleboxes (sackOK first is known to break some).
 * Which options appear is the caller's choice through opt_present; the
 * layout follows from it. Like tcp_established_options(), the number of
 * SACK blocks is cut to what fits in the 40 bytes. */
static unsigned sack_blocks_fitting(const ts_seg *seg, unsigned used)
{
    unsigned n, room;

    if (!(seg->opt_present & TS_OPT_SACK) || seg->nsack == 0)
        return 0;
    n = seg->nsack < TS_MAX_SACK ? seg->nsack : TS_MAX_SACK;
    room = (TS_TCP_OPT_MAX - used - 4) / TCPOLEN_SACK_PERBLOCK;
    return n < room ? n : room;
}

static unsigned opt_len_before_sack(const ts_seg *seg)
{
    uint32_t o = seg->opt_present;
    unsigned n = 0;

    if (o & TS_OPT_MSS)
        n += 4;
    if (o & TS_OPT_TS)
        n += 12;
    if ((o & TS_OPT_SACKOK) && !(o & TS_OPT_TS))
        n += 4;
    if (o & TS_OPT_WSCALE)
        n += 4;
    return n;
}

size_t ts_wire_opt_len(const ts_seg *seg)
{
    unsigned n, k;

    if (!seg)
        return 0;
    n = opt_len_before_sack(seg);
    k = sack_blocks_fitting(seg, n);
    return n + (k ? 4 + k * TCPOLEN_SACK_PERBLOCK : 0);
}

static uint8_t *write_opts(const ts_seg *seg, uint8_t *p)
{
    uint32_t o = seg->opt_present;
    unsigned k = sack_blocks_fitting(seg, opt_len_before_sack(seg));

    if (o & TS_OPT_MSS) {
        p = wr8(wr8(p, TCPOPT_MSS), TCPOLEN_MSS);
        p = wr16(p, seg->mss);
    }
    if (o & TS_OPT_TS) {
        if (o & TS_OPT_SACKOK)
            p = wr8(wr8(p, TCPOPT_SACK_PERM), TCPOLEN_SACK_PERM);
        else
            p = wr8(wr8(p, TCPOPT_NOP), TCPOPT_NOP);
        p = wr8(wr8(p, TCPOPT_TIMESTAMP), TCPOLEN_TIMESTAMP);
        p = wr32(wr32(p, seg->tsval), seg->tsecr);
    } else if (o & TS_OPT_SACKOK) {
        p = wr8(wr8(p, TCPOPT_NOP), TCPOPT_NOP);
        p = wr8(wr8(p, TCPOPT_SACK_PERM), TCPOLEN_SACK_PERM);
    }
    if (o & TS_OPT_WSCALE) {
        p = wr8(wr8(p, TCPOPT_NOP), TCPOPT_WINDOW);
        p = wr8(wr8(p, TCPOLEN_WINDOW), seg->wscale);
    }
    if (k) {
        p = wr8(wr8(p, TCPOPT_NOP), TCPOPT_NOP);
        p = wr8(wr8(p, TCPOPT_SACK), TCPOLEN_SACK_BASE + k * TCPOLEN_SACK_PERBLOCK);
        for (unsigned i = 0; i < k; i++)
            p = wr32(wr32(p, seg->sack[i].left), seg->sack[i].right);
    }
    return p;
}

/* Writes the 20-byte IPv4 header (no options, ID 0) with its checksum. */
static void write_ip(const ts_seg *seg, uint8_t *p, unsigned tot, int df)
{
    uint8_t *q = p;

    q = wr8(q, 0x45);
    q = wr8(q, seg->tos);
    q = wr16(q, tot);
    q = wr16(q, 0);
    q = wr16(q, df ? TS_IP_DF : 0);
    q = wr8(q, seg->ttl ? seg->ttl : TS_DEFAULT_TTL);
    q = wr8(q, TS_IPPROTO_TCP);
    q = wr16(q, 0);
    q = wr32(q, seg->src_ip);
    wr32(q, seg->dst_ip);
    wr16(p + 10, ts_csum_fold(ts_csum_add(0, p, TS_IP_HDR_MIN)));
}

/* Writes the fixed TCP header at th with data offset doff (bytes); the
 * options must already sit at th + 20 and the payload after them. */
static void write_tcp(const ts_seg *seg, uint8_t *th, unsigned doff, unsigned tcp_len)
{
    uint8_t *q = th;

    q = wr16(q, seg->src_port);
    q = wr16(q, seg->dst_port);
    q = wr32(q, seg->seq);
    q = wr32(q, seg->ack);
    q = wr8(q, (doff / 4) << 4);
    q = wr8(q, seg->flags);
    q = wr16(q, seg->win);
    q = wr16(q, 0);
    wr16(q, seg->urg);
    uint32_t sum = pseudo_sum(seg->src_ip, seg->dst_ip, tcp_len);
    wr16(th + 16, ts_csum_fold(ts_csum_add(sum, th, tcp_len)));
}

/* Checks that a datagram with optlen option bytes fits cap and the 16-bit
 * total length; returns its length or 0. */
static size_t fits(const ts_seg *seg, size_t optlen, size_t cap)
{
    size_t tot = TS_IP_HDR_MIN + TS_TCP_HDR_MIN + optlen + seg->len;

    if (seg->len && !seg->data)
        return 0;
    if (seg->len > 0xffffu || tot > 0xffffu || tot > cap)
        return 0;
    return tot;
}

/* Shared tail of both builders: payload first (memmove: the caller may
 * build in place with data already inside buf), then options (our layout,
 * or seg->opt verbatim when raw), then the headers that checksum them. */
static size_t build(const ts_seg *seg, uint8_t *buf, size_t cap, size_t optlen, int raw)
{
    size_t tot = fits(seg, optlen, cap);
    uint8_t *th;

    if (!buf || tot == 0)
        return 0;
    th = buf + TS_IP_HDR_MIN;
    if (seg->len)
        memmove(th + TS_TCP_HDR_MIN + optlen, seg->data, seg->len);
    if (!raw)
        write_opts(seg, th + TS_TCP_HDR_MIN);
    else if (optlen)
        memmove(th + TS_TCP_HDR_MIN, seg->opt, optlen);
    write_tcp(seg, th, (unsigned)(TS_TCP_HDR_MIN + optlen),
              (unsigned)(tot - TS_IP_HDR_MIN));
    write_ip(seg, buf, (unsigned)tot, !raw);
    return tot;
}

size_t ts_wire_build(const ts_seg *seg, uint8_t *buf, size_t cap)
{
    if (!seg)
        return 0;
    return build(seg, buf, cap, ts_wire_opt_len(seg), 0);
}

/* As packetdrill's set_ipv4_header() (ip_packet.c) injects datagrams: ID 0
 * and a zero fragment field, so no DF. packetdrill's TTL is 255; the
 * script runner asks for it through seg->ttl. */
size_t ts_wire_build_raw(const ts_seg *seg, uint8_t *buf, size_t cap)
{
    if (!seg || seg->optlen % 4 || seg->optlen > TS_TCP_OPT_MAX ||
        (seg->optlen && !seg->opt))
        return 0;
    return build(seg, buf, cap, seg->optlen, 1);
}

/* ------------------------------------------------------------ flag names */

/* tcpdump's print-tcp.c order: F S R P, then '.' for ACK, then U E W. */
char *ts_flags_str(uint8_t flags, char *buf)
{
    static const struct { uint8_t bit; char c; } order[] = {
        { TS_TH_FIN, 'F' }, { TS_TH_SYN, 'S' }, { TS_TH_RST, 'R' },
        { TS_TH_PSH, 'P' }, { TS_TH_ACK, '.' }, { TS_TH_URG, 'U' },
        { TS_TH_ECE, 'E' }, { TS_TH_CWR, 'W' }
    };
    char *p = buf;

    if (!buf)
        return buf;
    if (flags == 0) {
        memcpy(buf, "none", 5);
        return buf;
    }
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (flags & order[i].bit)
            *p++ = order[i].c;
    *p = '\0';
    return buf;
}
