/*
 * lwpeer.h — lwIP (Debian's liblwip-dev, linked as a library) and tcpstate
 * stacks joined over an in-memory link in one process, on one virtual
 * clock. The base of tests/lwip/ and of the lwIP comparisons in bench/.
 *
 * The world (one per process, because lwIP keeps its state in globals):
 *   - lwIP with two interfaces: 192.0.2.1 (LP_LW_IP) and 192.0.2.3
 *     (LP_LW2_IP, for lwIP<->lwIP pairs);
 *   - up to two tcpstate stacks: 192.0.2.2 (LP_TS_IP), 192.0.2.4 (LP_TS2_IP);
 *   - one FIFO of IPv4 datagrams: zero delay, no loss, delivered in the
 *     order sent, to whichever stack owns the destination address;
 *   - one clock in µs: lwIP's sys_now() is defined here (it interposes on
 *     the library's, which lwIP calls through its PLT) and returns the
 *     virtual time in ms; lwIP's timers (tcp_tmr every 250 ms, its other
 *     cyclic timers every 100-1000 ms) run from sys_check_timeouts() on it.
 *
 * lwIP is used through its raw API from this thread only (lwip_init(),
 * never tcpip_init(): no tcpip thread, so no core-lock checks fire).
 *
 * Applications are "endpoints" (lp_ep): a byte stream on either stack that
 * sends tx_goal bytes of a verifiable pattern, reads and checks what comes,
 * and closes by a policy. lp_pump() runs every registered endpoint and
 * moves packets until nothing moves; lp_run() also moves time.
 */
#ifndef TS_LWPEER_H
#define TS_LWPEER_H

#include <stdint.h>
#include "tcpstate.h"
#include "lwip/tcp.h"

#define LP_LW_IP  0xC0000201u /* 192.0.2.1: lwIP, first interface */
#define LP_TS_IP  0xC0000202u /* 192.0.2.2: the first tcpstate stack */
#define LP_LW2_IP 0xC0000203u /* 192.0.2.3: lwIP, second interface */
#define LP_TS2_IP 0xC0000204u /* 192.0.2.4: the second tcpstate stack */

#define LP_NEVER UINT64_MAX

/* ------------------------------------------------------------- the world */

/* Brings lwIP up once per process (later calls only empty the FIFO and
 * forget endpoints and stacks). 0, or -1 if lwIP could not add its
 * interfaces. */
int lp_init(void);
/* Virtual time, µs. It starts at 1 s and only moves forward. */
uint64_t lp_now(void);

/* A tcpstate stack at ip (LP_TS_IP or LP_TS2_IP) joined to the link. cfg
 * may be NULL (defaults, libc memory). Deterministic ISNs per 4-tuple. */
ts_stack *lp_ts_new(uint32_t ip, const ts_config *cfg);
/* Unlinks and frees it (the FIFO keeps nothing for it afterwards). */
void lp_ts_free(ts_stack *s);

/* Moves packets and runs endpoints until nothing moves at this instant.
 * Returns how many packets were delivered. */
long lp_pump(void);
/* Pumps, then moves time to the next deadline of any stack (at most to
 * limit_us, absolute) and fires it; repeats until done(arg) is true.
 * Returns 1 when done, 0 when the limit came first (time is then at the
 * limit). done may be NULL: run until the limit. */
int lp_run(int (*done)(void *), void *arg, uint64_t limit_us);
/* True once a pump found a stack or an endpoint still busy after 8 M
 * steps at one instant (a loop): the FIFO was emptied, lp_run returns 0
 * from then on, until lp_init. */
int lp_is_stuck(void);
/* lp_run for ms milliseconds of virtual time, to the end. */
void lp_wait_ms(uint64_t ms);

/* lwIP's timers off (0) or on (1, the default after lp_init): a run with
 * only tcpstate stacks need not step through lwIP's 100-1000 ms cyclic
 * timers. Turned back on, overdue ones fire once and resume. */
void lp_lw_timers(int on);

/* Packets delivered so far, and dropped (no stack owns the address). */
uint64_t lp_delivered(void);
uint64_t lp_undeliverable(void);

/* Optional tap: sees every datagram when it is delivered; returns 1 to
 * drop it. NULL: none. */
typedef int (*lp_tap_fn)(void *user, const uint8_t *pkt, size_t len);
void lp_set_tap(lp_tap_fn fn, void *user);

/* ---------------------------------------------------------- lwIP helpers */

/* The state of the lwIP pcb with these ports (any list: active, TIME_WAIT,
 * listening), as a tcpstate state number (TS_ESTABLISHED...), TS_CLOSE
 * when there is none. */
int lp_lw_state(uint16_t local_port, uint16_t remote_port);
/* The pcb itself (NULL when none; never a listener). */
struct tcp_pcb *lp_lw_pcb(uint16_t local_port, uint16_t remote_port);
/* Aborts every lwIP pcb left (active, TIME_WAIT, listening, bound) and
 * empties the FIFO; returns how many there were. */
int lp_lw_reset(void);
/* Number of lwIP pcbs in the active and TIME_WAIT lists. */
int lp_lw_count(void);

/* -------------------------------------------------------------- endpoints */

enum lp_close {
    LP_CLOSE_NONE = 0,   /* the application never closes */
    LP_SHUT_AFTER_TX,    /* shutdown(SHUT_WR) once everything is queued, close at EOF */
    LP_CLOSE_AFTER_EOF,  /* close once everything is queued and EOF was read */
    LP_CLOSE_AFTER_TX    /* close once everything is queued (unread data: RST) */
};

typedef struct lp_ep {
    int lw;              /* 1: lwIP pcb, 0: tcpstate socket */
    ts_stack *ts;
    ts_sock sk;
    struct tcp_pcb *pcb; /* NULL once lwIP freed it or the app closed */
    int pattern;         /* 1: send and check the pattern; 0: zeros, unchecked */
    int no_read;         /* leave what arrives unread */
    int close;           /* enum lp_close */
    uint64_t tx_goal, tx_done, tx_acked;
    uint64_t rx_done;    /* bytes read (and checked) */
    uint64_t rx_held;    /* lwIP, no_read: bytes kept unread */
    uint64_t rx_bad;     /* 1 + offset of the first wrong byte; 0: none */
    int rx_eof, connected, shut, closed;
    int err;             /* tcpstate: first error of recv/send (TS_E*); lwIP: err_t of tcp_err */
    int got_err;
    uint64_t t_connected, t_eof, t_closed; /* virtual µs */
    struct pbuf *held;   /* lwIP, no_read: the unread data */
} lp_ep;

/* Registers an endpoint for lp_pump (at most 32). */
void lp_ep_add(lp_ep *e);
void lp_ep_remove(lp_ep *e);
/* Attaches an lwIP pcb to e (callbacks and arg) and registers it. */
void lp_ep_attach_lw(lp_ep *e, struct tcp_pcb *pcb);
void lp_ep_attach_ts(lp_ep *e, ts_stack *s, ts_sock sk);
/* True when e has done everything its policy says (sent, read to EOF if
 * reading, closed if closing) or failed. */
int lp_ep_done(const lp_ep *e);
/* done() for lp_run over a NULL-terminated array of endpoints. */
int lp_eps_done(void *eps);

/* lwIP active open from local ip/port (port 0: ephemeral) to remote; the
 * pcb is bound to the interface owning local ip. e gets it. 0 or err_t. */
int lp_lw_connect(lp_ep *e, uint32_t local_ip, uint16_t local_port,
                  uint32_t remote_ip, uint16_t remote_port);
/* An lwIP listener; each accepted connection goes to the endpoint given
 * with lp_lw_expect (one at a time), or is accepted and left alone. */
struct tcp_pcb *lp_lw_listen(uint32_t ip, uint16_t port);
void lp_lw_expect(struct tcp_pcb *listener, lp_ep *e);
void lp_lw_close_listener(struct tcp_pcb *listener);

/* tcpstate open helpers: 0 or the TS_E* of the failing call. */
int lp_ts_connect(lp_ep *e, ts_stack *s, uint16_t local_port, uint32_t remote_ip,
                  uint16_t remote_port);
int lp_ts_listen(ts_stack *s, uint16_t port, ts_sock *out);

/* ---------------------------------------------------------------- pattern */

/* The byte at stream offset off: never periodic at segment or buffer sizes. */
static inline uint8_t lp_pattern(uint64_t off)
{
    return (uint8_t)(((uint32_t)off * 0x9E3779B1u) >> 24);
}

/* ------------------------------------------------------- transition log */

/* tcpstate transitions of every lp_ts stack, in order (the last 256). */
typedef struct lp_trans {
    uint64_t t;
    ts_stack *s;
    ts_tuple tuple;
    int from, to, cause;
} lp_trans;
size_t lp_trans_count(void);
const lp_trans *lp_trans_get(size_t i);
void lp_trans_clear(void);

/* lwIP state changes of the pcb with (local_port, remote_port), sampled
 * after every delivered packet and timer run while the watch is on. */
void lp_lw_watch(uint16_t local_port, uint16_t remote_port);
size_t lp_lw_watch_count(void);
int lp_lw_watch_state(size_t i);      /* tcpstate state numbers */
uint64_t lp_lw_watch_time(size_t i);  /* µs */

#endif
