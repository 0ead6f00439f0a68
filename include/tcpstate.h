/*
 * tcpstate.h — the public API of tcpstate, a sans-I/O userspace TCP/IPv4
 * stack whose heart is a Linux-faithful TCP connection state machine.
 *
 * Shape (see docs/DESIGN.md): the stack never calls the outside world.
 *   - packets come in with ts_stack_input(now),
 *   - packets go out with ts_stack_output(now) (pull, one IPv4 datagram a call),
 *   - time moves with ts_stack_advance(now); ts_stack_next_deadline() says when
 *     the next timer fires (UINT64_MAX: none),
 *   - application calls (ts_socket, ts_connect, ts_send, ...) never block,
 *   - events reach the caller through the hooks of ts_hooks, queued while the
 *     stack works and delivered at the end of the public call that caused them.
 *
 * Time is a uint64_t count of microseconds chosen by the caller (virtual or
 * real, any origin); it must never go backwards between calls.
 *
 * Errors are negative codes named after Linux errno (TS_ECONNREFUSED, ...),
 * ts_strerror() names them. No function aborts on bad input or API misuse.
 *
 * Threading: a ts_stack is not thread-safe; one thread at a time.
 *
 * Hooks: a hook may read the stack (ts_sock_info, ts_poll, ts_getsockopt,
 * ts_stack_counter) but must not call any function that changes it
 * (ts_stack_input/output/advance, ts_socket, ts_connect, ts_send, ts_recv,
 * ts_close, ...): those return TS_EBUSY when called from inside a hook.
 */
#ifndef TCPSTATE_H
#define TCPSTATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TS_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors */

/* Negative Linux errno values. */
enum ts_err {
    TS_OK = 0,
    TS_EPERM = -1,
    TS_ENOENT = -2,
    TS_EBADF = -9,
    TS_EAGAIN = -11,
    TS_ENOMEM = -12,
    TS_EBUSY = -16,
    TS_EINVAL = -22,
    TS_EMFILE = -24,
    TS_EPIPE = -32,
    TS_ENOPROTOOPT = -92,
    TS_EOPNOTSUPP = -95,
    TS_EADDRINUSE = -98,
    TS_EADDRNOTAVAIL = -99,
    TS_ENETUNREACH = -101,
    TS_ECONNABORTED = -103,
    TS_ECONNRESET = -104,
    TS_ENOBUFS = -105,
    TS_EISCONN = -106,
    TS_ENOTCONN = -107,
    TS_ESHUTDOWN = -108,
    TS_ETIMEDOUT = -110,
    TS_ECONNREFUSED = -111,
    TS_EHOSTUNREACH = -113,
    TS_EALREADY = -114,
    TS_EINPROGRESS = -115
};

/* "ECONNREFUSED" for TS_ECONNREFUSED, "OK" for 0, "E?" for unknown codes.
 * Returns a static string; never NULL. */
const char *ts_strerror(int err);
/* Same, with a sentence: "Connection refused". */
const char *ts_strerror_text(int err);

/* ------------------------------------------------------------------ states */

/* Linux's numbers (include/net/tcp_states.h). */
enum ts_state {
    TS_ESTABLISHED = 1,
    TS_SYN_SENT = 2,
    TS_SYN_RECV = 3,
    TS_FIN_WAIT1 = 4,
    TS_FIN_WAIT2 = 5,
    TS_TIME_WAIT = 6,
    TS_CLOSE = 7,
    TS_CLOSE_WAIT = 8,
    TS_LAST_ACK = 9,
    TS_LISTEN = 10,
    TS_CLOSING = 11,
    TS_NEW_SYN_RECV = 12, /* Linux's request minisocket; reported as SYN_RECEIVED */
    TS_STATE_MAX = 13
};
#define TSF(s) (1u << (s)) /* TCPF_* masks */

/* "ESTABLISHED", "SYN_SENT", "SYN_RECEIVED", "FIN_WAIT_1", "FIN_WAIT_2",
 * "TIME_WAIT", "CLOSED", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"
 * (TS_NEW_SYN_RECV is "SYN_RECEIVED" too). Never NULL. */
const char *ts_state_name(int state);

/* Why a transition happened. Every transition carries one. */
enum ts_cause {
    TS_CAUSE_NONE = 0,
    TS_CAUSE_APP_LISTEN,     /* app listen */
    TS_CAUSE_APP_CONNECT,    /* app connect */
    TS_CAUSE_APP_CLOSE,      /* app close */
    TS_CAUSE_APP_SHUTDOWN,   /* app shutdown(SHUT_WR) */
    TS_CAUSE_APP_ABORT,      /* app close with unread data / SO_LINGER 0 */
    TS_CAUSE_RCV_SYN,        /* rcv SYN */
    TS_CAUSE_RCV_SYNACK,     /* rcv SYN+ACK */
    TS_CAUSE_RCV_ACK,        /* rcv ACK (of our SYN or FIN) */
    TS_CAUSE_RCV_FIN,        /* rcv FIN */
    TS_CAUSE_RCV_FINACK,     /* rcv FIN+ACK of our FIN */
    TS_CAUSE_RCV_RST,        /* rcv RST */
    TS_CAUSE_RCV_DATA_CLOSED,/* data for a closed receive side: abort */
    TS_CAUSE_TIMER_SYN,      /* SYN retries exhausted */
    TS_CAUSE_TIMER_SYNACK,   /* SYN-ACK retries exhausted */
    TS_CAUSE_TIMER_RTO,      /* retransmission retries exhausted */
    TS_CAUSE_TIMER_KEEPALIVE,/* keepalive probes unanswered */
    TS_CAUSE_TIMER_FIN_WAIT2,/* tcp_fin_timeout of an orphan */
    TS_CAUSE_TIMER_2MSL,     /* TIME_WAIT over */
    TS_CAUSE_TIMER_ORPHAN,   /* orphan retries exhausted */
    TS_CAUSE_USER_TIMEOUT,   /* TCP_USER_TIMEOUT */
    TS_CAUSE_TW_REUSE,       /* TIME_WAIT taken over by connect (tcp_tw_reuse) */
    TS_CAUSE_TW_REOPEN,      /* TIME_WAIT reopened by a new SYN */
    TS_CAUSE_TW_OVERFLOW,    /* tcp_max_tw_buckets reached */
    TS_CAUSE_ORPHAN_LIMIT,   /* tcp_max_orphans reached */
    TS_CAUSE_LISTEN_CLOSE,   /* listener closed: pending request dropped */
    TS_CAUSE_LISTEN_OVERFLOW,/* accept queue full with tcp_abort_on_overflow=1 */
    TS_CAUSE_MAX
};
/* "rcv SYN+ACK", "app close", "timer 2MSL", ... Never NULL. */
const char *ts_cause_name(int cause);

/* ------------------------------------------------------------ drop reasons */

enum ts_drop_reason {
    TS_DROP_NONE = 0,
    TS_DROP_TRUNCATED,       /* shorter than its headers say */
    TS_DROP_IP_VERSION,      /* not IPv4 */
    TS_DROP_IP_HDR,          /* bad IHL or total length */
    TS_DROP_IP_CSUM,         /* bad IPv4 header checksum */
    TS_DROP_IP_FRAGMENT,     /* fragments are not reassembled */
    TS_DROP_IP_PROTO,        /* not TCP */
    TS_DROP_IP_ADDR,         /* destination not ours, or bad source */
    TS_DROP_TCP_HDR,         /* bad data offset */
    TS_DROP_TCP_CSUM,        /* bad TCP checksum */
    TS_DROP_TCP_OPT,         /* option runs past the header or bad length */
    TS_DROP_TCP_FLAGS,       /* nonsense flags (SYN+RST, SYN+FIN, none) */
    TS_DROP_NO_SOCKET,       /* no connection, answered with RST */
    TS_DROP_OUT_OF_WINDOW,   /* sequence not acceptable */
    TS_DROP_PAWS,            /* timestamp older than ts_recent */
    TS_DROP_BAD_ACK,         /* ACK of unsent data, or too old */
    TS_DROP_RST_OUT_OF_WINDOW,
    TS_DROP_RST_CHALLENGE,   /* in-window RST that is not exact: challenge ACK */
    TS_DROP_SYN_CHALLENGE,   /* SYN in a synchronized state: challenge ACK */
    TS_DROP_NO_ACK,          /* synchronized state, no ACK bit */
    TS_DROP_LISTEN_OVERFLOW, /* accept queue full */
    TS_DROP_SYN_BACKLOG,     /* too many pending requests */
    TS_DROP_ABORT_ON_DATA,   /* data for a closed receive side */
    TS_DROP_OFO,             /* out of order, not queued */
    TS_DROP_RCVBUF,          /* no room in the receive buffer */
    TS_DROP_TW,              /* absorbed by a TIME_WAIT minisocket */
    TS_DROP_INVALID_STATE,   /* nothing to do in this state */
    TS_DROP_NOMEM,
    TS_DROP_MAX
};
/* "OUT_OF_WINDOW", ... Never NULL. */
const char *ts_drop_reason_name(int reason);

/* ------------------------------------------------------------------ basics */

typedef struct ts_stack ts_stack;

/* A socket handle: never a pointer. A handle whose connection is gone is
 * "stale": every call with it gives TS_EBADF. {0,0} is never valid. */
typedef struct ts_sock {
    uint32_t index;
    uint32_t gen;
} ts_sock;

/* IPv4 address and port, host byte order (192.0.2.1 is 0xC0000201). */
typedef struct ts_addr {
    uint32_t ip;
    uint16_t port;
} ts_addr;

typedef struct ts_tuple {
    ts_addr local;
    ts_addr remote;
} ts_tuple;

/* Memory: every byte the stack uses comes from here. NULL functions mean
 * libc malloc/free. The stack counts live bytes (ts_stack_mem_live()). */
typedef struct ts_mem {
    void *user;
    void *(*malloc)(void *user, size_t size);
    void (*free)(void *user, void *ptr, size_t size);
} ts_mem;

/* ----------------------------------------------------------- configuration */

/* Fields carry the Linux sysctl names (net.ipv4.* unless said) and Linux
 * 6.18's defaults, filled by ts_config_default(). */
typedef struct ts_config {
    size_t size; /* sizeof(ts_config), stamped by ts_config_default */
    int tcp_syn_retries;          /* 6 */
    int tcp_syn_linear_timeouts;  /* 4 */
    int tcp_synack_retries;       /* 5 */
    int tcp_keepalive_time;       /* 7200 s */
    int tcp_keepalive_intvl;      /* 75 s */
    int tcp_keepalive_probes;     /* 9 */
    int tcp_retries1;             /* 3 */
    int tcp_retries2;             /* 15 */
    int tcp_orphan_retries;       /* 0, meaning 8 */
    int tcp_fin_timeout;          /* 60 s */
    int tcp_max_orphans;          /* 131072 */
    int tcp_max_tw_buckets;       /* 131072 */
    int tcp_tw_reuse;             /* 2: loopback only */
    int tcp_tw_reuse_delay;       /* 1000 ms */
    int tcp_rfc1337;              /* 0 */
    int tcp_max_syn_backlog;      /* 2048 */
    int tcp_abort_on_overflow;    /* 0 */
    int somaxconn;                /* net.core.somaxconn 4096 */
    int tcp_rto_min_us;           /* 200000 */
    int tcp_rto_max_ms;           /* 120000 */
    int tcp_timestamps;           /* 1 */
    int tcp_sack;                 /* 1 */
    int tcp_window_scaling;       /* 1 */
    int tcp_syncookies;           /* 1: SYN cookies past the backlog (needs hooks.cookie_hash) */
    int tcp_invalid_ratelimit;    /* 500 ms */
    int tcp_challenge_ack_limit;  /* INT_MAX */
    int ip_local_port_range[2];   /* 32768 60999 */
    int tcp_rmem[3];              /* 4096 131072 33554432 */
    int tcp_wmem[3];              /* 4096 16384 4194304 */
    int tcp_delack_min_ms;        /* 40 */
    /* tcpstate extension, not a Linux sysctl: Linux fixes TIME_WAIT at 60 s
     * (TCP_TIMEWAIT_LEN). Name: net.ipv4.tcpstate_timewait_len_ms. */
    int tcpstate_timewait_len_ms; /* 60000 */
    int mtu;                      /* 1500: gives our MSS (mtu - 40) */
    ts_mem mem;
} ts_config;

void ts_config_default(ts_config *cfg);

/* Set one setting by its sysctl name ("net.ipv4.tcp_fin_timeout",
 * "tcp_fin_timeout" or "net/ipv4/tcp_fin_timeout") from its text value
 * ("30", "32768 60999"). Returns 0, TS_ENOENT for an unknown name, TS_EINVAL
 * for a bad or out-of-range value; in both cases a one-line explanation
 * (naming the closest known name for TS_ENOENT) is written to err. */
int ts_config_set(ts_config *cfg, const char *name, const char *value,
                  char *err, size_t errlen);
/* Read one setting into buf as sysctl prints it. 0 or TS_ENOENT. */
int ts_config_get(const ts_config *cfg, const char *name, char *buf, size_t len);
/* The i-th known sysctl name (short form, "tcp_fin_timeout"), NULL past the end. */
const char *ts_config_name(size_t i);

/* ------------------------------------------------------------------- hooks */

typedef struct ts_transition_ev {
    uint64_t now_us;
    uint32_t conn_id;  /* stable per connection for its whole life */
    ts_sock sock;      /* {0,0} for request and TIME_WAIT minisockets */
    ts_tuple tuple;
    int from, to;      /* enum ts_state (TS_NEW_SYN_RECV shown as SYN_RECEIVED) */
    int cause;         /* enum ts_cause */
} ts_transition_ev;

enum ts_seg_kind { TS_SEG_TX = 1, TS_SEG_RX = 2, TS_SEG_DROP = 3 };

/* TCP flag bits as on the wire. */
enum {
    TS_TH_FIN = 0x01, TS_TH_SYN = 0x02, TS_TH_RST = 0x04, TS_TH_PSH = 0x08,
    TS_TH_ACK = 0x10, TS_TH_URG = 0x20, TS_TH_ECE = 0x40, TS_TH_CWR = 0x80
};

typedef struct ts_segment_ev {
    uint64_t now_us;
    int kind;          /* enum ts_seg_kind */
    uint32_t conn_id;  /* 0 when no connection matched */
    ts_tuple tuple;    /* local = this stack's side */
    uint8_t flags;     /* TS_TH_* */
    uint32_t seq, ack, win, len; /* raw (absolute) values; win unscaled field */
    int reason;        /* enum ts_drop_reason for TS_SEG_DROP */
} ts_segment_ev;

/* Readiness bits (Linux poll values). */
enum {
    TS_POLLIN = 0x001, TS_POLLPRI = 0x002, TS_POLLOUT = 0x004, TS_POLLERR = 0x008,
    TS_POLLHUP = 0x010, TS_POLLNVAL = 0x020, TS_POLLRDNORM = 0x040,
    TS_POLLWRNORM = 0x100, TS_POLLRDHUP = 0x2000
};

typedef struct ts_hooks {
    size_t size; /* sizeof(ts_hooks) */
    /* Initial sequence number for a new connection (RFC 6528). Required:
     * the core never invents randomness. */
    uint32_t (*isn)(void *user, const ts_tuple *t, uint64_t now_us);
    /* A starting offset for the ephemeral port search (RFC 6056 alg. 3).
     * NULL: 0. */
    uint32_t (*port_offset)(void *user, const ts_tuple *t);
    /* Per-connection offset added to the TCP timestamp clock. NULL: 0. */
    uint32_t (*ts_offset)(void *user, const ts_tuple *t);
    void (*on_transition)(void *user, const ts_transition_ev *ev);
    void (*on_segment)(void *user, const ts_segment_ev *ev);
    /* Readiness changed: events = ts_poll() bits now set. */
    void (*on_ready)(void *user, ts_sock s, unsigned events);
    /* Diagnostics; NULL: silent. */
    void (*log)(void *user, const char *msg);
    /* SYN cookies (RFC 4987 §3.6; Linux's syncookies.c): a keyed hash of
     * the 4-tuple t (local = the listener's address), a time counter and
     * which (0 or 1: two independent keys). It must stay the same for the
     * stack's lifetime and be unpredictable to peers (e.g. SipHash with a
     * random key). NULL: no SYN cookies, as with tcp_syncookies = 0. */
    uint32_t (*cookie_hash)(void *user, const ts_tuple *t, uint32_t count, int which);
} ts_hooks;

/* ------------------------------------------------------------------- stack */

/* Creates a stack. cfg and hooks are copied; both may be NULL (defaults;
 * without an isn hook every ISN is 0, fine for tests only). NULL on ENOMEM
 * or when cfg->size/hooks->size is larger than this library knows. */
ts_stack *ts_stack_new(const ts_config *cfg, const ts_hooks *hooks, void *user);
/* Frees everything; every handle becomes stale. NULL is fine. */
void ts_stack_free(ts_stack *s);

/* Adds a local IPv4 address (host order). Up to 16. 0, TS_EINVAL, TS_ENOBUFS. */
int ts_stack_add_addr(ts_stack *s, uint32_t ip);

/* Feeds one IPv4 datagram (from the IP header on). The stack does not keep
 * the buffer. Returns 0 when accepted, or the negative drop reason
 * (-TS_DROP_*) when it was dropped (counted, never a crash). */
int ts_stack_input(ts_stack *s, uint64_t now_us, const uint8_t *pkt, size_t len);

/* Writes the next IPv4 datagram to send into buf. Returns its length, 0
 * when nothing is to be sent. cap must be at least 1500 (or the configured
 * MTU) or TS_EINVAL... returned as 0 with nothing lost. */
size_t ts_stack_output(ts_stack *s, uint64_t now_us, uint8_t *buf, size_t cap);

/* Fires every timer whose deadline is <= now_us. */
void ts_stack_advance(ts_stack *s, uint64_t now_us);

/* Earliest timer deadline, UINT64_MAX when none. O(1). Output that is
 * ready now is not a deadline: call ts_stack_output until it returns 0. */
uint64_t ts_stack_next_deadline(const ts_stack *s);

/* Live bytes allocated through the ts_mem hooks. */
size_t ts_stack_mem_live(const ts_stack *s);

/* The stack's configuration (read-only view). */
const ts_config *ts_stack_config(const ts_stack *s);
/* Changes configuration at run time (same rules as ts_config_set). */
int ts_stack_sysctl(ts_stack *s, const char *name, const char *value,
                    char *err, size_t errlen);

/* Number of connections of any kind (full, request, TIME_WAIT). */
size_t ts_stack_conn_count(const ts_stack *s);

/* Snapshot of every connection: fills up to cap entries, returns the total
 * number present (stable order: by conn id). */
typedef struct ts_conn_summary {
    uint32_t conn_id;
    ts_sock sock;
    ts_tuple tuple;
    int state;
    int orphan;
} ts_conn_summary;
size_t ts_stack_conns(const ts_stack *s, ts_conn_summary *out, size_t cap);

/* ---------------------------------------------------------------- counters */

/* Linux MIB names: "ActiveOpens", "TW", "TCPAbortOnClose", ... The i-th
 * counter's name (NULL past the end), its nstat prefix ("Tcp" or "TcpExt")
 * and its value. */
const char *ts_counter_name(size_t i);
const char *ts_counter_group(size_t i);
uint64_t ts_stack_counter(const ts_stack *s, size_t i);
/* Value by name ("TcpExtTW" or "TW"); UINT64_MAX if unknown. */
uint64_t ts_stack_counter_by_name(const ts_stack *s, const char *name);
/* Segments dropped for one reason (enum ts_drop_reason). */
uint64_t ts_stack_drops(const ts_stack *s, int reason);

/* ------------------------------------------------------------ socket calls */

/* All calls are non-blocking; a driver that wants blocking calls waits for
 * on_ready events (or polls with ts_poll) while moving time. */

/* A new unbound socket in CLOSED. 0, TS_ENOMEM, TS_EMFILE. */
int ts_socket(ts_stack *s, ts_sock *out);
/* Binds a local address (ip 0: any of ours; port 0: ephemeral). 0, TS_EBADF,
 * TS_EINVAL (already bound), TS_EADDRINUSE, TS_EADDRNOTAVAIL. */
int ts_bind(ts_stack *s, ts_sock sk, const ts_addr *local);
/* CLOSED -> LISTEN, or changes a listener's backlog. backlog is capped by
 * somaxconn; <0 means somaxconn. An unbound socket gets an ephemeral port.
 * 0, TS_EBADF, TS_EINVAL (connected socket), TS_EADDRINUSE. */
int ts_listen(ts_stack *s, ts_sock sk, int backlog);
/* Starts an active open: CLOSED -> SYN_SENT (or LISTEN -> SYN_SENT, the RFC
 * 9293 transition Linux refuses). Returns TS_EINPROGRESS when the SYN is
 * queued; later calls: TS_EALREADY while connecting, 0 once just after
 * completion, then TS_EISCONN; after a failure the error once
 * (ECONNREFUSED, ETIMEDOUT, ...), then TS_ECONNABORTED. Also TS_EBADF,
 * TS_EADDRNOTAVAIL (no free ephemeral port / 4-tuple in TIME_WAIT). */
int ts_connect(ts_stack *s, ts_sock sk, const ts_addr *remote);
/* Takes one established connection off the listener's accept queue.
 * 0, TS_EAGAIN (empty), TS_EINVAL (not listening), TS_EBADF. peer may be NULL. */
int ts_accept(ts_stack *s, ts_sock listener, ts_sock *out, ts_addr *peer);
/* Queues data. Returns bytes taken (may be short), TS_EAGAIN (buffer full
 * or still connecting), TS_EPIPE (write side shut down or connection
 * closed), TS_ECONNRESET (reset, once), TS_ENOTCONN, TS_EBADF. */
long ts_send(ts_stack *s, ts_sock sk, const void *buf, size_t len);
/* Reads data. Returns bytes read, 0 at end of stream (peer's FIN or after
 * a reset was reported), TS_EAGAIN (nothing yet), TS_ECONNRESET (once),
 * TS_ETIMEDOUT (once), TS_ENOTCONN, TS_EBADF. buf may be NULL to discard. */
long ts_recv(ts_stack *s, ts_sock sk, void *buf, size_t len);
/* Bytes waiting to be read. */
long ts_recv_pending(ts_stack *s, ts_sock sk);
enum { TS_SHUT_RD = 0, TS_SHUT_WR = 1, TS_SHUT_RDWR = 2 };
/* 0, TS_ENOTCONN, TS_EINVAL, TS_EBADF. */
int ts_shutdown(ts_stack *s, ts_sock sk, int how);
/* Releases the handle at once (it becomes stale). The connection becomes
 * an orphan and the stack finishes the close as Linux does (FIN, or RST
 * with unread data / SO_LINGER {1,0}). 0 or TS_EBADF. */
int ts_close(ts_stack *s, ts_sock sk);
/* Readiness bits (TS_POLL*) now; TS_POLLNVAL for a stale handle. */
unsigned ts_poll(ts_stack *s, ts_sock sk);

/* Options: Linux's levels and numbers. */
enum { TS_SOL_SOCKET = 1, TS_SOL_TCP = 6 };
enum {
    TS_SO_REUSEADDR = 2, TS_SO_ERROR = 4, TS_SO_SNDBUF = 7, TS_SO_RCVBUF = 8,
    TS_SO_KEEPALIVE = 9, TS_SO_LINGER = 13, TS_SO_REUSEPORT = 15, TS_SO_ACCEPTCONN = 30
};
enum {
    TS_TCP_NODELAY = 1, TS_TCP_MAXSEG = 2, TS_TCP_KEEPIDLE = 4, TS_TCP_KEEPINTVL = 5,
    TS_TCP_KEEPCNT = 6, TS_TCP_SYNCNT = 7, TS_TCP_LINGER2 = 8, TS_TCP_INFO = 11,
    TS_TCP_QUICKACK = 12, TS_TCP_USER_TIMEOUT = 18
};
/* SO_LINGER takes this (struct linger's layout). */
typedef struct ts_linger { int l_onoff; int l_linger; } ts_linger;
/* Integers are an int (len 4); SO_LINGER a ts_linger. SO_ERROR reads and
 * clears the pending error (a positive errno, as Linux). 0, TS_EBADF,
 * TS_ENOPROTOOPT, TS_EINVAL (bad length or value). */
int ts_setsockopt(ts_stack *s, ts_sock sk, int level, int opt, const void *val, size_t len);
int ts_getsockopt(ts_stack *s, ts_sock sk, int level, int opt, void *val, size_t *len);

/* Like Linux's TCP_INFO, the fields that matter here. */
typedef struct ts_info {
    int state;
    uint32_t conn_id;
    ts_tuple tuple;
    int orphan;
    uint32_t iss, irs, snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
    uint32_t mss;
    uint32_t rto_us, srtt_us, rttvar_us;
    uint32_t retransmits, backoff, probes;
    uint32_t cwnd, ssthresh;
    uint32_t snd_queued, rcv_queued;
    int wscale_ok, ts_ok, sack_ok;
    uint8_t snd_wscale, rcv_wscale;
    int error; /* pending error, negative ts_err, 0 none */
} ts_info;
int ts_sock_info(ts_stack *s, ts_sock sk, ts_info *out);

/* ------------------------------------------------------------- the table */

/* The transition table the state machine obeys (data; `tcpstate diagram`
 * draws it). Every ts_set_state() call is checked against it. */
typedef struct ts_transition_row {
    int from, to;        /* enum ts_state */
    int cause;           /* enum ts_cause */
    const char *event;   /* "rcv SYN", "app close", "timeout 2MSL" */
    const char *action;  /* "snd SYN,ACK", "snd FIN", "-" */
} ts_transition_row;
const ts_transition_row *ts_transition_table(size_t *n);

#ifdef __cplusplus
}
#endif
#endif
