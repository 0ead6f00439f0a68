/*
 * test_sim.c — the simulator (src/drv/sim.c), its scenarios, the trace
 * renderers (ladder.c) and the state diagram (diagram.c).
 *
 * Determinism is the simulator's promise: the same seed must give the same
 * JSON trace byte for byte, and different seeds different traces under
 * loss. The lossy transfer is checked byte for byte over 50 seeds. Every
 * stack allocates through th_mem(), so each test ends with the leak check.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drv/diagram.h"
#include "drv/ladder.h"
#include "drv/prng.h"
#include "drv/scenarios.h"
#include "drv/sim.h"

/* ------------------------------------------------------------- helpers */

typedef struct json_sink {
    FILE *f;
    const ts_trace_host *hosts;
    size_t nhosts;
} json_sink;

static void sink_json(void *user, const ts_trace_ev *ev)
{
    json_sink *j = user;
    if (j->hosts)
        ts_json_event(j->f, j->hosts, j->nhosts, ev);
}

/* Runs a scenario with th_mem(); the JSON trace (with its end line) goes to
 * *out when out is not NULL (caller frees). Returns ts_scn_run's result,
 * or -2 if it could not start; why gets the failure. */
static int run_scn(const char *name, uint64_t seed, int loss_pct, char **out, char *why,
                   size_t whylen)
{
    ts_scn_opts o;
    json_sink j = { NULL, NULL, 0 };
    size_t len = 0;
    char err[256];
    ts_scn *s;
    int r;

    memset(&o, 0, sizeof o);
    o.seed = seed;
    o.mem = th_mem();
    if (loss_pct >= 0) {
        o.loss_set = 1;
        o.loss = loss_pct / 100.0;
    }
    if (out) {
        j.f = open_memstream(out, &len);
        o.on_event = sink_json;
        o.event_user = &j;
    }
    s = ts_scn_new(ts_scenario_find(name), &o, err, sizeof err);
    if (!s) {
        snprintf(why, whylen, "%s", err);
        if (j.f)
            fclose(j.f);
        return -2;
    }
    j.hosts = ts_sim_hosts(ts_scn_sim(s));
    j.nhosts = ts_sim_host_count(ts_scn_sim(s));
    r = ts_scn_run(s);
    snprintf(why, whylen, "%s", ts_scn_failure(s) ? ts_scn_failure(s) : "");
    if (j.f) {
        ts_trace_conn c[64];
        size_t n = ts_sim_conns(ts_scn_sim(s), c, 64);
        ts_json_end(j.f, j.hosts, j.nhosts, ts_sim_now(ts_scn_sim(s)), c, n < 64 ? n : 64);
        fclose(j.f);
    }
    ts_scn_free(s);
    return r;
}

static int count_lines(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ---------------------------------------------------------------- PRNG */

TS_TEST(sim_prng_is_seeded_and_uniform)
{
    ts_prng a, b, c;
    int hits = 0;
    ts_prng_seed(&a, 42, 1);
    ts_prng_seed(&b, 42, 1);
    ts_prng_seed(&c, 42, 2);
    for (int i = 0; i < 100; i++) {
        uint64_t x = ts_prng_next(&a);
        CHECK_EQ(x, ts_prng_next(&b));
        CHECK(x != ts_prng_next(&c));
    }
    for (int i = 0; i < 100000; i++) {
        double u = ts_prng_unit(&a);
        CHECK(u >= 0.0 && u < 1.0);
        hits += ts_prng_chance(&a, 0.2);
        CHECK(ts_prng_upto(&a, 7) <= 7);
    }
    CHECK(hits > 19000 && hits < 21000);
    ts_prng_seed(&a, 0, 0); /* seed 0 is a fine seed */
    CHECK(ts_prng_next(&a) != ts_prng_next(&a));
}

/* -------------------------------------------------------------- ladder */

static const ts_trace_host hosts2[2] = { { "client", 0xC0000201 }, { "server", 0xC0000202 } };

static char *render(const ts_trace_ev *ev, size_t n, int absolute)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ts_ladder_opts o = { hosts2, 2, absolute, 0 };
    ts_ladder_render(f, &o, ev, n);
    fclose(f);
    return buf;
}

TS_TEST(sim_ladder_draws_arrows_states_and_drops)
{
    ts_addr c = { 0xC0000201, 40000 }, s = { 0xC0000202, 80 };
    ts_trace_ev ev[] = {
        { .t_us = 0, .kind = TS_TRACE_STATE, .host = 0, .conn_id = 1, .from = TS_CLOSE,
          .to = TS_SYN_SENT, .cause = TS_CAUSE_APP_CONNECT },
        { .t_us = 0, .kind = TS_TRACE_TX, .host = 0, .src = c, .dst = s, .flags = TS_TH_SYN,
          .seq = 1000, .win = 64240 },
        { .t_us = 10000, .kind = TS_TRACE_RX, .host = 1, .src = c, .dst = s,
          .flags = TS_TH_SYN, .seq = 1000, .win = 64240 },
        { .t_us = 10000, .kind = TS_TRACE_TX, .host = 1, .src = s, .dst = c,
          .flags = TS_TH_SYN | TS_TH_ACK, .seq = 7, .ack = 1001, .win = 65160 },
        { .t_us = 10000, .kind = TS_TRACE_LOST, .host = 1, .src = s, .dst = c,
          .flags = TS_TH_SYN | TS_TH_ACK, .seq = 7, .ack = 1001, .win = 65160 },
        { .t_us = 20000, .kind = TS_TRACE_DROP, .host = 1, .src = c, .dst = s,
          .flags = TS_TH_ACK, .seq = 1001, .ack = 9, .reason = TS_DROP_BAD_ACK },
        { .t_us = 30000, .kind = TS_TRACE_NOTE, .host = 0, .note = "close()" },
    };
    char *out = render(ev, sizeof ev / sizeof ev[0], 0);
    CHECK(out != NULL);
    CHECK(strstr(out, "client") && strstr(out, "192.0.2.2"));
    CHECK(strstr(out, "SYN_SENT | (#1 app connect)"));
    CHECK(strstr(out, "|-- S seq 0 win 64240 len 0 ---"));   /* relative to the SYN */
    CHECK(strstr(out, "S seq 0 -->|"));                       /* its arrival */
    CHECK(strstr(out, "lost X---"));                          /* lost on the way back */
    CHECK(strstr(out, "- S. seq 0 ack 1 win 65160 len 0 ---|"));
    CHECK(strstr(out, "BAD_ACK: . seq 1 ack 2 --X|"));        /* the stack's drop */
    CHECK(strstr(out, "| * close()"));
    CHECK(strstr(out, "   0.010000 "));
    free(out);
    out = render(ev, sizeof ev / sizeof ev[0], 1);
    CHECK(strstr(out, "S seq 1000 win 64240"));
    CHECK(strstr(out, "S. seq 7 ack 1001"));
    free(out);
}

TS_TEST(sim_json_lines_are_exact)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ts_addr c = { 0xC0000201, 40000 }, s = { 0xC0000202, 80 };
    ts_trace_ev st = { .t_us = 60010000, .kind = TS_TRACE_STATE, .host = 0, .conn_id = 1,
                       .from = TS_TIME_WAIT, .to = TS_CLOSE, .cause = TS_CAUSE_TIMER_2MSL };
    ts_trace_ev tx = { .t_us = 1, .kind = TS_TRACE_TX, .host = 1, .conn_id = 2, .src = s,
                       .dst = c, .flags = TS_TH_PSH | TS_TH_ACK, .seq = 5, .ack = 6,
                       .win = 502, .len = 1000 };
    ts_trace_ev dr = tx, lo = tx, note = { .kind = TS_TRACE_NOTE, .note = "x" };
    ts_trace_conn conns[2] = { { 0, 1, TS_TIME_WAIT }, { 1, 3, TS_LISTEN } };
    dr.kind = TS_TRACE_DROP;
    dr.reason = TS_DROP_OUT_OF_WINDOW;
    lo.kind = TS_TRACE_LOST;
    ts_json_event(f, hosts2, 2, &st);
    ts_json_event(f, hosts2, 2, &tx);
    ts_json_event(f, hosts2, 2, &dr);
    ts_json_event(f, hosts2, 2, &lo);
    ts_json_event(f, hosts2, 2, &note); /* ladder only: nothing */
    ts_json_end(f, hosts2, 2, 60010000, conns, 2);
    fclose(f);
    CHECK_STR(buf,
              "{\"t\": 60.010000, \"host\": \"client\", \"conn\": 1, \"from\": \"TIME_WAIT\", "
              "\"to\": \"CLOSED\", \"cause\": \"timer 2MSL\"}\n"
              "{\"t\": 0.000001, \"host\": \"server\", \"ev\": \"tx\", \"conn\": 2, \"flags\": "
              "\"P.\", \"seq\": 5, \"ack\": 6, \"win\": 502, \"len\": 1000}\n"
              "{\"t\": 0.000001, \"host\": \"server\", \"ev\": \"drop\", \"conn\": 2, \"flags\": "
              "\"P.\", \"seq\": 5, \"ack\": 6, \"win\": 502, \"len\": 1000, \"reason\": "
              "\"OUT_OF_WINDOW\"}\n"
              "{\"t\": 0.000001, \"host\": \"server\", \"ev\": \"drop\", \"conn\": 2, \"flags\": "
              "\"P.\", \"seq\": 5, \"ack\": 6, \"win\": 502, \"len\": 1000, \"reason\": "
              "\"LINK_LOSS\"}\n"
              "{\"t\": 60.010000, \"ev\": \"end\", \"conns\": [{\"host\": \"client\", \"conn\": 1, "
              "\"state\": \"TIME_WAIT\"}, {\"host\": \"server\", \"conn\": 3, \"state\": "
              "\"LISTEN\"}]}\n");
    free(buf);
}

/* ----------------------------------------------------------- simulator */

TS_TEST(sim_idle_without_application)
{
    ts_sim_opts o;
    ts_config cfg;
    ts_sim *sim;
    memset(&o, 0, sizeof o);
    ts_config_default(&cfg);
    cfg.mem = th_mem();
    sim = ts_sim_new(&o);
    CHECK(sim != NULL);
    CHECK_EQ(ts_sim_add_host(sim, "a", &cfg), 0);
    CHECK_EQ(ts_sim_add_host(sim, "b", &cfg), 1);
    CHECK_EQ(ts_sim_host_ip(1), 0xC0000202);
    CHECK_EQ(ts_sim_host_of(sim, 0xC0000201), 0);
    CHECK_EQ(ts_sim_host_of(sim, 0xC0000209), -1);
    CHECK_STR(ts_sim_host_name(sim, 1), "b");
    CHECK_EQ(ts_sim_run(sim, 1000000), TS_SIM_IDLE);
    CHECK_EQ(ts_sim_now(sim), 0);
    ts_sim_free(sim);
}

/* The clock jumps: the lifecycle's 60 s of TIME_WAIT end in virtual time. */
TS_TEST(sim_lifecycle_passes_and_time_jumps)
{
    char why[320];
    char *trace = NULL;
    int r = run_scn("lifecycle", 1, -1, &trace, why, sizeof why);
    if (r != 0)
        th_fail(__FILE__, __LINE__, "lifecycle: %s", why);
    CHECK(trace != NULL);
    CHECK(strstr(trace, "\"from\": \"TIME_WAIT\", \"to\": \"CLOSED\", \"cause\": \"timer 2MSL\""));
    CHECK(strstr(trace, "{\"t\": 60.") != NULL); /* the end: 60 s and a few ms */
    CHECK(strstr(trace, "\"ev\": \"end\", \"conns\": []}\n") != NULL);
    free(trace);
}

TS_TEST(sim_same_seed_same_bytes)
{
    char why[320];
    char *a = NULL, *b = NULL, *c = NULL;
    run_scn("lifecycle", 7, 30, &a, why, sizeof why);
    run_scn("lifecycle", 7, 30, &b, why, sizeof why);
    run_scn("lifecycle", 8, 30, &c, why, sizeof why);
    CHECK(a && b && c);
    CHECK(strlen(a) > 1000);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    free(a);
    free(b);
    free(c);
    run_scn("lossy", 3, -1, &a, why, sizeof why);
    run_scn("lossy", 3, -1, &b, why, sizeof why);
    run_scn("lossy", 4, -1, &c, why, sizeof why);
    CHECK(a && b && c);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    free(a);
    free(b);
    free(c);
}

/* ISNs come from the seeded generator: never constant, different per seed. */
TS_TEST(sim_isn_is_seeded)
{
    char why[320];
    char *a = NULL, *b = NULL;
    const char *pa, *pb;
    run_scn("refused", 1, -1, &a, why, sizeof why);
    run_scn("refused", 2, -1, &b, why, sizeof why);
    CHECK(a && b);
    pa = strstr(a, "\"flags\": \"S\", \"seq\": ");
    pb = strstr(b, "\"flags\": \"S\", \"seq\": ");
    CHECK(pa && pb);
    CHECK(strtoul(pa + 21, NULL, 10) != strtoul(pb + 21, NULL, 10));
    free(a);
    free(b);
}

TS_TEST(sim_every_scenario_passes_its_checks)
{
    const ts_scenario *sc;
    char why[320];
    for (size_t i = 0; (sc = ts_scenario_at(i)) != NULL; i++) {
        CHECK(sc->name && sc->summary && sc->fn);
        CHECK(ts_scenario_find(sc->name) == sc);
        for (uint64_t seed = 1; seed <= 3; seed++) {
            int r = run_scn(sc->name, seed, -1, NULL, why, sizeof why);
            if (r != 0) {
                th_fail(__FILE__, __LINE__, "%s seed %llu: %s", sc->name,
                        (unsigned long long)seed, why);
                return;
            }
        }
    }
    CHECK(ts_scenario_find("no-such-scenario") == NULL);
}

/* 1 MiB each way through 20 % loss, 5 % duplication, 10 % reordering:
 * byte-exact for every seed. */
TS_TEST(sim_lossy_is_byte_exact_for_50_seeds)
{
    char why[320];
    for (uint64_t seed = 1; seed <= 50; seed++) {
        int r = run_scn("lossy", seed, -1, NULL, why, sizeof why);
        if (r != 0) {
            th_fail(__FILE__, __LINE__, "lossy seed %llu: %s", (unsigned long long)seed, why);
            return;
        }
    }
}

/* The link loses what it is told to lose, roughly: over one lossy run
 * (thousands of datagrams) the rate is 20 % within a few points. */
TS_TEST(sim_link_loss_rate_is_as_configured)
{
    ts_scn_opts o;
    char err[256];
    ts_scn *s;
    ts_sim_link_stats ab, ba;
    double rate;
    memset(&o, 0, sizeof o);
    o.seed = 11;
    o.mem = th_mem();
    s = ts_scn_new(ts_scenario_find("lossy"), &o, err, sizeof err);
    CHECK(s != NULL);
    ts_scn_run(s);
    ts_sim_link_stats_get(ts_scn_sim(s), 0, 1, &ab);
    ts_sim_link_stats_get(ts_scn_sim(s), 1, 0, &ba);
    ts_scn_free(s);
    CHECK(ab.sent > 1000 && ba.sent > 1000);
    rate = (double)(ab.lost + ba.lost) / (double)(ab.sent + ba.sent);
    if (rate < 0.17 || rate > 0.23)
        th_fail(__FILE__, __LINE__, "loss rate %.3f, configured 0.20", rate);
    rate = (double)(ab.dup + ba.dup) / (double)(ab.sent + ba.sent - ab.lost - ba.lost);
    if (rate < 0.03 || rate > 0.07)
        th_fail(__FILE__, __LINE__, "duplication rate %.3f, configured 0.05", rate);
    CHECK_EQ(ab.delivered, ab.sent - ab.lost + ab.dup);
}

TS_TEST(sim_bad_sysctl_is_refused_before_running)
{
    ts_scn_opts o;
    char err[256] = "";
    const char *bad[] = { "net.ipv4.tcp_no_such_thing=1" };
    const char *bad_value[] = { "net.ipv4.tcp_fin_timeout=banana" };
    const char *no_eq[] = { "tcp_fin_timeout" };
    const char *good[] = { "net.ipv4.tcpstate_timewait_len_ms=1000" };
    ts_scn *s;
    memset(&o, 0, sizeof o);
    o.mem = th_mem();
    o.sysctl = bad;
    o.nsysctl = 1;
    CHECK(ts_scn_new(ts_scenario_find("lifecycle"), &o, err, sizeof err) == NULL);
    CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    o.sysctl = bad_value;
    CHECK(ts_scn_new(ts_scenario_find("lifecycle"), &o, err, sizeof err) == NULL);
    o.sysctl = no_eq;
    CHECK(ts_scn_new(ts_scenario_find("lifecycle"), &o, err, sizeof err) == NULL);
    CHECK(strstr(err, "tcp_fin_timeout") != NULL);
    /* A shorter TIME_WAIT shows in when the run ends. */
    o.sysctl = good;
    s = ts_scn_new(ts_scenario_find("lifecycle"), &o, err, sizeof err);
    CHECK(s != NULL);
    CHECK_EQ(ts_scn_run(s), 0);
    CHECK(ts_sim_now(ts_scn_sim(s)) < 2000000);
    ts_scn_free(s);
}

/* ------------------------------------------------------------- diagram */

static char *diagram_dot(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ts_diagram_dot(f);
    fclose(f);
    return buf;
}

/* Does an edge "from -> to" carry the row's label line ("event / action",
 * a whole line of its label: after '"' or "\n", before '"' or "\n")? */
static int dot_has_row(const char *dot, const ts_transition_row *r)
{
    char head[64], line[200];
    const char *to = ts_state_name(r->to);
    snprintf(line, sizeof line, "%s%s%s", r->event,
             strcmp(r->action, "-") != 0 ? " / " : "",
             strcmp(r->action, "-") != 0 ? r->action : "");
    for (int pass = 0; pass < 2; pass++) {
        const char *p = dot;
        if (pass == 1 && r->to != TS_CLOSE)
            break;
        snprintf(head, sizeof head, "  %s -> %s [", ts_state_name(r->from),
                 pass ? "CLOSED_END" : to);
        while ((p = strstr(p, head)) != NULL) {
            const char *eol = strchr(p, '\n');
            size_t n = eol ? (size_t)(eol - p) : strlen(p);
            char edge[2400];
            snprintf(edge, sizeof edge, "%.*s", (int)n, p);
            for (const char *q = edge; (q = strstr(q, line)) != NULL; q++) {
                char after = q[strlen(line)];
                int starts = (q > edge && q[-1] == '"') || (q - edge >= 2 && q[-1] == 'n' &&
                                                            q[-2] == '\\');
                int ends = after == '"' || after == '\\';
                if (starts && ends)
                    return 1;
            }
            p += strlen(head);
        }
    }
    return 0;
}

TS_TEST(sim_diagram_dot_has_every_row)
{
    size_t n;
    const ts_transition_row *t = ts_transition_table(&n);
    char *dot = diagram_dot();
    CHECK(dot != NULL && n > 20);
    CHECK(strncmp(dot, "//", 2) == 0 && strstr(dot, "digraph tcp_states {"));
    for (size_t i = 0; i < n; i++)
        if (!dot_has_row(dot, &t[i])) {
            th_fail(__FILE__, __LINE__, "row %zu (%s -> %s: %s) is not an edge", i,
                    ts_state_name(t[i].from), ts_state_name(t[i].to), t[i].event);
            break;
        }
    free(dot);
}

TS_TEST(sim_diagram_dot_renders)
{
    char path[] = "/tmp/tcpstate-dot-XXXXXX", cmd[200], svg[4096];
    char *dot;
    int fd, edges;
    FILE *p;
    size_t got;
    if (system("command -v dot >/dev/null 2>&1") != 0)
        TS_SKIP("graphviz 'dot' is not installed (Debian: apt-get install graphviz)");
    dot = diagram_dot();
    CHECK(dot != NULL);
    edges = count_lines(dot, " [id=\"e");
    fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, dot, strlen(dot)) == (ssize_t)strlen(dot));
    close(fd);
    free(dot);
    snprintf(cmd, sizeof cmd, "dot -Tsvg %s 2>&1 | grep -c 'class=\"edge\"'", path);
    p = popen(cmd, "r");
    CHECK(p != NULL);
    got = fread(svg, 1, sizeof svg - 1, p);
    svg[got] = '\0';
    pclose(p);
    unlink(path);
    /* every edge of the source is drawn (and the invisible layout edges) */
    CHECK(atoi(svg) >= edges);
    CHECK(edges > 10);
}

/* ------------------------------------------- a scenario outside the table */

/* The kit is enough for a new scenario in a few lines: a SYN into a link
 * that loses everything. Linux 6.18 sends SYNs at 0, 1, 2, 3, 4, 5, 7, 11,
 * 19, 35 and 67 s and connect() fails with ETIMEDOUT at 131 s
 * (LINUX_BEHAVIOUR.md: tcp_syn_retries 6 + tcp_syn_linear_timeouts 4). */
static void scn_syn_blackhole(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh client = { .close = SCN_CLOSE_AFTER_IO };
    static const ts_sim_link cut = { .loss = 1.0 };
    if (ev->kind == TS_SCN_START) {
        scn_link_set(s, SCN_CLIENT, SCN_SERVER, &cut);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
    } else if (ev->kind == TS_SCN_END) {
        scn_expect_err(s, scn_nth_peer(s, SCN_CLIENT, 0), TS_ETIMEDOUT);
        scn_expect_path(s, SCN_CLIENT, "CLOSED SYN_SENT CLOSED");
        scn_expect_gone(s);
    }
}

typedef struct syn_log {
    uint64_t t[16];
    int n, lost;
} syn_log;

static void log_syns(void *user, const ts_trace_ev *ev)
{
    syn_log *l = user;
    if (ev->kind == TS_TRACE_TX && (ev->flags & TS_TH_SYN) && l->n < 16)
        l->t[l->n++] = ev->t_us;
    if (ev->kind == TS_TRACE_LOST)
        l->lost++;
}

TS_TEST(sim_custom_scenario_syn_timeout)
{
    static const ts_scenario sc = { "syn-blackhole", "SYNs into a black hole",
                                    scn_syn_blackhole };
    static const uint64_t want[] = { 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 };
    syn_log log;
    ts_scn_opts o;
    char err[256];
    ts_scn *s;
    int r;
    memset(&log, 0, sizeof log);
    memset(&o, 0, sizeof o);
    o.mem = th_mem();
    o.on_event = log_syns;
    o.event_user = &log;
    s = ts_scn_new(&sc, &o, err, sizeof err);
    CHECK(s != NULL);
    r = ts_scn_run(s);
    if (r != 0)
        th_fail(__FILE__, __LINE__, "%s", ts_scn_failure(s));
    CHECK_EQ(ts_sim_now(ts_scn_sim(s)), 131000000);
    ts_scn_free(s);
    CHECK_EQ(log.n, 11);
    CHECK_EQ(log.lost, 11);
    for (int i = 0; i < 11; i++)
        CHECK_EQ(log.t[i], want[i] * 1000000);
}

/* Socket options in a behaviour: SO_LINGER {1, 0} turns the client's close
 * into a RST, so there is no TIME_WAIT. Linux's tcp_close counts this as
 * TCPAbortOnData (TCPAbortOnLinger is for TCP_LINGER2 < 0). */
static void scn_linger0(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 10, .expect = 10, .close = SCN_CLOSE_ON_EOF };
    static const scn_beh client = { .send = 10, .expect = 10, .close = SCN_CLOSE_AFTER_IO,
                                    .opt = { { TS_SOL_SOCKET, TS_SO_LINGER, 0 } } };
    if (ev->kind == TS_SCN_START) {
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
    } else if (ev->kind == TS_SCN_END) {
        scn_expect_path(s, SCN_CLIENT, "CLOSED SYN_SENT ESTABLISHED CLOSED");
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPAbortOnData", 1);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTW", 0);
        scn_expect_gone(s);
    }
}

TS_TEST(sim_custom_scenario_socket_options)
{
    static const ts_scenario sc = { "linger0", "SO_LINGER 0", scn_linger0 };
    ts_scn_opts o;
    char err[256];
    ts_scn *s;
    memset(&o, 0, sizeof o);
    o.mem = th_mem();
    s = ts_scn_new(&sc, &o, err, sizeof err);
    CHECK(s != NULL);
    if (ts_scn_run(s) != 0)
        th_fail(__FILE__, __LINE__, "%s", ts_scn_failure(s));
    CHECK(ts_sim_now(ts_scn_sim(s)) < 1000000); /* no 60 s TIME_WAIT */
    ts_scn_free(s);
}
