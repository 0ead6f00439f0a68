/*
 * cli_script.c — `tcpstate script`: runs packetdrill scripts on a fresh
 * tcpstate stack (default) or on the Linux kernel, one report per script
 * and a final "N passed, N failed[, N skipped]".
 *
 * Exit status: 0 when nothing failed, 1 when a script failed, 2 on a usage
 * error or when a script could not be parsed (syntax errors win over
 * failures, so CI tells "the test is broken" from "the stack is").
 */
#include "script/cli_script.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "script/run.h"

typedef struct cli {
    ts_run_opts o;
    int json;
    int coverage;
    char **files;
    size_t nfiles, cap;
} cli;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tcpstate script [--target tcpstate|linux] [--tolerance_usecs N]\n"
            "                       [--tolerance_percent P] [--verbose] [--json] [--dry_run]\n"
            "                       FILE.pkt... | DIR\n"
            "Runs packetdrill scripts; a directory means every *.pkt in it, sorted.\n"
            "  --target T             tcpstate (default: virtual time, a fresh stack per\n"
            "                         script) or linux (the kernel, in a private netns)\n"
            "  --tolerance_usecs N    allowed timing error in us (tcpstate 0, linux 4000)\n"
            "  --tolerance_percent P  or P %% of the time since the previous event\n"
            "                         (tcpstate 0, linux 12.5)\n"
            "  --verbose              print every event, packet and call as it runs\n"
            "  --json                 one JSON object per script (JSON Lines)\n"
            "  --dry_run              parse only\n"
            "  --coverage             after the run (tcpstate target), which rows of the\n"
            "                         transition table (tcpstate diagram) the scripts made\n");
}

static int add_file(cli *c, const char *path)
{
    if (c->nfiles == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        char **f = realloc(c->files, cap * sizeof *f);
        if (!f)
            return -1;
        c->files = f;
        c->cap = cap;
    }
    c->files[c->nfiles] = strdup(path);
    if (!c->files[c->nfiles])
        return -1;
    c->nfiles++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.pkt directly in dir, sorted by name. */
static int add_dir(cli *c, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "tcpstate script: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    size_t first = c->nfiles;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".pkt") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                 de->d_name);
        if (add_file(c, path) < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    if (c->nfiles == first) {
        fprintf(stderr, "tcpstate script: no *.pkt file in %s\n", dir);
        return -1;
    }
    qsort(c->files + first, c->nfiles - first, sizeof *c->files, cmp_str);
    return 0;
}

/* "--name VALUE" or "--name=VALUE". */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        double x;
        if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            c->o.verbose = 1;
        } else if (strcmp(a, "--json") == 0) {
            c->json = 1;
        } else if (strcmp(a, "--coverage") == 0) {
            c->coverage = 1;
        } else if (strcmp(a, "--dry_run") == 0 || strcmp(a, "--dry-run") == 0) {
            c->o.dry_run = 1;
        } else if ((v = opt_value(argc, argv, &i, "--target")) != NULL) {
            if (!(c->o.target = ts_target_by_name(v))) {
                fprintf(stderr, "tcpstate script: unknown target '%s' (tcpstate, linux)\n", v);
                return -1;
            }
        } else if ((v = opt_value(argc, argv, &i, "--tolerance_usecs")) != NULL) {
            if (parse_num(v, 0, 1e9, &x) < 0) {
                fprintf(stderr, "tcpstate script: bad --tolerance_usecs '%s'\n", v);
                return -1;
            }
            c->o.tolerance_usecs = (long)x;
        } else if ((v = opt_value(argc, argv, &i, "--tolerance_percent")) != NULL) {
            if (parse_num(v, 0, 100, &x) < 0) {
                fprintf(stderr, "tcpstate script: bad --tolerance_percent '%s' (0..100)\n", v);
                return -1;
            }
            c->o.tolerance_percent = x;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tcpstate script: unknown option '%s'\n", a);
            return -1;
        } else {
            struct stat sb;
            int r = stat(a, &sb) == 0 && S_ISDIR(sb.st_mode) ? add_dir(c, a) : add_file(c, a);
            if (r < 0)
                return -1;
        }
    }
    return 0;
}

/* Prints which rows of the transition table the tcpstate runs exercised. */
static void print_coverage(FILE *out)
{
    size_t n, hit = 0;
    const ts_transition_row *t = ts_transition_table(&n);
    for (size_t i = 0; i < n; i++)
        hit += ts_target_tcpstate_covered(t[i].from, t[i].to, t[i].cause) != 0;
    fprintf(out, "transition coverage: %zu of %zu table rows exercised\n", hit, n);
    for (size_t i = 0; i < n; i++)
        if (!ts_target_tcpstate_covered(t[i].from, t[i].to, t[i].cause))
            fprintf(out, "  not exercised: %-12s -> %-12s %s\n", ts_state_name(t[i].from),
                    ts_state_name(t[i].to), t[i].event);
}

int ts_cli_script(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.o.tolerance_usecs = -1;
    c.o.tolerance_percent = -1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    int rc = parse_args(&c, argc, argv);
    if (c.json)
        c.o.log = stderr; /* keep stdout JSON Lines only */
    if (rc == 0 && c.nfiles == 0) {
        usage(stderr);
        rc = -1;
    }
    int passed = 0, failed = 0, skipped = 0, errors = 0;
    for (size_t i = 0; rc == 0 && i < c.nfiles; i++) {
        ts_run_result r;
        ts_run_file(c.files[i], &c.o, &r);
        if (c.json)
            ts_run_print_json(stdout, c.files[i], &r);
        else
            ts_run_print(stdout, c.files[i], &r);
        passed += r.status == TS_RUN_PASS;
        skipped += r.status == TS_RUN_SKIP;
        failed += r.status == TS_RUN_FAIL || r.status == TS_RUN_ERROR;
        errors += r.status == TS_RUN_ERROR;
        ts_run_result_free(&r);
        fflush(stdout);
    }
    if (rc == 0) {
        if (c.json)
            printf("{\"passed\": %d, \"failed\": %d, \"skipped\": %d}\n", passed, failed,
                   skipped);
        else if (skipped)
            printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
        else
            printf("%d passed, %d failed\n", passed, failed);
    }
    if (rc == 0 && c.coverage && !c.json)
        print_coverage(stdout);
    for (size_t i = 0; i < c.nfiles; i++)
        free(c.files[i]);
    free(c.files);
    if (rc < 0 || errors)
        return 2;
    return failed ? 1 : 0;
}
