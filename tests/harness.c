/* harness.c — runs every registered test; see harness.h. */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define TH_MAX 4096

static struct { const char *name, *file; th_fn fn; } th_tests[TH_MAX];
static int th_n;
static int th_cur_failed, th_cur_skipped;
static char th_skip_reason[256];
static size_t th_live;

void th_register(const char *name, const char *file, th_fn fn)
{
    if (th_n < TH_MAX) {
        th_tests[th_n].name = name;
        th_tests[th_n].file = file;
        th_tests[th_n].fn = fn;
        th_n++;
    }
}

void th_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (th_cur_failed++)
        return; /* the first failure is the one that matters */
    printf("FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

void th_skip(const char *reason)
{
    th_cur_skipped = 1;
    snprintf(th_skip_reason, sizeof th_skip_reason, "%s", reason);
}

int th_failed(void) { return th_cur_failed != 0; }

static void *th_malloc(void *user, size_t n)
{
    (void)user;
    void *p = malloc(n);
    if (p)
        th_live += n;
    return p;
}

static void th_free(void *user, void *p, size_t n)
{
    (void)user;
    if (p) {
        th_live -= n;
        free(p);
    }
}

ts_mem th_mem(void)
{
    ts_mem m = { NULL, th_malloc, th_free };
    return m;
}

size_t th_mem_live(void) { return th_live; }

static int th_match(const char *name, const char *file, int argc, char **argv)
{
    if (argc <= 1)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strstr(name, argv[i]) || strstr(file, argv[i]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < th_n; i++) {
        if (!th_match(th_tests[i].name, th_tests[i].file, argc, argv))
            continue;
        th_cur_failed = th_cur_skipped = 0;
        th_live = 0;
        th_tests[i].fn();
        if (!th_cur_failed && !th_cur_skipped && th_live != 0)
            th_fail(th_tests[i].file, 0, "leak: %zu bytes still allocated at the end of %s",
                    th_live, th_tests[i].name);
        if (th_cur_failed) {
            printf("FAIL %s (%s)\n", th_tests[i].name, th_tests[i].file);
            failed++;
        } else if (th_cur_skipped) {
            printf("skip %s: %s\n", th_tests[i].name, th_skip_reason);
            skipped++;
        } else {
            printf("ok   %s\n", th_tests[i].name);
            passed++;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
