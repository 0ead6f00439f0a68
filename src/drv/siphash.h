/*
 * siphash.h — SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast
 * short-input PRF", 2012), the keyed hash behind the TUN driver's initial
 * sequence numbers (RFC 6528), ephemeral port offsets (RFC 6056 algorithm
 * 3) and timestamp offsets, as Linux's secure_seq.c uses it.
 */
#ifndef TS_DRV_SIPHASH_H
#define TS_DRV_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of data[0..len) under the 128-bit key (16 bytes, read as two
 * little-endian 64-bit words k0, k1 as in the paper). */
uint64_t ts_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
