/*
 * diagram.c — the transition table the state machine obeys
 * (ts_transition_table(), the same data ts_set_state() checks every
 * transition against) drawn as text, Graphviz or JSON, for `tcpstate
 * diagram` and the tests.
 *
 * The Graphviz layout follows RFC 9293's figure 5: CLOSED on top, LISTEN,
 * the SYN states, ESTABLISHED, the closing states, TIME_WAIT, and CLOSED
 * again at the bottom as the end of the connection. Edges into CLOSED
 * from LISTEN and SYN_SENT (nothing was ever established) go to the top
 * node, all others to the bottom one; both are the state CLOSED. Every
 * pair of states with one kind of event (application, segment, timer,
 * limit) is one edge, one label line per table row ("event / action").
 */
#include "drv/diagram.h"

#include "tcpstate.h"

#include <string.h>

/* RFC 9293's order, which is also the order of the text output. */
static const int order[] = {
    TS_CLOSE, TS_LISTEN, TS_SYN_SENT, TS_SYN_RECV, TS_ESTABLISHED, TS_FIN_WAIT1,
    TS_FIN_WAIT2, TS_CLOSE_WAIT, TS_CLOSING, TS_LAST_ACK, TS_TIME_WAIT
};
#define NSTATES (sizeof order / sizeof order[0])

void ts_diagram_text(FILE *out)
{
    size_t n;
    const ts_transition_row *t = ts_transition_table(&n);
    fprintf(out, "TCP states and transitions (%zu), as tcpstate enforces them.\n"
           "Each line: event / action -> next state.\n", n);
    for (size_t k = 0; k < NSTATES; k++) {
        fprintf(out, "\n%s\n", ts_state_name(order[k]));
        for (size_t i = 0; i < n; i++) {
            char ea[160];
            if (t[i].from != order[k])
                continue;
            if (t[i].action && strcmp(t[i].action, "-") != 0)
                snprintf(ea, sizeof ea, "%s / %s", t[i].event, t[i].action);
            else
                snprintf(ea, sizeof ea, "%s", t[i].event);
            fprintf(out, "  %-62s -> %s\n", ea, ts_state_name(t[i].to));
        }
    }
}

/* Dot identifiers: the state names are already valid ones. */
static const char *dot_node(const ts_transition_row *r, int to)
{
    int st = to ? r->to : r->from;
    if (to && st == TS_CLOSE && r->from != TS_LISTEN && r->from != TS_SYN_SENT)
        return "CLOSED_END";
    return ts_state_name(st);
}

static void dot_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '\n') {
            fputs("\\n", out); /* dot's centred line break */
            continue;
        }
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The row of RFC 9293's figure a node sits in. */
static int level(const char *node)
{
    static const struct { const char *name; int level; } lv[] = {
        { "CLOSED", 0 }, { "LISTEN", 1 }, { "SYN_SENT", 2 }, { "SYN_RECEIVED", 2 },
        { "ESTABLISHED", 3 }, { "FIN_WAIT_1", 4 }, { "CLOSE_WAIT", 4 }, { "FIN_WAIT_2", 5 },
        { "CLOSING", 5 }, { "LAST_ACK", 5 }, { "TIME_WAIT", 6 }, { "CLOSED_END", 7 },
    };
    for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++)
        if (strcmp(lv[i].name, node) == 0)
            return lv[i].level;
    return 0;
}

enum { CAT_APP, CAT_RCV, CAT_TIMER, CAT_LIMIT };

static int category(const char *event)
{
    if (strncmp(event, "app", 3) == 0)
        return CAT_APP;
    if (strncmp(event, "rcv", 3) == 0)
        return CAT_RCV;
    if (strncmp(event, "timeout", 7) == 0)
        return CAT_TIMER;
    return CAT_LIMIT;
}

static const char *const cat_style[] = {
    [CAT_APP] = "color=\"#1f5fbf\", fontcolor=\"#1f5fbf\"",
    [CAT_RCV] = "color=black",
    [CAT_TIMER] = "color=\"#b03030\", fontcolor=\"#b03030\", style=dashed",
    [CAT_LIMIT] = "color=gray40, fontcolor=gray40, style=dotted",
};

static int same_edge(const ts_transition_row *a, const ts_transition_row *b)
{
    return a->from == b->from && strcmp(dot_node(a, 1), dot_node(b, 1)) == 0 &&
           category(a->event) == category(b->event);
}

/* Rows with the same ends and the same kind of event share one edge, one
 * label line per row ("event / action"): the figure stays readable. */
static void dot_edge(FILE *out, const ts_transition_row *t, size_t n, size_t first)
{
    char label[2048];
    size_t len = 0;
    for (size_t i = first; i < n && len < sizeof label - 200; i++) {
        if (!same_edge(&t[first], &t[i]))
            continue;
        len += (size_t)snprintf(label + len, sizeof label - len, "%s%s", len ? "\n" : "",
                                t[i].event);
        if (t[i].action && strcmp(t[i].action, "-") != 0)
            len += (size_t)snprintf(label + len, sizeof label - len, " / %s", t[i].action);
    }
    fprintf(out, "  %s -> %s [id=\"e%zu\", label=", dot_node(&t[first], 0), dot_node(&t[first], 1),
           first);
    dot_str(out, label);
    /* Only edges going down the figure decide the ranks; the others (back
     * to LISTEN, across a rank) follow the layout. */
    fprintf(out, ", %s%s];\n", cat_style[category(t[first].event)],
           level(dot_node(&t[first], 1)) > level(dot_node(&t[first], 0)) ? ""
                                                                          : ", constraint=false");
}

void ts_diagram_dot(FILE *out)
{
    size_t n;
    const ts_transition_row *t = ts_transition_table(&n);
    fprintf(out, "// tcpstate %s: the TCP state machine (tcpstate diagram --format dot)\n"
           "// blue: application calls; black: segments received; red dashed:\n"
           "// timers; dotted: limits. CLOSED is drawn twice (start and end).\n"
           "digraph tcp_states {\n"
           "  rankdir=TB; nodesep=0.4; ranksep=0.6;\n"
           "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f4f4\", "
           "fontname=\"Helvetica\"];\n"
           "  edge [fontname=\"Helvetica\", fontsize=9];\n"
           "  CLOSED_END [label=\"CLOSED\"];\n"
           "  ESTABLISHED [fillcolor=\"#dff0d8\"];\n"
           "  { rank=min; CLOSED; }\n"
           "  { rank=same; SYN_SENT; SYN_RECEIVED; }\n"
           "  { rank=same; FIN_WAIT_1; CLOSE_WAIT; }\n"
           "  { rank=same; FIN_WAIT_2; CLOSING; LAST_ACK; }\n"
           "  { rank=max; CLOSED_END; }\n"
           "  CLOSED -> LISTEN -> SYN_RECEIVED -> ESTABLISHED -> FIN_WAIT_1 -> FIN_WAIT_2"
           " -> TIME_WAIT -> CLOSED_END [style=invis, weight=10];\n"
           "  ESTABLISHED -> CLOSE_WAIT -> LAST_ACK [style=invis, weight=5];\n",
           TS_VERSION);
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && !same_edge(&t[j], &t[i]))
            j++;
        if (j == i)
            dot_edge(out, t, n, i);
    }
    fprintf(out, "}\n");
}

static void json_text(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void ts_diagram_json(FILE *out)
{
    size_t n;
    const ts_transition_row *t = ts_transition_table(&n);
    fprintf(out, "{\"states\": [");
    for (size_t k = 0; k < NSTATES; k++)
        fprintf(out, "%s\"%s\"", k ? ", " : "", ts_state_name(order[k]));
    fprintf(out, "],\n \"transitions\": [\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  {\"from\": \"%s\", \"to\": \"%s\", \"cause\": ", ts_state_name(t[i].from),
               ts_state_name(t[i].to));
        json_text(out, ts_cause_name(t[i].cause));
        fprintf(out, ", \"event\": ");
        json_text(out, t[i].event);
        fprintf(out, ", \"action\": ");
        json_text(out, t[i].action);
        fprintf(out, "}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(out, " ]}\n");
}

