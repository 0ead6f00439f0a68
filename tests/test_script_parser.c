/*
 * test_script_parser.c — the packetdrill lexer and parser (src/script):
 * tokens as flex would cut them, events as packetdrill would build them,
 * and the errors, each with its line, column and what was expected.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script/script.h"

/* ------------------------------------------------------------- lexer */

typedef struct lexed {
    ts_arena *arena;
    ts_tok *t;
    size_t n;
} lexed;

static int lex(lexed *l, const char *src)
{
    ts_script_error err;
    memset(l, 0, sizeof *l);
    return ts_lex(src, strlen(src), &l->arena, &l->t, &l->n, &err);
}

static void lex_free(lexed *l)
{
    free(l->t);
    ts_arena_free(l->arena);
}

TS_TEST(lexer_longest_match_as_flex)
{
    lexed l;
    /* +0.1...0.4 is '+' FLOAT ELLIPSIS FLOAT; "S." is WORD then '.';
     * ".1" is a float, "0x802" hex, "-1" an integer, "123abc" a word. */
    CHECK_EQ(lex(&l, "+0.1...0.4 S. .1 0x802 -1 123abc - 1.2.3.4 --tolerance_usecs"), 0);
    int types[] = { TK_CHAR, TK_FLOAT, TK_ELLIPSIS, TK_FLOAT, TK_WORD, TK_CHAR, TK_FLOAT,
                    TK_HEX, TK_INT, TK_WORD, TK_CHAR, TK_IPV4, TK_OPTION, TK_EOF };
    int ok = l.n == sizeof types / sizeof types[0];
    for (size_t i = 0; ok && i < l.n; i++)
        ok = l.t[i].type == types[i];
    ok = ok && l.t[1].f == 0.1 && l.t[7].i == 0x802 && l.t[8].i == -1 &&
         strcmp(l.t[9].s, "123abc") == 0 && l.t[10].i == '-' && strcmp(l.t[12].s,
                                                                        "tolerance_usecs") == 0;
    lex_free(&l);
    CHECK(ok);
}

TS_TEST(lexer_comments_strings_commands_positions)
{
    lexed l;
    CHECK_EQ(lex(&l, "// comment\n/* block\n comment */ x \"a\\tb\\x41\\101\"\n  `sysctl -q\n"
                     "a=1` // last line without newline"), 0);
    int ok = l.n == 4 && l.t[0].type == TK_WORD && l.t[0].line == 3 && l.t[0].col == 13 &&
             l.t[1].type == TK_STRING && l.t[1].slen == 5 &&
             memcmp(l.t[1].s, "a\tbAA", 5) == 0 && l.t[2].type == TK_CMD &&
             strcmp(l.t[2].s, "sysctl -q\na=1") == 0 && l.t[2].line == 4 && l.t[2].col == 3;
    lex_free(&l);
    CHECK(ok);
}

TS_TEST(lexer_errors)
{
    lexed l;
    ts_script_error err;
    static const char *bad[] = { "\"open", "`open", "/* open", "99999999999999999999", NULL };
    for (int i = 0; bad[i]; i++) {
        memset(&l, 0, sizeof l);
        CHECK_EQ(ts_lex(bad[i], strlen(bad[i]), &l.arena, &l.t, &l.n, &err), -1);
        CHECK_EQ(err.line, 1);
        ts_arena_free(l.arena);
    }
    CHECK(ts_word_reserved("ack") && ts_word_reserved("sackOK") && !ts_word_reserved("accept"));
}

/* ------------------------------------------------------------ parser */

static ts_script *parse(const char *src, ts_script_error *err)
{
    ts_script *s = NULL;
    ts_script_error e;
    if (ts_script_parse("t.pkt", src, strlen(src), &s, err ? err : &e) < 0)
        return NULL;
    return s;
}

TS_TEST(parser_times)
{
    ts_script *s = parse("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                         "1.001 close(3) = 0\n"
                         "+.5 < S 0:0(0) win 100\n"
                         "* > R. 0:0(0) ack 1\n"
                         "2~3 > . 1:1(0) ack 1\n"
                         "+0.1~+0.25 > . 1:1(0) ack 1\n"
                         "+0.1...0.4 accept(3, ..., ...) = 4\n"
                         "5...6 accept(3, ..., ...) = 4\n", NULL);
    CHECK(s != NULL);
    const ts_event *e = s->events;
    int ok = s->nevents == 8 && e[0].time_kind == TS_TIME_ABS && e[0].t_us == 0 &&
             e[1].t_us == 1000999 && /* (int64)(1.001 * 1e6), truncated as packetdrill */
             e[2].time_kind == TS_TIME_REL && e[2].t_us == 500000 &&
             e[3].time_kind == TS_TIME_ANY &&
             e[4].time_kind == TS_TIME_ABS_RANGE && e[4].t_us == 2000000 && e[4].t2_us == 3000000 &&
             e[5].time_kind == TS_TIME_REL_RANGE && e[5].t2_us == 250000 &&
             e[6].time_kind == TS_TIME_REL && e[6].call->blocking && !e[6].call->end_abs &&
             e[6].call->end_us == 400000 && e[7].call->end_abs && e[7].call->end_us == 6000000;
    ts_script_free(s);
    CHECK(ok);
}

TS_TEST(parser_packets)
{
    ts_script *s = parse("0 < [ect0] S 0:0(0) win 65535 <mss 1460,sackOK,TS val 10 ecr 0,"
                         "nop,wscale 7>\n"
                         "+0 > (tos 0x10) FP. 1:1001(1000) ack 2 win 257 urg 3 <...>\n"
                         "+0 < 40000>8080 - 5:5(0) win 9 <nop,nop,sack 1:2 3:4>\n"
                         "+0 > SEW 0:0(0) <mss 1000,eol,eol,eol,eol>\n", NULL);
    CHECK(s != NULL);
    const ts_pkt_spec *a = s->events[0].pkt, *b = s->events[1].pkt;
    const ts_pkt_spec *c = s->events[2].pkt, *d = s->events[3].pkt;
    int ok = a->dir == '<' && a->flags == TS_TH_SYN && a->has_win && a->win == 65535 &&
             a->tos_check == TS_TOS_ECN && a->tos == 2 && a->nopts == 5 && a->optlen == 20 &&
             a->opts[2].kind == TS_TCPOPT_TS && a->opts[2].val == 10 && a->opts[4].v == 7 &&
             b->dir == '>' && b->flags == (TS_TH_FIN | TS_TH_PSH | TS_TH_ACK) &&
             b->seq == 1 && b->end == 1001 && b->len == 1000 && b->has_ack && b->ack == 2 &&
             b->win == 257 && b->urg == 3 && b->opt_any && b->tos_check == TS_TOS_FULL &&
             b->tos == 0x10 &&
             c->flags == 0 && c->src_port == 40000 && c->dst_port == 8080 &&
             c->opts[2].kind == TS_TCPOPT_SACK && c->opts[2].nsack == 2 &&
             c->opts[2].sack[1][0] == 3 && c->opts[2].sack[1][1] == 4 &&
             d->flags == (TS_TH_SYN | TS_TH_ECE | TS_TH_CWR) && !d->has_ack && !d->has_win &&
             d->optlen == 8;
    ts_script_free(s);
    CHECK(ok);
}

TS_TEST(parser_calls)
{
    ts_script *s = parse(
        "0 socket(..., SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP) = 3\n"
        "+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
        "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n"
        "+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, \"re\" \"no\", 4) = 0\n"
        "+0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}, {fd=4, events=POLLIN}], 2, 0) = 1\n"
        "+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR O_NONBLOCK)\n"
        "+0 read(3, NULL, 10) = -1 EAGAIN (Resource temporarily unavailable)\n"
        "+0 connect(3, AF_UNSPEC, ...) = 0\n", NULL);
    CHECK(s != NULL);
    const ts_call_spec *c0 = s->events[0].call, *c1 = s->events[1].call;
    const ts_call_spec *c2 = s->events[2].call, *c3 = s->events[3].call;
    const ts_call_spec *c4 = s->events[4].call, *c5 = s->events[5].call;
    const ts_call_spec *c6 = s->events[6].call;
    int ok = strcmp(c0->name, "socket") == 0 && c0->nargs == 3 &&
             c0->args[0]->kind == TS_EX_ELLIPSIS && c0->args[1]->i == (1 | 0x800) &&
             c0->args[2]->i == 6 && c0->ret == 3 &&
             c1->args[3]->kind == TS_EX_LINGER && c1->args[3]->items[0]->i == 1 &&
             c1->args[2]->i == 13 &&
             c2->args[3]->kind == TS_EX_LIST && c2->args[3]->items[0]->i == 111 &&
             c2->args[4]->items[0]->i == 4 &&
             c3->args[3]->kind == TS_EX_STRING && strcmp(c3->args[3]->s, "reno") == 0 &&
             c4->args[0]->nitems == 2 && c4->args[0]->items[0]->items[1]->i == 5 &&
             c4->args[0]->items[0]->items[2]->i == 4 && c4->args[0]->items[1]->items[2] == NULL &&
             c5->ret == 0x802 && !c5->has_errno &&
             c6->ret == -1 && c6->has_errno && c6->err == 11 &&
             strcmp(c6->errno_name, "EAGAIN") == 0 && c6->args[1]->i == 0;
    ts_script_free(s);
    CHECK(ok);
}

TS_TEST(parser_layout)
{
    ts_script *s = parse("// tcpstate-only: needs the virtual clock  \n"
                         "--tolerance_usecs=1000\n--strict_segments\n"
                         "`sysctl -q net.ipv4.tcp_sack=0`\n"
                         "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                         "+0 `sysctl -q net.ipv4.tcp_sack=1`\n"
                         "`sysctl -q net.ipv4.tcp_sack=1`\n", NULL);
    CHECK(s != NULL);
    int ok = s->tcpstate_only && strcmp(s->tcpstate_only, "needs the virtual clock") == 0 &&
             s->nopts == 2 && strcmp(s->opts[0].name, "tolerance_usecs") == 0 &&
             strcmp(s->opts[0].value, "1000") == 0 && s->opts[1].value == NULL &&
             strcmp(s->init_cmd, "sysctl -q net.ipv4.tcp_sack=0") == 0 && s->nevents == 2 &&
             s->events[1].kind == TS_EV_CMD && s->cleanup_cmd && s->cleanup_line == 7 &&
             strcmp(s->events[0].text, "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3") == 0;
    ts_script_free(s);
    CHECK(ok);
    s = parse("0 close(3) = 0\n// tcpstate-only: not on the first line\n", NULL);
    CHECK(s != NULL);
    ok = s->tcpstate_only == NULL;
    ts_script_free(s);
    CHECK(ok);
}

/* Each bad script: where the error is and a piece of what it says. */
static const struct {
    const char *src;
    int line, col;
    const char *msg;
} bad[] = {
    { "", 1, 1, "at least one event" },
    { "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S. 0:0(0) ack <...>", 2, 20,
      "expected ack number, got '<'" },
    { "0 < S 0:0(0) <mss 1460>", 1, 3, "missing 'win N'" },
    { "0 < S 0:0(0) win 1 <...>", 1, 3, "<...> for TCP options can only be used with outbound" },
    { "0 < S 0:1(0) win 1", 1, 7, "inconsistent TCP sequence numbers" },
    { "0 < SX 0:0(0) win 1", 1, 5, "invalid TCP flag 'X'" },
    { "0 < S.0:0(0) win 1", 1, 6, "write a blank" },
    { "0 > S 0:0(0) <mss 1460,nop>", 1, 14, "not a multiple of 4" },
    { "0 > S 0:0(0) <mss 1460 sackOK>", 1, 24, "expected ',' or '>'" },
    { "0 > S 0:0(0) <FO>", 1, 15, "'FO' is not supported" },
    { "0 socket(..., SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3", 1, 27,
      "unknown symbol 'SOCK_CLOEXEC'" },
    { "0 socket(..., SOCK_STREAM) = 3", 1, 3, "socket() takes 3 arguments, got 2" },
    { "0 readv(3, ..., 1) = 0", 1, 3, "'readv' is not supported" },
    { "0 frobnicate(3) = 0", 1, 3, "unknown system call 'frobnicate'" },
    { "0 bind(3, 5, ...) = 0", 1, 11, "argument 2 must be ... (the runner fills in" },
    { "0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], 4) = 0", 1, 44, "the length in brackets" },
    { "0 poll([{fd=3, events=POLLIN}], 2, 0) = 1", 1, 33, "nfds, the length" },
    { "0 close(3) = EBADF", 1, 14, "expected an integer result" },
    { "0 close(3) = -1 EBADF", 1, 22, "expected '(' and a note" },
    { "0 close(3) = -1 EWHAT (x)", 1, 17, "unknown errno name 'EWHAT'" },
    { "0 close(3) = -1 EBADF (Bad 5 file)", 1, 28, "plain words in the note" },
    { "+1 close(3) = 0", 1, 1, "first event should be at time 0" },
    { "0 close(3) = 0\n1 close(4) = 0\n0.5 close(5) = 0", 3, 1, "time goes backward" },
    { "0 close(3) = 0\n+0~+1 close(3) = 0", 2, 1, "range can only be used with outbound" },
    { "0 close(3) = 0\n* < . 1:1(0) win 1", 2, 1, "'*' can only be used with outbound" },
    { "0 close(3) = 0\n2~1 > . 1:1(0)", 2, 1, "time range is backwards" },
    { "0 close(3) = 0\n+1~2 > . 1:1(0)", 2, 4, "both ends of a relative range" },
    { "0 close(3) = 0\n+0.5...+0.6 close(3) = 0", 2, 8, "takes no '+'" },
    { "0 close(3) = 0\n+1...0.5 close(3) = 0", 2, 3, "ends before it starts" },
    { "--tolerance_percent=12.5\n0 close(3) = 0", 1, 21, "cannot be floats" },
    { "0 close(3) = 0\n+0 ack", 2, 4, "expected a packet ('<' or '>'), a system call" },
    { "0 close(3) = 0\n[", 2, 1, "expected an event time" },
    { "0 close(3) = 0\nfoo", 2, 1, "unknown errno name 'foo'" },
    { "0 close(3) = 0\n-1 close(3) = 0", 2, 1, "negative time" },
    { "0 close(3) = \"x\" (a)", 1, 14, "expected an integer result" },
    { "0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, fd=0}, 8) = 0", 1, 50,
      "expected 'linger'" },
};

TS_TEST(parser_errors_name_place_and_expectation)
{
    int wrong = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_script_error err;
        ts_script *s = parse(bad[i].src, &err);
        int ok = !s && err.line == bad[i].line && err.col == bad[i].col &&
                 strstr(err.msg, bad[i].msg) != NULL;
        if (!ok) {
            printf("  case %zu: \"%s\"\n    want %d:%d \"%s\"\n    got  %d:%d \"%s\"\n", i,
                   bad[i].src, bad[i].line, bad[i].col, bad[i].msg, err.line, err.col,
                   s ? "(parsed!)" : err.msg);
            wrong++;
        }
        ts_script_free(s);
    }
    CHECK_EQ(wrong, 0);
}

TS_TEST(symbols_linux_values)
{
    long long v;
    int e;
    CHECK(ts_symbol_value("O_NONBLOCK", &v) == 0 && v == 0x800);
    CHECK(ts_symbol_value("SO_LINGER", &v) == 0 && v == 13);
    CHECK(ts_symbol_value("TCP_USER_TIMEOUT", &v) == 0 && v == 18);
    CHECK(ts_symbol_value("POLLRDHUP", &v) == 0 && v == 0x2000);
    CHECK(ts_symbol_value("MSG_NOSIGNAL", &v) == 0 && v == 0x4000);
    CHECK(ts_symbol_value("ECONNREFUSED", &v) == 0 && v == 111);
    CHECK(ts_symbol_value("SOCK_CLOEXEC", &v) == -1);
    CHECK(ts_errno_value("EWOULDBLOCK", &e) == 0 && e == 11);
    CHECK(ts_errno_value("SO_ERROR", &e) == -1);
    CHECK_STR(ts_errno_name(11), "EAGAIN");
    CHECK_STR(ts_errno_name(115), "EINPROGRESS");
    CHECK_STR(ts_errno_text(104), "Connection reset by peer");
    char buf[64];
    ts_poll_bits_str(0x1 | 0x4 | 0x2000, buf, sizeof buf);
    CHECK_STR(buf, "POLLIN|POLLOUT|POLLRDHUP");
}
