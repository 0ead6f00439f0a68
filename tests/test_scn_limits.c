/*
 * test_scn_limits.c — the scenario kit's timing checks (scn_timing.c) and
 * what the runs of the timer scenarios leave behind: a wrong time fails
 * with both lists named, an override (delay, sysctl, limit) skips the
 * timing checks, the end of a run lists TIME_WAIT and FIN_WAIT_2
 * minisockets, and every scenario of scn_limits.c runs clean under the
 * counting allocator (test_sim.c runs each with three seeds).
 */
#include "harness.h"
#include "drv/scenarios.h"
#include "drv/scn_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A SYN into a black hole, with a deliberately wrong schedule. */
static void scn_wrong_times(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh b = { .close = SCN_CLOSE_NEVER };
    static const ts_sim_link dead = { .loss = 1.0 };
    if (ev->kind == TS_SCN_START) {
        scn_link_set(s, SCN_CLIENT, SCN_SERVER, &dead);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &b);
    } else if (ev->kind == TS_SCN_END) {
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_SYN, "0 1000 2500");
    }
}

static ts_scn *new_scn(const ts_scenario *sc, ts_scn_opts *o)
{
    char err[256];
    o->mem = th_mem();
    return ts_scn_new(sc, o, err, sizeof err);
}

TS_TEST(scn_timing_names_both_lists_on_a_mismatch)
{
    static const ts_scenario sc = { "wrong-times", "-", scn_wrong_times };
    ts_scn_opts o;
    ts_scn *s;
    const char *why;
    memset(&o, 0, sizeof o);
    s = new_scn(&sc, &o);
    CHECK(s != NULL);
    CHECK_EQ(ts_scn_run(s), -1);
    why = ts_scn_failure(s);
    CHECK(why != NULL);
    CHECK(strstr(why, "client: sent S at 0 1000 2000 3000 4000 5000 7000") != NULL);
    CHECK(strstr(why, "expected at 0 1000 2500 ms") != NULL);
    ts_scn_free(s);
}

/* --delay, --sysctl or --limit change the times: the timing checks step
 * aside (the run then passes). */
TS_TEST(scn_timing_skipped_when_not_as_designed)
{
    static const ts_scenario sc = { "wrong-times", "-", scn_wrong_times };
    static const char *const sys[] = { "net.ipv4.tcp_syn_retries=2" };
    for (int k = 0; k < 3; k++) {
        ts_scn_opts o;
        ts_scn *s;
        memset(&o, 0, sizeof o);
        if (k == 0) {
            o.delay_set = 1;
            o.delay_us = 5000;
        } else if (k == 1) {
            o.sysctl = sys;
            o.nsysctl = 1;
        } else {
            o.limit_us = 3000000;
        }
        s = new_scn(&sc, &o);
        CHECK(s != NULL);
        CHECK(!scn_as_designed(s));
        CHECK_EQ(ts_scn_run(s), 0);
        ts_scn_free(s);
    }
}

/* The end of a run lists the minisockets still present: TIME_WAIT (60 s)
 * and an orphan's FIN_WAIT_2 (tcp_fin_timeout), with their states. */
TS_TEST(scn_end_lists_time_wait_and_fin_wait_2_minisockets)
{
    static const struct { const char *name; int state; size_t n; } cases[] = {
        { "time-wait", TS_TIME_WAIT, 3 },
        { "fin-wait-2-timeout", TS_FIN_WAIT2, 2 },
    };
    for (size_t k = 0; k < 2; k++) {
        ts_scn_opts o;
        ts_trace_conn c[16];
        size_t n, hit = 0;
        ts_scn *s;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;
        memset(&o, 0, sizeof o);
        o.limit_us = 30000000;
        s = new_scn(ts_scenario_find(cases[k].name), &o);
        CHECK(s != NULL);
        ts_scn_run(s);
        n = ts_sim_conns(ts_scn_sim(s), c, 16);
        CHECK(n <= 16);
        for (size_t i = 0; i < n; i++)
            hit += c[i].state == cases[k].state;
        CHECK_EQ(hit, cases[k].n);
        f = open_memstream(&buf, &len);
        CHECK(f != NULL);
        ts_json_end(f, ts_sim_hosts(ts_scn_sim(s)), ts_sim_host_count(ts_scn_sim(s)),
                    ts_sim_now(ts_scn_sim(s)), c, n);
        fclose(f);
        CHECK(strncmp(buf, "{\"t\": 30.000000, \"ev\": \"end\", \"conns\": [", 40) == 0);
        CHECK(strstr(buf, ts_state_name(cases[k].state)) != NULL);
        free(buf);
        ts_scn_free(s);
    }
}

/* Every scenario of issue 6 is in the table and passes (as designed). */
TS_TEST(scn_limits_every_scenario_passes)
{
    static const char *const names[] = {
        "syn-timeout", "synack-timeout", "keepalive-dead-peer", "keepalive-alive",
        "keepalive-reset", "retries-timeout", "fin-wait-2-timeout", "fin-wait-1-orphan",
        "last-ack-retrans", "time-wait", "time-wait-reopen", "tw-reuse", "tw-overflow",
        "orphan-limit", "close-wait-leak", "linger-zero", "listen-overflow", "challenge-ack",
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        ts_scn_opts o;
        ts_scn *s;
        memset(&o, 0, sizeof o);
        s = new_scn(ts_scenario_find(names[k]), &o);
        if (!s) {
            th_fail(__FILE__, __LINE__, "no scenario %s", names[k]);
            return;
        }
        if (ts_scn_run(s) != 0)
            th_fail(__FILE__, __LINE__, "%s: %s", names[k], ts_scn_failure(s));
        CHECK(ts_scn_checks(s) >= 5);
        ts_scn_free(s);
    }
}
