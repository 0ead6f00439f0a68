/*
 * run_report.c — how a script's outcome is shown: one human report (the
 * failing line, the script and actual lines, then the exchange as a ladder
 * diagram drawn by the shared renderer of drv/ladder.h), or one JSON object
 * per script for --json (JSON Lines).
 */
#include "script/run.h"

#include <string.h>

#include "tcpstate.h"

static const char *status_name(int s)
{
    switch (s) {
    case TS_RUN_PASS: return "pass";
    case TS_RUN_FAIL: return "fail";
    case TS_RUN_SKIP: return "skip";
    default: return "error";
    }
}

void ts_run_print(FILE *out, const char *path, const ts_run_result *r)
{
    switch (r->status) {
    case TS_RUN_PASS:
        fprintf(out, "PASS %s\n", path);
        return;
    case TS_RUN_SKIP:
        fprintf(out, "SKIP %s: %s\n", path, r->reason);
        return;
    case TS_RUN_ERROR:
        if (r->line && r->col)
            fprintf(out, "ERROR %s:%d:%d: %s\n", path, r->line, r->col, r->message);
        else if (r->line)
            fprintf(out, "ERROR %s:%d: %s\n", path, r->line, r->message);
        else
            fprintf(out, "ERROR %s: %s\n", path, r->message);
        return;
    }
    if (r->line)
        fprintf(out, "FAIL %s:%d: %s\n", path, r->line, r->message);
    else
        fprintf(out, "FAIL %s: %s\n", path, r->message);
    if (r->script[0])
        fprintf(out, "  script: %s\n", r->script);
    if (r->actual[0])
        fprintf(out, "  actual: %s\n", r->actual);
    if (r->ntrace) {
        ts_ladder_opts o;
        memset(&o, 0, sizeof o);
        o.hosts = r->hosts;
        o.nhosts = 2;
        fprintf(out, "  the exchange up to the failure (seq/ack relative to each side's "
                "SYN):\n");
        ts_ladder_render(out, &o, r->trace, r->ntrace);
    }
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_flags(FILE *out, unsigned f)
{
    static const struct { unsigned bit; char c; } order[] = {
        { TS_TH_FIN, 'F' }, { TS_TH_SYN, 'S' }, { TS_TH_RST, 'R' }, { TS_TH_PSH, 'P' },
        { TS_TH_ACK, '.' }, { TS_TH_URG, 'U' }, { TS_TH_ECE, 'E' }, { TS_TH_CWR, 'W' },
    };
    char buf[12];
    int n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (f & order[i].bit)
            buf[n++] = order[i].c;
    buf[n] = '\0';
    json_str(out, buf);
}

static void json_trace(FILE *out, const ts_run_result *r)
{
    fputs(", \"exchange\": [", out);
    for (size_t i = 0; i < r->ntrace; i++) {
        const ts_trace_ev *e = &r->trace[i];
        fprintf(out, "%s{\"t\": %llu.%06llu, \"host\": ", i ? ", " : "",
                (unsigned long long)(e->t_us / 1000000), (unsigned long long)(e->t_us % 1000000));
        json_str(out, r->hosts[e->host == 0 ? 0 : 1].name);
        if (e->kind == TS_TRACE_NOTE) {
            fputs(", \"note\": ", out);
            json_str(out, e->note);
        } else {
            fprintf(out, ", \"ev\": \"tx\", \"sport\": %u, \"dport\": %u, \"flags\": ",
                    e->src.port, e->dst.port);
            json_flags(out, e->flags);
            fprintf(out, ", \"seq\": %u, \"ack\": %u, \"win\": %u, \"len\": %u", e->seq, e->ack,
                    e->win, e->len);
        }
        fputc('}', out);
    }
    fputc(']', out);
}

void ts_run_print_json(FILE *out, const char *path, const ts_run_result *r)
{
    fputs("{\"script\": ", out);
    json_str(out, path);
    fprintf(out, ", \"result\": \"%s\"", status_name(r->status));
    if (r->status == TS_RUN_SKIP) {
        fputs(", \"reason\": ", out);
        json_str(out, r->reason);
    }
    if (r->status == TS_RUN_FAIL || r->status == TS_RUN_ERROR) {
        fprintf(out, ", \"line\": %d", r->line);
        if (r->col)
            fprintf(out, ", \"col\": %d", r->col);
        fputs(", \"message\": ", out);
        json_str(out, r->message);
        if (r->script[0]) {
            fputs(", \"expected\": ", out);
            json_str(out, r->script);
        }
        if (r->actual[0]) {
            fputs(", \"actual\": ", out);
            json_str(out, r->actual);
        }
        if (r->status == TS_RUN_FAIL)
            json_trace(out, r);
    }
    fputs("}\n", out);
}
