/*
 * test_wire.c — the wire layer: parse, build, checksums, flag names.
 *
 * Known-good packets: CAP_SYN, CAP_SYNACK and CAP_DATA were sent by the
 * Linux 6.18 kernel of the build machine through a TUN device inside
 * `unshare -n` (addresses 192.0.2.1 <-> 192.0.2.2): a connect() to
 * 192.0.2.2:8080, and a listener on 192.0.2.1:80 answering an injected SYN
 * then sending "hello\n". TUN has no checksum offload, so both checksums
 * are the kernel's own. LINUX_SYN_WS7 is written by hand (checksums worked
 * out separately): a SYN with the option block Linux 6.x sends with
 * tcp_rmem[2] = 6 MB (mss 1460, sackOK, TS, nop, wscale 7).
 */
#include "../harness.h"
#include "core/wire.h"

#include <stdlib.h>

static const uint8_t CAP_SYN[] = {
    0x45, 0x00, 0x00, 0x3c, 0x18, 0x41, 0x40, 0x00, 0x40, 0x06, 0x9e, 0x77, 0xc0, 0x00, 0x02, 0x01,
    0xc0, 0x00, 0x02, 0x02, 0x9d, 0xf2, 0x1f, 0x90, 0x08, 0xbc, 0x4b, 0xe6, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xfa, 0xf0, 0x57, 0xee, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0xc1, 0x7a, 0x9d, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};
static const uint8_t CAP_SYNACK[] = {
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xb6, 0xb8, 0xc0, 0x00, 0x02, 0x01,
    0xc0, 0x00, 0x02, 0x02, 0x00, 0x50, 0x9c, 0x40, 0x6b, 0xd9, 0x31, 0xe2, 0x00, 0x00, 0x00, 0x65,
    0xa0, 0x12, 0xfe, 0x88, 0x46, 0x86, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x59, 0x22, 0xe7, 0x1e, 0x00, 0x00, 0x03, 0xe8, 0x01, 0x03, 0x03, 0x0a,
};
static const uint8_t CAP_DATA[] = {
    0x45, 0x00, 0x00, 0x3a, 0xa8, 0xb5, 0x40, 0x00, 0x40, 0x06, 0x0e, 0x05, 0xc0, 0x00, 0x02, 0x01,
    0xc0, 0x00, 0x02, 0x02, 0x00, 0x50, 0x9c, 0x40, 0x6b, 0xd9, 0x31, 0xe3, 0x00, 0x00, 0x00, 0x65,
    0x80, 0x18, 0x00, 0x40, 0x2f, 0xb3, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x59, 0x22, 0xe7, 0x1e,
    0x00, 0x00, 0x03, 0xe9, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a,
};
static const uint8_t LINUX_SYN_WS7[] = {
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xb6, 0xb8, 0xc0, 0x00, 0x02, 0x01,
    0xc0, 0x00, 0x02, 0x02, 0x9c, 0x40, 0x1f, 0x90, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xfa, 0xf0, 0xf8, 0xc0, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x00, 0x00, 0xab, 0xcd, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

#define IP_A 0xC0000201u /* 192.0.2.1 */
#define IP_B 0xC0000202u /* 192.0.2.2 */

/* ------------------------------------------------------------- helpers */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static void wr16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Parses a copy in a heap block of exactly len bytes, so that AddressSanitizer
 * reports any read past the end. */
static int parse_exact(const uint8_t *pkt, size_t len, ts_seg *seg, uint8_t **copy)
{
    uint8_t *b = malloc(len ? len : 1);
    int r;
    *copy = b;
    if (!b)
        return -1;
    if (len)
        memcpy(b, pkt, len);
    r = ts_wire_parse(b, len, seg);
    return r;
}

/* Recomputes the IPv4 header checksum and, when the lengths allow, the TCP
 * checksum, so that a test can change a field and reach the check after. */
static void fix_csums(uint8_t *p, size_t len)
{
    unsigned ihl, tot;
    uint8_t ph[12];
    uint32_t sum;

    if (len < 20)
        return;
    ihl = (p[0] & 15u) * 4u;
    if (ihl < 20 || ihl > len)
        return;
    wr16(p + 10, 0);
    wr16(p + 10, ts_csum_fold(ts_csum_add(0, p, ihl)));
    tot = rd16(p + 2);
    if (tot > len || tot < ihl + 20)
        return;
    memcpy(ph, p + 12, 8);
    ph[8] = 0;
    ph[9] = 6;
    wr16(ph + 10, tot - ihl);
    wr16(p + ihl + 16, 0);
    sum = ts_csum_add(ts_csum_add(0, ph, sizeof ph), p + ihl, tot - ihl);
    wr16(p + ihl + 16, ts_csum_fold(sum));
}

static ts_seg base_seg(void)
{
    ts_seg s;
    memset(&s, 0, sizeof s);
    s.src_ip = IP_A;
    s.dst_ip = IP_B;
    s.src_port = 40000;
    s.dst_port = 8080;
    s.seq = 0x12345678u;
    s.ack = 0x9abcdef0u;
    s.flags = TS_TH_ACK;
    s.win = 502;
    return s;
}

/* Builds base_seg() with raw options opt[0..n) (n a multiple of 4). */
static size_t build_with_opts(const uint8_t *opt, uint8_t n, uint8_t *buf, size_t cap)
{
    ts_seg s = base_seg();
    s.opt = opt;
    s.optlen = n;
    return ts_wire_build_raw(&s, buf, cap);
}

static int parse_opts_case(const uint8_t *opt, uint8_t n, ts_seg *out)
{
    uint8_t buf[128], *copy;
    size_t len = build_with_opts(opt, n, buf, sizeof buf);
    int r;
    if (len == 0)
        return -1;
    r = parse_exact(buf, len, out, &copy);
    free(copy);
    return r;
}

/* ----------------------------------------------------------- checksums */

/* RFC 1071 §3, numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
TS_TEST(wire_csum_rfc1071_example)
{
    static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    CHECK_EQ(ts_csum_add(0, b, sizeof b), 0xddf2);
    CHECK_EQ(ts_csum_fold(ts_csum_add(0, b, sizeof b)), 0x220d);
    /* chained in even pieces: same sum */
    CHECK_EQ(ts_csum_add(ts_csum_add(0, b, 2), b + 2, 6), 0xddf2);
    CHECK_EQ(ts_csum_add(ts_csum_add(ts_csum_add(0, b, 4), b + 4, 2), b + 6, 2), 0xddf2);
}

TS_TEST(wire_csum_odd_and_carry)
{
    static const uint8_t one[] = { 0xab };
    static const uint8_t three[] = { 0x12, 0x34, 0x56 };
    static const uint8_t carry[] = { 0xff, 0xff, 0x00, 0x01 };
    CHECK_EQ(ts_csum_add(0, one, 1), 0xab00);
    CHECK_EQ(ts_csum_add(0, three, 3), 0x1234 + 0x5600);
    CHECK_EQ(ts_csum_add(ts_csum_add(0, three, 2), three + 2, 1), 0x6834);
    CHECK_EQ(ts_csum_add(0, carry, 4), 0x0001); /* end-around carry */
    CHECK_EQ(ts_csum_add(0, NULL, 0), 0);
    CHECK_EQ(ts_csum_add(0x1234, one, 0), 0x1234);
    CHECK_EQ(ts_csum_fold(0), 0xffff);
    CHECK_EQ(ts_csum_fold(0xffff), 0);
    CHECK_EQ(ts_csum_fold(0x1fffe), 0); /* 0xfffe + 1 */
}

TS_TEST(wire_csum_large_buffer_chains)
{
    static uint8_t big[65535];
    uint32_t whole, parts = 0;
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(0xff - (i * 7));
    whole = ts_csum_add(0, big, sizeof big);
    for (size_t off = 0; off < sizeof big; off += 4096) {
        size_t n = sizeof big - off < 4096 ? sizeof big - off : 4096;
        parts = ts_csum_add(parts, big + off, n);
    }
    CHECK_EQ(ts_csum_fold(whole), ts_csum_fold(parts));
    memset(big, 0xff, sizeof big);
    /* 32767 words of ffff (== 0 in one's complement) plus ff00 */
    CHECK_EQ(ts_csum_fold(ts_csum_add(0, big, sizeof big)), 0x00ff);
}

/* The kernel's own checksums verify with ours, header and pseudo-header. */
TS_TEST(wire_csum_matches_linux)
{
    const uint8_t *pk[] = { CAP_SYN, CAP_SYNACK, CAP_DATA };
    size_t ln[] = { sizeof CAP_SYN, sizeof CAP_SYNACK, sizeof CAP_DATA };
    for (int i = 0; i < 3; i++) {
        uint8_t ph[12], copy[64];
        CHECK_EQ(ts_csum_fold(ts_csum_add(0, pk[i], 20)), 0);
        memcpy(ph, pk[i] + 12, 8);
        ph[8] = 0;
        ph[9] = 6;
        wr16(ph + 10, (unsigned)(ln[i] - 20));
        CHECK_EQ(ts_csum_fold(ts_csum_add(ts_csum_add(0, ph, 12), pk[i] + 20, ln[i] - 20)), 0);
        /* and recomputing from zeroed fields gives the kernel's values */
        memcpy(copy, pk[i], ln[i]);
        fix_csums(copy, ln[i]);
        CHECK(memcmp(copy, pk[i], ln[i]) == 0);
    }
}

/* ------------------------------------------------------ known packets */

TS_TEST(wire_parse_linux_syn)
{
    ts_seg s;
    uint8_t *c;
    int r = parse_exact(CAP_SYN, sizeof CAP_SYN, &s, &c);
    CHECK_EQ(r, TS_DROP_NONE);
    CHECK_EQ(s.src_ip, IP_A);
    CHECK_EQ(s.dst_ip, IP_B);
    CHECK_EQ(s.src_port, 0x9df2);
    CHECK_EQ(s.dst_port, 8080);
    CHECK_EQ(s.seq, 0x08bc4be6u);
    CHECK_EQ(s.ack, 0);
    CHECK_EQ(s.flags, TS_TH_SYN);
    CHECK_EQ(s.win, 64240);
    CHECK_EQ(s.ttl, 64);
    CHECK_EQ(s.tos, 0);
    CHECK_EQ(s.opt_present, TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_TS | TS_OPT_WSCALE);
    CHECK_EQ(s.mss, 1460);
    CHECK_EQ(s.wscale, 10);
    CHECK_EQ(s.tsval, 0xc17a9d7au);
    CHECK_EQ(s.tsecr, 0);
    CHECK_EQ(s.nsack, 0);
    CHECK_EQ(s.optlen, 20);
    CHECK(s.opt == c + 40);
    CHECK_EQ(s.len, 0);
    CHECK(s.data == c + sizeof CAP_SYN);
    free(c);
}

TS_TEST(wire_parse_linux_data)
{
    ts_seg s;
    uint8_t *c;
    int r = parse_exact(CAP_DATA, sizeof CAP_DATA, &s, &c);
    CHECK_EQ(r, TS_DROP_NONE);
    CHECK_EQ(s.flags, TS_TH_PSH | TS_TH_ACK);
    CHECK_EQ(s.opt_present, TS_OPT_TS);
    CHECK_EQ(s.tsval, 0x5922e71eu);
    CHECK_EQ(s.tsecr, 1001);
    CHECK_EQ(s.win, 64);
    CHECK_EQ(s.len, 6);
    CHECK(memcmp(s.data, "hello\n", 6) == 0);
    CHECK(s.data == c + 52);
    free(c);
}

/* ts_wire_build writes what Linux writes: the SYN-ACK (ID 0 like Linux's
 * request sockets) byte for byte; the SYN and the data segment except the
 * IP ID, which Linux randomises there, and so the IP checksum. */
TS_TEST(wire_build_reproduces_linux)
{
    const uint8_t *pk[] = { CAP_SYNACK, CAP_SYN, CAP_DATA, LINUX_SYN_WS7 };
    size_t ln[] = { sizeof CAP_SYNACK, sizeof CAP_SYN, sizeof CAP_DATA, sizeof LINUX_SYN_WS7 };
    for (int i = 0; i < 4; i++) {
        ts_seg s;
        uint8_t out[128];
        CHECK_EQ(ts_wire_parse(pk[i], ln[i], &s), TS_DROP_NONE);
        CHECK_EQ(ts_wire_opt_len(&s), s.optlen);
        size_t n = ts_wire_build(&s, out, sizeof out);
        CHECK_EQ(n, ln[i]);
        for (size_t k = 0; k < n; k++) {
            int ip_id_or_csum = (k == 4 || k == 5 || k == 10 || k == 11);
            if (pk[i] == CAP_SYN || pk[i] == CAP_DATA)
                if (ip_id_or_csum)
                    continue;
            if (out[k] != pk[i][k])
                th_fail(__FILE__, __LINE__, "packet %d byte %zu: %02x != %02x", i, k,
                        out[k], pk[i][k]);
        }
        if (th_failed())
            return;
    }
}

/* A SYN as Linux 6.x sends it, built from fields, against the hand-written
 * bytes (mss 1460, sackOK, TS, nop, wscale 7). */
TS_TEST(wire_build_linux_syn_exact)
{
    ts_seg s = base_seg();
    uint8_t out[128];
    s.ack = 0;
    s.flags = TS_TH_SYN;
    s.win = 64240;
    s.opt_present = TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_TS | TS_OPT_WSCALE;
    s.mss = 1460;
    s.tsval = 0xabcd;
    s.tsecr = 0;
    s.wscale = 7;
    CHECK_EQ(ts_wire_build(&s, out, sizeof out), sizeof LINUX_SYN_WS7);
    CHECK(memcmp(out, LINUX_SYN_WS7, sizeof LINUX_SYN_WS7) == 0);
}

/* ------------------------------------------------------ option layouts */

struct layout_case {
    const char *name;
    uint8_t flags;
    uint32_t present;
    uint8_t nsack;
    uint8_t want_nsack;
    uint8_t n;
    uint8_t bytes[40];
};

#define TSB 0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
#define MSSB 0x02, 0x04, 0x05, 0xb4
#define WSB 0x01, 0x03, 0x03, 0x07
#define SACK1 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00
#define SACK2 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x40, 0x00
#define SACK3 0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x10
#define SACK4 0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x01

/* tcp_options_write() orders, one row per combination Linux produces. */
static const struct layout_case LAYOUTS[] = {
    { "syn full", TS_TH_SYN, TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_TS | TS_OPT_WSCALE, 0, 0, 20,
      { MSSB, 0x04, 0x02, TSB, WSB } },
    { "synack full", TS_TH_SYN | TS_TH_ACK, TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_TS | TS_OPT_WSCALE,
      0, 0, 20, { MSSB, 0x04, 0x02, TSB, WSB } },
    { "syn no ts", TS_TH_SYN, TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_WSCALE, 0, 0, 12,
      { MSSB, 0x01, 0x01, 0x04, 0x02, WSB } },
    { "syn mss ws", TS_TH_SYN, TS_OPT_MSS | TS_OPT_WSCALE, 0, 0, 8, { MSSB, WSB } },
    { "syn mss ts", TS_TH_SYN, TS_OPT_MSS | TS_OPT_TS, 0, 0, 16, { MSSB, 0x01, 0x01, TSB } },
    { "syn mss sack ts", TS_TH_SYN, TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_TS, 0, 0, 16,
      { MSSB, 0x04, 0x02, TSB } },
    { "syn mss ts ws", TS_TH_SYN, TS_OPT_MSS | TS_OPT_TS | TS_OPT_WSCALE, 0, 0, 20,
      { MSSB, 0x01, 0x01, TSB, WSB } },
    { "syn mss sackok", TS_TH_SYN, TS_OPT_MSS | TS_OPT_SACKOK, 0, 0, 8,
      { MSSB, 0x01, 0x01, 0x04, 0x02 } },
    { "syn mss", TS_TH_SYN, TS_OPT_MSS, 0, 0, 4, { MSSB } },
    { "syn bare", TS_TH_SYN, 0, 0, 0, 0, { 0 } },
    { "ack ts", TS_TH_ACK, TS_OPT_TS, 0, 0, 12, { 0x01, 0x01, TSB } },
    { "ack ts sack1", TS_TH_ACK, TS_OPT_TS | TS_OPT_SACK, 1, 1, 24,
      { 0x01, 0x01, TSB, 0x01, 0x01, 0x05, 0x0a, SACK1 } },
    { "ack ts sack3", TS_TH_ACK, TS_OPT_TS | TS_OPT_SACK, 3, 3, 40,
      { 0x01, 0x01, TSB, 0x01, 0x01, 0x05, 0x1a, SACK1, SACK2, SACK3 } },
    /* four blocks do not fit beside TS: cut to three, as Linux does */
    { "ack ts sack4", TS_TH_ACK, TS_OPT_TS | TS_OPT_SACK, 4, 3, 40,
      { 0x01, 0x01, TSB, 0x01, 0x01, 0x05, 0x1a, SACK1, SACK2, SACK3 } },
    { "ack sack4", TS_TH_ACK, TS_OPT_SACK, 4, 4, 36,
      { 0x01, 0x01, 0x05, 0x22, SACK1, SACK2, SACK3, SACK4 } },
    { "ack sack bit, no blocks", TS_TH_ACK, TS_OPT_SACK, 0, 0, 0, { 0 } },
    { "fin ack bare", TS_TH_FIN | TS_TH_ACK, 0, 0, 0, 0, { 0 } },
    /* not layouts Linux sends, but the cut must still fit the 40 bytes */
    { "mss ts sack4", TS_TH_ACK, TS_OPT_MSS | TS_OPT_TS | TS_OPT_SACK, 4, 2, 36,
      { MSSB, 0x01, 0x01, TSB, 0x01, 0x01, 0x05, 0x12, SACK1, SACK2 } },
    { "mss ws sack4", TS_TH_ACK, TS_OPT_MSS | TS_OPT_WSCALE | TS_OPT_SACK, 4, 3, 36,
      { MSSB, WSB, 0x01, 0x01, 0x05, 0x1a, SACK1, SACK2, SACK3 } },
    { "all, sack4", TS_TH_SYN, TS_OPT_MSS | TS_OPT_SACKOK | TS_OPT_TS | TS_OPT_WSCALE | TS_OPT_SACK,
      4, 2, 40, { MSSB, 0x04, 0x02, TSB, WSB, 0x01, 0x01, 0x05, 0x12, SACK1, SACK2 } },
};

static void fill_opts(ts_seg *s, const struct layout_case *c)
{
    static const uint32_t blk[4][2] = {
        { 0x1000, 0x2000 }, { 0x3000, 0x4000 }, { 0xfffffff0u, 0x10 }, { 0x7fffffffu, 0x80000001u }
    };
    s->flags = c->flags;
    s->opt_present = c->present;
    s->mss = 1460;
    s->wscale = 7;
    s->tsval = 0x01020304u;
    s->tsecr = 0x05060708u;
    s->nsack = c->nsack;
    for (int i = 0; i < 4; i++) {
        s->sack[i].left = blk[i][0];
        s->sack[i].right = blk[i][1];
    }
}

TS_TEST(wire_option_layouts_exact)
{
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++) {
        const struct layout_case *c = &LAYOUTS[i];
        ts_seg s = base_seg();
        uint8_t out[128];
        fill_opts(&s, c);
        size_t n = ts_wire_build(&s, out, sizeof out);
        if (ts_wire_opt_len(&s) != c->n || n != 40u + c->n ||
            (out[32] >> 4) * 4 != 20 + c->n || memcmp(out + 40, c->bytes, c->n) != 0) {
            th_fail(__FILE__, __LINE__, "layout \"%s\": length %zu/%zu, want %u", c->name,
                    ts_wire_opt_len(&s), n, c->n);
            return;
        }
    }
}

TS_TEST(wire_option_layouts_round_trip)
{
    static const uint8_t payload[] = "round trip payload";
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++) {
        const struct layout_case *c = &LAYOUTS[i];
        ts_seg s = base_seg(), p;
        uint8_t out[128], *copy;
        fill_opts(&s, c);
        s.data = payload;
        s.len = sizeof payload;
        s.urg = 7;
        s.tos = 0x10;
        s.ttl = 33;
        size_t n = ts_wire_build(&s, out, sizeof out);
        CHECK(n > 0);
        int r = parse_exact(out, n, &p, &copy);
        free(copy);
        CHECK_EQ(r, TS_DROP_NONE);
        CHECK_EQ(p.src_ip, s.src_ip);
        CHECK_EQ(p.dst_ip, s.dst_ip);
        CHECK_EQ(p.src_port, s.src_port);
        CHECK_EQ(p.dst_port, s.dst_port);
        CHECK_EQ(p.seq, s.seq);
        CHECK_EQ(p.ack, s.ack);
        CHECK_EQ(p.flags, s.flags);
        CHECK_EQ(p.win, s.win);
        CHECK_EQ(p.urg, 7);
        CHECK_EQ(p.tos, 0x10);
        CHECK_EQ(p.ttl, 33);
        CHECK_EQ(p.len, sizeof payload);
        uint32_t want = c->present;
        if (c->want_nsack == 0)
            want &= ~(uint32_t)TS_OPT_SACK;
        CHECK_EQ(p.opt_present, want);
        CHECK_EQ(p.nsack, c->want_nsack);
        if (want & TS_OPT_MSS)
            CHECK_EQ(p.mss, 1460);
        if (want & TS_OPT_WSCALE)
            CHECK_EQ(p.wscale, 7);
        if (want & TS_OPT_TS) {
            CHECK_EQ(p.tsval, s.tsval);
            CHECK_EQ(p.tsecr, s.tsecr);
        }
        for (int k = 0; k < p.nsack; k++) {
            CHECK_EQ(p.sack[k].left, s.sack[k].left);
            CHECK_EQ(p.sack[k].right, s.sack[k].right);
        }
    }
}

/* ---------------------------------------------------- option walking */

TS_TEST(wire_opts_eol_nop_unknown)
{
    ts_seg s;
    /* EOL ends the list: the bytes after it are padding, even nonsense */
    static const uint8_t eol[] = { 0x00, 0x05, 0xff, 0x02 };
    CHECK_EQ(parse_opts_case(eol, 4, &s), TS_DROP_NONE);
    CHECK_EQ(s.opt_present, 0);
    CHECK_EQ(s.optlen, 4);
    /* MSS then EOL then padding */
    static const uint8_t mss_eol[] = { 0x02, 0x04, 0x02, 0x18, 0x00, 0x00, 0x00, 0x00 };
    CHECK_EQ(parse_opts_case(mss_eol, 8, &s), TS_DROP_NONE);
    CHECK_EQ(s.opt_present, TS_OPT_MSS);
    CHECK_EQ(s.mss, 536);
    /* NOPs only */
    static const uint8_t nops[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    CHECK_EQ(parse_opts_case(nops, 8, &s), TS_DROP_NONE);
    CHECK_EQ(s.opt_present, 0);
    /* unknown kinds are skipped by their length (30 = MPTCP, 254 = exp.) */
    static const uint8_t unk[] = { 30, 6, 0xaa, 0xbb, 0xcc, 0xdd, 254, 2, 0x03, 0x03, 0x05, 0x01 };
    CHECK_EQ(parse_opts_case(unk, 12, &s), TS_DROP_NONE);
    CHECK_EQ(s.opt_present, TS_OPT_WSCALE);
    CHECK_EQ(s.wscale, 5);
    /* an unknown option whose body looks like options is still skipped */
    static const uint8_t body[] = { 99, 8, 0x02, 0x04, 0xff, 0xff, 0x01, 0x01 };
    CHECK_EQ(parse_opts_case(body, 8, &s), TS_DROP_NONE);
    CHECK_EQ(s.opt_present, 0);
    /* an option that exactly fills the 40 bytes */
    uint8_t full[40];
    full[0] = 77;
    full[1] = 40;
    memset(full + 2, 0xee, 38);
    CHECK_EQ(parse_opts_case(full, 40, &s), TS_DROP_NONE);
    CHECK_EQ(s.optlen, 40);
    /* a repeated option: the last one counts, as in Linux */
    static const uint8_t twice[] = { 0x02, 0x04, 0x05, 0xb4, 0x02, 0x04, 0x02, 0x18 };
    CHECK_EQ(parse_opts_case(twice, 8, &s), TS_DROP_NONE);
    CHECK_EQ(s.mss, 536);
    /* wscale above 14 is kept as sent */
    static const uint8_t ws15[] = { 0x01, 0x03, 0x03, 15 };
    CHECK_EQ(parse_opts_case(ws15, 4, &s), TS_DROP_NONE);
    CHECK_EQ(s.wscale, 15);
    /* SACK blocks and sackOK on an ACK are recorded; the state machine judges */
    static const uint8_t sack[] = { 0x01, 0x01, 0x05, 0x12, SACK1, SACK2, 0x01, 0x01, 0x04, 0x02 };
    CHECK_EQ(parse_opts_case(sack, 24, &s), TS_DROP_NONE);
    CHECK_EQ(s.opt_present, TS_OPT_SACK | TS_OPT_SACKOK);
    CHECK_EQ(s.nsack, 2);
    CHECK_EQ(s.sack[0].left, 0x1000);
    CHECK_EQ(s.sack[1].right, 0x4000);
}

TS_TEST(wire_opts_malformed)
{
    static const struct { const char *name; uint8_t n; uint8_t b[12]; } bad[] = {
        { "kind without length byte", 4, { 1, 1, 1, 2 } },
        { "unknown kind without length byte", 4, { 1, 1, 1, 77 } },
        { "length 0", 4, { 30, 0, 0, 0 } },
        { "length 1", 4, { 1, 1, 30, 1 } },
        { "length past the header", 4, { 30, 8, 0, 0 } },
        { "length one past the header", 8, { 1, 1, 1, 1, 30, 5, 0, 0 } },
        { "mss length 3", 4, { 2, 3, 5, 0 } },
        { "mss length 5", 8, { 2, 5, 5, 0xb4, 0, 0, 0, 0 } },
        { "wscale length 4", 4, { 3, 4, 7, 0 } },
        { "wscale length 2", 4, { 3, 2, 1, 1 } },
        { "sackOK length 3", 4, { 4, 3, 0, 0 } },
        { "sack without blocks", 4, { 5, 2, 1, 1 } },
        { "sack length 9", 12, { 5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
        { "sack length 11", 12, { 5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
        { "timestamps length 8", 8, { 8, 8, 0, 0, 0, 1, 0, 0 } },
        { "timestamps length 12", 12, { 8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0 } },
        { "timestamps cut by the header", 8, { 1, 1, 8, 10, 0, 0, 0, 1 } },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_seg s;
        int r = parse_opts_case(bad[i].b, bad[i].n, &s);
        if (r != TS_DROP_TCP_OPT) {
            th_fail(__FILE__, __LINE__, "\"%s\": got %d, want TS_DROP_TCP_OPT", bad[i].name, r);
            return;
        }
    }
}

/* -------------------------------------------------- malformed datagrams */

/* A valid ACK with timestamps and 6 bytes of payload. */
static size_t good_pkt(uint8_t *buf, size_t cap)
{
    ts_seg s = base_seg();
    s.opt_present = TS_OPT_TS;
    s.tsval = 1;
    s.tsecr = 2;
    s.data = (const uint8_t *)"abcdef";
    s.len = 6;
    return ts_wire_build(&s, buf, cap);
}

typedef void (*mutate_fn)(uint8_t *p, size_t *len);

static void m_version6(uint8_t *p, size_t *l) { p[0] = 0x65; fix_csums(p, *l); }
static void m_ihl4(uint8_t *p, size_t *l) { p[0] = 0x44; (void)l; }
static void m_ihl0(uint8_t *p, size_t *l) { p[0] = 0x40; (void)l; }
static void m_ihl_past_total(uint8_t *p, size_t *l) { p[0] = 0x46; wr16(p + 2, 22); fix_csums(p, *l); }
static void m_ihl_past_buffer(uint8_t *p, size_t *l) { p[0] = 0x4f; (void)l; } /* 60 > 58 */
static void m_tot_over_len(uint8_t *p, size_t *l) { wr16(p + 2, (unsigned)*l + 1); fix_csums(p, *l); }
static void m_tot_max(uint8_t *p, size_t *l) { wr16(p + 2, 0xffff); fix_csums(p, *l); }
static void m_tot_csum(uint8_t *p, size_t *l) { wr16(p + 2, 0xffff); (void)l; }
static void m_tot_under_ihl(uint8_t *p, size_t *l) { wr16(p + 2, 19); fix_csums(p, *l); }
static void m_tot_no_tcp(uint8_t *p, size_t *l) { wr16(p + 2, 39); fix_csums(p, *l); }
static void m_tot_zero(uint8_t *p, size_t *l) { wr16(p + 2, 0); fix_csums(p, *l); }
static void m_ip_csum(uint8_t *p, size_t *l) { p[10] ^= 0x01; (void)l; }
static void m_ip_csum_ttl(uint8_t *p, size_t *l) { p[8] = 63; (void)l; }
static void m_mf(uint8_t *p, size_t *l) { p[6] = 0x20; fix_csums(p, *l); }
static void m_offset(uint8_t *p, size_t *l) { p[6] = 0x40; p[7] = 0x01; fix_csums(p, *l); }
static void m_offset_high(uint8_t *p, size_t *l) { p[6] = 0x1f; p[7] = 0x00; fix_csums(p, *l); }
static void m_udp(uint8_t *p, size_t *l) { p[9] = 17; fix_csums(p, *l); }
static void m_icmp_short(uint8_t *p, size_t *l)
{
    p[9] = 1;
    wr16(p + 2, 28);
    *l = 28;
    fix_csums(p, *l);
}
static void m_doff4(uint8_t *p, size_t *l) { p[32] = 0x40; fix_csums(p, *l); }
static void m_doff0(uint8_t *p, size_t *l) { p[32] = 0x00; fix_csums(p, *l); }
static void m_doff_past(uint8_t *p, size_t *l) { p[32] = 0xf0; fix_csums(p, *l); }
static void m_doff_one_past(uint8_t *p, size_t *l)
{
    /* 20 + 12 + 6 = 38 bytes of TCP: doff 10 (40) is two bytes past */
    p[32] = 0xa0;
    fix_csums(p, *l);
}
static void m_tcp_csum(uint8_t *p, size_t *l) { p[*l - 1] ^= 0x80; }
static void m_tcp_csum_ip(uint8_t *p, size_t *l)
{
    /* a changed address breaks the pseudo-header sum only */
    p[15] = 9;
    uint8_t save16 = p[36], save17 = p[37];
    fix_csums(p, *l);
    p[36] = save16;
    p[37] = save17;
}
static void m_tcp_opt(uint8_t *p, size_t *l) { p[40] = 30; p[41] = 13; fix_csums(p, *l); }

TS_TEST(wire_malformed_reasons)
{
    static const struct { const char *name; mutate_fn f; int want; } cases[] = {
        { "IPv6 version", m_version6, TS_DROP_IP_VERSION },
        { "IHL 4", m_ihl4, TS_DROP_IP_HDR },
        { "IHL 0", m_ihl0, TS_DROP_IP_HDR },
        { "IHL past total length", m_ihl_past_total, TS_DROP_IP_HDR },
        { "IHL past the buffer", m_ihl_past_buffer, TS_DROP_TRUNCATED },
        { "total length > len", m_tot_over_len, TS_DROP_TRUNCATED },
        { "total length 65535", m_tot_max, TS_DROP_TRUNCATED },
        { "checksum before total length", m_tot_csum, TS_DROP_IP_CSUM },
        { "total length < IHL", m_tot_under_ihl, TS_DROP_IP_HDR },
        { "total length < IHL + 20", m_tot_no_tcp, TS_DROP_IP_HDR },
        { "total length 0", m_tot_zero, TS_DROP_IP_HDR },
        { "IP checksum", m_ip_csum, TS_DROP_IP_CSUM },
        { "IP checksum after TTL change", m_ip_csum_ttl, TS_DROP_IP_CSUM },
        { "MF", m_mf, TS_DROP_IP_FRAGMENT },
        { "fragment offset 1", m_offset, TS_DROP_IP_FRAGMENT },
        { "fragment offset high bits", m_offset_high, TS_DROP_IP_FRAGMENT },
        { "UDP", m_udp, TS_DROP_IP_PROTO },
        { "short ICMP", m_icmp_short, TS_DROP_IP_PROTO },
        { "data offset 4", m_doff4, TS_DROP_TCP_HDR },
        { "data offset 0", m_doff0, TS_DROP_TCP_HDR },
        { "data offset 15", m_doff_past, TS_DROP_TCP_HDR },
        { "data offset 10 of 38", m_doff_one_past, TS_DROP_TCP_HDR },
        { "TCP checksum", m_tcp_csum, TS_DROP_TCP_CSUM },
        { "TCP pseudo-header", m_tcp_csum_ip, TS_DROP_TCP_CSUM },
        { "TCP option past header", m_tcp_opt, TS_DROP_TCP_OPT },
    };
    uint8_t good[128];
    size_t glen = good_pkt(good, sizeof good);
    CHECK_EQ(glen, 58);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t p[128], *copy;
        size_t len = glen;
        ts_seg s;
        memcpy(p, good, glen);
        cases[i].f(p, &len);
        int r = parse_exact(p, len, &s, &copy);
        free(copy);
        if (r != cases[i].want) {
            th_fail(__FILE__, __LINE__, "\"%s\": got reason %d, want %d", cases[i].name, r,
                    cases[i].want);
            return;
        }
    }
}

TS_TEST(wire_short_and_null)
{
    ts_seg s;
    uint8_t *c;
    CHECK_EQ(ts_wire_parse(NULL, 0, &s), TS_DROP_TRUNCATED);
    CHECK_EQ(ts_wire_parse(NULL, 60, &s), TS_DROP_TRUNCATED);
    CHECK_EQ(ts_wire_parse(CAP_SYN, sizeof CAP_SYN, NULL), TS_DROP_TRUNCATED);
    CHECK_EQ(parse_exact(CAP_SYN, 19, &s, &c), TS_DROP_TRUNCATED);
    free(c);
    /* a dropped segment leaves what was parsed: addresses, here */
    uint8_t p[64];
    memcpy(p, CAP_SYN, sizeof CAP_SYN);
    p[sizeof CAP_SYN - 1] ^= 1;
    CHECK_EQ(ts_wire_parse(p, sizeof CAP_SYN, &s), TS_DROP_TCP_CSUM);
    CHECK_EQ(s.src_ip, IP_A);
    CHECK_EQ(s.dst_port, 8080);
    CHECK(s.data == NULL);
}

/* Every prefix of a valid datagram is shorter than its total length. */
TS_TEST(wire_truncation_every_length)
{
    uint8_t ipopt[128], sackp[128];
    size_t nip, nsk;
    {
        /* IHL 6 (a NOP-padded IPv4 option area) around good_pkt() */
        uint8_t g[128];
        size_t n = good_pkt(g, sizeof g);
        memcpy(ipopt, g, 20);
        memset(ipopt + 20, 1, 4);
        memcpy(ipopt + 24, g + 20, n - 20);
        ipopt[0] = 0x46;
        wr16(ipopt + 2, (unsigned)n + 4);
        nip = n + 4;
        fix_csums(ipopt, nip);
        ts_seg s;
        CHECK_EQ(ts_wire_parse(ipopt, nip, &s), TS_DROP_NONE);
        CHECK_EQ(s.len, 6);
        CHECK(memcmp(s.data, "abcdef", 6) == 0);
    }
    {
        ts_seg s = base_seg();
        fill_opts(&s, &LAYOUTS[12]);
        s.data = (const uint8_t *)"xyz";
        s.len = 3;
        nsk = ts_wire_build(&s, sackp, sizeof sackp);
        CHECK(nsk > 0);
    }
    const uint8_t *pk[] = { CAP_SYN, CAP_SYNACK, CAP_DATA, ipopt, sackp };
    size_t ln[] = { sizeof CAP_SYN, sizeof CAP_SYNACK, sizeof CAP_DATA, nip, nsk };
    for (int i = 0; i < 5; i++) {
        ts_seg s;
        uint8_t *c;
        CHECK_EQ(parse_exact(pk[i], ln[i], &s, &c), TS_DROP_NONE);
        free(c);
        for (size_t l = 0; l < ln[i]; l++) {
            int r = parse_exact(pk[i], l, &s, &c);
            free(c);
            if (r != TS_DROP_TRUNCATED) {
                th_fail(__FILE__, __LINE__, "packet %d cut at %zu: %d", i, l, r);
                return;
            }
        }
    }
}

/* Ethernet pads a 40-byte ACK to 46 bytes of payload: the padding is not data. */
TS_TEST(wire_link_padding_ignored)
{
    uint8_t p[128], *c;
    ts_seg s;
    size_t n = good_pkt(p, sizeof p);
    memset(p + n, 0x5a, 12);
    CHECK_EQ(parse_exact(p, n + 12, &s, &c), TS_DROP_NONE);
    CHECK_EQ(s.len, 6);
    CHECK(s.data + s.len == c + n);
    free(c);
}

/* Flags are the state machine's business: every combination parses. */
TS_TEST(wire_parse_accepts_any_flags)
{
    for (unsigned f = 0; f < 256; f++) {
        ts_seg s = base_seg(), p;
        uint8_t out[64];
        s.flags = (uint8_t)f;
        size_t n = ts_wire_build(&s, out, sizeof out);
        CHECK_EQ(n, 40);
        CHECK_EQ(ts_wire_parse(out, n, &p), TS_DROP_NONE);
        CHECK_EQ(p.flags, f);
    }
}

/* A DF-only fragment field is not a fragment. */
TS_TEST(wire_df_is_not_fragment)
{
    uint8_t p[128];
    ts_seg s;
    size_t n = good_pkt(p, sizeof p);
    CHECK_EQ(p[6], 0x40);
    CHECK_EQ(ts_wire_parse(p, n, &s), TS_DROP_NONE);
    p[6] = 0;
    fix_csums(p, n);
    CHECK_EQ(ts_wire_parse(p, n, &s), TS_DROP_NONE);
}

/* ---------------------------------------------------------------- build */

TS_TEST(wire_build_ip_header)
{
    ts_seg s = base_seg();
    uint8_t out[64];
    s.tos = 0xb8;
    CHECK_EQ(ts_wire_build(&s, out, sizeof out), 40);
    CHECK_EQ(out[0], 0x45);
    CHECK_EQ(out[1], 0xb8);
    CHECK_EQ(rd16(out + 2), 40);
    CHECK_EQ(rd16(out + 4), 0);      /* ID 0 */
    CHECK_EQ(rd16(out + 6), 0x4000); /* DF */
    CHECK_EQ(out[8], 64);            /* TTL 0 means 64 */
    CHECK_EQ(out[9], 6);
    CHECK_EQ(out[32], 0x50);
    CHECK_EQ(rd16(out + 38), 0);
    s.ttl = 1;
    CHECK_EQ(ts_wire_build(&s, out, sizeof out), 40);
    CHECK_EQ(out[8], 1);
}

TS_TEST(wire_build_cap_too_small)
{
    ts_seg s = base_seg();
    uint8_t out[128];
    s.opt_present = TS_OPT_TS;
    s.data = (const uint8_t *)"0123456789";
    s.len = 10;
    size_t need = 40 + 12 + 10;
    for (size_t cap = 0; cap < need; cap++) {
        memset(out, 0xcc, sizeof out);
        CHECK_EQ(ts_wire_build(&s, out, cap), 0);
        for (size_t k = 0; k < sizeof out; k++)
            CHECK_EQ(out[k], 0xcc); /* nothing written */
    }
    CHECK_EQ(ts_wire_build(&s, out, need), need);
    CHECK_EQ(ts_wire_build(NULL, out, sizeof out), 0);
    CHECK_EQ(ts_wire_build(&s, NULL, sizeof out), 0);
    s.data = NULL;
    CHECK_EQ(ts_wire_build(&s, out, sizeof out), 0);
    s.len = 0;
    CHECK_EQ(ts_wire_build(&s, out, sizeof out), 52);
}

TS_TEST(wire_build_total_length_limit)
{
    static uint8_t payload[65535], out[65536 + 64];
    ts_seg s = base_seg(), p;
    s.data = payload;
    s.len = 65535 - 40;
    CHECK_EQ(ts_wire_build(&s, out, sizeof out), 65535);
    CHECK_EQ(ts_wire_parse(out, 65535, &p), TS_DROP_NONE);
    CHECK_EQ(p.len, 65535 - 40);
    s.len = 65535 - 39;
    CHECK_EQ(ts_wire_build(&s, out, sizeof out), 0);
}

TS_TEST(wire_build_in_place)
{
    uint8_t buf[256], *c;
    ts_seg s = base_seg(), p;
    for (int i = 0; i < 100; i++)
        buf[60 + i] = (uint8_t)i;
    s.opt_present = TS_OPT_TS;
    s.data = buf + 60;
    s.len = 100;
    size_t n = ts_wire_build(&s, buf, sizeof buf);
    CHECK_EQ(n, 152);
    CHECK_EQ(parse_exact(buf, n, &p, &c), TS_DROP_NONE);
    free(c);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(buf[52 + i], i);
}

TS_TEST(wire_build_raw)
{
    static const uint8_t opts[8] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x00, 0x00 };
    ts_seg s = base_seg(), p;
    uint8_t out[128];
    s.opt = opts;
    s.optlen = 8;
    s.flags = TS_TH_SYN;
    s.opt_present = TS_OPT_TS; /* ignored by the raw builder */
    size_t n = ts_wire_build_raw(&s, out, sizeof out);
    CHECK_EQ(n, 48);
    CHECK_EQ(rd16(out + 4), 0);
    CHECK_EQ(rd16(out + 6), 0); /* no DF */
    CHECK_EQ(out[8], 64);
    CHECK_EQ(out[32], 0x70);
    CHECK(memcmp(out + 40, opts, 8) == 0);
    CHECK_EQ(ts_wire_parse(out, n, &p), TS_DROP_NONE);
    CHECK_EQ(p.opt_present, TS_OPT_MSS);
    s.ttl = 255;
    CHECK_EQ(ts_wire_build_raw(&s, out, sizeof out), 48);
    CHECK_EQ(out[8], 255);
    CHECK_EQ(ts_wire_parse(out, n, &p), TS_DROP_NONE);
    CHECK_EQ(p.ttl, 255);
    /* verbatim even when nonsense: the runner injects malformed options */
    static const uint8_t junk[4] = { 30, 1, 0, 0 };
    s.opt = junk;
    s.optlen = 4;
    n = ts_wire_build_raw(&s, out, sizeof out);
    CHECK_EQ(n, 44);
    CHECK_EQ(ts_wire_parse(out, n, &p), TS_DROP_TCP_OPT);
    /* optlen a multiple of 4, at most 40, with bytes behind it */
    s.optlen = 3;
    CHECK_EQ(ts_wire_build_raw(&s, out, sizeof out), 0);
    s.optlen = 44;
    CHECK_EQ(ts_wire_build_raw(&s, out, sizeof out), 0);
    s.opt = NULL;
    s.optlen = 4;
    CHECK_EQ(ts_wire_build_raw(&s, out, sizeof out), 0);
    s.optlen = 0;
    CHECK_EQ(ts_wire_build_raw(&s, out, sizeof out), 40);
    CHECK_EQ(ts_wire_build_raw(&s, out, 39), 0);
    CHECK_EQ(ts_wire_build_raw(NULL, out, sizeof out), 0);
}

/* ---------------------------------------------------------- flag names */

TS_TEST(wire_flags_str)
{
    char b[12];
    CHECK_STR(ts_flags_str(TS_TH_SYN, b), "S");
    CHECK_STR(ts_flags_str(TS_TH_SYN | TS_TH_ACK, b), "S.");
    CHECK_STR(ts_flags_str(TS_TH_PSH | TS_TH_ACK, b), "P.");
    CHECK_STR(ts_flags_str(TS_TH_FIN | TS_TH_ACK, b), "F.");
    CHECK_STR(ts_flags_str(TS_TH_FIN | TS_TH_PSH | TS_TH_ACK, b), "FP.");
    CHECK_STR(ts_flags_str(TS_TH_RST, b), "R");
    CHECK_STR(ts_flags_str(TS_TH_RST | TS_TH_ACK, b), "R.");
    CHECK_STR(ts_flags_str(TS_TH_ACK, b), ".");
    CHECK_STR(ts_flags_str(TS_TH_URG | TS_TH_ACK, b), ".U");
    CHECK_STR(ts_flags_str(TS_TH_SYN | TS_TH_ECE | TS_TH_CWR, b), "SEW");
    CHECK_STR(ts_flags_str(0xff, b), "FSRP.UEW");
    CHECK_STR(ts_flags_str(0, b), "none");
    CHECK(ts_flags_str(TS_TH_SYN, b) == b);
}

/* ------------------------------------------------ randomised mutation */

/* xorshift64*: fixed seed, so a failure names its iteration for good. */
static uint64_t rng_state;
static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static void mutate(uint8_t *p, size_t *len, size_t cap)
{
    static const uint8_t interesting[] = { 0, 1, 2, 3, 4, 5, 8, 10, 0x0f, 0x40, 0x45, 0x4f, 0x50,
                                           0x80, 0xa0, 0xf0, 0xff };
    unsigned k = 1 + rng() % 4;
    while (k--) {
        size_t l = *len ? *len : 1;
        switch (rng() % 6) {
        case 0: p[rng() % l] ^= (uint8_t)(1u << (rng() % 8)); break;
        case 1: p[rng() % l] = (uint8_t)rng(); break;
        case 2: p[rng() % (l < 64 ? l : 64)] = interesting[rng() % sizeof interesting]; break;
        case 3: *len = rng() % cap; break;
        case 4: wr16(p + 2, rng() % (unsigned)(*len + 8)); break;
        default: /* a random option byte in the TCP option area */
            if (*len > 41)
                p[40 + rng() % (*len - 40 < 40 ? *len - 40 : 40)] = interesting[rng() % sizeof interesting];
            break;
        }
    }
    if (rng() & 1)
        fix_csums(p, *len);
}

/* An accepted segment is consistent, and builds back to one that parses to
 * the same fields (SACK blocks may be cut to fit Linux's layout). */
static int check_accepted(const uint8_t *pkt, size_t len, const ts_seg *s)
{
    uint8_t out[512];
    ts_seg q;
    if (s->data < pkt || s->data > pkt + len || s->len > (size_t)(pkt + len - s->data))
        return 0;
    if (s->opt < pkt + 40 || s->opt + s->optlen > s->data || s->optlen > 40 || s->nsack > 4)
        return 0;
    size_t n = ts_wire_build(s, out, sizeof out);
    if (n == 0 || ts_wire_parse(out, n, &q) != TS_DROP_NONE)
        return 0;
    if (q.src_ip != s->src_ip || q.dst_ip != s->dst_ip || q.src_port != s->src_port ||
        q.dst_port != s->dst_port || q.win != s->win || q.urg != s->urg || q.tos != s->tos)
        return 0;
    if (q.seq != s->seq || q.ack != s->ack || q.flags != s->flags || q.len != s->len ||
        q.opt_present != s->opt_present || q.mss != s->mss || q.wscale != s->wscale ||
        q.tsval != s->tsval || q.tsecr != s->tsecr || q.nsack > s->nsack ||
        (s->nsack && !q.nsack) || memcmp(q.data, s->data, s->len) != 0)
        return 0;
    for (int i = 0; i < q.nsack; i++)
        if (q.sack[i].left != s->sack[i].left || q.sack[i].right != s->sack[i].right)
            return 0;
    return 1;
}

TS_TEST(wire_mutation_100k)
{
    uint8_t seeds[6][160];
    size_t seedlen[6];
    int seen[TS_DROP_MAX] = { 0 };
    long accepted = 0;

    memset(seeds, 0, sizeof seeds);

    memcpy(seeds[0], CAP_SYN, sizeof CAP_SYN);
    seedlen[0] = sizeof CAP_SYN;
    memcpy(seeds[1], CAP_DATA, sizeof CAP_DATA);
    seedlen[1] = sizeof CAP_DATA;
    seedlen[2] = good_pkt(seeds[2], 160);
    for (int i = 3; i < 6; i++) {
        ts_seg s = base_seg();
        fill_opts(&s, &LAYOUTS[i == 3 ? 12 : i == 4 ? 14 : 2]);
        s.data = (const uint8_t *)"payload bytes";
        s.len = 13;
        seedlen[i] = ts_wire_build(&s, seeds[i], 160);
    }
    rng_state = 0x7c5a3e1d2b4f6081ull;
    for (long it = 0; it < 100000; it++) {
        uint8_t work[160], *c;
        int w = (int)(rng() % 6);
        size_t len = seedlen[w];
        ts_seg s;
        memcpy(work, seeds[w], sizeof work);
        mutate(work, &len, sizeof work);
        int r = parse_exact(work, len, &s, &c);
        if (r < 0 || r >= TS_DROP_MAX) {
            free(c);
            th_fail(__FILE__, __LINE__, "iteration %ld: reason %d", it, r);
            return;
        }
        seen[r]++;
        if (r == TS_DROP_NONE) {
            accepted++;
            if (!check_accepted(c, len, &s)) {
                free(c);
                th_fail(__FILE__, __LINE__, "iteration %ld: accepted segment inconsistent", it);
                return;
            }
        }
        free(c);
    }
    /* the mutations reach every check, and acceptance too */
    CHECK(accepted > 1000);
    for (int r = TS_DROP_TRUNCATED; r <= TS_DROP_TCP_OPT; r++)
        if (r != TS_DROP_IP_ADDR && seen[r] == 0) {
            th_fail(__FILE__, __LINE__, "no mutation gave reason %d", r);
            return;
        }
    CHECK_EQ(seen[TS_DROP_IP_ADDR], 0);
}
