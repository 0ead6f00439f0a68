/*
 * harness.h — the C test harness: tests register themselves, run in file
 * order of registration, and the run ends with "N passed, N failed, N skipped".
 *
 *   TS_TEST(name) { ... CHECK(x); CHECK_EQ(a, b); ... }
 *   TS_SKIP("reason") inside a test marks it skipped (with its reason).
 *
 * Every test ends with a leak check: memory handed out through th_mem()
 * (pass it as cfg.mem) must all be back when the test returns.
 * Tests never sleep: they drive stacks with virtual time.
 */
#ifndef TS_HARNESS_H
#define TS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tcpstate.h"

typedef void (*th_fn)(void);
void th_register(const char *name, const char *file, th_fn fn);
void th_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void th_skip(const char *reason);
int th_failed(void); /* current test has failed */

/* The counting allocator: live bytes must be 0 at the end of each test. */
ts_mem th_mem(void);
size_t th_mem_live(void);

#define TS_TEST(name)                                                        \
    static void name(void);                                                  \
    __attribute__((constructor)) static void name##_register(void)          \
    { th_register(#name, __FILE__, name); }                                  \
    static void name(void)

#define CHECK(cond)                                                          \
    do { if (!(cond)) { th_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); return; } } while (0)

#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        long long th_a_ = (long long)(a), th_b_ = (long long)(b);            \
        if (th_a_ != th_b_) {                                                \
            th_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, th_a_, th_b_); \
            return;                                                          \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *th_a_ = (a), *th_b_ = (b);                               \
        if (!th_a_ || !th_b_ || strcmp(th_a_, th_b_) != 0) {                 \
            th_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
                    th_a_ ? th_a_ : "(null)", th_b_ ? th_b_ : "(null)");     \
            return;                                                          \
        }                                                                    \
    } while (0)

#define TS_SKIP(reason) do { th_skip(reason); return; } while (0)

#endif
