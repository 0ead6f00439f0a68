/*
 * seq.h — sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4) and
 * saturating time helpers (deadlines never overflow: UINT64_MAX is "never").
 */
#ifndef TS_SEQ_H
#define TS_SEQ_H

#include <stdint.h>

static inline int ts_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int ts_seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int ts_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int ts_seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
/* lo <= x < hi, modulo 2^32 (an empty range when lo == hi). */
static inline int ts_seq_in(uint32_t x, uint32_t lo, uint32_t hi) { return x - lo < hi - lo; }
static inline uint32_t ts_seq_max(uint32_t a, uint32_t b) { return ts_seq_gt(a, b) ? a : b; }
static inline uint32_t ts_seq_min(uint32_t a, uint32_t b) { return ts_seq_lt(a, b) ? a : b; }

/* Linux's tcp_in_window: the segment [seq, end) touches the window
 * [s_win, e_win), a zero-length segment at the right edge included. */
static inline int ts_in_window(uint32_t seq, uint32_t end, uint32_t s_win, uint32_t e_win)
{
    if (seq == s_win)
        return 1;
    if (ts_seq_gt(end, s_win) && ts_seq_lt(seq, e_win))
        return 1;
    return seq == e_win && seq == end;
}

#define TS_NEVER UINT64_MAX

/* a + b, saturating at TS_NEVER. */
static inline uint64_t ts_time_add(uint64_t a, uint64_t b)
{
    return (a > TS_NEVER - b) ? TS_NEVER : a + b;
}
static inline uint64_t ts_time_min(uint64_t a, uint64_t b) { return a < b ? a : b; }
/* a - b, 0 when b > a. */
static inline uint64_t ts_time_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

#define TS_MS 1000ull
#define TS_SEC 1000000ull

#endif
