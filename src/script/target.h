/*
 * target.h — what the script runner needs from a TCP implementation under
 * test. Two targets implement it: tcpstate in virtual time
 * (target_tcpstate.c) and the Linux kernel over TUN in a private network
 * namespace (target_linux.c).
 *
 * Times are microseconds since the script's start instant (time 0).
 * Packets are whole IPv4 datagrams, from the IP header on.
 * Errors from calls are positive Linux errno values, as libc gives them.
 */
#ifndef TS_SCRIPT_TARGET_H
#define TS_SCRIPT_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* Addresses and ports of a run (packetdrill's section 5). Host order. */
typedef struct ts_target_cfg {
    uint32_t local_ip;      /* the stack under test: 192.0.2.2 */
    uint32_t remote_ip;     /* the script's peer:    192.0.2.1 */
    uint16_t bind_port;     /* 8080 */
    uint16_t connect_port;  /* 8080 */
    int mtu;                /* 1500 */
    int verbose;
} ts_target_cfg;

/* One argument of a system call, evaluated by the runner. File descriptor
 * arguments are already translated from script numbers to live numbers. */
enum ts_arg_kind {
    TS_ARG_ELLIPSIS,  /* ... */
    TS_ARG_INT,       /* integer, symbol or A|B, evaluated */
    TS_ARG_INTLIST,   /* [N] (setsockopt/getsockopt value) */
    TS_ARG_LINGER,    /* {onoff=A, linger=B} */
    TS_ARG_STRING,    /* "text" */
    TS_ARG_POLLFDS,   /* [{fd=, events=, revents=}, ...] */
    TS_ARG_NULL       /* NULL / 0 used as a buffer */
};

#define TS_CALL_MAX_ARGS 6
#define TS_POLL_MAX 8

typedef struct ts_call_arg {
    int kind;               /* enum ts_arg_kind */
    long long i;            /* TS_ARG_INT, TS_ARG_INTLIST (first element) */
    int onoff, linger;      /* TS_ARG_LINGER */
    const char *str;        /* TS_ARG_STRING (NUL-terminated, escapes done) */
    size_t strlen;
    int npoll;              /* TS_ARG_POLLFDS */
    struct { int fd; short events, revents; } poll[TS_POLL_MAX];
} ts_call_arg;

typedef struct ts_call {
    const char *name;       /* "socket", "bind", "listen", "accept", "connect",
                               "read", "write", "send", "recv", "shutdown",
                               "close", "setsockopt", "getsockopt", "fcntl",
                               "poll" */
    int nargs;
    ts_call_arg args[TS_CALL_MAX_ARGS];
    int blocking;           /* written as S...E: may block */
} ts_call;

typedef struct ts_call_result {
    long long ret;          /* the call's return value (-1 on error) */
    int err;                /* errno when ret == -1, else 0 */
    uint64_t t_end;         /* when the call returned */
    /* getsockopt: the value and length written */
    uint8_t val[64];
    size_t vallen;
    /* poll: the revents written back, per entry */
    short revents[TS_POLL_MAX];
} ts_call_result;

typedef struct ts_target ts_target;

typedef struct ts_target_ops {
    const char *name;  /* "tcpstate", "linux" */
    /* Sets up the target (for linux: namespace, TUN, addresses). Returns 0,
     * or -1 with a one-line reason in err. */
    int (*open)(ts_target **out, const ts_target_cfg *cfg, char *err, size_t errlen);
    void (*close)(ts_target *t);  /* closes every socket still open, frees */
    /* Applies net.ipv4.NAME=VALUE (name as written in the script, with or
     * without the "net.ipv4." prefix). -1 with a reason in err. */
    int (*sysctl)(ts_target *t, const char *name, const char *value, char *err, size_t errlen);
    /* Now, in µs since the start instant. */
    uint64_t (*now)(ts_target *t);
    /* Lets time pass until `when` (virtual: fires timers; linux: sleeps). */
    void (*wait_until)(ts_target *t, uint64_t when);
    /* Delivers one inbound datagram to the stack under test. 0 or -1. */
    int (*inject)(ts_target *t, const uint8_t *pkt, size_t len);
    /* Takes the next datagram the stack sent, waiting at most until
     * `deadline`. Returns its length (> 0) with its send time in *when, 0
     * when nothing came by the deadline, -1 on a fault. */
    long (*receive)(ts_target *t, uint8_t *buf, size_t cap, uint64_t *when, uint64_t deadline);
    /* Starts a call. Returns 1 when it has returned (res filled, t_end set),
     * 0 when it blocks (a blocking socket with nothing ready): it then
     * completes in the background as time passes; see poll_call. */
    int (*start_call)(ts_target *t, const ts_call *c, ts_call_result *res);
    /* The call started last and still blocking: 1 when it has returned
     * (res filled), 0 while it still blocks. Never waits. */
    int (*poll_call)(ts_target *t, ts_call_result *res);
} ts_target_ops;

extern const ts_target_ops ts_target_tcpstate;
extern const ts_target_ops ts_target_linux;

#endif
