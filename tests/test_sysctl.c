/*
 * test_sysctl.c — the runtime configuration under Linux's sysctl names
 * (config.c): every tunable of issue 6 is known with Linux 6.18's default,
 * the ranges accept and refuse what `sysctl -w` in a network namespace of
 * this machine's kernel accepts and refuses (probed once; the table below
 * is that probe), and a bad name or value is one line that names it, with
 * the closest known name and its own prefix. `tcpstate sim --sysctl` and a
 * script's sysctl line use this same parser.
 */
#include "harness.h"
#include "drv/scenarios.h"

#include <stdio.h>
#include <string.h>

TS_TEST(sysctl_every_tunable_has_linux_default)
{
    static const struct { const char *name, *want; } d[] = {
        { "net.ipv4.tcp_syn_retries", "6" },       { "net.ipv4.tcp_syn_linear_timeouts", "4" },
        { "net.ipv4.tcp_synack_retries", "5" },    { "net.ipv4.tcp_keepalive_time", "7200" },
        { "net.ipv4.tcp_keepalive_intvl", "75" },  { "net.ipv4.tcp_keepalive_probes", "9" },
        { "net.ipv4.tcp_retries1", "3" },          { "net.ipv4.tcp_retries2", "15" },
        { "net.ipv4.tcp_orphan_retries", "0" },    { "net.ipv4.tcp_fin_timeout", "60" },
        { "net.ipv4.tcp_max_orphans", "131072" },  { "net.ipv4.tcp_max_tw_buckets", "131072" },
        { "net.ipv4.tcp_tw_reuse", "2" },          { "net.ipv4.tcp_tw_reuse_delay", "1000" },
        { "net.ipv4.tcp_rfc1337", "0" },           { "net.ipv4.tcp_max_syn_backlog", "2048" },
        { "net.ipv4.tcp_abort_on_overflow", "0" }, { "net.core.somaxconn", "4096" },
        { "net.ipv4.tcp_rto_min_us", "200000" },   { "net.ipv4.tcp_rto_max_ms", "120000" },
        { "net.ipv4.tcp_timestamps", "1" },        { "net.ipv4.tcp_invalid_ratelimit", "500" },
        { "net.ipv4.ip_local_port_range", "32768\t60999" },
        { "net.ipv4.tcpstate_timewait_len_ms", "60000" },
    };
    ts_config c;
    char buf[64];
    ts_config_default(&c);
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        if (ts_config_get(&c, d[i].name, buf, sizeof buf) != 0) {
            th_fail(__FILE__, __LINE__, "%s is not known", d[i].name);
            continue;
        }
        CHECK_STR(buf, d[i].want);
    }
    /* the short and the /proc/sys forms name the same setting */
    CHECK_EQ(ts_config_get(&c, "tcp_fin_timeout", buf, sizeof buf), 0);
    CHECK_EQ(ts_config_get(&c, "net/ipv4/tcp_fin_timeout", buf, sizeof buf), 0);
    CHECK_EQ(ts_config_get(&c, "/proc/sys/net/core/somaxconn", buf, sizeof buf), 0);
    CHECK_STR(buf, "4096");
}

/* What Linux 6.18's sysctl -w accepted (1) and refused (0), probed in a
 * private network namespace; tcpstate's deliberate narrowings are marked. */
TS_TEST(sysctl_ranges_are_linux_ranges)
{
    static const struct { const char *name, *value; int ok; } t[] = {
        { "tcp_syn_retries", "0", 0 },         { "tcp_syn_retries", "127", 1 },
        { "tcp_syn_retries", "128", 0 },       { "tcp_syn_linear_timeouts", "127", 1 },
        { "tcp_syn_linear_timeouts", "128", 0 }, { "tcp_synack_retries", "0", 1 },
        { "tcp_synack_retries", "255", 1 },    { "tcp_synack_retries", "256", 0 },
        { "tcp_keepalive_time", "100000", 1 }, { "tcp_keepalive_intvl", "32768", 1 },
        { "tcp_keepalive_probes", "0", 1 },    { "tcp_keepalive_probes", "255", 1 },
        { "tcp_keepalive_probes", "256", 0 },  { "tcp_retries2", "255", 1 },
        { "tcp_retries2", "256", 0 },          { "tcp_orphan_retries", "256", 0 },
        { "tcp_tw_reuse", "3", 0 },            { "tcp_tw_reuse", "-1", 0 },
        { "tcp_tw_reuse_delay", "0", 0 },      { "tcp_tw_reuse_delay", "60000", 1 },
        { "tcp_tw_reuse_delay", "60001", 0 },  { "tcp_rfc1337", "255", 1 },
        { "tcp_abort_on_overflow", "2", 1 },   { "somaxconn", "65536", 1 },
        { "somaxconn", "-1", 0 },              { "tcp_rto_min_us", "0", 0 },
        { "tcp_rto_min_us", "1", 1 },          { "tcp_rto_max_ms", "999", 0 },
        { "tcp_rto_max_ms", "120000", 1 },     { "tcp_rto_max_ms", "120001", 0 },
        { "tcp_invalid_ratelimit", "-1", 0 },  { "tcp_invalid_ratelimit", "0", 1 },
        { "tcp_max_tw_buckets", "0", 1 },      { "ip_local_port_range", "1024 65535", 1 },
        { "ip_local_port_range", "1 65535", 0 }, { "ip_local_port_range", "100 50", 0 },
        { "ip_local_port_range", "1024 65536", 0 },
        /* narrower than Linux, on purpose: 0 s would probe in a loop */
        { "tcp_keepalive_time", "0", 0 },      { "tcp_keepalive_intvl", "0", 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ts_config c;
        char err[160];
        int r;
        ts_config_default(&c);
        r = ts_config_set(&c, t[i].name, t[i].value, err, sizeof err);
        if ((r == 0) != t[i].ok)
            th_fail(__FILE__, __LINE__, "%s=%s: %s", t[i].name, t[i].value,
                    r == 0 ? "accepted, Linux refuses it" : err);
    }
}

/* A wrong name or value: a non-zero code and one line naming it, with the
 * closest known name (under its own prefix); the setting is unchanged. */
TS_TEST(sysctl_errors_name_what_is_wrong)
{
    ts_config c;
    char err[160];
    ts_config_default(&c);
    CHECK_EQ(ts_config_set(&c, "net.ipv4.tcp_fin_timout", "3", err, sizeof err), TS_ENOENT);
    CHECK(strstr(err, "tcp_fin_timout") && strstr(err, "did you mean net.ipv4.tcp_fin_timeout?"));
    CHECK(strchr(err, '\n') == NULL);
    CHECK_EQ(ts_config_set(&c, "net.core.somaxcon", "3", err, sizeof err), TS_ENOENT);
    CHECK(strstr(err, "did you mean net.core.somaxconn?") != NULL);
    CHECK_EQ(ts_config_set(&c, "net.ipv4.tcp_syn_retries", "200", err, sizeof err), TS_EINVAL);
    CHECK(strstr(err, "net.ipv4.tcp_syn_retries") && strstr(err, "[1, 127]"));
    CHECK_EQ(ts_config_set(&c, "tcp_keepalive_time", "soon", err, sizeof err), TS_EINVAL);
    CHECK(strstr(err, "tcp_keepalive_time") != NULL);
    CHECK_EQ(ts_config_set(&c, "tcp_keepalive_time", "10 20", err, sizeof err), TS_EINVAL);
    CHECK_EQ(c.tcp_syn_retries, 6);
    CHECK_EQ(c.tcp_keepalive_time, 7200);
    CHECK_EQ(ts_config_set(&c, "net.ipv4.ip_local_port_range", "40000 40002", err, sizeof err), 0);
    CHECK_EQ(c.ip_local_port_range[0], 40000);
    CHECK_EQ(c.ip_local_port_range[1], 40002);
}

/* The scenario runner (tcpstate sim --sysctl) refuses before running, with
 * the same line. */
TS_TEST(sysctl_scenario_refuses_bad_settings)
{
    static const char *const bad[] = { "net.ipv4.tcp_syn_linear_timeouts=128" };
    static const char *const good[] = { "net.ipv4.tcp_syn_linear_timeouts=0" };
    ts_scn_opts o;
    char err[256];
    ts_scn *s;
    memset(&o, 0, sizeof o);
    o.mem = th_mem();
    o.sysctl = bad;
    o.nsysctl = 1;
    CHECK(ts_scn_new(ts_scenario_find("syn-timeout"), &o, err, sizeof err) == NULL);
    CHECK(strstr(err, "tcp_syn_linear_timeouts") && strstr(err, "[0, 127]"));
    /* a good one applies to every host: the default client fails at 127 s */
    o.sysctl = good;
    s = ts_scn_new(ts_scenario_find("syn-timeout"), &o, err, sizeof err);
    CHECK(s != NULL);
    ts_scn_run(s);
    CHECK_EQ(ts_sim_now(ts_scn_sim(s)), 127000000);
    ts_scn_free(s);
}
