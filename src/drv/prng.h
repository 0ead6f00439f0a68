/*
 * prng.h — the simulator's seeded pseudo-random numbers.
 *
 * xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64, so any
 * 64-bit seed (0 included) gives a good state. Everything the simulator
 * randomises (ISNs, port offsets, loss, duplication, delay jitter,
 * reordering) draws from generators of this kind, one per purpose, so the
 * same seed gives the same run byte for byte, and adding a draw to one link
 * does not shift the numbers another link sees.
 *
 * Not cryptographic: the real-network driver takes its ISN secret from the
 * OS (RFC 6528); this is for reproducible simulations only.
 */
#ifndef TS_DRV_PRNG_H
#define TS_DRV_PRNG_H

#include <stdint.h>

typedef struct ts_prng {
    uint64_t s[4];
} ts_prng;

/* splitmix64: a counter through a 64-bit mixer. Used to expand a seed. */
static inline uint64_t ts_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Seeds from (seed, stream): different streams of one seed are independent
 * generators (one per link direction, one per host). */
static inline void ts_prng_seed(ts_prng *p, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);
    for (int i = 0; i < 4; i++)
        p->s[i] = ts_splitmix64(&x);
}

static inline uint64_t ts_prng_rotl(uint64_t v, int k)
{
    return (v << k) | (v >> (64 - k));
}

static inline uint64_t ts_prng_next(ts_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = ts_prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ts_prng_rotl(s[3], 45);
    return result;
}

static inline uint32_t ts_prng_u32(ts_prng *p)
{
    return (uint32_t)(ts_prng_next(p) >> 32);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double ts_prng_unit(ts_prng *p)
{
    return (double)(ts_prng_next(p) >> 11) * (1.0 / 9007199254740992.0);
}

/* True with probability prob. Always draws one number, so the sequence of
 * draws (and so the rest of the run) does not depend on prob being 0. */
static inline int ts_prng_chance(ts_prng *p, double prob)
{
    return ts_prng_unit(p) < prob;
}

/* Uniform in [0, n] (inclusive), always one draw. Plain modulo: for the
 * n < 2^32 used here the bias is below 2^-32, irrelevant for delays. */
static inline uint64_t ts_prng_upto(ts_prng *p, uint64_t n)
{
    if (n == 0) {
        (void)ts_prng_next(p);
        return 0;
    }
    if (n == UINT64_MAX)
        return ts_prng_next(p);
    return ts_prng_next(p) % (n + 1);
}

#endif
