/*
 * replay_cmd.c — `tcpstate replay FILE`: re-runs a record made by
 * `tcpstate tun --record` on a simulated stack (src/drv/replay.c) and says
 * whether it reproduced every transition and datagram, or where it first
 * did not. With --json or --ladder it also shows the replayed exchange,
 * so a recorded real session can be read as a ladder diagram.
 *
 * Exit status: 0 identical, 1 a difference (stdout names it), 2 a usage
 * error or a record that cannot be read (truncated, corrupt: one line on
 * stderr with the byte offset).
 */
#include "cli/tun_cmd.h"

#include <stdlib.h>
#include <string.h>

#include "tcpstate.h"
#include "cli/cli.h"
#include "drv/ladder.h"
#include "drv/replay.h"

#define CMD "replay"

void ts_cli_replay_help(FILE *out)
{
    fputs("usage: tcpstate replay FILE [--json | --ladder]\n"
          "\n"
          "Replays a record made by `tcpstate tun --record FILE`: a fresh stack gets\n"
          "the recorded datagrams, timer calls and application calls at their recorded\n"
          "times, and the recorded ISNs, ports and timestamp offsets; every result,\n"
          "outgoing datagram and state transition must be the same. Prints a summary,\n"
          "or the first difference (record number, byte offset, time, what differed).\n"
          "\n"
          "Options:\n"
          "  --json      the replayed segments and transitions as JSON Lines (stdout);\n"
          "              the summary goes to stderr\n"
          "  --ladder    the replayed exchange as a ladder diagram, then the summary\n"
          "\n"
          "Exit status: 0 identical, 1 a difference, 2 usage error or an unreadable,\n"
          "truncated or corrupt record.\n",
          out);
}

typedef struct view {
    int json, ladder;
    ts_trace_ev *evs;  /* --ladder: drawn at the end, once both columns' */
    size_t n, cap;     /* addresses are known */
    int oom;
    ts_trace_host hosts[2];
} view;

/* Host 0 is the recorded stack, host 1 its peer; their addresses come
 * from the first segment. */
static void on_event(void *u, const ts_trace_ev *ev)
{
    view *v = u;
    if (!v->hosts[0].ip && (ev->kind == TS_TRACE_TX || ev->kind == TS_TRACE_RX ||
                            ev->kind == TS_TRACE_DROP)) {
        int tx = ev->kind == TS_TRACE_TX;
        v->hosts[0].ip = tx ? ev->src.ip : ev->dst.ip;
        v->hosts[1].ip = tx ? ev->dst.ip : ev->src.ip;
    }
    if (v->json) {
        ts_json_event(stdout, v->hosts, 2, ev);
        return;
    }
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        ts_trace_ev *ne = realloc(v->evs, cap * sizeof *ne);
        if (!ne) {
            v->oom = 1;
            return;
        }
        v->evs = ne;
        v->cap = cap;
    }
    v->evs[v->n] = *ev;
    v->evs[v->n++].note = NULL; /* replays make no notes */
}

static void draw(view *v)
{
    ts_ladder_opts o = { v->hosts, 2, 0, 0 };
    if (v->n)
        ts_ladder_render(stdout, &o, v->evs, v->n);
    if (v->oom)
        fprintf(stderr, "tcpstate replay: out of memory: the diagram is cut short\n");
}

int ts_cli_replay(int argc, char **argv)
{
    const char *file = NULL;
    view v;
    memset(&v, 0, sizeof v);
    v.hosts[0].name = "tcpstate";
    v.hosts[1].name = "peer";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ts_cli_replay_help(stdout);
            return TS_EXIT_OK;
        } else if (!strcmp(argv[i], "--json")) {
            v.json = 1;
        } else if (!strcmp(argv[i], "--ladder")) {
            v.ladder = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return ts_cli_usage(CMD, "unknown option '%s' (see tcpstate help replay)", argv[i]);
        } else if (file) {
            return ts_cli_usage(CMD, "unexpected argument '%s' (one record file)", argv[i]);
        } else {
            file = argv[i];
        }
    }
    if (!file)
        return ts_cli_usage(CMD, "a record file is required");
    if (v.json && v.ladder)
        return ts_cli_usage(CMD, "--json and --ladder do not mix: choose one");
    char err[512], msg[2048];
    ts_rec_reader *r = ts_rec_open(file, err, sizeof err);
    if (!r) {
        fprintf(stderr, "tcpstate replay: %s\n", err);
        return TS_EXIT_USAGE;
    }
    ts_replay_opts o = { (v.json || v.ladder) ? on_event : NULL, &v };
    ts_replay_stats st;
    int rc = ts_replay(r, &o, &st, msg, sizeof msg);
    ts_rec_close(r);
    if (v.ladder)
        draw(&v);
    free(v.evs);
    if (rc == TS_REPLAY_BAD_FILE) {
        fprintf(stderr, "tcpstate replay: %s: %s\n", file, msg);
        return TS_EXIT_USAGE;
    }
    FILE *out = v.json ? stderr : stdout;
    if (rc == TS_REPLAY_DIFFERS) {
        fprintf(out, "replay %s: DIFFERS: %s\n", file, msg);
        return TS_EXIT_FAIL;
    }
    fprintf(out,
            "replay %s: identical: %llu records over %llu.%06llu s: %llu datagrams in, "
            "%llu out, %llu timer runs, %llu calls, %llu transitions, %llu hook values\n",
            file, (unsigned long long)st.records, (unsigned long long)(st.t_end_us / 1000000),
            (unsigned long long)(st.t_end_us % 1000000), (unsigned long long)st.inputs,
            (unsigned long long)st.datagrams_out, (unsigned long long)st.advances,
            (unsigned long long)st.calls, (unsigned long long)st.transitions,
            (unsigned long long)st.hooks);
    return TS_EXIT_OK;
}
