/*
 * lexer.c — packetdrill's tokens (PACKETDRILL.md 1.1), and the arena the
 * parsed script lives in.
 *
 * Like packetdrill's flex scanner, the longest match wins and, on a tie,
 * the earlier rule: ELLIPSIS, OPTION, FLOAT, INTEGER, HEX, WORD, STRING,
 * COMMAND, single character; an IPv4 address beats a float only by being
 * longer. So `.1` is a float, `0x802` hex, `123abc` a word, `-1` an integer
 * and a lone `-` a character. Reserved words (`ack`, `win`, ...) come out
 * as WORDs; the parser asks ts_word_reserved() where it matters.
 *
 * Deliberate leniency: a `//` comment on a last line without a newline is
 * accepted (packetdrill rejects it), and a block comment ends at the first
 * `*` `/` even when written `**` `/`.
 *
 * Invariants: tokens carry 1-based line and column (bytes) of their first
 * character; every string a token points to lives in the arena.
 */
#include "script/script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ arena */

struct ts_arena {
    struct ts_arena *next;
    size_t used, cap;
    /* then cap bytes, max-aligned */
};

#define ARENA_BLOCK 16384
#define ARENA_ALIGN 16

void *ts_arena_alloc(ts_arena **a, size_t n)
{
    size_t hdr = (sizeof(ts_arena) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (!*a || (*a)->cap - (*a)->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        ts_arena *b = malloc(hdr + cap);
        if (!b)
            return NULL;
        b->next = *a;
        b->used = 0;
        b->cap = cap;
        *a = b;
    }
    void *p = (char *)*a + hdr + (*a)->used;
    (*a)->used += n;
    memset(p, 0, n);
    return p;
}

char *ts_arena_strndup(ts_arena **a, const char *s, size_t n)
{
    char *p = ts_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void ts_arena_free(ts_arena *a)
{
    while (a) {
        ts_arena *next = a->next;
        free(a);
        a = next;
    }
}

/* ---------------------------------------------------------- reserved words */

/* The keywords of packetdrill's lexer that a TCP script can meet. */
static const char *const reserved[] = {
    "ack", "win", "urg", "mss", "wscale", "sackOK", "sack", "TS", "val", "ecr", "nop",
    "eol", "md5", "FO", "FOEXP", "ECN", "e0b", "e1b", "ceb", "tos", "ttl", "ect0",
    "ect1", "ect01", "ce", "noecn", "fd", "events", "revents", "onoff", "linger",
    "flags", "Flags", "id", "seq", "off", "key", "sum", "mtu", "raw", "ipv4", "ipv6",
    "icmp", "udp", "gre", "GREv0", "label", "tc", "ptr", "u32", "u64", "none", "present",
    "checksum", "encap", "psp", "spi", "mpls", "htons", "inet_addr", "inet6_addr",
    "sa_family", "sin_port", "sin_addr", "flowlabel", "msg_name", "msg_iov",
    "msg_flags", "msg_control", "cmsg_data", "cmsg_level", "cmsg_type", "ee_errno",
    "ee_origin", "ee_type", "ee_code", "ee_info", "ee_data", "scm_sec", "scm_nsec",
    NULL
};

int ts_word_reserved(const char *w)
{
    for (int i = 0; reserved[i]; i++)
        if (strcmp(reserved[i], w) == 0)
            return 1;
    return 0;
}

void ts_tok_describe(const ts_tok *t, char *buf, size_t cap)
{
    switch (t->type) {
    case TK_EOF: snprintf(buf, cap, "end of file"); break;
    case TK_INT: snprintf(buf, cap, "integer %lld", t->i); break;
    case TK_HEX: snprintf(buf, cap, "integer 0x%llx", t->i); break;
    case TK_FLOAT: snprintf(buf, cap, "number %g", t->f); break;
    case TK_WORD:
        snprintf(buf, cap, "%s '%s'", ts_word_reserved(t->s) ? "keyword" : "word", t->s);
        break;
    case TK_STRING: snprintf(buf, cap, "string \"%.40s\"", t->s); break;
    case TK_CMD: snprintf(buf, cap, "command `%.40s`", t->s); break;
    case TK_ELLIPSIS: snprintf(buf, cap, "'...'"); break;
    case TK_OPTION: snprintf(buf, cap, "option --%s", t->s); break;
    case TK_IPV4: snprintf(buf, cap, "address %s", t->s); break;
    case TK_CHAR: snprintf(buf, cap, "'%c'", (char)t->i); break;
    default: snprintf(buf, cap, "token"); break;
    }
}

/* ------------------------------------------------------------------ lexer */

typedef struct lexer {
    const char *src;
    size_t len, pos;
    int line, col;
    ts_arena **arena;
    ts_tok *toks;
    size_t n, cap;
    ts_script_error *err;
} lexer;

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_xdigit(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int is_wordc(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int at(const lexer *lx, size_t i) { return i < lx->len ? (unsigned char)lx->src[i] : -1; }

static int lex_error(lexer *lx, int line, int col, const char *msg)
{
    lx->err->line = line;
    lx->err->col = col;
    snprintf(lx->err->msg, sizeof lx->err->msg, "%s", msg);
    return -1;
}

/* Moves over n bytes, keeping line and column. */
static void advance(lexer *lx, size_t n)
{
    while (n-- && lx->pos < lx->len) {
        if (lx->src[lx->pos++] == '\n') {
            lx->line++;
            lx->col = 1;
        } else {
            lx->col++;
        }
    }
}

static ts_tok *push(lexer *lx, int type, size_t len)
{
    if (lx->n == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 256;
        ts_tok *t = realloc(lx->toks, cap * sizeof *t);
        if (!t)
            return NULL;
        lx->toks = t;
        lx->cap = cap;
    }
    ts_tok *t = &lx->toks[lx->n++];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->line = lx->line;
    t->col = lx->col;
    t->off = lx->pos;
    t->len = len;
    return t;
}

/* Lengths of the numeric rules matching at pos (0: no match). */
static size_t match_float(const lexer *lx, size_t p)
{
    size_t i = p;
    if (at(lx, i) == '-')
        i++;
    while (is_digit(at(lx, i)))
        i++;
    if (at(lx, i) != '.' || !is_digit(at(lx, i + 1)))
        return 0;
    i++;
    while (is_digit(at(lx, i)))
        i++;
    return i - p;
}

static size_t match_int(const lexer *lx, size_t p)
{
    size_t i = p;
    if (at(lx, i) == '-')
        i++;
    size_t d = i;
    while (is_digit(at(lx, i)))
        i++;
    return i > d ? i - p : 0;
}

static size_t match_hex(const lexer *lx, size_t p)
{
    if (at(lx, p) != '0' || at(lx, p + 1) != 'x' || !is_xdigit(at(lx, p + 2)))
        return 0;
    size_t i = p + 2;
    while (is_xdigit(at(lx, i)))
        i++;
    return i - p;
}

static size_t match_word(const lexer *lx, size_t p)
{
    size_t i = p;
    while (is_wordc(at(lx, i)))
        i++;
    return i - p;
}

static size_t match_ipv4(const lexer *lx, size_t p)
{
    size_t i = p;
    for (int part = 0; part < 4; part++) {
        size_t d = i;
        while (is_digit(at(lx, i)))
            i++;
        if (i == d)
            return 0;
        if (part < 3) {
            if (at(lx, i) != '.')
                return 0;
            i++;
        }
    }
    return i - p;
}

/* Numbers, words and addresses: the longest of the rules, earlier on ties. */
static int lex_number_or_word(lexer *lx)
{
    size_t p = lx->pos;
    size_t lf = match_float(lx, p), li = match_int(lx, p), lh = match_hex(lx, p);
    size_t lw = at(lx, p) == '-' ? 0 : match_word(lx, p), lip = match_ipv4(lx, p);
    size_t best = lf;
    int type = TK_FLOAT;
    if (li > best) { best = li; type = TK_INT; }
    if (lh > best) { best = lh; type = TK_HEX; }
    if (lw > best) { best = lw; type = TK_WORD; }
    if (lip > best) { best = lip; type = TK_IPV4; }
    if (best == 0)
        return 0;
    ts_tok *t = push(lx, type, best);
    if (!t)
        return lex_error(lx, lx->line, lx->col, "out of memory");
    char tmp[64];
    size_t n = best < sizeof tmp - 1 ? best : sizeof tmp - 1;
    memcpy(tmp, lx->src + p, n);
    tmp[n] = '\0';
    errno = 0;
    if (type == TK_FLOAT) {
        t->f = strtod(tmp, NULL);
    } else if (type == TK_INT) {
        t->i = strtoll(tmp, NULL, 10);
        if (errno == ERANGE || best >= sizeof tmp - 1)
            return lex_error(lx, t->line, t->col, "integer out of range");
    } else if (type == TK_HEX) {
        unsigned long long v = strtoull(tmp + 2, NULL, 16);
        if (errno == ERANGE || v > (unsigned long long)INT64_MAX || best >= sizeof tmp - 1)
            return lex_error(lx, t->line, t->col, "hex integer out of range");
        t->i = (long long)v;
    }
    if (type == TK_WORD || type == TK_IPV4) {
        t->s = ts_arena_strndup(lx->arena, lx->src + p, best);
        t->slen = best;
        if (!t->s)
            return lex_error(lx, t->line, t->col, "out of memory");
    }
    advance(lx, best);
    return 1;
}

static int hexval(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

/* C escapes of a quoted string (the body between the quotes). */
static size_t unescape(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c != '\\' || i + 1 >= n) {
            out[o++] = c;
            continue;
        }
        c = in[++i];
        switch (c) {
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case 'r': out[o++] = '\r'; break;
        case 'a': out[o++] = '\a'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'v': out[o++] = '\v'; break;
        case 'x': {
            int v = 0, k = 0;
            while (k < 2 && i + 1 < n && is_xdigit((unsigned char)in[i + 1]))
                v = v * 16 + hexval((unsigned char)in[++i]), k++;
            out[o++] = (char)v;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0', k = 1;
                while (k < 3 && i + 1 < n && in[i + 1] >= '0' && in[i + 1] <= '7')
                    v = v * 8 + (in[++i] - '0'), k++;
                out[o++] = (char)v;
            } else {
                out[o++] = c; /* \\ \" \' \? and unknown escapes */
            }
        }
    }
    out[o] = '\0';
    return o;
}

/* "..." and `...`: a backslash escapes the next character, even a newline. */
static int lex_quoted(lexer *lx, int q)
{
    size_t p = lx->pos, i = p + 1;
    int line = lx->line, col = lx->col;
    while (i < lx->len && lx->src[i] != q)
        i += (lx->src[i] == '\\' && i + 1 < lx->len) ? 2 : 1;
    if (i >= lx->len)
        return lex_error(lx, line, col, q == '"' ? "unterminated string" : "unterminated `command`");
    ts_tok *t = push(lx, q == '"' ? TK_STRING : TK_CMD, i + 1 - p);
    if (!t)
        return lex_error(lx, line, col, "out of memory");
    char *s = ts_arena_alloc(lx->arena, i - p);
    if (!s)
        return lex_error(lx, line, col, "out of memory");
    if (q == '"') {
        t->slen = unescape(lx->src + p + 1, i - p - 1, s);
    } else {
        /* packetdrill hands the command to the shell as written */
        memcpy(s, lx->src + p + 1, i - p - 1);
        t->slen = i - p - 1;
    }
    t->s = s;
    advance(lx, i + 1 - p);
    return 1;
}

/* Blanks and comments. 1 when something was skipped, -1 on error. */
static int skip_blank(lexer *lx)
{
    int c = at(lx, lx->pos);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        advance(lx, 1);
        return 1;
    }
    if (c == '/' && at(lx, lx->pos + 1) == '/') {
        while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
            advance(lx, 1);
        advance(lx, 1);
        return 1;
    }
    if (c == '/' && at(lx, lx->pos + 1) == '*') {
        int line = lx->line, col = lx->col;
        const char *end = NULL;
        for (size_t i = lx->pos + 2; i + 1 < lx->len; i++)
            if (lx->src[i] == '*' && lx->src[i + 1] == '/') {
                end = lx->src + i;
                break;
            }
        if (!end)
            return lex_error(lx, line, col, "unterminated /* comment");
        advance(lx, (size_t)(end - (lx->src + lx->pos)) + 2);
        return 1;
    }
    return 0;
}

static int lex_one(lexer *lx)
{
    size_t p = lx->pos;
    int c = at(lx, p);
    if (c == '.' && at(lx, p + 1) == '.' && at(lx, p + 2) == '.') {
        if (!push(lx, TK_ELLIPSIS, 3))
            return lex_error(lx, lx->line, lx->col, "out of memory");
        advance(lx, 3);
        return 1;
    }
    if (c == '-' && at(lx, p + 1) == '-' && is_wordc(at(lx, p + 2))) {
        size_t n = match_word(lx, p + 2);
        ts_tok *t = push(lx, TK_OPTION, n + 2);
        if (!t || !(t->s = ts_arena_strndup(lx->arena, lx->src + p + 2, n)))
            return lex_error(lx, lx->line, lx->col, "out of memory");
        t->slen = n;
        advance(lx, n + 2);
        return 1;
    }
    if (c == '"' || c == '`')
        return lex_quoted(lx, c);
    int r = lex_number_or_word(lx);
    if (r != 0)
        return r;
    if (c == '%' && at(lx, p + 1) == '{')
        return lex_error(lx, lx->line, lx->col, "%{ code }% blocks are not supported");
    ts_tok *t = push(lx, TK_CHAR, 1);
    if (!t)
        return lex_error(lx, lx->line, lx->col, "out of memory");
    t->i = c;
    advance(lx, 1);
    return 1;
}

int ts_lex(const char *src, size_t len, ts_arena **arena, ts_tok **toks, size_t *ntoks,
           ts_script_error *err)
{
    lexer lx = { src, len, 0, 1, 1, arena, NULL, 0, 0, err };
    while (lx.pos < lx.len) {
        int r = skip_blank(&lx);
        if (r == 0)
            r = lex_one(&lx);
        if (r < 0) {
            free(lx.toks);
            return -1;
        }
    }
    if (!push(&lx, TK_EOF, 0)) {
        free(lx.toks);
        return lex_error(&lx, lx.line, lx.col, "out of memory");
    }
    *toks = lx.toks;
    *ntoks = lx.n;
    return 0;
}
