/*
 * parser.c — recursive descent over the token array, building the event
 * list of script.h (grammar: PACKETDRILL.md 1.2, 2.1, 3.1, 4.1; it follows
 * packetdrill's parser.y for the TCP/IPv4 subset).
 *
 * Besides the grammar, the parser makes the checks packetdrill makes while
 * parsing (inbound packets need `win`, `*` and ranges only on outbound
 * packets, sequence ranges must add up, options fit in 40 bytes) and, ahead
 * of time, those packetdrill only makes when the event runs: unknown
 * symbols and errno names, argument counts and kinds of each call, a first
 * event at time 0, absolute times that go backwards. All of these stop the
 * script before anything runs, with the line and column of the culprit.
 *
 * Invariants: on success every ts_event has its pkt, call or cmd set
 * according to kind; every ts_expr of kind INT is fully evaluated; the
 * parser never reads past the TK_EOF token.
 */
#include "script/script.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate.h"

typedef struct parser {
    const char *src;
    size_t len;
    ts_tok *t;
    size_t n, i;
    ts_arena **arena;
    ts_script_error *err;
} parser;

/* ------------------------------------------------------------- utilities */

static const ts_tok *peek(const parser *p) { return &p->t[p->i]; }
static const ts_tok *peek2(const parser *p) { return &p->t[p->i + 1 < p->n ? p->i + 1 : p->i]; }
static const ts_tok *next(parser *p)
{
    const ts_tok *t = &p->t[p->i];
    if (t->type != TK_EOF)
        p->i++;
    return t;
}

static int is_char(const ts_tok *t, int c) { return t->type == TK_CHAR && t->i == c; }
static int is_word(const ts_tok *t, const char *w) { return t->type == TK_WORD && strcmp(t->s, w) == 0; }

/* Records an error at token t (the first one wins). Returns -1. */
static int fail_at(parser *p, const ts_tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(parser *p, const ts_tok *t, const char *fmt, ...)
{
    va_list ap;
    p->err->line = t->line;
    p->err->col = t->col;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* "expected WHAT, got <token>" at the current token. */
static int expected(parser *p, const char *what)
{
    char got[96];
    ts_tok_describe(peek(p), got, sizeof got);
    return fail_at(p, peek(p), "syntax error: expected %s, got %s", what, got);
}

static int expect_char(parser *p, int c, const char *what)
{
    if (!is_char(peek(p), c))
        return expected(p, what);
    next(p);
    return 0;
}

static int expect_word(parser *p, const char *w)
{
    if (!is_word(peek(p), w)) {
        char what[64];
        snprintf(what, sizeof what, "'%s'", w);
        return expected(p, what);
    }
    next(p);
    return 0;
}

/* An integer token (decimal or hex) within [lo, hi]. */
static int parse_int(parser *p, long long lo, long long hi, const char *what, long long *out)
{
    const ts_tok *t = peek(p);
    if (t->type != TK_INT && t->type != TK_HEX)
        return expected(p, what);
    if (t->i < lo || t->i > hi)
        return fail_at(p, t, "%s out of range: %lld (allowed %lld..%lld)", what, t->i, lo, hi);
    *out = t->i;
    next(p);
    return 0;
}

static void *alloc(parser *p, size_t n)
{
    return ts_arena_alloc(p->arena, n);
}

/* The source text of tokens [from, to), blanks squeezed to one space. */
static const char *span_text(parser *p, size_t from, size_t to)
{
    if (to <= from)
        return "";
    size_t a = p->t[from].off, b = p->t[to - 1].off + p->t[to - 1].len;
    char *s = ts_arena_alloc(p->arena, b - a + 1);
    if (!s)
        return "";
    size_t o = 0;
    int blank = 0;
    for (size_t k = a; k < b; k++) {
        char c = p->src[k];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            blank = 1;
            continue;
        }
        if (blank && o)
            s[o++] = ' ';
        blank = 0;
        s[o++] = c;
    }
    s[o] = '\0';
    return s;
}

/* ------------------------------------------------------------------ times */

/* INTEGER seconds scale exactly; FLOAT seconds are truncated after
 * multiplying by 1e6 on a double, as packetdrill does (1.001 -> 1000999). */
static int parse_seconds(parser *p, int64_t *us)
{
    const ts_tok *t = peek(p);
    if (t->type == TK_INT) {
        if (t->i < 0)
            return fail_at(p, t, "negative time");
        if (t->i > 1000000000LL)
            return fail_at(p, t, "time out of range: %lld s", t->i);
        *us = (int64_t)t->i * 1000000;
    } else if (t->type == TK_FLOAT) {
        if (t->f < 0)
            return fail_at(p, t, "negative time");
        if (t->f > 1e9)
            return fail_at(p, t, "time out of range: %g s", t->f);
        *us = (int64_t)(t->f * 1.0e6);
    } else {
        return expected(p, "a time in seconds");
    }
    next(p);
    return 0;
}

static int parse_time(parser *p, ts_event *e)
{
    const ts_tok *t = peek(p);
    e->line = t->line;
    e->col = t->col;
    if (is_char(t, '*')) {
        next(p);
        e->time_kind = TS_TIME_ANY;
        return 0;
    }
    if (t->type != TK_INT && t->type != TK_FLOAT && !is_char(t, '+'))
        return expected(p, "an event time (T, +T or *)");
    int rel = is_char(t, '+');
    if (rel)
        next(p);
    if (parse_seconds(p, &e->t_us) < 0)
        return -1;
    e->time_kind = rel ? TS_TIME_REL : TS_TIME_ABS;
    if (!is_char(peek(p), '~'))
        return 0;
    next(p);
    if (rel && expect_char(p, '+', "'+' (both ends of a relative range need '+')") < 0)
        return -1;
    if (!rel && is_char(peek(p), '+'))
        return fail_at(p, peek(p), "an absolute range cannot end with a relative time");
    if (parse_seconds(p, &e->t2_us) < 0)
        return -1;
    if (e->t2_us < e->t_us)
        return fail_at(p, t, "time range is backwards");
    e->time_kind = rel ? TS_TIME_REL_RANGE : TS_TIME_ABS_RANGE;
    return 0;
}

/* ---------------------------------------------------------------- packets */

static int parse_ip_info(parser *p, ts_pkt_spec *k)
{
    int close = is_char(peek(p), '(') ? ')' : ']';
    next(p);
    const ts_tok *t = peek(p);
    if (is_word(t, "noecn") || is_word(t, "ect0") || is_word(t, "ect1") || is_word(t, "ce")) {
        k->tos_check = TS_TOS_ECN;
        k->tos = is_word(t, "noecn") ? 0 : is_word(t, "ect1") ? 1 : is_word(t, "ect0") ? 2 : 3;
        next(p);
    } else if (is_word(t, "ect01")) {
        k->tos_check = TS_TOS_ECT01;
        next(p);
    } else if (is_word(t, "tos")) {
        long long v;
        next(p);
        if (peek(p)->type != TK_HEX)
            return expected(p, "a hex TOS value (tos 0xNN)");
        if (parse_int(p, 0, 255, "tos", &v) < 0)
            return -1;
        k->tos_check = TS_TOS_FULL;
        k->tos = (int)v;
    } else if (is_word(t, "ttl")) {
        long long v;
        next(p);
        if (parse_int(p, 0, 255, "ttl", &v) < 0)
            return -1;
        k->ttl = (int)v;
    } else {
        return expected(p, "ecn, tos or ttl information");
    }
    if (is_word(peek(p), "flowlabel"))
        return fail_at(p, peek(p), "flowlabel is IPv6 only, not supported");
    return expect_char(p, close, close == ')' ? "')'" : "']'");
}

/* Flag letters (PACKETDRILL.md 4.2): F S R P U E W A, '.' for ACK. */
static int parse_flags(parser *p, ts_pkt_spec *k)
{
    const ts_tok *t = peek(p);
    if (is_char(t, '-')) {
        next(p);
        return 0;
    }
    if (is_char(t, '.')) {
        next(p);
        k->flags = TS_TH_ACK;
        return 0;
    }
    if (t->type != TK_WORD)
        return expected(p, "TCP flags (S, S., ., P., F., R, ...)");
    for (const char *c = t->s; *c; c++) {
        switch (*c) {
        case 'F': k->flags |= TS_TH_FIN; break;
        case 'S': k->flags |= TS_TH_SYN; break;
        case 'R': k->flags |= TS_TH_RST; break;
        case 'P': k->flags |= TS_TH_PSH; break;
        case 'U': k->flags |= TS_TH_URG; break;
        case 'E': k->flags |= TS_TH_ECE; break;
        case 'W': k->flags |= TS_TH_CWR; break;
        case 'A': k->flags |= TS_PKT_AE; break;
        default:
            if (*c >= '0' && *c <= '7')
                return fail_at(p, t, "AccECN ACE flags ('%c') are not supported", *c);
            return fail_at(p, t, "invalid TCP flag '%c' in '%s' (letters: F S R P U E W A, "
                           "then '.' for ACK)", *c, t->s);
        }
    }
    next(p);
    if (is_char(peek(p), '.')) {
        next(p);
        k->flags |= TS_TH_ACK;
    } else if (peek(p)->type == TK_FLOAT && peek(p)->off == t->off + t->len) {
        return fail_at(p, peek(p), "write a blank between the flags' '.' and the sequence "
                       "number ('S. 0:0(0)')");
    }
    return 0;
}

static int parse_seq(parser *p, ts_pkt_spec *k)
{
    long long a, b, n;
    const ts_tok *start = peek(p);
    if (peek(p)->type == TK_FLOAT)
        return fail_at(p, peek(p), "syntax error: expected START:END(LEN), got a number with "
                       "a '.': write a blank after the flags' '.'");
    if (parse_int(p, 0, UINT32_MAX, "sequence number (START:END(LEN))", &a) < 0 ||
        expect_char(p, ':', "':' (START:END(LEN))") < 0 ||
        parse_int(p, 0, UINT32_MAX, "end sequence number", &b) < 0 ||
        expect_char(p, '(', "'(' (START:END(LEN))") < 0 ||
        parse_int(p, 0, 65535, "payload length", &n) < 0 ||
        expect_char(p, ')', "')'") < 0)
        return -1;
    if (b != a + n)
        return fail_at(p, start, "inconsistent TCP sequence numbers and payload size: "
                       "%lld + %lld != %lld", a, n, b);
    k->seq = (uint32_t)a;
    k->end = (uint32_t)b;
    k->len = (uint32_t)n;
    return 0;
}

static int opt_size(const ts_tcpopt *o)
{
    switch (o->kind) {
    case TS_TCPOPT_EOL:
    case TS_TCPOPT_NOP: return 1;
    case TS_TCPOPT_MSS: return 4;
    case TS_TCPOPT_WSCALE: return 3;
    case TS_TCPOPT_SACKOK: return 2;
    case TS_TCPOPT_SACK: return 2 + 8 * o->nsack;
    case TS_TCPOPT_TS: return 10;
    }
    return 0;
}

static int parse_sack_blocks(parser *p, ts_tcpopt *o)
{
    do {
        long long l, r;
        if (o->nsack == TS_SCRIPT_MAX_SACK)
            return fail_at(p, peek(p), "more than %d SACK blocks", TS_SCRIPT_MAX_SACK);
        if (parse_int(p, 0, UINT32_MAX, "SACK block left edge (L:R)", &l) < 0 ||
            expect_char(p, ':', "':' (SACK block L:R)") < 0 ||
            parse_int(p, 0, UINT32_MAX, "SACK block right edge", &r) < 0)
            return -1;
        o->sack[o->nsack][0] = (uint32_t)l;
        o->sack[o->nsack][1] = (uint32_t)r;
        o->nsack++;
    } while (peek(p)->type == TK_INT);
    return 0;
}

static int parse_tcp_option(parser *p, ts_tcpopt *o)
{
    const ts_tok *t = peek(p);
    long long v;
    if (t->type != TK_WORD)
        return expected(p, "a TCP option (nop, eol, mss N, wscale N, sackOK, sack L:R, "
                        "TS val V ecr E)");
    next(p);
    if (is_word(t, "nop")) {
        o->kind = TS_TCPOPT_NOP;
    } else if (is_word(t, "eol")) {
        o->kind = TS_TCPOPT_EOL;
    } else if (is_word(t, "mss")) {
        o->kind = TS_TCPOPT_MSS;
        if (parse_int(p, 0, 65535, "mss value", &v) < 0)
            return -1;
        o->v = (uint32_t)v;
    } else if (is_word(t, "wscale")) {
        o->kind = TS_TCPOPT_WSCALE;
        if (parse_int(p, 0, 255, "window scale shift count", &v) < 0)
            return -1;
        o->v = (uint32_t)v;
    } else if (is_word(t, "sackOK")) {
        o->kind = TS_TCPOPT_SACKOK;
    } else if (is_word(t, "sack")) {
        o->kind = TS_TCPOPT_SACK;
        return parse_sack_blocks(p, o);
    } else if (is_word(t, "TS")) {
        long long val, ecr;
        o->kind = TS_TCPOPT_TS;
        if (expect_word(p, "val") < 0 || parse_int(p, 0, UINT32_MAX, "TS val", &val) < 0 ||
            expect_word(p, "ecr") < 0 || parse_int(p, 0, UINT32_MAX, "TS ecr", &ecr) < 0)
            return -1;
        o->val = (uint32_t)val;
        o->ecr = (uint32_t)ecr;
    } else if (is_word(t, "md5") || is_word(t, "FO") || is_word(t, "FOEXP") ||
               is_word(t, "ECN")) {
        return fail_at(p, t, "TCP option '%s' is not supported", t->s);
    } else {
        return fail_at(p, t, "syntax error: expected a TCP option (nop, eol, mss, wscale, "
                       "sackOK, sack, TS), got '%s'", t->s);
    }
    return 0;
}

static int parse_tcp_options(parser *p, ts_pkt_spec *k)
{
    const ts_tok *open = next(p); /* '<' */
    if (peek(p)->type == TK_ELLIPSIS) {
        next(p);
        k->opt_any = 1;
        return expect_char(p, '>', "'>' after '<...'");
    }
    for (;;) {
        const ts_tok *start = peek(p);
        if (k->nopts == TS_SCRIPT_MAX_OPTS)
            return fail_at(p, start, "TCP option list too long");
        ts_tcpopt *o = &k->opts[k->nopts];
        if (parse_tcp_option(p, o) < 0)
            return -1;
        k->nopts++;
        k->optlen += opt_size(o);
        if (k->optlen > 40)
            return fail_at(p, start, "TCP option list too long: %d bytes, at most 40", k->optlen);
        if (is_char(peek(p), '>'))
            break;
        if (expect_char(p, ',', "',' or '>' in the TCP option list") < 0)
            return -1;
    }
    next(p);
    if (k->optlen % 4)
        return fail_at(p, open, "TCP options take %d bytes, not a multiple of 4: pad "
                       "with nop or eol", k->optlen);
    return 0;
}

static int parse_packet_tail(parser *p, ts_pkt_spec *k)
{
    long long v;
    if (is_word(peek(p), "ack")) {
        next(p);
        if (parse_int(p, 0, UINT32_MAX, "ack number", &v) < 0)
            return -1;
        k->has_ack = 1;
        k->ack = (uint32_t)v;
    }
    if (is_word(peek(p), "win")) {
        next(p);
        if (parse_int(p, 0, 65535, "TCP window value", &v) < 0)
            return -1;
        k->has_win = 1;
        k->win = (uint32_t)v;
    }
    if (is_word(peek(p), "urg")) {
        next(p);
        if (parse_int(p, 0, 65535, "urg_ptr value", &v) < 0)
            return -1;
        k->urg = (uint32_t)v;
    }
    if (is_char(peek(p), '<'))
        return parse_tcp_options(p, k);
    return 0;
}

static int parse_packet(parser *p, ts_event *e)
{
    ts_pkt_spec *k = alloc(p, sizeof *k);
    if (!k)
        return fail_at(p, peek(p), "out of memory");
    const ts_tok *dir = next(p);
    k->dir = (int)dir->i;
    if (is_char(peek(p), '(') || is_char(peek(p), '['))
        if (parse_ip_info(p, k) < 0)
            return -1;
    if (peek(p)->type == TK_INT && is_char(peek2(p), '>')) {
        long long sp, dp;
        if (parse_int(p, 1, 65535, "source port", &sp) < 0)
            return -1;
        next(p);
        if (parse_int(p, 1, 65535, "destination port", &dp) < 0)
            return -1;
        k->src_port = (uint16_t)sp;
        k->dst_port = (uint16_t)dp;
    }
    if (parse_flags(p, k) < 0 || parse_seq(p, k) < 0 || parse_packet_tail(p, k) < 0)
        return -1;
    if (k->dir == '<' && !k->has_win)
        return fail_at(p, dir, "missing 'win N': an inbound packet must give its window");
    if (k->dir == '<' && k->opt_any)
        return fail_at(p, dir, "<...> for TCP options can only be used with outbound packets");
    if (k->dir == '<' && k->tos_check == TS_TOS_ECT01)
        return fail_at(p, dir, "[ect01] can only be used with outbound packets");
    e->kind = TS_EV_PACKET;
    e->pkt = k;
    return 0;
}

/* ------------------------------------------------------------ expressions */

static int parse_expr(parser *p, ts_expr **out);

static ts_expr *new_expr(parser *p, int kind, const ts_tok *at)
{
    ts_expr *x = alloc(p, sizeof *x);
    if (x) {
        x->kind = kind;
        x->line = at->line;
        x->col = at->col;
    }
    return x;
}

#define LIST_MAX 64

/* '[' [expr (',' expr)*] ']' */
static int parse_list(parser *p, ts_expr *x)
{
    ts_expr *items[LIST_MAX];
    int n = 0;
    next(p); /* '[' */
    if (!is_char(peek(p), ']')) {
        for (;;) {
            if (n == LIST_MAX)
                return fail_at(p, peek(p), "list too long (at most %d elements)", LIST_MAX);
            if (parse_expr(p, &items[n]) < 0)
                return -1;
            n++;
            if (is_char(peek(p), ']'))
                break;
            if (expect_char(p, ',', "',' or ']'") < 0)
                return -1;
        }
    }
    next(p);
    x->items = alloc(p, sizeof(ts_expr *) * (size_t)(n ? n : 1));
    if (!x->items)
        return fail_at(p, peek(p), "out of memory");
    memcpy(x->items, items, sizeof(ts_expr *) * (size_t)n);
    x->nitems = n;
    return 0;
}

/* KEY '=' expr, for the struct literals. */
static int parse_field(parser *p, const char *key, ts_expr **out)
{
    if (expect_word(p, key) < 0 || expect_char(p, '=', "'='") < 0)
        return -1;
    return parse_expr(p, out);
}

/* {onoff=A, linger=B} (struct linger) or {fd=F, events=E[, revents=R]}. */
static int parse_struct(parser *p, ts_expr *x)
{
    next(p); /* '{' */
    x->items = alloc(p, 3 * sizeof(ts_expr *));
    if (!x->items)
        return fail_at(p, peek(p), "out of memory");
    if (is_word(peek(p), "onoff")) {
        x->kind = TS_EX_LINGER;
        x->nitems = 2;
        if (parse_field(p, "onoff", &x->items[0]) < 0 || expect_char(p, ',', "','") < 0 ||
            parse_field(p, "linger", &x->items[1]) < 0)
            return -1;
    } else if (is_word(peek(p), "fd")) {
        x->kind = TS_EX_POLLFD;
        x->nitems = 3;
        if (parse_field(p, "fd", &x->items[0]) < 0 || expect_char(p, ',', "','") < 0 ||
            parse_field(p, "events", &x->items[1]) < 0)
            return -1;
        if (is_char(peek(p), ',')) {
            next(p);
            if (parse_field(p, "revents", &x->items[2]) < 0)
                return -1;
        }
    } else {
        return expected(p, "'onoff' ({onoff=1, linger=0}) or 'fd' ({fd=3, events=POLLIN})");
    }
    for (int k = 0; k < x->nitems; k++)
        if (x->items[k] && x->items[k]->kind != TS_EX_INT)
            return fail_at(p, peek(p), "the fields of a %s must be integers",
                           x->kind == TS_EX_LINGER ? "struct linger" : "struct pollfd");
    return expect_char(p, '}', "'}'");
}

/* Adjacent strings concatenate, as in C and packetdrill. */
static int parse_strings(parser *p, ts_expr *x)
{
    size_t total = 0, k = p->i;
    while (p->t[k].type == TK_STRING)
        total += p->t[k++].slen;
    char *s = alloc(p, total + 1);
    if (!s)
        return fail_at(p, peek(p), "out of memory");
    size_t o = 0;
    while (peek(p)->type == TK_STRING) {
        memcpy(s + o, peek(p)->s, peek(p)->slen);
        o += peek(p)->slen;
        next(p);
    }
    x->s = s;
    x->slen = o;
    return 0;
}

static int parse_primary(parser *p, ts_expr **out)
{
    const ts_tok *t = peek(p);
    ts_expr *x = new_expr(p, TS_EX_INT, t);
    if (!x)
        return fail_at(p, t, "out of memory");
    *out = x;
    if (t->type == TK_ELLIPSIS) {
        x->kind = TS_EX_ELLIPSIS;
        next(p);
    } else if (t->type == TK_INT || t->type == TK_HEX) {
        x->i = t->i;
        next(p);
    } else if (t->type == TK_WORD && !ts_word_reserved(t->s)) {
        if (ts_symbol_value(t->s, &x->i) < 0)
            return fail_at(p, t, "unknown symbol '%s'", t->s);
        next(p);
    } else if (t->type == TK_STRING) {
        x->kind = TS_EX_STRING;
        return parse_strings(p, x);
    } else if (is_char(t, '[')) {
        x->kind = TS_EX_LIST;
        return parse_list(p, x);
    } else if (is_char(t, '{')) {
        return parse_struct(p, x);
    } else {
        return expected(p, "an argument (..., a number, a symbol, \"string\", [list] or "
                        "{struct})");
    }
    return 0;
}

/* primary ('|' primary)*: bitwise or of integers, folded. */
static int parse_expr(parser *p, ts_expr **out)
{
    if (parse_primary(p, out) < 0)
        return -1;
    while (is_char(peek(p), '|')) {
        const ts_tok *bar = next(p);
        ts_expr *rhs;
        if (parse_primary(p, &rhs) < 0)
            return -1;
        if ((*out)->kind != TS_EX_INT || rhs->kind != TS_EX_INT)
            return fail_at(p, bar, "'|' needs integers on both sides");
        (*out)->i |= rhs->i;
    }
    return 0;
}

/* ----------------------------------------------------------- system calls */

static const ts_call_info calls[] = {
    { "socket", 3, 3, -1 },     { "bind", 3, 3, 0 },        { "listen", 2, 2, 0 },
    { "accept", 3, 3, 0 },      { "connect", 3, 3, 0 },     { "read", 3, 3, 0 },
    { "write", 3, 3, 0 },       { "send", 4, 4, 0 },        { "recv", 4, 4, 0 },
    { "shutdown", 2, 2, 0 },    { "close", 1, 1, 0 },       { "setsockopt", 5, 5, 0 },
    { "getsockopt", 5, 5, 0 },  { "fcntl", 2, 3, 0 },       { "poll", 3, 3, -1 },
    { NULL, 0, 0, 0 }
};

/* packetdrill parses these too, but the runner does not implement them. */
static const char *const unsupported_calls[] = {
    "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg", "ioctl", "sendfile",
    "open", "pipe", "splice", "epoll_create", "epoll_ctl", "epoll_wait", "cap_set", NULL
};

const ts_call_info *ts_call_lookup(const char *name)
{
    for (const ts_call_info *c = calls; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int arg_is(const ts_expr *x, int kind) { return x && x->kind == kind; }

static int arg_fail(parser *p, const ts_call_spec *c, int i, const char *what)
{
    const ts_expr *x = c->args[i];
    ts_tok at = { 0 };
    at.line = x->line;
    at.col = x->col;
    return fail_at(p, &at, "%s(): argument %d must be %s", c->name, i + 1, what);
}

/* A one-integer list: [N]. */
static int is_int_list(const ts_expr *x)
{
    return arg_is(x, TS_EX_LIST) && x->nitems == 1 && arg_is(x->items[0], TS_EX_INT);
}

static int check_buffer_call(parser *p, const ts_call_spec *c)
{
    const ts_expr *b = c->args[1];
    if (!arg_is(b, TS_EX_ELLIPSIS) && !(arg_is(b, TS_EX_INT) && b->i == 0))
        return arg_fail(p, c, 1, "... (a buffer) or 0/NULL");
    if (!arg_is(c->args[2], TS_EX_INT) || c->args[2]->i < 0)
        return arg_fail(p, c, 2, "a byte count");
    if (c->nargs == 4 && !arg_is(c->args[3], TS_EX_INT))
        return arg_fail(p, c, 3, "flags (an integer)");
    return 0;
}

static int check_sockopt_call(parser *p, const ts_call_spec *c)
{
    int get = strcmp(c->name, "getsockopt") == 0;
    const ts_expr *v = c->args[3], *len = c->args[4];
    if (!arg_is(c->args[1], TS_EX_INT) || !arg_is(c->args[2], TS_EX_INT))
        return arg_fail(p, c, arg_is(c->args[1], TS_EX_INT) ? 2 : 1, "an integer");
    if (!is_int_list(v) && !arg_is(v, TS_EX_STRING) && (get || !arg_is(v, TS_EX_LINGER)))
        return arg_fail(p, c, 3, get ? "[N] or \"string\"" : "[N], {onoff=A, linger=B} or "
                        "\"string\"");
    if (get && !is_int_list(len))
        return arg_fail(p, c, 4, "the length in brackets, [4]");
    if (!get && !arg_is(len, TS_EX_INT))
        return arg_fail(p, c, 4, "the length, a plain integer");
    return 0;
}

static int check_poll_call(parser *p, const ts_call_spec *c)
{
    const ts_expr *l = c->args[0];
    if (!arg_is(l, TS_EX_LIST))
        return arg_fail(p, c, 0, "a list of {fd=, events=} structs");
    if (l->nitems > 8)
        return arg_fail(p, c, 0, "a list of at most 8 pollfds");
    for (int k = 0; k < l->nitems; k++)
        if (!arg_is(l->items[k], TS_EX_POLLFD))
            return arg_fail(p, c, 0, "a list of {fd=, events=} structs");
    if (!arg_is(c->args[1], TS_EX_INT) || c->args[1]->i != l->nitems)
        return arg_fail(p, c, 1, "nfds, the length of the pollfd list");
    if (!arg_is(c->args[2], TS_EX_INT))
        return arg_fail(p, c, 2, "a timeout in ms");
    return 0;
}

/* Argument kinds per call (packetdrill's run_system_call.c makes these
 * checks when the call runs; here they happen before anything runs). */
static int check_call_args(parser *p, const ts_call_spec *c, const ts_call_info *ci)
{
    const char *n = c->name;
    if (ci->fd_arg >= 0 && !arg_is(c->args[ci->fd_arg], TS_EX_INT))
        return arg_fail(p, c, ci->fd_arg, "a file descriptor number");
    if (strcmp(n, "socket") == 0) {
        if (!arg_is(c->args[0], TS_EX_ELLIPSIS) && !arg_is(c->args[0], TS_EX_INT))
            return arg_fail(p, c, 0, "... or an address family");
        if (!arg_is(c->args[1], TS_EX_INT) || !arg_is(c->args[2], TS_EX_INT))
            return arg_fail(p, c, arg_is(c->args[1], TS_EX_INT) ? 2 : 1, "an integer");
    } else if (strcmp(n, "bind") == 0 || strcmp(n, "accept") == 0 ||
               strcmp(n, "connect") == 0) {
        int first_ok = arg_is(c->args[1], TS_EX_ELLIPSIS) ||
                       (n[0] == 'c' && arg_is(c->args[1], TS_EX_INT));
        if (!first_ok)
            return arg_fail(p, c, 1, n[0] == 'c' ? "... (remote_ip:connect_port) or an "
                            "address family" : "... (the runner fills in the address)");
        if (!arg_is(c->args[2], TS_EX_ELLIPSIS))
            return arg_fail(p, c, 2, "... (the address length)");
    } else if (strcmp(n, "read") == 0 || strcmp(n, "write") == 0 ||
               strcmp(n, "send") == 0 || strcmp(n, "recv") == 0) {
        return check_buffer_call(p, c);
    } else if (strcmp(n, "setsockopt") == 0 || strcmp(n, "getsockopt") == 0) {
        return check_sockopt_call(p, c);
    } else if (strcmp(n, "poll") == 0) {
        return check_poll_call(p, c);
    } else {
        for (int k = 1; k < c->nargs; k++) /* listen, shutdown, fcntl */
            if (!arg_is(c->args[k], TS_EX_INT))
                return arg_fail(p, c, k, "an integer");
    }
    return 0;
}

/* '(' WORD+ ')': packetdrill's note grammar (plain words, 'flags' first). */
static int parse_note(parser *p)
{
    if (expect_char(p, '(', "'(' and a note (errno text in words)") < 0)
        return -1;
    int first = 1;
    do {
        const ts_tok *t = peek(p);
        if (t->type != TK_WORD || (ts_word_reserved(t->s) && !(first && is_word(t, "flags"))))
            return expected(p, "plain words in the note (letters, digits, '_')");
        next(p);
        first = 0;
    } while (!is_char(peek(p), ')'));
    next(p);
    return 0;
}

static int parse_call_result(parser *p, ts_call_spec *c)
{
    if (expect_char(p, '=', "'=' and the expected result") < 0)
        return -1;
    const ts_tok *t = peek(p);
    if (t->type != TK_INT && t->type != TK_HEX)
        return expected(p, "an integer result (a symbol is not accepted there)");
    if (t->i < INT32_MIN || t->i > UINT32_MAX)
        return fail_at(p, t, "result out of range");
    c->ret = t->i;
    next(p);
    t = peek(p);
    if (t->type == TK_WORD && !ts_word_reserved(t->s)) {
        if (ts_errno_value(t->s, &c->err) < 0)
            return fail_at(p, t, "unknown errno name '%s'", t->s);
        c->has_errno = 1;
        c->errno_name = t->s;
        next(p);
        if (parse_note(p) < 0)
            return -1;
    }
    if (is_char(peek(p), '('))
        return parse_note(p);
    return 0;
}

static int parse_call(parser *p, ts_event *e)
{
    ts_call_spec *c = alloc(p, sizeof *c);
    if (!c)
        return fail_at(p, peek(p), "out of memory");
    if (peek(p)->type == TK_ELLIPSIS) {
        const ts_tok *dots = next(p);
        if (e->time_kind != TS_TIME_ABS && e->time_kind != TS_TIME_REL)
            return fail_at(p, dots, "a blocking call S...E needs a plain start time");
        if (is_char(peek(p), '+'))
            return fail_at(p, peek(p), "the end E of S...E takes no '+': it is measured "
                           "like S");
        if (parse_seconds(p, &c->end_us) < 0)
            return -1;
        if (c->end_us < e->t_us)
            return fail_at(p, dots, "blocking call ends before it starts");
        c->blocking = 1;
        c->end_abs = e->time_kind == TS_TIME_ABS;
    }
    const ts_tok *name = peek(p);
    if (name->type != TK_WORD || ts_word_reserved(name->s))
        return expected(p, "a system call name");
    next(p);
    const ts_call_info *ci = ts_call_lookup(name->s);
    for (int k = 0; !ci && unsupported_calls[k]; k++)
        if (strcmp(unsupported_calls[k], name->s) == 0)
            return fail_at(p, name, "system call '%s' is not supported by this runner",
                           name->s);
    if (!ci)
        return fail_at(p, name, "unknown system call '%s'", name->s);
    c->name = ci->name;
    if (expect_char(p, '(', "'(' after the call name") < 0)
        return -1;
    if (!is_char(peek(p), ')')) {
        for (;;) {
            if (c->nargs == TS_SCRIPT_MAX_ARGS)
                return fail_at(p, peek(p), "too many arguments");
            if (parse_expr(p, &c->args[c->nargs]) < 0)
                return -1;
            c->nargs++;
            if (is_char(peek(p), ')'))
                break;
            if (expect_char(p, ',', "',' or ')'") < 0)
                return -1;
        }
    }
    next(p);
    if (c->nargs < ci->min_args || c->nargs > ci->max_args) {
        if (ci->min_args == ci->max_args)
            return fail_at(p, name, "%s() takes %d arguments, got %d", ci->name,
                           ci->min_args, c->nargs);
        return fail_at(p, name, "%s() takes %d to %d arguments, got %d", ci->name,
                       ci->min_args, ci->max_args, c->nargs);
    }
    if (check_call_args(p, c, ci) < 0 || parse_call_result(p, c) < 0)
        return -1;
    e->kind = TS_EV_CALL;
    e->call = c;
    return 0;
}

/* ----------------------------------------------------------------- events */

static int parse_event(parser *p, ts_event *e)
{
    if (parse_time(p, e) < 0)
        return -1;
    size_t from = p->i;
    const ts_tok *t = peek(p);
    int r;
    if (is_char(t, '<') || is_char(t, '>')) {
        r = parse_packet(p, e);
    } else if (t->type == TK_CMD) {
        e->kind = TS_EV_CMD;
        e->cmd = t->s;
        next(p);
        r = 0;
    } else if (t->type == TK_ELLIPSIS || (t->type == TK_WORD && !ts_word_reserved(t->s))) {
        r = parse_call(p, e);
    } else {
        r = expected(p, "a packet ('<' or '>'), a system call or a `command` after the time");
    }
    if (r < 0)
        return -1;
    if (e->kind == TS_EV_CALL && e->call->blocking)
        from += 2; /* the text starts at the call's name, after "...E" */
    e->text = span_text(p, from, p->i);
    int outbound = e->kind == TS_EV_PACKET && e->pkt->dir == '>';
    ts_tok at = { 0 };
    at.line = e->line;
    at.col = e->col;
    if (e->time_kind == TS_TIME_ANY && !outbound)
        return fail_at(p, &at, "event time '*' can only be used with outbound packets");
    if ((e->time_kind == TS_TIME_ABS_RANGE || e->time_kind == TS_TIME_REL_RANGE) && !outbound)
        return fail_at(p, &at, "event time range can only be used with outbound packets");
    return 0;
}

/* --name[=value]; values as packetdrill's option_value (no floats). */
static int parse_option(parser *p, ts_script_opt *o)
{
    const ts_tok *t = next(p);
    o->name = t->s;
    o->line = t->line;
    if (!is_char(peek(p), '='))
        return 0;
    next(p);
    const ts_tok *v = peek(p);
    if (v->type == TK_INT || v->type == TK_HEX || v->type == TK_IPV4) {
        o->value = ts_arena_strndup(p->arena, p->src + v->off, v->len);
    } else if (v->type == TK_WORD || v->type == TK_STRING) {
        o->value = v->s;
    } else if (v->type == TK_FLOAT) {
        return fail_at(p, v, "option values cannot be floats in a script (--%s)", o->name);
    } else {
        return expected(p, "an option value");
    }
    next(p);
    if (v->type == TK_WORD && is_char(peek(p), '=')) {
        /* --define=NAME=VALUE */
        next(p);
        const ts_tok *w = peek(p);
        if (w->type != TK_WORD && w->type != TK_STRING && w->type != TK_INT)
            return expected(p, "a value after NAME=");
        char *s = ts_arena_alloc(p->arena, strlen(o->value) + w->len + 2);
        if (!s)
            return fail_at(p, w, "out of memory");
        sprintf(s, "%s=%.*s", o->value, (int)w->len, p->src + w->off);
        o->value = s;
        next(p);
    }
    return o->value ? 0 : fail_at(p, v, "out of memory");
}

/* ----------------------------------------------------------------- script */

static int check_times(parser *p, const ts_script *s)
{
    ts_tok at = { 0 };
    const ts_event *first = &s->events[0];
    at.line = first->line;
    at.col = first->col;
    if (first->t_us != 0)
        return fail_at(p, &at, "first event should be at time 0");
    for (size_t k = 1; k < s->nevents; k++) {
        const ts_event *a = &s->events[k - 1], *b = &s->events[k];
        int abs_a = a->time_kind == TS_TIME_ABS || a->time_kind == TS_TIME_ABS_RANGE;
        int abs_b = b->time_kind == TS_TIME_ABS || b->time_kind == TS_TIME_ABS_RANGE;
        if (abs_a && abs_b && b->t_us < a->t_us) {
            at.line = b->line;
            at.col = b->col;
            return fail_at(p, &at, "time goes backward in script from %.6f to %.6f s",
                           a->t_us / 1e6, b->t_us / 1e6);
        }
    }
    return 0;
}

/* "// tcpstate-only: REASON" as the very first line. */
static const char *tcpstate_only(parser *p)
{
    const char *s = p->src, *end = p->src + p->len;
    const char *nl = memchr(s, '\n', p->len);
    if (!nl)
        nl = end;
    if (nl - s < 2 || s[0] != '/' || s[1] != '/')
        return NULL;
    s += 2;
    while (s < nl && (*s == ' ' || *s == '\t'))
        s++;
    static const char key[] = "tcpstate-only:";
    if ((size_t)(nl - s) < sizeof key - 1 || memcmp(s, key, sizeof key - 1) != 0)
        return NULL;
    s += sizeof key - 1;
    while (s < nl && (*s == ' ' || *s == '\t'))
        s++;
    while (nl > s && (nl[-1] == ' ' || nl[-1] == '\t' || nl[-1] == '\r'))
        nl--;
    return ts_arena_strndup(p->arena, s, (size_t)(nl - s));
}

static int parse_top(parser *p, ts_script *s)
{
    int cap = 0;
    while (peek(p)->type == TK_OPTION) {
        if (s->nopts == cap) {
            cap = cap ? cap * 2 : 8;
            ts_script_opt *o = alloc(p, sizeof *o * (size_t)cap);
            if (!o)
                return fail_at(p, peek(p), "out of memory");
            if (s->nopts)
                memcpy(o, s->opts, sizeof *o * (size_t)s->nopts);
            s->opts = o;
        }
        if (parse_option(p, &s->opts[s->nopts++]) < 0)
            return -1;
    }
    if (peek(p)->type == TK_CMD) {
        s->init_line = peek(p)->line;
        s->init_cmd = next(p)->s;
    }
    size_t evcap = 0;
    while (peek(p)->type != TK_EOF) {
        if (peek(p)->type == TK_CMD && peek2(p)->type == TK_EOF && s->nevents > 0) {
            s->cleanup_line = peek(p)->line;
            s->cleanup_cmd = next(p)->s;
            break;
        }
        if (s->nevents == evcap) {
            evcap = evcap ? evcap * 2 : 64;
            ts_event *ev = realloc(s->events, sizeof *ev * evcap);
            if (!ev)
                return fail_at(p, peek(p), "out of memory");
            s->events = ev;
        }
        ts_event *e = &s->events[s->nevents];
        memset(e, 0, sizeof *e);
        if (parse_event(p, e) < 0)
            return -1;
        s->nevents++;
    }
    if (s->nevents == 0)
        return fail_at(p, peek(p), "syntax error: a script needs at least one event "
                       "(TIME ACTION), got end of file");
    return check_times(p, s);
}

int ts_script_parse(const char *path, const char *src, size_t len, ts_script **out,
                    ts_script_error *err)
{
    memset(err, 0, sizeof *err);
    *out = NULL;
    ts_script *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return -1;
    }
    parser p = { src, len, NULL, 0, 0, &s->arena, err };
    if (ts_lex(src, len, &s->arena, &p.t, &p.n, err) < 0) {
        ts_script_free(s);
        return -1;
    }
    s->path = ts_arena_strndup(&s->arena, path ? path : "-", strlen(path ? path : "-"));
    s->tcpstate_only = tcpstate_only(&p);
    int r = parse_top(&p, s);
    free(p.t);
    if (r < 0) {
        ts_script_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int ts_script_load(const char *path, ts_script **out, ts_script_error *err)
{
    memset(err, 0, sizeof *err);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "cannot open: %s", strerror(errno));
        return -1;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *b = cap > (64u << 20) ? NULL : realloc(buf, cap * 2);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        free(buf);
        snprintf(err->msg, sizeof err->msg, buf ? "read error" : "file too large or out of memory");
        return -1;
    }
    int r = ts_script_parse(path, buf, n, out, err);
    free(buf);
    return r;
}

void ts_script_free(ts_script *s)
{
    if (!s)
        return;
    free(s->events);
    ts_arena_free(s->arena);
    free(s);
}
