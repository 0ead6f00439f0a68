/*
 * siphash.c — SipHash-2-4, written from the paper's description (§2):
 * four 64-bit state words initialised from the key and the constants
 * "somepseudorandomlygeneratedbytes", two SipRounds per 8-byte message
 * word (compression), the last word carrying the length in its top byte,
 * then 0xff xored into v2 and four SipRounds (finalisation).
 * No state, no allocation: safe anywhere.
 */
#include "drv/siphash.h"

#include <string.h>

static uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* One SipRound: the ARX network of the paper's figure 2.1. */
static void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl64(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rotl64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl64(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

static void absorb(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sipround(v);
    sipround(v);
    v[0] ^= m;
}

uint64_t ts_siphash24(const uint8_t key[16], const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v[4] = {
        k0 ^ 0x736f6d6570736575ull, /* "somepseu" */
        k1 ^ 0x646f72616e646f6dull, /* "dorandom" */
        k0 ^ 0x6c7967656e657261ull, /* "lygenera" */
        k1 ^ 0x7465646279746573ull  /* "tedbytes" */
    };
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8)
        absorb(v, load_le64(p + i));
    /* the last word: remaining bytes, zero padding, len mod 256 on top */
    uint8_t tail[8] = { 0 };
    if (len % 8)
        memcpy(tail, p + whole, len % 8);
    tail[7] = (uint8_t)len;
    absorb(v, load_le64(tail));
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}
