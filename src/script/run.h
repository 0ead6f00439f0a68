/*
 * run.h — the script runner: executes a parsed packetdrill script against a
 * target (target.h) and reports PASS / FAIL / SKIP with what went wrong and
 * the exchange up to that point.
 *
 *   ts_run_opts o = { 0 };  o.target = ts_target_by_name("tcpstate");
 *   o.tolerance_usecs = -1; o.tolerance_percent = -1;      (target defaults)
 *   ts_run_result r;
 *   ts_run_file("x.pkt", &o, &r);   ts_run_print(stdout, "x.pkt", &r);
 *   ts_run_result_free(&r);
 *
 * Times: the tcpstate target runs in virtual time with tolerance 0 µs and
 * 0 %; the linux target uses packetdrill's 4000 µs and 12.5 %. A script's
 * own --tolerance_* options override those defaults; opts override both.
 */
#ifndef TS_SCRIPT_RUN_H
#define TS_SCRIPT_RUN_H

#include <stdio.h>

#include "drv/ladder.h"
#include "script/script.h"
#include "script/target.h"

enum ts_run_status {
    TS_RUN_PASS = 0,
    TS_RUN_FAIL = 1,   /* an event did not go as the script says (or a leak) */
    TS_RUN_SKIP = 2,   /* "// tcpstate-only" on another target */
    TS_RUN_ERROR = 3   /* the script cannot run: syntax error, unreadable file */
};

typedef struct ts_run_opts {
    const ts_target_ops *target;   /* NULL: tcpstate */
    long tolerance_usecs;          /* < 0: the script's or the target's default */
    double tolerance_percent;      /* < 0: same */
    int verbose;                   /* log every event, packet and call */
    FILE *log;                     /* where verbose output goes; NULL: stdout */
    int dry_run;                   /* parse only */
} ts_run_opts;

typedef struct ts_run_result {
    int status;                    /* enum ts_run_status */
    int line, col;                 /* the failing line (0 when none) */
    char message[640];             /* what was expected, what happened */
    char script[320];              /* the failing event as written */
    char actual[320];              /* what the stack did, in script terms, with time */
    char reason[256];              /* TS_RUN_SKIP: why */
    ts_trace_ev *trace;            /* the exchange up to the failure */
    size_t ntrace, captrace;
    ts_trace_host hosts[2];        /* 0: the stack, 1: the script's peer */
    size_t events_run;
    ts_arena *arena;               /* notes of the trace */
} ts_run_result;

/* Runs a parsed script. Returns r->status. r must be freed with
 * ts_run_result_free() whatever the outcome. */
int ts_run_script(const ts_script *s, const ts_run_opts *o, ts_run_result *r);
/* Loads, parses and runs path (a syntax error gives TS_RUN_ERROR with line
 * and column). */
int ts_run_file(const char *path, const ts_run_opts *o, ts_run_result *r);
void ts_run_result_free(ts_run_result *r);

/* "tcpstate" or "linux"; NULL when unknown. */
const ts_target_ops *ts_target_by_name(const char *name);

/* The human report of one script: "PASS path", or "FAIL path:line: msg"
 * then the script and actual lines and the ladder diagram. */
void ts_run_print(FILE *out, const char *path, const ts_run_result *r);
/* The same as one JSON object on one line (JSON Lines). */
void ts_run_print_json(FILE *out, const char *path, const ts_run_result *r);

/* tcpstate target only: frees the stack and reports bytes it did not give
 * back (0 when none). Called by the runner before close(). */
size_t ts_target_tcpstate_finish(ts_target *t);
/* Transition coverage over every tcpstate-target run of this process: 1 if
 * a transition (from, to, cause) happened in some script. `tcpstate script
 * --coverage` compares it with the transition table. */
int ts_target_tcpstate_covered(int from, int to, int cause);

#endif
