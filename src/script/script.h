/*
 * script.h — packetdrill's script language as data: tokens, the event list
 * the parser builds, the symbol tables. See /work/shared/PACKETDRILL.md for
 * the language; the runner (run.h) executes a ts_script.
 *
 * Ownership: everything a ts_script points to lives in its arena and dies
 * with ts_script_free(). The parser resolves what it can statically:
 * symbols and `A|B` are folded into integers, errno names into numbers,
 * times into microseconds, and each system call is checked against the
 * table of calls the runner supports (name, argument count and kinds), so
 * `--dry_run` finds every error that does not depend on the stack.
 */
#ifndef TS_SCRIPT_SCRIPT_H
#define TS_SCRIPT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ arena */

typedef struct ts_arena ts_arena;
void *ts_arena_alloc(ts_arena **a, size_t n);           /* zeroed; NULL on ENOMEM */
char *ts_arena_strndup(ts_arena **a, const char *s, size_t n);
void ts_arena_free(ts_arena *a);

/* ----------------------------------------------------------------- errors */

typedef struct ts_script_error {
    int line, col;   /* 1-based; 0 when not tied to a place */
    char msg[320];
} ts_script_error;

/* ----------------------------------------------------------------- tokens */

enum ts_tok_type {
    TK_EOF = 0,
    TK_INT,       /* decimal, maybe negative: i */
    TK_HEX,       /* 0x...: i */
    TK_FLOAT,     /* f */
    TK_WORD,      /* s (reserved words are WORDs too: ts_tok_reserved) */
    TK_STRING,    /* s, slen: escapes processed */
    TK_CMD,       /* `...`: s */
    TK_ELLIPSIS,  /* ... */
    TK_OPTION,    /* --name: s = name without the dashes */
    TK_IPV4,      /* a.b.c.d: s */
    TK_CHAR       /* any other single character: i */
};

typedef struct ts_tok {
    int type;
    int line, col;
    size_t off, len;   /* where in the source */
    long long i;
    double f;
    const char *s;
    size_t slen;
} ts_tok;

/* Splits src into tokens (comments and blanks dropped), ending with TK_EOF.
 * *toks is malloc'd (free() it); strings live in *arena. 0, or -1 with err. */
int ts_lex(const char *src, size_t len, ts_arena **arena, ts_tok **toks, size_t *ntoks,
           ts_script_error *err);
/* 1 if the word is one of packetdrill's reserved words (they are tokens of
 * their own there, never accepted where a WORD is expected). */
int ts_word_reserved(const char *w);
/* "INTEGER 5", "WORD 'ack'", "'('", "end of file": for error messages. */
void ts_tok_describe(const ts_tok *t, char *buf, size_t cap);

/* ------------------------------------------------------------- the events */

enum ts_time_kind {
    TS_TIME_ABS = 1,    /* T */
    TS_TIME_REL,        /* +T */
    TS_TIME_ANY,        /* * */
    TS_TIME_ABS_RANGE,  /* T1~T2 */
    TS_TIME_REL_RANGE   /* +T1~+T2 */
};

enum ts_event_kind { TS_EV_PACKET = 1, TS_EV_CALL, TS_EV_CMD };

/* TCP option kinds (RFC 9293 3.1, RFC 7323, RFC 2018). */
enum { TS_TCPOPT_EOL = 0, TS_TCPOPT_NOP = 1, TS_TCPOPT_MSS = 2, TS_TCPOPT_WSCALE = 3,
       TS_TCPOPT_SACKOK = 4, TS_TCPOPT_SACK = 5, TS_TCPOPT_TS = 8 };

#define TS_SCRIPT_MAX_OPTS 40
#define TS_SCRIPT_MAX_SACK 4

typedef struct ts_tcpopt {
    int kind;                 /* TS_TCPOPT_* */
    uint32_t v;               /* mss, wscale shift */
    uint32_t val, ecr;        /* TS */
    int nsack;
    uint32_t sack[TS_SCRIPT_MAX_SACK][2];
} ts_tcpopt;

/* Flag bits of a packet line: the TCP header's 8 flags (TS_TH_* values)
 * plus AE, the low bit of the reserved nibble (RFC 9768). */
#define TS_PKT_AE 0x100

enum ts_tos_check { TS_TOS_NONE = 0, TS_TOS_ECN, TS_TOS_ECT01, TS_TOS_FULL };

typedef struct ts_pkt_spec {
    int dir;                  /* '<' inbound, '>' outbound */
    unsigned flags;           /* TS_TH_* | TS_PKT_AE */
    uint32_t seq, end;
    uint32_t len;
    int has_ack;              /* "ack N" written */
    uint32_t ack;
    int has_win;
    uint32_t win;
    uint32_t urg;
    int opt_any;              /* <...> */
    int nopts;                /* 0 and !opt_any: no options at all */
    ts_tcpopt opts[TS_SCRIPT_MAX_OPTS];
    int optlen;               /* bytes the written options take */
    int tos_check;            /* enum ts_tos_check */
    int tos;                  /* ECN codepoint (TS_TOS_ECN) or whole byte */
    int ttl;                  /* 0: not written */
    uint16_t src_port, dst_port; /* explicit "SRC>DST", 0 when not written */
} ts_pkt_spec;

enum ts_expr_kind {
    TS_EX_ELLIPSIS = 1,
    TS_EX_INT,                /* literal, symbol or A|B, folded */
    TS_EX_STRING,
    TS_EX_LIST,               /* [a, b, ...] */
    TS_EX_LINGER,             /* {onoff=A, linger=B}: items[0], items[1] */
    TS_EX_POLLFD              /* {fd=, events=, revents=}: items[0..2] */
};

typedef struct ts_expr {
    int kind;
    int line, col;
    long long i;
    const char *s;            /* TS_EX_STRING (NUL-terminated) */
    size_t slen;
    struct ts_expr **items;
    int nitems;
} ts_expr;

#define TS_SCRIPT_MAX_ARGS 6

typedef struct ts_call_spec {
    const char *name;
    int nargs;
    ts_expr *args[TS_SCRIPT_MAX_ARGS];
    long long ret;            /* the expected result */
    int has_errno;
    int err;                  /* positive Linux errno */
    const char *errno_name;
    int blocking;             /* written S...E */
    int end_abs;              /* E is absolute (S was) */
    int64_t end_us;           /* E as written, µs */
} ts_call_spec;

typedef struct ts_event {
    int line, col;            /* of the event's time */
    int time_kind;            /* enum ts_time_kind */
    int64_t t_us, t2_us;      /* T (or T1), T2 for ranges; µs as written */
    int kind;                 /* enum ts_event_kind */
    const char *text;         /* the action as written, blanks squeezed */
    ts_pkt_spec *pkt;
    ts_call_spec *call;
    const char *cmd;          /* command text */
} ts_event;

typedef struct ts_script_opt {
    const char *name;         /* without "--" */
    const char *value;        /* NULL for a bare flag */
    int line;
} ts_script_opt;

typedef struct ts_script {
    const char *path;
    ts_script_opt *opts;
    int nopts;
    const char *init_cmd;     /* NULL when none */
    int init_line;
    const char *cleanup_cmd;
    int cleanup_line;
    ts_event *events;
    size_t nevents;
    const char *tcpstate_only; /* first line "// tcpstate-only: REASON": REASON */
    ts_arena *arena;
} ts_script;

/* Parses a whole script. 0 with *out (free with ts_script_free), or -1 with
 * err naming line, column and what was expected. */
int ts_script_parse(const char *path, const char *src, size_t len, ts_script **out,
                    ts_script_error *err);
/* Reads path and parses it. */
int ts_script_load(const char *path, ts_script **out, ts_script_error *err);
void ts_script_free(ts_script *s);

/* The system calls the runner knows: argument count bounds and which
 * argument is a file descriptor (-1: none). NULL for an unknown name. */
typedef struct ts_call_info {
    const char *name;
    int min_args, max_args;
    int fd_arg;
} ts_call_info;
const ts_call_info *ts_call_lookup(const char *name);

/* ---------------------------------------------------------------- symbols */

/* Linux values of the names packetdrill accepts as arguments (AF_INET,
 * SO_LINGER, O_NONBLOCK, POLLIN, EAGAIN, ...). 0, or -1 when unknown. */
int ts_symbol_value(const char *name, long long *val);
/* Errno names only: 0 with *val, or -1. */
int ts_errno_value(const char *name, int *val);
/* "EAGAIN" for 11; NULL when unknown. */
const char *ts_errno_name(int e);
/* "Resource temporarily unavailable"; "Unknown error" when unknown. */
const char *ts_errno_text(int e);
/* Names of the set bits of a poll mask, "POLLIN|POLLOUT", into buf. */
void ts_poll_bits_str(unsigned v, char *buf, size_t cap);

#endif
