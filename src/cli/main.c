/*
 * main.c — the `tcpstate` command: dispatches to its subcommands and says
 * how to use them.
 *
 *   tcpstate sim SCENARIO [options]    simulate (sim_cmd.c)
 *   tcpstate diagram [--format F]      the state machine (diagram_cmd.c)
 *   tcpstate script ...                packetdrill scripts (src/script)
 *   tcpstate help [COMMAND] | --help | --version
 *
 * Usage errors are one line on stderr naming the bad word, exit status 2.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcpstate.h"
#include "cli/cli.h"
#include "cli/tun_cmd.h"

/* The script runner lives in src/script and is built by another part of
 * the tree; until its header exists this build says so instead of
 * failing to link. */
#if defined(__has_include)
#if __has_include("script/cli_script.h")
#include "script/cli_script.h"
#define TS_HAVE_SCRIPT 1
#endif
#endif

int ts_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tcpstate%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return TS_EXIT_USAGE;
}

/* Levenshtein distance, capped at 32 characters (longer words are never
 * typos of our short names). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[33];
    if (la > 32 || lb > 32)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

const char *ts_cli_closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bd = 99;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < bd) {
            bd = d;
            best = cands[i];
        }
    }
    return best && bd * 3 <= strlen(best) ? best : NULL;
}

int ts_cli_opt(int argc, char **argv, int *i, const char *cmd, const char *name,
               const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        ts_cli_usage(cmd, "option '%s' needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

static void main_help(FILE *out)
{
    fputs("usage: tcpstate COMMAND [ARGS]\n"
          "\n"
          "tcpstate is a userspace TCP/IPv4 stack whose heart is a Linux-faithful TCP\n"
          "connection state machine. Its commands:\n"
          "\n"
          "  sim SCENARIO [OPTIONS]   run a scenario on a simulated network in virtual\n"
          "                           time and draw the exchange as a ladder diagram\n"
          "                           (or JSON Lines); `tcpstate sim --list` names them\n"
          "  diagram [--format F]     print the TCP state machine tcpstate obeys:\n"
          "                           text (default), dot (Graphviz) or json\n"
          "  script [ARGS]            run packetdrill scripts against tcpstate or the\n"
          "                           Linux kernel (`tcpstate script --help`)\n"
          "  tun [OPTIONS] COMMAND    tcpstate on a TUN device against real peers (root)\n"
          "  replay FILE              re-run a record made by `tun --record`\n"
          "  help [COMMAND]           this text, or a command's options\n"
          "\n"
          "  --help, -h               this text\n"
          "  --version                the version\n"
          "\n"
          "Examples:\n"
          "  tcpstate sim lifecycle\n"
          "  tcpstate sim lossy --seed 7 --json > trace.jsonl\n"
          "  tcpstate sim lifecycle --sysctl net.ipv4.tcpstate_timewait_len_ms=5000\n"
          "  tcpstate diagram --format dot | dot -Tsvg > states.svg\n"
          "\n"
          "Exit status: 0 success, 1 a run failed its checks, 2 a usage error.\n",
          out);
}

static int run_script(int argc, char **argv)
{
#ifdef TS_HAVE_SCRIPT
    return ts_cli_script(argc, argv);
#else
    (void)argc;
    (void)argv;
    return ts_cli_usage("script", "not available in this build");
#endif
}

static int help_for(const char *cmd)
{
    if (!cmd) {
        main_help(stdout);
        return TS_EXIT_OK;
    }
    if (strcmp(cmd, "sim") == 0) {
        ts_cli_sim_help(stdout);
        return TS_EXIT_OK;
    }
    if (strcmp(cmd, "diagram") == 0) {
        ts_cli_diagram_help(stdout);
        return TS_EXIT_OK;
    }
    if (strcmp(cmd, "tun") == 0) {
        ts_cli_tun_help(stdout);
        return TS_EXIT_OK;
    }
    if (strcmp(cmd, "replay") == 0) {
        ts_cli_replay_help(stdout);
        return TS_EXIT_OK;
    }
    if (strcmp(cmd, "script") == 0) {
        char *args[] = { "script", "--help", NULL };
        return run_script(2, args);
    }
    return ts_cli_usage("help", "unknown command '%s' (commands: sim, diagram, script)", cmd);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    if (!cmd) {
        main_help(stderr);
        return TS_EXIT_USAGE;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return help_for(NULL);
    if (strcmp(cmd, "help") == 0) {
        if (argc > 3)
            return ts_cli_usage("help", "unexpected argument '%s'", argv[3]);
        return help_for(argc > 2 ? argv[2] : NULL);
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("tcpstate %s\n", TS_VERSION);
        return TS_EXIT_OK;
    }
    if (strcmp(cmd, "sim") == 0)
        return ts_cli_sim(argc - 1, argv + 1);
    if (strcmp(cmd, "diagram") == 0)
        return ts_cli_diagram(argc - 1, argv + 1);
    if (strcmp(cmd, "script") == 0)
        return run_script(argc - 1, argv + 1);
    if (strcmp(cmd, "tun") == 0)
        return ts_cli_tun(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0)
        return ts_cli_replay(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return ts_cli_usage(NULL, "unknown option '%s' (try tcpstate --help)", cmd);
    {
        static const char *const cmds[] = { "sim", "diagram", "script", "tun", "replay", "help" };
        const char *near = ts_cli_closest(cmd, cmds, sizeof cmds / sizeof cmds[0]);
        if (near)
            return ts_cli_usage(NULL, "unknown command '%s' (did you mean %s?)", cmd, near);
    }
    return ts_cli_usage(NULL,
                        "unknown command '%s' (commands: sim, diagram, script, tun, replay, help)",
                        cmd);
}
