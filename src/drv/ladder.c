/*
 * ladder.c — renders a trace (ladder.h) as a ladder diagram or JSON Lines.
 *
 * The ladder: one line per event, time on the left (left blank while it
 * does not change), one vertical bar per host. A state change writes the
 * new state in the host's lane and its cause beside the bar; a sent
 * segment is an arrow from the sender's bar towards the receiver's, with
 * tcpdump's flags, seq, ack, win and len; its arrival is a short arrowhead
 * at the receiver's bar, a stack drop an "X" there with the drop reason, a
 * loss in the network an arrow that stops half way ("X lost").
 *
 * seq/ack are shown relative to the ISN of their direction (the seq of the
 * last SYN seen from that side, as tcpdump does) unless opts.absolute;
 * a direction whose SYN was not seen is shown absolute.
 *
 * Invariants: at most one TX line is held back (to merge the LOST / DUP
 * event the network reports right after it); every line is built in a
 * fixed-size canvas, so long labels are cut, never overflow.
 */
#include "drv/ladder.h"

#include <stdlib.h>
#include <string.h>

#include "core/wire.h"

#define TIME_W 11      /* "3600.000000" */
#define LANE 13        /* "SYN_RECEIVED" + 1 */
#define MID2 54        /* between the bars, two hosts */
#define MIDN 40        /* between the bars, three or more */
#define CANVAS 512

typedef struct dir_base {
    uint32_t sip, dip;
    uint16_t sport, dport;
    uint32_t isn;
} dir_base;

struct ts_ladder {
    FILE *out;
    ts_ladder_opts o;
    int mid;           /* width between two bars */
    size_t ncol;       /* columns drawn: min(nhosts, TS_LADDER_MAX_HOSTS) */
    uint64_t last_t;
    int have_t;
    ts_trace_ev held;  /* a TX waiting for a LOST/DUP */
    int have_held;
    dir_base *base;
    size_t nbase, capbase;
};

/* ------------------------------------------------------------- geometry */

static int col_of(const ts_ladder *l, int host)
{
    if (host < 0)
        return 0;
    if ((size_t)host >= l->ncol)
        return (int)l->ncol - 1;
    return host;
}

/* Position of host column c's bar in the canvas. */
static int bar_x(const ts_ladder *l, int c)
{
    return TIME_W + 2 + LANE + 1 + c * (l->mid + 1);
}

static int line_width(const ts_ladder *l)
{
    return bar_x(l, (int)l->ncol - 1) + 1;
}

typedef struct canvas {
    char c[CANVAS];
    int end; /* one past the last written column */
} canvas;

static void cv_put(canvas *cv, int x, const char *s, int maxw)
{
    for (int i = 0; s[i] && i < maxw && x + i < CANVAS - 1; i++) {
        if (x + i < 0)
            continue;
        cv->c[x + i] = s[i];
        if (x + i + 1 > cv->end)
            cv->end = x + i + 1;
    }
}

static void cv_init(const ts_ladder *l, canvas *cv, uint64_t t, int show_t)
{
    memset(cv->c, ' ', sizeof cv->c);
    cv->end = 0;
    if (show_t) {
        char ts[32];
        snprintf(ts, sizeof ts, "%*llu.%06llu", TIME_W - 7,
                 (unsigned long long)(t / 1000000), (unsigned long long)(t % 1000000));
        cv_put(cv, 0, ts, TIME_W);
    }
    for (size_t h = 0; h < l->ncol; h++)
        cv_put(cv, bar_x(l, (int)h), "|", 1);
}

static void cv_emit(ts_ladder *l, canvas *cv)
{
    int n = cv->end;
    while (n > 0 && cv->c[n - 1] == ' ')
        n--;
    fprintf(l->out, "%.*s\n", n, cv->c);
}

/* Text in a host's lane: left of the first bar (right-aligned), right of
 * the last bar, centred on a middle bar. */
static void cv_lane(const ts_ladder *l, canvas *cv, int c, const char *s)
{
    int x = bar_x(l, c), n = (int)strlen(s);
    if (c == 0 && l->ncol > 1)
        cv_put(cv, x - 1 - (n < LANE ? n : LANE), s, LANE);
    else if (c == (int)l->ncol - 1)
        cv_put(cv, x + 2, s, CANVAS);
    else
        cv_put(cv, x - n / 2, s, l->mid);
}

/* Text beside a host's bar, inside the area between bars (towards the
 * neighbour column). Used for causes, notes and drop reasons. */
static void cv_beside(const ts_ladder *l, canvas *cv, int c, const char *s)
{
    int x = bar_x(l, c), n = (int)strlen(s), room = l->mid - 2;
    if (l->ncol == 1)
        cv_put(cv, x + 2 + LANE, s, CANVAS);
    else if (c < (int)l->ncol - 1)
        cv_put(cv, x + 2, s, room);
    else
        cv_put(cv, x - 1 - (n < room ? n : room), s, room);
}

/* ----------------------------------------------------- relative numbers */

static dir_base *base_find(ts_ladder *l, ts_addr src, ts_addr dst)
{
    for (size_t i = l->nbase; i-- > 0;) {
        dir_base *b = &l->base[i];
        if (b->sip == src.ip && b->sport == src.port && b->dip == dst.ip && b->dport == dst.port)
            return b;
    }
    return NULL;
}

static void base_learn(ts_ladder *l, const ts_trace_ev *ev)
{
    dir_base *b;
    if (!(ev->flags & TS_TH_SYN))
        return;
    b = base_find(l, ev->src, ev->dst);
    if (!b) {
        if (l->nbase == l->capbase) {
            size_t cap = l->capbase ? l->capbase * 2 : 16;
            dir_base *nb = realloc(l->base, cap * sizeof *nb);
            if (!nb)
                return; /* shown absolute: harmless */
            l->base = nb;
            l->capbase = cap;
        }
        b = &l->base[l->nbase++];
        b->sip = ev->src.ip;
        b->sport = ev->src.port;
        b->dip = ev->dst.ip;
        b->dport = ev->dst.port;
    }
    /* A new SYN on the same 4-tuple (TIME_WAIT reopen, tw_reuse) starts a
     * new sequence space. */
    b->isn = ev->seq;
}

/* "P. seq 1 ack 1 win 502 len 100"; brief (arrivals): no win, no "len 0". */
static void seg_label(ts_ladder *l, const ts_trace_ev *ev, int brief, char *buf, size_t cap)
{
    char fl[16], ack[24] = "", win[24] = "", len[24] = "";
    uint32_t seq = ev->seq, an = ev->ack;
    if (!l->o.absolute) {
        const dir_base *fwd = base_find(l, ev->src, ev->dst);
        const dir_base *rev = base_find(l, ev->dst, ev->src);
        if (fwd)
            seq -= fwd->isn;
        if (rev)
            an -= rev->isn;
    }
    ts_flags_str(ev->flags, fl);
    if (ev->flags & TS_TH_ACK)
        snprintf(ack, sizeof ack, " ack %u", an);
    if (!brief)
        snprintf(win, sizeof win, " win %u", ev->win);
    if (!brief || ev->len)
        snprintf(len, sizeof len, " len %u", ev->len);
    snprintf(buf, cap, "%s seq %u%s%s%s", fl, seq, ack, win, len);
}

/* --------------------------------------------------------------- events */

/* Column of the other end of a segment: the host owning dst (sent) or src
 * (received); falls back to the neighbour column. */
static int peer_col(const ts_ladder *l, int c, uint32_t ip)
{
    for (size_t h = 0; h < l->o.nhosts; h++)
        if (l->o.hosts[h].ip == ip && ip != 0 && col_of(l, (int)h) != c)
            return col_of(l, (int)h);
    if (l->ncol < 2)
        return c;
    return c == 0 ? 1 : c - 1;
}

static int new_line(ts_ladder *l, canvas *cv, uint64_t t)
{
    int show = !l->have_t || t != l->last_t;
    cv_init(l, cv, t, show);
    l->last_t = t;
    l->have_t = 1;
    return show;
}

/* The arrow of a sent segment; lost: it stops short with an X. */
static void draw_tx(ts_ladder *l, const ts_trace_ev *ev, int lost, int dup)
{
    canvas cv;
    char lab[128];
    int a = col_of(l, ev->host), b = peer_col(l, a, ev->dst.ip);
    int xa = bar_x(l, a), xb = bar_x(l, b);
    int right = xb > xa, lo = right ? xa : xb, hi = right ? xb : xa;
    int n;

    new_line(l, &cv, ev->t_us);
    seg_label(l, ev, 0, lab, sizeof lab - 8);
    if (dup)
        strcat(lab, " (dup)");
    n = (int)strlen(lab);
    if (a == b) { /* one column: no arrow to draw */
        cv_beside(l, &cv, a, lab);
        cv_emit(l, &cv);
        return;
    }
    for (int x = lo + 1; x < hi; x++)
        if (cv.c[x] != '|') /* bars of hosts in between stay visible */
            cv.c[x] = '-';
    if (lost) {
        int stop = lo + (hi - lo) * 3 / 4;
        if (!right)
            stop = hi - (hi - lo) * 3 / 4;
        for (int x = lo + 1; x < hi; x++)
            if ((right ? x > stop : x < stop) && cv.c[x] != '|')
                cv.c[x] = ' ';
        cv.c[stop] = 'X';
        cv_put(&cv, right ? stop + 2 : stop - 5, "lost", 4);
    } else {
        cv.c[right ? hi - 1 : lo + 1] = right ? '>' : '<';
    }
    /* The label starts near the sender, framed by one blank each side. */
    {
        int x = right ? lo + 4 : hi - 4 - n;
        if (x < lo + 4)
            x = lo + 4;
        cv_put(&cv, x - 1, " ", 1);
        cv_put(&cv, x, lab, hi - lo - 7);
        if (x + n < hi - 2)
            cv_put(&cv, x + n, " ", 1);
    }
    cv.end = line_width(l);
    cv_emit(l, &cv);
}

/* The arrival of a segment at ev->host: "S. -->|" or, dropped, "S. --X|". */
static void draw_rx(ts_ladder *l, const ts_trace_ev *ev)
{
    canvas cv;
    char lab[96], txt[160];
    int b = col_of(l, ev->host), a = peer_col(l, b, ev->src.ip);
    int xb = bar_x(l, b), drop = ev->kind == TS_TRACE_DROP;
    const char *why = drop ? ts_drop_reason_name(ev->reason) : "";

    new_line(l, &cv, ev->t_us);
    seg_label(l, ev, 1, lab, sizeof lab);
    if (a == b) {
        snprintf(txt, sizeof txt, "rcvd %s%s%s", lab, drop ? ", dropped: " : "", why);
        cv_beside(l, &cv, b, txt);
    } else if (bar_x(l, a) < xb) {
        snprintf(txt, sizeof txt, "%s%s%s --%c", why, drop ? ": " : "", lab, drop ? 'X' : '>');
        cv_put(&cv, xb - (int)strlen(txt), txt, l->mid);
    } else {
        snprintf(txt, sizeof txt, "%c-- %s%s%s", drop ? 'X' : '<', lab, drop ? ": " : "", why);
        cv_put(&cv, xb + 1, txt, l->mid);
    }
    cv_emit(l, &cv);
}

static void draw_state(ts_ladder *l, const ts_trace_ev *ev)
{
    canvas cv;
    char txt[128];
    int c = col_of(l, ev->host);

    new_line(l, &cv, ev->t_us);
    if (c > 0 && c < (int)l->ncol - 1) { /* a middle column: both right of its bar */
        snprintf(txt, sizeof txt, "%s (#%u %s)", ts_state_name(ev->to), ev->conn_id,
                 ts_cause_name(ev->cause));
        cv_put(&cv, bar_x(l, c) + 2, txt, l->mid - 2);
    } else {
        cv_lane(l, &cv, c, ts_state_name(ev->to));
        snprintf(txt, sizeof txt, "(#%u %s)", ev->conn_id, ts_cause_name(ev->cause));
        cv_beside(l, &cv, c, txt);
    }
    cv_emit(l, &cv);
}

static void draw_note(ts_ladder *l, const ts_trace_ev *ev)
{
    canvas cv;
    char txt[160];
    new_line(l, &cv, ev->t_us);
    snprintf(txt, sizeof txt, "* %s", ev->note ? ev->note : "");
    cv_beside(l, &cv, col_of(l, ev->host), txt);
    cv_emit(l, &cv);
}

static void flush_held(ts_ladder *l, int lost, int dup)
{
    if (!l->have_held)
        return;
    l->have_held = 0;
    draw_tx(l, &l->held, lost, dup);
}

static int same_seg(const ts_trace_ev *a, const ts_trace_ev *b)
{
    return a->host == b->host && a->seq == b->seq && a->ack == b->ack &&
           a->flags == b->flags && a->len == b->len && a->dst.ip == b->dst.ip &&
           a->dst.port == b->dst.port;
}

void ts_ladder_event(ts_ladder *l, const ts_trace_ev *ev)
{
    if (!l || !ev)
        return;
    if ((ev->kind == TS_TRACE_LOST || ev->kind == TS_TRACE_DUP) && l->have_held &&
        same_seg(&l->held, ev)) {
        flush_held(l, ev->kind == TS_TRACE_LOST, ev->kind == TS_TRACE_DUP);
        return;
    }
    flush_held(l, 0, 0);
    switch (ev->kind) {
    case TS_TRACE_TX:
        base_learn(l, ev);
        l->held = *ev;
        l->held.note = NULL;
        l->have_held = 1;
        break;
    case TS_TRACE_LOST:
    case TS_TRACE_DUP:
        base_learn(l, ev);
        draw_tx(l, ev, ev->kind == TS_TRACE_LOST, ev->kind == TS_TRACE_DUP);
        break;
    case TS_TRACE_RX:
        base_learn(l, ev);
        if (!l->o.hide_rx)
            draw_rx(l, ev);
        break;
    case TS_TRACE_DROP:
        base_learn(l, ev);
        draw_rx(l, ev);
        break;
    case TS_TRACE_STATE:
        draw_state(l, ev);
        break;
    case TS_TRACE_NOTE:
        draw_note(l, ev);
        break;
    default:
        break;
    }
}

/* --------------------------------------------------------------- public */

ts_ladder *ts_ladder_new(FILE *out, const ts_ladder_opts *opts)
{
    ts_ladder *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->out = out;
    if (opts)
        l->o = *opts;
    l->ncol = l->o.nhosts;
    if (l->ncol > TS_LADDER_MAX_HOSTS)
        l->ncol = TS_LADDER_MAX_HOSTS;
    if (l->ncol == 0)
        l->ncol = 1;
    l->mid = l->ncol <= 2 ? MID2 : MIDN;
    return l;
}

static void head_row(ts_ladder *l, int ips)
{
    canvas cv;
    char buf[64];
    memset(cv.c, ' ', sizeof cv.c);
    cv.end = 0;
    if (!ips)
        cv_put(&cv, TIME_W - 8, "time (s)", 8);
    for (size_t h = 0; h < l->ncol; h++) {
        const ts_trace_host *th = h < l->o.nhosts ? &l->o.hosts[h] : NULL;
        if (!th)
            snprintf(buf, sizeof buf, "host %zu", h);
        else if (!ips)
            snprintf(buf, sizeof buf, "%s", th->name ? th->name : "?");
        else if (th->ip)
            snprintf(buf, sizeof buf, "%u.%u.%u.%u", th->ip >> 24, (th->ip >> 16) & 255,
                     (th->ip >> 8) & 255, th->ip & 255);
        else
            buf[0] = '\0';
        cv_lane(l, &cv, (int)h, buf);
    }
    cv_emit(l, &cv);
}

void ts_ladder_head(ts_ladder *l)
{
    canvas cv;
    if (!l)
        return;
    head_row(l, 0);
    head_row(l, 1);
    memset(cv.c, '-', sizeof cv.c);
    for (size_t h = 0; h < l->ncol; h++)
        cv.c[bar_x(l, (int)h)] = '+';
    cv.end = line_width(l) + (l->ncol > 1 ? LANE + 1 : 0);
    cv_emit(l, &cv);
}

void ts_ladder_flush(ts_ladder *l)
{
    if (l)
        flush_held(l, 0, 0);
}

void ts_ladder_free(ts_ladder *l)
{
    if (!l)
        return;
    ts_ladder_flush(l);
    free(l->base);
    free(l);
}

void ts_ladder_render(FILE *out, const ts_ladder_opts *opts,
                      const ts_trace_ev *evs, size_t n)
{
    ts_ladder *l = ts_ladder_new(out, opts);
    if (!l)
        return;
    ts_ladder_head(l);
    for (size_t i = 0; i < n; i++)
        ts_ladder_event(l, &evs[i]);
    ts_ladder_free(l);
}

/* ----------------------------------------------------------------- JSON */

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static const char *host_name(const ts_trace_host *hosts, size_t n, int h)
{
    if (h < 0 || (size_t)h >= n || !hosts[h].name)
        return "?";
    return hosts[h].name;
}

static void json_head(FILE *out, const ts_trace_host *hosts, size_t nh, const ts_trace_ev *ev)
{
    fprintf(out, "{\"t\": %llu.%06llu, \"host\": ", (unsigned long long)(ev->t_us / 1000000),
            (unsigned long long)(ev->t_us % 1000000));
    json_str(out, host_name(hosts, nh, ev->host));
}

void ts_json_event(FILE *out, const ts_trace_host *hosts, size_t nhosts,
                   const ts_trace_ev *ev)
{
    char fl[16];
    const char *kind;

    switch (ev->kind) {
    case TS_TRACE_STATE:
        json_head(out, hosts, nhosts, ev);
        fprintf(out, ", \"conn\": %u, \"from\": \"%s\", \"to\": \"%s\", \"cause\": ", ev->conn_id,
                ts_state_name(ev->from), ts_state_name(ev->to));
        json_str(out, ts_cause_name(ev->cause));
        fputs("}\n", out);
        return;
    case TS_TRACE_TX: kind = "tx"; break;
    case TS_TRACE_RX: kind = "rx"; break;
    case TS_TRACE_DROP:
    case TS_TRACE_LOST: kind = "drop"; break;
    default: return; /* NOTE, DUP: ladder only */
    }
    json_head(out, hosts, nhosts, ev);
    fprintf(out, ", \"ev\": \"%s\", \"conn\": %u, \"flags\": \"%s\", \"seq\": %u, \"ack\": %u, "
            "\"win\": %u, \"len\": %u", kind, ev->conn_id, ts_flags_str(ev->flags, fl),
            ev->seq, ev->ack, ev->win, ev->len);
    if (ev->kind == TS_TRACE_DROP)
        fprintf(out, ", \"reason\": \"%s\"", ts_drop_reason_name(ev->reason));
    else if (ev->kind == TS_TRACE_LOST)
        fputs(", \"reason\": \"LINK_LOSS\"", out);
    fputs("}\n", out);
}

void ts_json_end(FILE *out, const ts_trace_host *hosts, size_t nhosts, uint64_t t_us,
                 const ts_trace_conn *conns, size_t n)
{
    fprintf(out, "{\"t\": %llu.%06llu, \"ev\": \"end\", \"conns\": [",
            (unsigned long long)(t_us / 1000000), (unsigned long long)(t_us % 1000000));
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", {\"host\": " : "{\"host\": ", out);
        json_str(out, host_name(hosts, nhosts, conns[i].host));
        fprintf(out, ", \"conn\": %u, \"state\": \"%s\"}", conns[i].conn_id,
                ts_state_name(conns[i].state));
    }
    fputs("]}\n", out);
}

void ts_trace_from_transition(ts_trace_ev *ev, const ts_transition_ev *tev)
{
    memset(ev, 0, sizeof *ev);
    ev->t_us = tev->now_us;
    ev->kind = TS_TRACE_STATE;
    ev->conn_id = tev->conn_id;
    ev->from = tev->from;
    ev->to = tev->to;
    ev->cause = tev->cause;
}

void ts_trace_from_segment(ts_trace_ev *ev, const ts_segment_ev *sev)
{
    int tx = sev->kind == TS_SEG_TX;
    memset(ev, 0, sizeof *ev);
    ev->t_us = sev->now_us;
    ev->kind = tx ? TS_TRACE_TX : sev->kind == TS_SEG_DROP ? TS_TRACE_DROP : TS_TRACE_RX;
    ev->conn_id = sev->conn_id;
    ev->flags = sev->flags;
    ev->seq = sev->seq;
    ev->ack = sev->ack;
    ev->win = sev->win;
    ev->len = sev->len;
    ev->reason = sev->reason;
    ev->src = tx ? sev->tuple.local : sev->tuple.remote;
    ev->dst = tx ? sev->tuple.remote : sev->tuple.local;
}
