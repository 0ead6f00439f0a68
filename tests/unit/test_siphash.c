/*
 * test_siphash.c — SipHash-2-4 against the paper's worked example
 * (appendix A: key 00..0f, message 00..0e) and the empty message under the
 * same key, plus a few properties the driver relies on.
 */
#include "harness.h"
#include "drv/siphash.h"

static void key_0_15(uint8_t k[16])
{
    for (int i = 0; i < 16; i++)
        k[i] = (uint8_t)i;
}

TS_TEST(siphash_paper_example)
{
    uint8_t k[16], m[15];
    key_0_15(k);
    for (int i = 0; i < 15; i++)
        m[i] = (uint8_t)i;
    CHECK(ts_siphash24(k, m, sizeof m) == 0xa129ca6149be45e5ull);
}

TS_TEST(siphash_empty_message)
{
    uint8_t k[16];
    key_0_15(k);
    CHECK(ts_siphash24(k, NULL, 0) == 0x726fdb47dd0e0e31ull);
}

TS_TEST(siphash_key_and_length_matter)
{
    uint8_t k[16], k2[16], m[16] = { 0 };
    key_0_15(k);
    key_0_15(k2);
    k2[15] ^= 1;
    CHECK(ts_siphash24(k, m, 8) != ts_siphash24(k2, m, 8));
    /* zero padding is not ambiguous: the length is in the last word */
    CHECK(ts_siphash24(k, m, 7) != ts_siphash24(k, m, 8));
    CHECK(ts_siphash24(k, m, 8) != ts_siphash24(k, m, 16));
}
