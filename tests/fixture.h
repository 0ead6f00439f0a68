/*
 * fixture.h — one tcpstate stack (192.0.2.2) and a scripted peer
 * (192.0.2.1) in virtual time, for C tests that read like traces
 * (smoltcp-style):
 *
 *   fx f; fx_init(&f);
 *   ts_sock l = fx_listen(&f, 8080);
 *   TS_SEND(&f, S, 0, 0, .mss = 1460);            // peer -> stack
 *   TS_EXPECT(&f, S|A, FX_ANY, 1);                // stack -> peer
 *   TS_EXPECT_NOTHING(&f);
 *   fx_wait(&f, 1000);                            // virtual ms
 *   fx_free(&f);                                  // the harness checks leaks
 *
 * Sequence numbers are relative: the peer's ISN is FX_PEER_ISN, the
 * stack's is learned from its first SYN or SYN-ACK (as packetdrill does).
 */
#ifndef TS_FIXTURE_H
#define TS_FIXTURE_H

#include "harness.h"
#include "core/wire.h"

#define FX_LOCAL 0xC0000202u  /* 192.0.2.2: the stack */
#define FX_PEER 0xC0000201u   /* 192.0.2.1: the scripted peer */
#define FX_PEER_ISN 100000u
#define FX_ANY 0xFFFFFFFFu    /* do not compare this field */

enum { S = TS_TH_SYN, A = TS_TH_ACK, F = TS_TH_FIN, R = TS_TH_RST, P = TS_TH_PSH };

typedef struct fx {
    ts_stack *s;
    ts_config cfg;
    uint64_t now;        /* µs */
    uint16_t peer_port, local_port;
    uint32_t stack_isn;  /* learned */
    int isn_known;
    ts_seg last;         /* the last segment TS_EXPECT took */
    uint8_t last_buf[2048];
    int transitions;     /* count of on_transition hooks */
    int last_from, last_to, last_cause;
} fx;

/* Options of a segment the peer sends. */
typedef struct fx_opts {
    int pad_;            /* first member: FX_OPTS() initialises it, so options may be empty */
    uint16_t mss;
    int has_ws;          /* send a window scale option (FX_WS(n)) */
    int wscale;
    int sackok;
    int ts;              /* send a TS option */
    uint32_t tsval, tsecr;
    uint16_t win;        /* 0 means 65535 */
    int zero_win;        /* advertise a window of 0 */
} fx_opts;

void fx_init(fx *f);
void fx_init_cfg(fx *f, const ts_config *cfg);
void fx_free(fx *f);
ts_sock fx_listen(fx *f, uint16_t port);
ts_sock fx_connect(fx *f, uint16_t port);
/* Inject a segment from the peer; seq/ack relative. Returns the input result. */
int fx_send(fx *f, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, fx_opts o);
/* Take the next segment the stack sends (at the current time); 1 if one came. */
int fx_take(fx *f);
/* Moves virtual time forward by ms, firing timers on the way. */
void fx_wait(fx *f, uint64_t ms);
/* Moves to the next deadline (if any within limit_ms); returns ms waited. */
uint64_t fx_next(fx *f, uint64_t limit_ms);
int fx_state(fx *f, ts_sock sk);
uint64_t fx_ctr(fx *f, const char *name);

#define FX_OPTS(...) ((fx_opts){ .pad_ = 0, __VA_ARGS__ })
#define FX_WS(n) .has_ws = 1, .wscale = (n)
#define TS_SEND(f, fl_, sq_, ak_, ...) fx_send((f), (fl_), (sq_), (ak_), 0, FX_OPTS(__VA_ARGS__))
#define TS_SEND_DATA(f, fl_, sq_, ak_, len_, ...) \
    fx_send((f), (fl_), (sq_), (ak_), (len_), FX_OPTS(__VA_ARGS__))

/* Compare the next segment: flags exactly; seq/ack relative (FX_ANY skips). */
#define TS_EXPECT(f, fl_, sq_, ak_)                                                   \
    do {                                                                                \
        char fx_b1_[12], fx_b2_[12];                                                    \
        if (!fx_take(f)) {                                                              \
            th_fail(__FILE__, __LINE__, "expected %s seq %u ack %u, got nothing",        \
                    ts_flags_str((uint8_t)(fl_), fx_b1_), (unsigned)(sq_), (unsigned)(ak_)); \
            return;                                                                     \
        }                                                                               \
        if ((f)->last.flags != (uint8_t)(fl_) ||                                      \
            ((uint32_t)(sq_) != FX_ANY && (f)->last.seq != (uint32_t)(sq_)) ||          \
            ((uint32_t)(ak_) != FX_ANY && (f)->last.ack != (uint32_t)(ak_))) {          \
            th_fail(__FILE__, __LINE__, "expected %s seq %u ack %u, got %s seq %u ack %u len %u", \
                    ts_flags_str((uint8_t)(fl_), fx_b1_), (unsigned)(sq_), (unsigned)(ak_), \
                    ts_flags_str((f)->last.flags, fx_b2_), (unsigned)(f)->last.seq,     \
                    (unsigned)(f)->last.ack, (unsigned)(f)->last.len);                  \
            return;                                                                     \
        }                                                                               \
    } while (0)

#define TS_EXPECT_NOTHING(f)                                                            \
    do {                                                                                \
        char fx_b2_[12];                                                                \
        if (fx_take(f)) {                                                               \
            th_fail(__FILE__, __LINE__, "expected nothing, got %s seq %u ack %u len %u", \
                    ts_flags_str((f)->last.flags, fx_b2_), (unsigned)(f)->last.seq,     \
                    (unsigned)(f)->last.ack, (unsigned)(f)->last.len);                  \
            return;                                                                     \
        }                                                                               \
    } while (0)


/* ---- helpers added for the per-state tests ------------------------------ */
/* Discards every segment the stack has to send now; returns how many. */
int fx_drain(fx *f);
/* Passive open on port (SYN with MSS 1460, SYN-ACK, ACK, accept): the
 * accepted socket, {0,0} if the handshake did not go as expected; *l gets
 * the listener. Afterwards both sides are at relative seq 1. */
ts_sock fx_open_passive(fx *f, uint16_t port, ts_sock *l);
/* Active open to the peer's port (SYN, SYN-ACK with MSS 1460, ACK): the
 * connected socket, {0,0} if it did not go as expected. */
ts_sock fx_open_active(fx *f, uint16_t port);
/* The state of the live object (full connection, request or TIME_WAIT
 * minisocket) holding the fixture's 4-tuple, from ts_stack_conns();
 * TS_CLOSE when there is none. */
int fx_tuple_state(fx *f);
/* Number of the stack's segments dropped for a reason (ts_stack_drops). */
uint64_t fx_drops(fx *f, int reason);
/* Like fx_wait(limit_ms), taking everything the stack sends on the way:
 * the times (virtual ms since fx_init) at which segments with exactly
 * `flags` left go into ms[] (at most max); returns how many. What is due
 * at the end time is left unread. */
int fx_collect(fx *f, uint8_t flags, uint64_t *ms, int max, uint64_t limit_ms);
/* Virtual time in ms since fx_init. */
#define FX_NOW_MS(f) ((f)->now / 1000u)
#define FX_SOCK_OK(sk) ((sk).index != 0)

#define CHECK_STATE(f, sk, st) CHECK_EQ(fx_state((f), (sk)), (st))

#endif
