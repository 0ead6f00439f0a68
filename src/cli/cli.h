/*
 * cli.h — the `tcpstate` command's subcommands (private to src/cli).
 *
 * Each takes argv with argv[0] = the subcommand's name and returns the
 * process exit status: 0 success, 1 the run failed (a scenario's checks),
 * 2 a usage error (reported as one line on stderr naming the bad word).
 */
#ifndef TS_CLI_H
#define TS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TS_EXIT_OK 0
#define TS_EXIT_FAIL 1
#define TS_EXIT_USAGE 2

int ts_cli_sim(int argc, char **argv);
int ts_cli_diagram(int argc, char **argv);

void ts_cli_sim_help(FILE *out);
void ts_cli_diagram_help(FILE *out);

/* "tcpstate CMD: " + message + "\n" on stderr; returns TS_EXIT_USAGE. */
int ts_cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The candidate nearest to word by edit distance, if it is a likely typo
 * (at most a third of its letters wrong); NULL otherwise. */
const char *ts_cli_closest(const char *word, const char *const *cands, size_t n);

/* Option parsing shared by the subcommands: argv[*i] is "--name" or
 * "--name=value". Returns 1 when it is that option (value set, *i moved
 * past a separate value), 0 when it is not, -1 after reporting a missing
 * value. */
int ts_cli_opt(int argc, char **argv, int *i, const char *cmd, const char *name,
               const char **value);

#endif
