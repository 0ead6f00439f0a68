/*
 * sim_cmd.c — `tcpstate sim`: runs a named scenario (src/drv/scenarios.c)
 * on the simulated network and prints what happened.
 *
 * Text output: a header (what is simulated, on which links), the ladder
 * diagram as the run goes, then a summary (the states each connection went
 * through, the bytes moved, the network's losses, the non-zero counters,
 * the scenario's checks). --json prints JSON Lines instead (ladder.h), and
 * --counters adds every non-zero counter in nstat's format.
 *
 * Every argument is checked before anything runs: a bad one is a single
 * line on stderr and exit status 2, with nothing on stdout.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate.h"
#include "cli/cli.h"
#include "drv/ladder.h"
#include "drv/scenarios.h"

#define CMD "sim"
#define MAX_SYSCTL 256

typedef struct sim_args {
    const char *scenario;
    uint64_t seed, limit_us, delay_us;
    int loss_set, delay_set;
    double loss;
    int json, counters, absolute, no_rx, list;
    const char *sysctl[MAX_SYSCTL];
    size_t nsysctl;
    char *owned[MAX_SYSCTL]; /* lines read from --sysctl-file */
    size_t nowned;
} sim_args;

typedef struct sim_out {
    ts_ladder *ladder;
    int json;
    const ts_trace_host *hosts;
    size_t nhosts;
} sim_out;

void ts_cli_sim_help(FILE *out)
{
    fputs("usage: tcpstate sim SCENARIO [OPTIONS]\n"
          "       tcpstate sim --list\n"
          "\n"
          "Runs SCENARIO: TCP stacks on a simulated network (client 192.0.2.1, server\n"
          "192.0.2.2, ...) in virtual time, so a 60 s TIME_WAIT takes no time at all.\n"
          "The same seed gives the same output, byte for byte. Prints a ladder diagram\n"
          "(time, each host's states, each segment as an arrow with tcpdump's flags,\n"
          "seq, ack, win and len, each drop) and a summary.\n"
          "\n"
          "Options:\n"
          "  --list                    name every scenario with what it shows\n"
          "  --seed N                  seed of the ISNs, ports and link decisions (1)\n"
          "  --loss P                  lose P percent of the datagrams on every link\n"
          "  --delay MS                one-way delay of every link in ms (10)\n"
          "  --limit SECONDS           stop at this virtual time (86400)\n"
          "  --json                    JSON Lines instead of the ladder: one object per\n"
          "                            state change and per segment, then an \"end\" line\n"
          "  --counters                after the run, every non-zero counter per host in\n"
          "                            nstat's format (TcpActiveOpens 1, TcpExtTW 1, ...)\n"
          "  --sysctl net.ipv4.NAME=VALUE   set a tunable on every host (repeatable);\n"
          "                            Linux's names: tcp_fin_timeout, tcp_syn_retries, ...\n"
          "  --sysctl-file FILE        the same from a sysctl.conf-style file\n"
          "                            (NAME = VALUE lines, # comments)\n"
          "  --absolute                raw seq/ack in the ladder (default: relative to\n"
          "                            each direction's first SYN)\n"
          "  --no-rx                   leave out the arrival lines of segments taken\n"
          "  --help, -h                this text\n"
          "\n"
          "Exit status: 0 the scenario's checks passed, 1 they failed, 2 usage error.\n",
          out);
}

/* ------------------------------------------------------------- parsing */

static int parse_u64(const char *opt, const char *v, uint64_t *out)
{
    char *end;
    unsigned long long x;
    errno = 0;
    if (!*v || *v == '-' || *v == '+')
        return ts_cli_usage(CMD, "bad value '%s' for %s: expected a whole number", v, opt);
    x = strtoull(v, &end, 0);
    if (errno || *end)
        return ts_cli_usage(CMD, "bad value '%s' for %s: expected a whole number", v, opt);
    *out = x;
    return 0;
}

/* A finite number in [lo, hi], with an optional '%' when pct. */
static int parse_num(const char *opt, const char *v, double lo, double hi, int pct, double *out)
{
    char *end;
    double x;
    errno = 0;
    x = strtod(v, &end);
    if (pct && *end == '%')
        end++;
    if (!*v || errno || *end || !(x >= lo && x <= hi))
        return ts_cli_usage(CMD, "bad value '%s' for %s: expected a number from %g to %g",
                            v, opt, lo, hi);
    *out = x;
    return 0;
}

static int check_sysctl(const char *where, const char *item)
{
    ts_config scratch;
    char name[128], err[256];
    const char *eq = strchr(item, '=');
    size_t n = eq ? (size_t)(eq - item) : 0;
    if (!eq || n == 0 || n >= sizeof name)
        return ts_cli_usage(CMD, "%sbad sysctl '%s': expected net.ipv4.NAME=VALUE", where,
                            item);
    memcpy(name, item, n);
    name[n] = '\0';
    ts_config_default(&scratch);
    if (ts_config_set(&scratch, name, eq + 1, err, sizeof err) != 0)
        return ts_cli_usage(CMD, "%s%s", where, err);
    return 0;
}

static int add_sysctl(sim_args *a, const char *item)
{
    if (a->nsysctl >= MAX_SYSCTL)
        return ts_cli_usage(CMD, "too many sysctl settings (at most %d)", MAX_SYSCTL);
    a->sysctl[a->nsysctl++] = item;
    return 0;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* One line of a sysctl.conf-style file: "name = value", '#'/';' comments. */
static int file_line(sim_args *a, const char *file, int lineno, char *line)
{
    char where[300], *eq, *item;
    size_t n;
    line[strcspn(line, "#;")] = '\0';
    line = trim(line);
    if (!*line)
        return 0;
    snprintf(where, sizeof where, "%s:%d: ", file, lineno);
    eq = strchr(line, '=');
    if (!eq)
        return ts_cli_usage(CMD, "%sexpected NAME = VALUE, got '%s'", where, line);
    *eq = '\0';
    n = strlen(trim(line)) + strlen(trim(eq + 1)) + 2;
    if (a->nowned >= MAX_SYSCTL || !(item = malloc(n)))
        return ts_cli_usage(CMD, "%stoo many settings", where);
    snprintf(item, n, "%s=%s", trim(line), trim(eq + 1));
    a->owned[a->nowned++] = item;
    if (check_sysctl(where, item) != 0)
        return TS_EXIT_USAGE;
    return add_sysctl(a, item);
}

static int read_sysctl_file(sim_args *a, const char *file)
{
    char line[512];
    int lineno = 0, r = 0;
    FILE *f = fopen(file, "r");
    if (!f)
        return ts_cli_usage(CMD, "cannot read '%s': %s", file, strerror(errno));
    while (r == 0 && fgets(line, sizeof line, f))
        r = file_line(a, file, ++lineno, line);
    fclose(f);
    return r;
}

/* Options with a value. Returns 1 when argv[*i] was one (handled), 0 when
 * it was not, or an exit status + 2 on error (>= 2). */
static int value_opt(sim_args *a, int argc, char **argv, int *i)
{
    static const char *const names[] = { "--seed", "--loss", "--delay", "--limit",
                                         "--sysctl", "--sysctl-file" };
    const char *v = NULL;
    double x;
    int k, m = 0;
    for (k = 0; k < 6; k++)
        if ((m = ts_cli_opt(argc, argv, i, CMD, names[k], &v)) != 0)
            break;
    if (m == 0)
        return 0;
    if (m < 0)
        return TS_EXIT_USAGE;
    switch (k) {
    case 0:
        return parse_u64("--seed", v, &a->seed) ? TS_EXIT_USAGE : 1;
    case 1:
        if (parse_num("--loss", v, 0, 100, 1, &x))
            return TS_EXIT_USAGE;
        a->loss_set = 1;
        a->loss = x / 100.0;
        return 1;
    case 2:
        if (parse_num("--delay", v, 0, 3600000, 0, &x))
            return TS_EXIT_USAGE;
        a->delay_set = 1;
        a->delay_us = (uint64_t)(x * 1000.0 + 0.5);
        return 1;
    case 3:
        if (parse_num("--limit", v, 0.000001, 1e9, 0, &x))
            return TS_EXIT_USAGE;
        a->limit_us = (uint64_t)(x * 1e6 + 0.5);
        return 1;
    case 4:
        return check_sysctl("", v) || add_sysctl(a, v) ? TS_EXIT_USAGE : 1;
    default:
        return read_sysctl_file(a, v) ? TS_EXIT_USAGE : 1;
    }
}

static int flag_opt(sim_args *a, const char *arg)
{
    static const struct { const char *name; size_t off; } flags[] = {
        { "--json", offsetof(sim_args, json) },
        { "--counters", offsetof(sim_args, counters) },
        { "--absolute", offsetof(sim_args, absolute) },
        { "--no-rx", offsetof(sim_args, no_rx) },
        { "--list", offsetof(sim_args, list) },
    };
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
        if (strcmp(arg, flags[k].name) == 0) {
            *(int *)((char *)a + flags[k].off) = 1;
            return 1;
        }
    return 0;
}

static int unknown_option(const char *arg)
{
    static const char *const opts[] = { "--seed", "--loss", "--delay", "--limit", "--json",
                                        "--counters", "--sysctl", "--sysctl-file",
                                        "--absolute", "--no-rx", "--list", "--help" };
    const char *near = ts_cli_closest(arg, opts, sizeof opts / sizeof opts[0]);
    if (near)
        return ts_cli_usage(CMD, "unknown option '%s' (did you mean %s?)", arg, near);
    return ts_cli_usage(CMD, "unknown option '%s' (see tcpstate sim --help)", arg);
}

static int unknown_scenario(const char *name)
{
    const char *names[64], *near;
    const ts_scenario *sc;
    size_t n = 0;
    while (n < 64 && (sc = ts_scenario_at(n)) != NULL)
        names[n++] = sc->name;
    near = ts_cli_closest(name, names, n);
    if (near)
        return ts_cli_usage(CMD, "unknown scenario '%s' (did you mean %s?)", name, near);
    return ts_cli_usage(CMD, "unknown scenario '%s' (tcpstate sim --list names them)", name);
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(sim_args *a, int argc, char **argv)
{
    a->seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int r;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            ts_cli_sim_help(stdout);
            return TS_EXIT_OK;
        }
        if (flag_opt(a, arg))
            continue;
        r = value_opt(a, argc, argv, &i);
        if (r == 1)
            continue;
        if (r >= 2)
            return r;
        if (arg[0] == '-')
            return unknown_option(arg);
        if (a->scenario)
            return ts_cli_usage(CMD, "unexpected argument '%s' (one scenario at a time)", arg);
        if (!ts_scenario_find(arg))
            return unknown_scenario(arg);
        a->scenario = arg;
    }
    if (!a->scenario && !a->list)
        return ts_cli_usage(CMD, "which scenario? (tcpstate sim --list names them)");
    return -1;
}

/* -------------------------------------------------------------- output */

static void on_event(void *user, const ts_trace_ev *ev)
{
    sim_out *o = user;
    if (o->json)
        ts_json_event(stdout, o->hosts, o->nhosts, ev);
    else
        ts_ladder_event(o->ladder, ev);
}

static void print_list(void)
{
    const ts_scenario *sc;
    printf("scenarios (tcpstate sim NAME):\n");
    for (size_t i = 0; (sc = ts_scenario_at(i)) != NULL; i++)
        printf("  %-20s %s\n", sc->name, sc->summary);
}

static void print_header(const sim_args *a, ts_scn *s)
{
    const ts_scenario *sc = ts_scenario_find(a->scenario);
    ts_sim *sim = ts_scn_sim(s);
    char links[160];
    ts_scn_describe_links(s, links, sizeof links);
    printf("tcpstate %s: simulation \"%s\", seed %llu\n", TS_VERSION, sc->name,
           (unsigned long long)a->seed);
    printf("  %s\n", sc->summary);
    printf("  hosts:");
    for (size_t h = 0; h < ts_sim_host_count(sim); h++) {
        uint32_t ip = ts_sim_host_ip((int)h);
        printf("%s %s %u.%u.%u.%u", h ? "," : "", ts_sim_host_name(sim, (int)h), ip >> 24,
               (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    }
    printf("; links: %s\n", links);
    printf("\n  how to read: flags as tcpdump prints them (S SYN, . ACK, P PSH, F FIN, R RST);\n"
           "  seq/ack %s; win is the header field;\n"
           "  \"* ...\" is what an application does; (#N cause) is why connection N entered\n"
           "  the state beside it; X marks a segment lost on the way or dropped on arrival.\n\n",
           a->absolute ? "are raw" : "relative to each side's SYN (--absolute: raw)");
}

static const char *end_text(int why)
{
    switch (why) {
    case TS_SIM_STOPPED: return "the scenario stopped it";
    case TS_SIM_IDLE: return "nothing in flight and no timer left";
    case TS_SIM_LIMIT: return "the time limit";
    default: return "a stack kept sending at one instant (stopped)";
    }
}

/* "TcpActiveOpens 1  TcpOutSegs 6 ..." wrapped under a host tag. */
static void summary_counters(ts_sim *sim)
{
    const char *name;
    for (size_t h = 0; h < ts_sim_host_count(sim); h++) {
        ts_stack *st = ts_sim_stack(sim, (int)h);
        int col = 0;
        printf("  %-12s", ts_sim_host_name(sim, (int)h));
        for (size_t i = 0; (name = ts_counter_name(i)) != NULL; i++) {
            uint64_t v = ts_stack_counter(st, i);
            char item[96];
            int n;
            if (!v)
                continue;
            n = snprintf(item, sizeof item, "%s%s %llu", ts_counter_group(i), name,
                         (unsigned long long)v);
            if (col && col + n > 72) {
                printf("\n  %-12s", "");
                col = 0;
            }
            printf("%s%s", col ? "  " : " ", item);
            col += n + 2;
        }
        printf("\n");
    }
}

static void summary_links(ts_sim *sim)
{
    size_t n = ts_sim_host_count(sim);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            ts_sim_link_stats st;
            char tag[80];
            ts_sim_link_stats_get(sim, (int)a, (int)b, &st);
            if (!st.sent)
                continue;
            snprintf(tag, sizeof tag, "%s -> %s", ts_sim_host_name(sim, (int)a),
                     ts_sim_host_name(sim, (int)b));
            printf("  %-22s %llu datagram%s sent, %llu lost, %llu duplicated\n", tag,
                   (unsigned long long)st.sent, st.sent == 1 ? "" : "s",
                   (unsigned long long)st.lost, (unsigned long long)st.dup);
        }
}

static void print_summary(ts_scn *s, int failed)
{
    ts_sim *sim = ts_scn_sim(s);
    uint64_t t = ts_sim_now(sim);
    printf("\nended at %llu.%06llu s: %s\n", (unsigned long long)(t / 1000000),
           (unsigned long long)(t % 1000000), end_text(ts_scn_end_reason(s)));
    printf("\nstates\n");
    ts_scn_print_paths(s, stdout, "  ");
    printf("\ndata\n");
    ts_scn_print_io(s, stdout, "  ");
    printf("\nnetwork\n");
    summary_links(sim);
    printf("\ncounters (non-zero)\n");
    summary_counters(sim);
    if (failed)
        printf("\nchecks: FAILED: %s\n", ts_scn_failure(s));
    else
        printf("\nchecks: all %d passed\n", ts_scn_checks(s));
}

/* nstat's format: "#host" then "NAME VALUE" per non-zero counter. */
static void print_nstat(ts_sim *sim)
{
    const char *name;
    for (size_t h = 0; h < ts_sim_host_count(sim); h++) {
        ts_stack *st = ts_sim_stack(sim, (int)h);
        printf("#%s\n", ts_sim_host_name(sim, (int)h));
        for (size_t i = 0; (name = ts_counter_name(i)) != NULL; i++) {
            uint64_t v = ts_stack_counter(st, i);
            char full[96];
            if (!v)
                continue;
            snprintf(full, sizeof full, "%s%s", ts_counter_group(i), name);
            printf("%-32s%llu\n", full, (unsigned long long)v);
        }
    }
}

static void json_counters(ts_sim *sim)
{
    const char *name;
    uint64_t t = ts_sim_now(sim);
    for (size_t h = 0; h < ts_sim_host_count(sim); h++) {
        ts_stack *st = ts_sim_stack(sim, (int)h);
        int first = 1;
        printf("{\"t\": %llu.%06llu, \"ev\": \"counters\", \"host\": \"%s\", \"counters\": {",
               (unsigned long long)(t / 1000000), (unsigned long long)(t % 1000000),
               ts_sim_host_name(sim, (int)h));
        for (size_t i = 0; (name = ts_counter_name(i)) != NULL; i++) {
            uint64_t v = ts_stack_counter(st, i);
            if (!v)
                continue;
            printf("%s\"%s%s\": %llu", first ? "" : ", ", ts_counter_group(i), name,
                   (unsigned long long)v);
            first = 0;
        }
        printf("}}\n");
    }
}

static void json_finish(ts_sim *sim, int counters)
{
    size_t n = ts_sim_conns(sim, NULL, 0);
    ts_trace_conn *c = calloc(n ? n : 1, sizeof *c);
    if (counters)
        json_counters(sim);
    if (c)
        n = ts_sim_conns(sim, c, n);
    else
        n = 0;
    ts_json_end(stdout, ts_sim_hosts(sim), ts_sim_host_count(sim), ts_sim_now(sim), c, n);
    free(c);
}

/* ------------------------------------------------------------------ run */

static int run(const sim_args *a)
{
    sim_out out = { NULL, a->json, NULL, 0 };
    ts_scn_opts o;
    ts_scn *s;
    char err[320];
    int failed;

    memset(&o, 0, sizeof o);
    o.seed = a->seed;
    o.loss_set = a->loss_set;
    o.loss = a->loss;
    o.delay_set = a->delay_set;
    o.delay_us = a->delay_us;
    o.limit_us = a->limit_us;
    o.sysctl = a->sysctl;
    o.nsysctl = a->nsysctl;
    o.on_event = on_event;
    o.event_user = &out;
    s = ts_scn_new(ts_scenario_find(a->scenario), &o, err, sizeof err);
    if (!s)
        return ts_cli_usage(CMD, "%s", err);
    out.hosts = ts_sim_hosts(ts_scn_sim(s));
    out.nhosts = ts_sim_host_count(ts_scn_sim(s));
    if (!a->json) {
        ts_ladder_opts lo = { out.hosts, out.nhosts, a->absolute, a->no_rx };
        out.ladder = ts_ladder_new(stdout, &lo);
        print_header(a, s);
        ts_ladder_head(out.ladder);
    }
    failed = ts_scn_run(s) != 0;
    if (a->json) {
        json_finish(ts_scn_sim(s), a->counters);
        if (failed)
            fprintf(stderr, "tcpstate sim: %s: checks FAILED: %s\n", a->scenario,
                    ts_scn_failure(s));
    } else {
        ts_ladder_free(out.ladder);
        print_summary(s, failed);
        if (a->counters) {
            printf("\n");
            print_nstat(ts_scn_sim(s));
        }
    }
    ts_scn_free(s);
    return failed ? TS_EXIT_FAIL : TS_EXIT_OK;
}

int ts_cli_sim(int argc, char **argv)
{
    sim_args a;
    int r;
    memset(&a, 0, sizeof a);
    r = parse_args(&a, argc, argv);
    if (r < 0 && a.list)
        print_list();
    else if (r < 0)
        r = run(&a);
    for (size_t i = 0; i < a.nowned; i++)
        free(a.owned[i]);
    return r < 0 ? TS_EXIT_OK : r;
}
