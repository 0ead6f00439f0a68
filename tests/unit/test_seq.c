/* test_seq.c — sequence arithmetic modulo 2^32 and saturating time (seq.h). */
#include "../harness.h"
#include "core/seq.h"

TS_TEST(seq_compare_plain)
{
    CHECK(ts_seq_lt(1, 2));
    CHECK(!ts_seq_lt(2, 2));
    CHECK(ts_seq_le(2, 2));
    CHECK(ts_seq_gt(3, 2));
    CHECK(!ts_seq_gt(2, 2));
    CHECK(ts_seq_ge(2, 2));
    CHECK(!ts_seq_ge(1, 2));
}

/* RFC 9293 §3.4: comparisons are modulo 2^32, so a number just past the
 * wrap is "after" one just before it. */
TS_TEST(seq_compare_across_wrap)
{
    CHECK(ts_seq_lt(0xFFFFFFF0u, 0x10u));
    CHECK(ts_seq_gt(0x10u, 0xFFFFFFF0u));
    CHECK(ts_seq_le(0xFFFFFFFFu, 0u));
    CHECK(ts_seq_lt(0xFFFFFFFFu, 0u));
    CHECK(ts_seq_ge(0u, 0xFFFFFFFFu));
    CHECK(!ts_seq_lt(0x10u, 0xFFFFFFF0u));
    /* the window of "after" is 2^31 - 1 wide */
    CHECK(ts_seq_gt(0x7FFFFFFFu, 0u));
    CHECK(ts_seq_lt(0x80000001u, 0u));
    CHECK_EQ(ts_seq_max(0xFFFFFFF0u, 0x10u), 0x10u);
    CHECK_EQ(ts_seq_min(0xFFFFFFF0u, 0x10u), 0xFFFFFFF0u);
    CHECK_EQ(ts_seq_max(5u, 5u), 5u);
}

TS_TEST(seq_in_range)
{
    CHECK(ts_seq_in(5, 5, 10));      /* lo is inside */
    CHECK(ts_seq_in(9, 5, 10));
    CHECK(!ts_seq_in(10, 5, 10));    /* hi is outside */
    CHECK(!ts_seq_in(4, 5, 10));
    CHECK(!ts_seq_in(5, 5, 5));      /* empty range */
    CHECK(!ts_seq_in(0, 5, 5));
    /* a range that wraps */
    CHECK(ts_seq_in(0xFFFFFFFFu, 0xFFFFFFF0u, 0x10u));
    CHECK(ts_seq_in(0u, 0xFFFFFFF0u, 0x10u));
    CHECK(ts_seq_in(0xFu, 0xFFFFFFF0u, 0x10u));
    CHECK(!ts_seq_in(0x10u, 0xFFFFFFF0u, 0x10u));
    CHECK(!ts_seq_in(0xFFFFFFEFu, 0xFFFFFFF0u, 0x10u));
    /* the widest range: everything but hi itself */
    CHECK(ts_seq_in(0x12345678u, 0u, 0xFFFFFFFFu));
    CHECK(!ts_seq_in(0xFFFFFFFFu, 0u, 0xFFFFFFFFu));
    CHECK(ts_seq_in(6u, 8u, 7u));    /* lo > hi numerically: wraps all the way */
    CHECK(ts_seq_in(8u, 8u, 7u));
    CHECK(!ts_seq_in(7u, 8u, 7u));
}

TS_TEST(time_add_saturates)
{
    CHECK_EQ(ts_time_add(1, 2), 3);
    CHECK(ts_time_add(TS_NEVER, 0) == TS_NEVER);
    CHECK(ts_time_add(TS_NEVER, 1) == TS_NEVER);
    CHECK(ts_time_add(TS_NEVER - 1, 1) == TS_NEVER);
    CHECK(ts_time_add(TS_NEVER - 5, 4) == TS_NEVER - 1);
    CHECK(ts_time_add(1, TS_NEVER) == TS_NEVER);
    CHECK(ts_time_add(TS_NEVER / 2 + 1, TS_NEVER / 2 + 1) == TS_NEVER);
    CHECK(ts_time_add(0, 0) == 0);
    CHECK(ts_time_add(5 * TS_SEC, 200 * TS_MS) == 5200000ull);
}

TS_TEST(time_sub_and_min)
{
    CHECK_EQ(ts_time_sub(10, 3), 7);
    CHECK_EQ(ts_time_sub(3, 10), 0);
    CHECK_EQ(ts_time_sub(3, 3), 0);
    CHECK(ts_time_sub(TS_NEVER, 0) == TS_NEVER);
    CHECK_EQ(ts_time_min(3, 10), 3);
    CHECK(ts_time_min(TS_NEVER, 10) == 10);
    CHECK(ts_time_min(TS_NEVER, TS_NEVER) == TS_NEVER);
}
