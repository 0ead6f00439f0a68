/*
 * test_runner.c — the script runner judged by its own scripts: every
 * .pkt file in tests/runner runs on the tcpstate target and must end as
 * tests/runner/expect.txt says (pass, or fail / error on the given line
 * with the given message). The bad_*.pkt scripts are deliberately wrong
 * (a packet, an errno, a time, an extra packet, a syntax error...), so a
 * runner that stopped checking something would let one of them pass.
 * Run from the repository root (tests/run.sh does).
 */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script/run.h"

#define DIR_RUNNER "tests/runner"
#define MAX_EXPECT 256

typedef struct expect {
    char file[128];
    int status;        /* enum ts_run_status */
    int line, col;
    char msg[320];
} expect;

static int status_of(const char *s)
{
    if (strcmp(s, "pass") == 0)
        return TS_RUN_PASS;
    if (strcmp(s, "fail") == 0)
        return TS_RUN_FAIL;
    if (strcmp(s, "skip") == 0)
        return TS_RUN_SKIP;
    if (strcmp(s, "error") == 0)
        return TS_RUN_ERROR;
    return -1;
}

/* "FILE RESULT LINE[:COL] MESSAGE..." per line; '#' starts a comment. */
static int load_expect(expect *e, int max)
{
    FILE *f = fopen(DIR_RUNNER "/expect.txt", "r");
    char buf[600];
    int n = 0;
    if (!f)
        return -1;
    while (fgets(buf, sizeof buf, f) && n < max) {
        char file[128], res[16], where[32];
        int off = 0;
        buf[strcspn(buf, "\n")] = '\0';
        if (buf[0] == '#' || buf[0] == '\0')
            continue;
        if (sscanf(buf, "%127s %15s %31s %n", file, res, where, &off) != 3) {
            fclose(f);
            return -1;
        }
        memset(&e[n], 0, sizeof e[n]);
        snprintf(e[n].file, sizeof e[n].file, "%s", file);
        e[n].status = status_of(res);
        sscanf(where, "%d:%d", &e[n].line, &e[n].col);
        snprintf(e[n].msg, sizeof e[n].msg, "%s", strcmp(buf + off, "-") ? buf + off : "");
        n++;
    }
    fclose(f);
    return n;
}

static ts_run_opts tcpstate_opts(void)
{
    ts_run_opts o;
    memset(&o, 0, sizeof o);
    o.target = &ts_target_tcpstate;
    o.tolerance_usecs = -1;
    o.tolerance_percent = -1;
    return o;
}

/* One script against its expectation; prints what differs. 0 when right. */
static int check_one(const expect *e)
{
    char path[256];
    ts_run_opts o = tcpstate_opts();
    ts_run_result r;
    snprintf(path, sizeof path, DIR_RUNNER "/%s", e->file);
    ts_run_file(path, &o, &r);
    int bad = r.status != e->status || r.line != e->line || (e->col && r.col != e->col) ||
              (e->msg[0] && !strstr(r.message, e->msg));
    if (bad) {
        printf("  %s: expected status %d line %d:%d \"%s\"\n", e->file, e->status, e->line,
               e->col, e->msg);
        printf("  %*s  got      status %d line %d:%d \"%s\"\n", (int)strlen(e->file), "",
               r.status, r.line, r.col, r.message);
    }
    ts_run_result_free(&r);
    return bad;
}

TS_TEST(runner_scripts_end_as_expected)
{
    static expect e[MAX_EXPECT];
    int n = load_expect(e, MAX_EXPECT), bad = 0;
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        CHECK(e[i].status >= 0);
        bad += check_one(&e[i]);
    }
    CHECK_EQ(bad, 0);
}

/* A script nobody wrote an expectation for would never be checked. */
TS_TEST(runner_every_script_has_an_expectation)
{
    static expect e[MAX_EXPECT];
    int n = load_expect(e, MAX_EXPECT), missing = 0, total = 0;
    DIR *d = opendir(DIR_RUNNER);
    CHECK(n > 0 && d != NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".pkt") != 0)
            continue;
        int found = 0;
        for (int i = 0; i < n; i++)
            found |= strcmp(e[i].file, de->d_name) == 0;
        if (!found)
            printf("  %s has no line in expect.txt\n", de->d_name);
        missing += !found;
        total++;
    }
    closedir(d);
    CHECK(total >= 20);
    CHECK_EQ(missing, 0);
}

/* "// tcpstate-only: REASON" skips on another target, before it opens. */
TS_TEST(runner_tcpstate_only_skips_elsewhere)
{
    ts_run_opts o = tcpstate_opts();
    ts_run_result r;
    o.target = &ts_target_linux;
    ts_run_file(DIR_RUNNER "/ok_tcpstate_only.pkt", &o, &r);
    CHECK_EQ(r.status, TS_RUN_SKIP);
    CHECK_STR(r.reason, "a runner self-test of the skip line");
    ts_run_result_free(&r);
    ts_run_file(DIR_RUNNER "/ok_passive_open.pkt", &(ts_run_opts){ .target = &ts_target_linux,
                .tolerance_usecs = -1, .tolerance_percent = -1, .dry_run = 1 }, &r);
    CHECK_EQ(r.status, TS_RUN_PASS);
    ts_run_result_free(&r);
}

/* Tolerances: a late packet passes once the tolerance covers it. */
TS_TEST(runner_tolerance_from_options)
{
    ts_run_opts o = tcpstate_opts();
    ts_run_result r;
    o.tolerance_usecs = 500000; /* bad_time's SYN-ACK is 0.5 s early */
    ts_run_file(DIR_RUNNER "/bad_time.pkt", &o, &r);
    CHECK_EQ(r.status, TS_RUN_PASS);
    ts_run_result_free(&r);
    o.tolerance_usecs = 499999;
    ts_run_file(DIR_RUNNER "/bad_time.pkt", &o, &r);
    CHECK_EQ(r.status, TS_RUN_FAIL);
    ts_run_result_free(&r);
}

static char *report(const char *file, int json)
{
    ts_run_opts o = tcpstate_opts();
    ts_run_result r;
    char path[256], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, DIR_RUNNER "/%s", file);
    ts_run_file(path, &o, &r);
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        ts_run_result_free(&r);
        return NULL;
    }
    if (json)
        ts_run_print_json(f, path, &r);
    else
        ts_run_print(f, path, &r);
    fclose(f);
    ts_run_result_free(&r);
    return buf;
}

/* A failure report: the line, the script and actual packets with their
 * times, then the ladder of the exchange so far. */
TS_TEST(runner_failure_report_has_ladder)
{
    char *s = report("bad_extra.pkt", 0);
    CHECK(s != NULL);
    int ok = strstr(s, "FAIL tests/runner/bad_extra.pkt:11: flags: expected F., got P.") &&
             strstr(s, "  script: 0.100000 > F. 11:11(0) ack 1 <...>") &&
             strstr(s, "  actual: 0.100000 > P. 1:11(10) ack 1 win ") &&
             strstr(s, "S seq 0 win 65535 len 0") &&          /* the SYN, inbound */
             strstr(s, "-- P. seq 1 ack 1 win ") &&            /* the data, outbound */
             strstr(s, "* line 8: accept() = 4");
    if (!ok)
        printf("%s", s);
    free(s);
    CHECK(ok);
}

TS_TEST(runner_failure_report_json)
{
    char *s = report("bad_flags.pkt", 1);
    CHECK(s != NULL);
    int ok = strncmp(s, "{\"script\": \"tests/runner/bad_flags.pkt\", \"result\": \"fail\", "
                        "\"line\": 3, \"message\": \"flags: expected S., got R.\"", 100) == 0 &&
             strstr(s, "\"exchange\": [{\"t\": 0.000000, \"host\": \"script\", \"ev\": \"tx\"") &&
             strstr(s, "\"flags\": \"R.\"") && strchr(s, '\n') == s + strlen(s) - 1;
    if (!ok)
        printf("%s", s);
    free(s);
    CHECK(ok);
}
