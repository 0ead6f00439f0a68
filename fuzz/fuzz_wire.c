/*
 * fuzz_wire.c — libFuzzer target for the wire layer.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_wire.c src/core/wire.c -o build/fuzz_wire
 *   build/fuzz_wire -max_total_time=60
 *
 * Any input: ts_wire_parse() returns a reason in range and reads nothing
 * outside the input (libFuzzer hands over an exactly sized heap block, so
 * AddressSanitizer sees an over-read). An accepted input: its payload and
 * options lie inside the input, and ts_wire_build() of the fields gives a
 * datagram that parses back to the same fields (SACK blocks may be cut to
 * what fits beside the other options in Linux's layout).
 *
 * Random bytes almost never carry two valid checksums, so each input is
 * also tried with its checksums repaired (when its lengths allow), which
 * lets the fuzzer reach the option walk and the build round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[65536 + 64];

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_inside(const uint8_t *pkt, size_t len, const ts_seg *s)
{
    REQUIRE(s->data >= pkt && s->data <= pkt + len);
    REQUIRE(s->len <= (size_t)(pkt + len - s->data));
    REQUIRE(s->opt >= pkt && s->opt + s->optlen <= s->data);
    REQUIRE(s->optlen <= TS_TCP_OPT_MAX && s->nsack <= TS_MAX_SACK);
}

static void check_same(const ts_seg *a, const ts_seg *b)
{
    REQUIRE(a->src_ip == b->src_ip && a->dst_ip == b->dst_ip);
    REQUIRE(a->src_port == b->src_port && a->dst_port == b->dst_port);
    REQUIRE(a->tos == b->tos && a->seq == b->seq && a->ack == b->ack);
    REQUIRE(a->flags == b->flags && a->win == b->win && a->urg == b->urg);
    REQUIRE(a->opt_present == b->opt_present);
    REQUIRE(a->mss == b->mss && a->wscale == b->wscale);
    REQUIRE(a->tsval == b->tsval && a->tsecr == b->tsecr);
    REQUIRE(b->nsack <= a->nsack && (a->nsack == 0) == (b->nsack == 0));
    for (unsigned i = 0; i < b->nsack; i++)
        REQUIRE(a->sack[i].left == b->sack[i].left && a->sack[i].right == b->sack[i].right);
    REQUIRE(a->len == b->len);
    REQUIRE(a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void one(const uint8_t *data, size_t size)
{
    ts_seg s, again;
    int r = ts_wire_parse(data, size, &s);

    REQUIRE(r >= 0 && r < TS_DROP_MAX);
    if (r != TS_DROP_NONE)
        return;
    check_inside(data, size, &s);
    size_t n = ts_wire_build(&s, out, sizeof out);
    if (n == 0) {
        /* only when the rebuilt datagram would pass 65535 bytes */
        REQUIRE(40 + ts_wire_opt_len(&s) + s.len > 0xffff);
        return;
    }
    REQUIRE(ts_wire_parse(out, n, &again) == TS_DROP_NONE);
    check_inside(out, n, &again);
    check_same(&s, &again);
    REQUIRE(again.ttl == (s.ttl ? s.ttl : 64));
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Rewrites the IPv4 and TCP checksums of p[0..len) where the header
 * lengths make their positions meaningful. */
static void repair(uint8_t *p, size_t len)
{
    unsigned ihl, tot;
    uint8_t ph[12];

    if (len < 20)
        return;
    ihl = (p[0] & 15u) * 4u;
    if (ihl < 20 || ihl > len)
        return;
    put16(p + 10, 0);
    put16(p + 10, ts_csum_fold(ts_csum_add(0, p, ihl)));
    tot = (unsigned)((p[2] << 8) | p[3]);
    if (tot > len || tot < ihl + 20)
        return;
    memcpy(ph, p + 12, 8);
    ph[8] = 0;
    ph[9] = 6;
    put16(ph + 10, tot - ihl);
    put16(p + ihl + 16, 0);
    put16(p + ihl + 16, ts_csum_fold(ts_csum_add(ts_csum_add(0, ph, 12), p + ihl, tot - ihl)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;

    one(data, size);
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    repair(copy, size);
    one(copy, size);
    free(copy);
    return 0;
}
