/*
 * run.c — the runner's event loop: options and tolerances, the start
 * instant and the reference point of relative times (PACKETDRILL.md 2.3),
 * time checks (2.4), `sysctl` command lines (1.3), and the end of a script
 * (4.8): the pending blocking call, closing descriptors, the final RSTs,
 * the cleanup command and, on the tcpstate target, the leak check.
 *
 * Invariants: events run strictly in file order; st->sched is the event's
 * scheduled time in script µs (0 = start instant) once its relative time is
 * resolved; the first failure is the one reported (later ones are dropped)
 * and stops the script; whatever happens, the target is closed exactly once.
 */
#include "script/run_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate.h"

#define LINUX_TOL_US 4000    /* packetdrill's defaults (config.c) */
#define LINUX_TOL_PCT 12.5

const ts_target_ops *ts_target_by_name(const char *name)
{
    if (!name || strcmp(name, "tcpstate") == 0)
        return &ts_target_tcpstate;
    if (strcmp(name, "linux") == 0)
        return &ts_target_linux;
    return NULL;
}

/* ------------------------------------------------------------ reporting */

void run_log(run_state *st, const char *fmt, ...)
{
    va_list ap;
    if (!st->verbose)
        return;
    va_start(ap, fmt);
    vfprintf(st->log, fmt, ap);
    va_end(ap);
}

static ts_trace_ev *trace_push(run_state *st)
{
    ts_run_result *r = st->r;
    if (r->ntrace == r->captrace) {
        size_t cap = r->captrace ? r->captrace * 2 : 64;
        ts_trace_ev *t = realloc(r->trace, cap * sizeof *t);
        if (!t)
            return NULL;
        r->trace = t;
        r->captrace = cap;
    }
    ts_trace_ev *e = &r->trace[r->ntrace++];
    memset(e, 0, sizeof *e);
    return e;
}

void run_trace_note(run_state *st, int64_t t, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ts_trace_ev *e = trace_push(st);
    if (!e)
        return;
    e->t_us = t < 0 ? 0 : (uint64_t)t;
    e->kind = TS_TRACE_NOTE;
    e->host = 0;
    e->note = ts_arena_strndup(&st->r->arena, buf, strlen(buf));
}

void run_trace_pkt(run_state *st, int64_t t, int from_stack, const run_pkt *p)
{
    ts_trace_ev *e = trace_push(st);
    if (!e)
        return;
    e->t_us = t < 0 ? 0 : (uint64_t)t;
    e->kind = TS_TRACE_TX;
    e->host = from_stack ? 0 : 1;
    e->src.ip = p->sip;
    e->src.port = p->sport;
    e->dst.ip = p->dip;
    e->dst.port = p->dport;
    e->flags = (uint8_t)(p->flags & 0xff);
    e->seq = p->seq;
    e->ack = p->ack;
    e->win = p->win;
    e->len = p->len;
}

int run_fail(run_state *st, int line, const char *fmt, ...)
{
    va_list ap;
    if (st->failed)
        return -1;
    st->failed = 1;
    st->r->status = TS_RUN_FAIL;
    st->r->line = line;
    va_start(ap, fmt);
    vsnprintf(st->r->message, sizeof st->r->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* ----------------------------------------------------------------- time */

int64_t run_now(run_state *st)
{
    uint64_t n = st->ops->now(st->t);
    return n > st->t0 ? (int64_t)(n - st->t0) : 0;
}

/* tol = max(tolerance_usecs, tolerance_percent % of (t - t_prev)) (2.4). */
int64_t run_tolerance(const run_state *st, int64_t t, int64_t t_prev, int have_prev)
{
    int64_t tol = st->tol_us;
    if (have_prev && t > t_prev) {
        int64_t dyn = (int64_t)(st->tol_pct / 100.0 * (double)(t - t_prev));
        if (dyn > tol)
            tol = dyn;
    }
    return tol;
}

/* Waits until the event's time, then checks it did not start late (the
 * first event is never checked). */
int run_wait_event(run_state *st, const char *what)
{
    if (st->sched > run_now(st))
        st->ops->wait_until(st->t, st->t0 + (uint64_t)st->sched);
    int64_t now = run_now(st);
    if (!st->have_prev)
        return 0;
    int64_t tol = run_tolerance(st, st->sched, st->prev_sched, st->have_prev);
    if (now > st->sched + tol || now < st->sched - tol)
        return run_fail(st, st->ev->line, "timing error: expected %s at %.6f s but it "
                        "happened at %.6f s (tolerance %.6f s)", what, st->sched / 1e6,
                        now / 1e6, tol / 1e6);
    return 0;
}

static int is_inbound(const ts_event *e)
{
    return e && e->kind == TS_EV_PACKET && e->pkt->dir == '<';
}

/* Resolves relative times against the reference point (2.3): the clock
 * now, or the previous scheduled time between two inbound packets. */
static void schedule(run_state *st, const ts_event *prev)
{
    const ts_event *e = st->ev;
    int64_t anchor = (is_inbound(prev) && is_inbound(e)) ? st->prev_sched : run_now(st);
    switch (e->time_kind) {
    case TS_TIME_ABS:
        st->sched = st->sched_end = e->t_us;
        break;
    case TS_TIME_ABS_RANGE:
        st->sched = e->t_us;
        st->sched_end = e->t2_us;
        break;
    case TS_TIME_REL:
        st->sched = st->sched_end = e->t_us + anchor;
        break;
    case TS_TIME_REL_RANGE:
        st->sched = e->t_us + anchor;
        st->sched_end = e->t2_us + anchor;
        break;
    default: /* TS_TIME_ANY */
        st->sched = st->sched_end = anchor;
        break;
    }
    if (e->kind == TS_EV_CALL && e->call->blocking)
        st->block_end = e->call->end_abs ? e->call->end_us : e->call->end_us + anchor;
}

/* ------------------------------------------------------------- commands */

#define CMD_WORDS 32

/* Splits one shell command into words (quotes and backslashes as sh does;
 * no expansion). Returns the word count, -1 on an unsupported construct. */
static int shell_words(const char *s, size_t n, char *buf, char **w, char *bad, size_t badlen)
{
    int nw = 0;
    size_t i = 0, o = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= n)
            break;
        if (nw == CMD_WORDS)
            return -1;
        w[nw++] = buf + o;
        while (i < n && s[i] != ' ' && s[i] != '\t') {
            char c = s[i++];
            if (c == '\'' || c == '"') {
                while (i < n && s[i] != c)
                    buf[o++] = s[i++];
                i++;
            } else if (c == '\\' && i < n) {
                buf[o++] = s[i++];
            } else if (strchr("|&<>$(){}*?", c)) {
                snprintf(bad, badlen, "'%c'", c);
                return -1;
            } else {
                buf[o++] = c;
            }
        }
        buf[o++] = '\0';
    }
    return nw;
}

/* One "sysctl [-q] [-w] name=value ..." command. */
static int run_sysctl(run_state *st, int line, char **w, int nw, const char *text)
{
    int k = 1;
    while (k < nw && w[k][0] == '-') {
        if (strspn(w[k] + 1, "qwe") != strlen(w[k] + 1))
            return run_fail(st, line, "sysctl option '%s' is not supported (only -q, -w, -e)",
                            w[k]);
        k++;
    }
    if (k == nw)
        return run_fail(st, line, "`%s`: sysctl needs name=value", text);
    for (; k < nw; k++) {
        char *eq = strchr(w[k], '=');
        char err[256] = "";
        if (!eq)
            return run_fail(st, line, "`%s`: reading a setting ('%s') is not supported, "
                            "write name=value", text, w[k]);
        *eq = '\0';
        run_log(st, "sysctl %s=%s\n", w[k], eq + 1);
        if (st->ops->sysctl(st->t, w[k], eq + 1, err, sizeof err) < 0)
            return run_fail(st, line, "sysctl %s=%s: %s", w[k], eq + 1, err);
    }
    return 0;
}

/* A backquoted command: one or more sysctl commands separated by ';', '&&'
 * or newlines. Anything else would need a shell, which the targets do not
 * offer: the script fails, naming the command. */
static int run_command(run_state *st, int line, const char *cmd)
{
    size_t n = strlen(cmd), i = 0;
    char *buf = malloc(n + CMD_WORDS + 1);
    if (!buf)
        return run_fail(st, line, "out of memory");
    int r = 0;
    while (i < n && r == 0) {
        size_t j = i;
        while (j < n && cmd[j] != ';' && cmd[j] != '\n' && !(cmd[j] == '&' && cmd[j + 1] == '&'))
            j++;
        char *w[CMD_WORDS], bad[16] = "";
        int nw = shell_words(cmd + i, j - i, buf, w, bad, sizeof bad);
        char text[200];
        snprintf(text, sizeof text, "%.*s", (int)(j - i), cmd + i);
        if (nw > 0 && (strcmp(w[0], "sysctl") == 0 || strcmp(w[0], "/sbin/sysctl") == 0 ||
                       strcmp(w[0], "/usr/sbin/sysctl") == 0))
            r = run_sysctl(st, line, w, nw, text);
        else if (nw != 0)
            r = run_fail(st, line, "shell command `%s` is not supported on the %s target%s%s "
                         "(only `sysctl -q net.ipv4.NAME=VALUE ...` lines are)", text,
                         st->ops->name, bad[0] ? ": shell syntax " : "", bad);
        i = j + (j < n && cmd[j] == '&' ? 2 : 1);
    }
    free(buf);
    return r;
}

/* -------------------------------------------------------------- options */

static int opt_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    long x = v ? strtol(v, &end, 0) : 0;
    if (!v || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

/* One --name[=value] of the script. 0, or -1 for a bad value; 1 when the
 * option is unknown. */
static int apply_opt(run_state *st, const ts_script_opt *o)
{
    const char *n = o->name;
    long v = 0;
    if (strcmp(n, "strict_segments") == 0)
        st->strict_segments = 1;
    else if (strcmp(n, "tcp_ts_ecr_scaled") == 0)
        st->ts_ecr_scaled = 1;
    else if (strcmp(n, "ip_version") == 0)
        return o->value && strcmp(o->value, "ipv4") == 0 ? 0 : -1;
    else if (strcmp(n, "tolerance_usecs") == 0)
        return opt_long(o->value, 1, 1000000000L, &st->tol_us);
    else if (strcmp(n, "tcp_ts_tick_usecs") == 0)
        return opt_long(o->value, 0, 1000000000L, &st->ts_tick_usecs);
    else if (strcmp(n, "tolerance_percent") == 0) {
        if (opt_long(o->value, 0, 100, &v) < 0)
            return -1;
        st->tol_pct = (double)v;
    } else if (strcmp(n, "bind_port") == 0 || strcmp(n, "connect_port") == 0) {
        if (opt_long(o->value, 1, 65535, &v) < 0)
            return -1;
        *(n[0] == 'b' ? &st->cfg.bind_port : &st->cfg.connect_port) = (uint16_t)v;
    } else if (strcmp(n, "mtu") == 0) {
        if (opt_long(o->value, 68, 65535, &v) < 0)
            return -1;
        st->cfg.mtu = (int)v;
    } else {
        return 1;
    }
    return 0;
}

/* The script's --options (1.2); the command line (ts_run_opts) wins. */
static int apply_script_opts(run_state *st, ts_script_error *err)
{
    for (int k = 0; k < st->s->nopts; k++) {
        const ts_script_opt *o = &st->s->opts[k];
        int r = apply_opt(st, o);
        if (r == 0)
            continue;
        err->line = o->line;
        if (r > 0)
            snprintf(err->msg, sizeof err->msg, "option --%s is not supported by this runner",
                     o->name);
        else
            snprintf(err->msg, sizeof err->msg, "bad value for --%s: %s", o->name,
                     o->value ? o->value : "(none)");
        return -1;
    }
    return 0;
}

static int setup(run_state *st, const ts_script *s, const ts_run_opts *o, ts_run_result *r)
{
    memset(st, 0, sizeof *st);
    st->s = s;
    st->r = r;
    st->ops = o->target ? o->target : &ts_target_tcpstate;
    st->virtual_time = strcmp(st->ops->name, "tcpstate") == 0;
    st->tol_us = st->virtual_time ? 0 : LINUX_TOL_US;
    st->tol_pct = st->virtual_time ? 0 : LINUX_TOL_PCT;
    st->cfg.local_ip = 0xC0000202;  /* 192.0.2.2 */
    st->cfg.remote_ip = 0xC0000201; /* 192.0.2.1 */
    st->cfg.bind_port = 8080;
    st->cfg.connect_port = 8080;
    st->cfg.mtu = 1500;
    st->cfg.verbose = o->verbose;
    st->verbose = o->verbose;
    st->log = o->log ? o->log : stdout;
    st->under_test = -1;
    st->next_port = 40000;
    ts_script_error err = { 0 };
    if (apply_script_opts(st, &err) < 0) {
        r->status = TS_RUN_ERROR;
        r->line = err.line;
        snprintf(r->message, sizeof r->message, "%s", err.msg);
        return -1;
    }
    if (o->tolerance_usecs >= 0)
        st->tol_us = o->tolerance_usecs;
    if (o->tolerance_percent >= 0)
        st->tol_pct = o->tolerance_percent;
    r->hosts[0].name = st->ops->name;
    r->hosts[0].ip = st->cfg.local_ip;
    r->hosts[1].name = "script";
    r->hosts[1].ip = st->cfg.remote_ip;
    return 0;
}

/* ---------------------------------------------------------------- events */

static int run_event_kind(run_state *st)
{
    const ts_event *e = st->ev;
    switch (e->kind) {
    case TS_EV_PACKET:
        return run_packet_event(st);
    case TS_EV_CALL:
        return run_call_event(st);
    case TS_EV_CMD:
        if (run_wait_event(st, "command") < 0)
            return -1;
        run_trace_note(st, run_now(st), "line %d: `%s`", e->line, e->cmd);
        return run_command(st, e->line, e->cmd);
    }
    return run_fail(st, e->line, "internal error: unknown event kind");
}

/* One event; the report's "script" line is the event with its time, and
 * the parts that fail fill in "actual". */
static int run_event(run_state *st, const ts_event *prev)
{
    const ts_event *e = st->ev;
    schedule(st, prev);
    run_log(st, "%9.6f line %d: %s\n", st->sched / 1e6, e->line, e->text);
    if (e->kind == TS_EV_CALL && e->call->blocking)
        snprintf(st->r->script, sizeof st->r->script, "%.6f...%.6f %s", st->sched / 1e6,
                 st->block_end / 1e6, e->text);
    else
        snprintf(st->r->script, sizeof st->r->script, "%.6f %s", st->sched / 1e6, e->text);
    st->r->actual[0] = '\0';
    int r = run_event_kind(st);
    if (r == 0)
        st->r->script[0] = st->r->actual[0] = '\0';
    return r;
}

/* After the last event (4.8): wait for a blocking call, close what the
 * script left open and reset every connection with both ports known. */
static void run_end(run_state *st)
{
    int r = run_finish_pending(st, run_now(st) + 1000000);
    if (r > 0)
        snprintf(st->r->script, sizeof st->r->script, "%.6f...%.6f %s",
                 st->pend.start / 1e6, st->pend.end / 1e6, st->pend.ev->text);
    if (r > 0)
        run_fail(st, st->pend.ev->line, "%s() written to return at %.6f s is still blocked "
                 "at the end of the script (%.6f s)", st->pend.ev->call->name,
                 st->pend.end / 1e6, run_now(st) / 1e6);
    if (r != 0)
        return;
    for (size_t k = st->nconns; k-- > 0 && !st->failed;) {
        run_conn *c = &st->conns[k];
        if (c->fd_open && run_close_fd(st, c) < 0)
            return;
        if (c->lport && c->rport && run_reset_conn(st, c) < 0)
            return;
    }
    if (!st->failed && st->s->cleanup_cmd && st->s->init_cmd)
        run_command(st, st->s->cleanup_line, st->s->cleanup_cmd);
}

static void run_events(run_state *st)
{
    const ts_script *s = st->s;
    if (s->init_cmd && run_command(st, s->init_line, s->init_cmd) < 0)
        return;
    st->t0 = st->ops->now(st->t);
    for (size_t k = 0; k < s->nevents && !st->failed; k++) {
        st->ev = &s->events[k];
        if (run_event(st, k ? &s->events[k - 1] : NULL) == 0)
            run_check_pending(st);
        st->prev_sched = st->sched;
        st->have_prev = 1;
        st->r->events_run = k + 1;
    }
    if (!st->failed)
        run_end(st);
}

int ts_run_script(const ts_script *s, const ts_run_opts *o, ts_run_result *r)
{
    run_state st;
    char err[256] = "";
    memset(r, 0, sizeof *r);
    if (setup(&st, s, o, r) < 0)
        return r->status;
    if (s->tcpstate_only && !st.virtual_time) {
        r->status = TS_RUN_SKIP;
        snprintf(r->reason, sizeof r->reason, "%s", s->tcpstate_only);
        return r->status;
    }
    if (o->dry_run)
        return r->status;
    if (st.ops->open(&st.t, &st.cfg, err, sizeof err) < 0) {
        r->status = TS_RUN_ERROR;
        snprintf(r->message, sizeof r->message, "cannot open the %s target: %s",
                 st.ops->name, err);
        return r->status;
    }
    run_events(&st);
    if (st.ops == &ts_target_tcpstate) {
        size_t leaked = ts_target_tcpstate_finish(st.t);
        if (leaked && !st.failed)
            run_fail(&st, 0, "memory leak: %zu bytes still allocated after ts_stack_free()",
                     leaked);
    }
    st.ops->close(st.t);
    free(st.conns);
    return r->status;
}

int ts_run_file(const char *path, const ts_run_opts *o, ts_run_result *r)
{
    ts_script *s;
    ts_script_error err;
    memset(r, 0, sizeof *r);
    if (ts_script_load(path, &s, &err) < 0) {
        r->status = TS_RUN_ERROR;
        r->line = err.line;
        r->col = err.col;
        snprintf(r->message, sizeof r->message, "%s", err.msg);
        return r->status;
    }
    ts_run_script(s, o, r);
    ts_script_free(s);
    return r->status;
}

void ts_run_result_free(ts_run_result *r)
{
    if (!r)
        return;
    free(r->trace);
    ts_arena_free(r->arena);
    r->trace = NULL;
    r->arena = NULL;
    r->ntrace = r->captrace = 0;
}
