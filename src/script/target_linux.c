/*
 * target_linux.c — the Linux kernel as the script runner's oracle, in real
 * time, over a TUN device inside a private network namespace.
 *
 * Design. open() forks a child. The child unshares a new network namespace
 * (CLONE_NEWNET), creates the TUN device "tstun0" (IFF_TUN | IFF_NO_PI),
 * gives it local_ip/24 (the kernel then routes remote_ip through it), brings
 * lo and the device up, and then serves the parent's requests over a
 * SOCK_SEQPACKET socketpair: sysctl, inject, receive, call, poll_call, quit.
 * The parent (the runner's process) never enters the namespace and never
 * holds a socket, the TUN fd or a /proc/sys file of it; killing the child
 * (it also dies with the parent, PR_SET_PDEATHSIG) frees everything.
 *
 * Inside the child, four threads:
 *   - main: serves requests;
 *   - the blocking worker: makes calls marked S...E. The main thread answers
 *     start_call once the worker is asleep inside the call (state S in
 *     /proc/self/task/TID/stat, packetdrill's test) or the call is done;
 *   - the inline worker: makes the other calls while the main thread waits
 *     for them, so a call that blocks stalls the run as under packetdrill,
 *     but only for TL_STALL_US: a call still asleep after that is reported
 *     as blocked (start_call 0, the runner fails the script) instead of
 *     hanging forever as packetdrill would;
 *   - reader: reads the TUN fd as soon as it is readable and stamps each
 *     datagram with CLOCK_MONOTONIC right after read(), so a packet's time is
 *     when the kernel sent it, not when the runner asked for it.
 *
 * Invariants.
 *   - Nothing is written under /proc/sys unless the child's /proc/self/ns/net
 *     inode differs from the parent's (checked at every write). Settings that
 *     are not per-namespace (tcp_max_orphans, ...) do not exist in a new
 *     namespace, so asking for one is an error, never a host-wide write.
 *   - One request in flight at a time; every request gets exactly one reply.
 *   - Times cross the channel as absolute CLOCK_MONOTONIC µs (the clock is
 *     shared by both processes); only the parent knows the start instant,
 *     which is taken lazily at the first time-related operation (now,
 *     wait_until, inject, receive, start_call), i.e. after the sysctl lines,
 *     "just before the first event" as packetdrill does.
 *   - The channel and the TUN fd sit at high descriptor numbers and calls on
 *     them are refused (EBADF), so sockets start at 3 as under packetdrill and
 *     a script cannot touch the target's own plumbing.
 *
 * Calls (PACKETDRILL.md 3.2): bind uses local_ip:bind_port, connect
 * remote_ip:connect_port (an integer 2nd argument is a family: AF_UNSPEC
 * disconnects); write/send send zeros; getsockopt gets a zeroed buffer of
 * the script's [LEN] (+1), and val/vallen return at most 64 bytes of it;
 * accept also returns the peer's struct sockaddr_in in val/vallen. SIGPIPE
 * is ignored in the child, so a send on a reset connection gives EPIPE.
 */
#include "script/target.h"
#include "drv/tundev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TL_DEV "tstun0"
#define TL_MSG_MAX (65536 + 4096)  /* one datagram or one call, plus header */
#define TL_CHAN_FD 1000            /* where the child keeps its plumbing */
#define TL_QUEUE_MAX 8192          /* outbound datagrams held for receive */
#define TL_IO_MAX (64u << 20)      /* largest read/write buffer a call gets */
#define TL_GETSOCKOPT_MAX 256
#define TL_STALL_US 10000000u      /* 10 s: the longest stall we sit through */
#define TL_NEVER UINT64_MAX

enum tl_op { OP_READY = 1, OP_SYSCTL, OP_INJECT, OP_RECV, OP_CALL, OP_POLLCALL, OP_QUIT };

/* One message on the channel: this header, then len payload bytes. */
typedef struct tl_hdr {
    uint32_t op;
    int32_t rc;      /* replies: result (meaning per op) */
    uint64_t arg;    /* RECV: deadline; replies: packet time (absolute µs) */
    uint32_t len;
    uint32_t pad;
} tl_hdr;

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------ the channel */

static int chan_send(int fd, uint32_t op, int32_t rc, uint64_t arg,
                     const void *p1, size_t n1, const void *p2, size_t n2)
{
    tl_hdr h = { op, rc, arg, (uint32_t)(n1 + n2), 0 };
    struct iovec iov[3] = { { &h, sizeof h }, { (void *)p1, n1 }, { (void *)p2, n2 } };
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = 3;
    ssize_t r;
    do
        r = sendmsg(fd, &m, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)(sizeof h + n1 + n2) ? 0 : -1;
}

/* Receives one message into buf (TL_MSG_MAX bytes). timeout_ms < 0: wait
 * forever. Returns the payload length, or -1 (peer gone, timeout, fault). */
static long chan_recv(int fd, tl_hdr *h, uint8_t *buf, int timeout_ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    int pr;
    do
        pr = poll(&p, 1, timeout_ms);
    while (pr < 0 && errno == EINTR);
    if (pr <= 0)
        return -1;
    struct iovec iov[2] = { { h, sizeof *h }, { buf, TL_MSG_MAX } };
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    ssize_t r;
    do
        r = recvmsg(fd, &m, 0);
    while (r < 0 && errno == EINTR);
    if (r < (ssize_t)sizeof *h || (m.msg_flags & MSG_TRUNC) ||
        h->len != (size_t)r - sizeof *h)
        return -1;
    return (long)h->len;
}

/* ===================================================== the child process */

typedef struct tl_pkt {
    struct tl_pkt *next;
    uint64_t when;
    size_t len;
    uint8_t data[];
} tl_pkt;

enum { JOB_IDLE, JOB_POSTED, JOB_IN_CALL, JOB_DONE };

/* A call with its strings copied and its buffer allocated, ready to run. */
typedef struct tl_job {
    ts_call call;
    char strs[TL_MSG_MAX];
    void *buf;           /* read/write/getsockopt buffer, allocated by main */
    size_t buflen;
} tl_job;

enum { W_BLOCKING, W_INLINE, W_COUNT };

typedef struct tl_child tl_child;

/* A thread that makes calls: one job at a time, handed over under mu. */
typedef struct tl_worker {
    tl_child *c;
    pid_t tid;
    int state;           /* JOB_*, under mu */
    tl_job job;          /* written by main only while state is IDLE/DONE */
    ts_call_result res;  /* valid when state is DONE */
    pthread_cond_t go, done;
} tl_worker;

struct tl_child {
    ts_target_cfg cfg;
    ino_t host_netns;
    int chan, tun;
    int plumb;           /* descriptors >= plumb are the target's own */
    pthread_mutex_t mu;
    pthread_cond_t pkt_cv;
    tl_pkt *qhead, *qtail;
    size_t qlen;
    tl_worker w[W_COUNT];
    int pending;         /* the worker whose call start_call left blocked, or -1 */
    unsigned char open_fd[TL_CHAN_FD];  /* sockets the script holds */
    uint8_t msg[TL_MSG_MAX];
};

static ino_t netns_inode(void)
{
    struct stat st;
    return stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
}

/* Writes VALUE to /proc/sys/PATH, only inside our own namespace. */
static int proc_write(const tl_child *c, const char *path, const char *value,
                      char *err, size_t errlen)
{
    ino_t ns = netns_inode();
    if (ns == 0 || ns == c->host_netns) {
        snprintf(err, errlen, "refusing to write %s: not inside the target's own network namespace", path);
        return -1;
    }
    char full[512];
    snprintf(full, sizeof full, "/proc/sys/%s", path);
    int fd = open(full, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, errno == ENOENT ?
                 "%s: no such setting in the target's network namespace (unknown, or not per-namespace; nothing written)" :
                 "%s: %s", full, strerror(errno));
        return -1;
    }
    char line[512];
    int n = snprintf(line, sizeof line, "%s\n", value);
    ssize_t w = n > 0 && (size_t)n < sizeof line ? write(fd, line, (size_t)n) : -1;
    int e = errno;
    close(fd);
    if (w != n) {
        snprintf(err, errlen, "%s=%s: the kernel refused it: %s", path, value, strerror(e));
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------- set-up, child */

/* The device itself comes from the shared helper (src/drv/tundev.c); lo
 * is down in a fresh namespace and the kernel's own sockets need it. */
static int config_dev(const tl_child *c, char *err, size_t errlen)
{
    if (ts_tundev_config(TL_DEV, c->cfg.local_ip, 24, c->cfg.mtu, err, errlen) < 0)
        return -1;
    return ts_tundev_up("lo", err, errlen);
}

static int open_tun(tl_child *c, char *err, size_t errlen)
{
    int fd = ts_tundev_open(TL_DEV, err, errlen);
    if (fd < 0)
        return -1;
    c->tun = fcntl(fd, F_DUPFD_CLOEXEC, c->plumb);
    close(fd);
    if (c->tun < 0) {
        snprintf(err, errlen, "moving the TUN fd: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Keeps stderr, puts /dev/null on stdin/stdout, moves the channel up to
 * TL_CHAN_FD (lower if the descriptor limit is lower) and closes everything
 * else inherited from the runner. */
static int tidy_fds(tl_child *c, int chan)
{
    struct rlimit rl;
    c->plumb = TL_CHAN_FD;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < TL_CHAN_FD + 8) {
        if (rl.rlim_max >= TL_CHAN_FD + 8) {
            rl.rlim_cur = TL_CHAN_FD + 8;
            setrlimit(RLIMIT_NOFILE, &rl);
        } else {
            c->plumb = rl.rlim_cur > 64 ? (int)rl.rlim_cur - 8 : 32;
        }
    }
    int nfd = fcntl(chan, F_DUPFD_CLOEXEC, c->plumb);
    if (nfd < 0)
        return -1;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
    }
    for (int fd = 3; fd < c->plumb; fd++)
        close(fd);
    c->chan = nfd;
    return 0;
}

/* Everything up to a working device; reports the first failure in err. */
static int child_setup(tl_child *c, char *err, size_t errlen)
{
    if (unshare(CLONE_NEWNET) < 0) {
        snprintf(err, errlen, "unshare(CLONE_NEWNET): %s (needs root)", strerror(errno));
        return -1;
    }
    if (netns_inode() == c->host_netns) {
        snprintf(err, errlen, "unshare(CLONE_NEWNET) left the process in the host's network namespace");
        return -1;
    }
    /* No IPv6 on the device: no router solicitations, no MLD reports. A
     * kernel without IPv6 has no such file, which is fine. */
    char e2[256];
    if (access("/proc/sys/net/ipv6/conf/default/disable_ipv6", F_OK) == 0 &&
        (proc_write(c, "net/ipv6/conf/default/disable_ipv6", "1", e2, sizeof e2) < 0 ||
         proc_write(c, "net/ipv6/conf/all/disable_ipv6", "1", e2, sizeof e2) < 0)) {
        snprintf(err, errlen, "disabling IPv6: %s", e2);
        return -1;
    }
    if (open_tun(c, err, errlen) < 0 || config_dev(c, err, errlen) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------ the reader thread */

static void queue_pkt(tl_child *c, const uint8_t *data, size_t len, uint64_t when)
{
    tl_pkt *p = malloc(sizeof *p + len);
    if (!p)
        return;
    p->next = NULL;
    p->when = when;
    p->len = len;
    memcpy(p->data, data, len);
    pthread_mutex_lock(&c->mu);
    if (c->qlen >= TL_QUEUE_MAX) {  /* nobody is reading: keep the newest */
        tl_pkt *old = c->qhead;
        c->qhead = old->next;
        if (!c->qhead)
            c->qtail = NULL;
        free(old);
        c->qlen--;
    }
    if (c->qtail)
        c->qtail->next = p;
    else
        c->qhead = p;
    c->qtail = p;
    c->qlen++;
    pthread_cond_broadcast(&c->pkt_cv);
    pthread_mutex_unlock(&c->mu);
}

static void *reader_main(void *arg)
{
    tl_child *c = arg;
    static uint8_t buf[65536];
    for (;;) {
        struct pollfd p = { c->tun, POLLIN, 0 };
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return NULL;
        ssize_t n = read(c->tun, buf, sizeof buf);
        uint64_t when = mono_us();
        if (n > 0)
            queue_pkt(c, buf, (size_t)n, when);
        else if (n < 0 && errno != EINTR && errno != EAGAIN)
            return NULL;
    }
}

/* ------------------------------------------------------------- the calls */

static int is_own_fd(const tl_child *c, long long fd)
{
    return fd == c->chan || fd == c->tun || fd >= c->plumb;
}

static int call_is(const ts_call *k, const char *name)
{
    return strcmp(k->name, name) == 0;
}

static long long arg_i(const ts_call *k, int i, long long dflt)
{
    if (i >= k->nargs)
        return dflt;
    const ts_call_arg *a = &k->args[i];
    return a->kind == TS_ARG_INT || a->kind == TS_ARG_INTLIST ? a->i : dflt;
}

/* Allocates the data buffer a call needs, before it runs (so the worker does
 * nothing but the system call once it is marked in-call). 0 or an errno. */
static int job_prepare(tl_job *j)
{
    const ts_call *k = &j->call;
    j->buf = NULL;
    j->buflen = 0;
    int io = call_is(k, "read") || call_is(k, "recv") || call_is(k, "write") || call_is(k, "send");
    if (io && k->nargs >= 3 && k->args[1].kind == TS_ARG_ELLIPSIS) {
        long long n = arg_i(k, 2, 0);
        if (n < 0 || (unsigned long long)n > TL_IO_MAX)
            return EINVAL;
        j->buflen = (size_t)n;
    } else if (call_is(k, "getsockopt")) {
        long long n = arg_i(k, 4, 0);
        j->buflen = n > 0 && n < TL_GETSOCKOPT_MAX ? (size_t)n + 1 : TL_GETSOCKOPT_MAX;
    } else {
        return 0;
    }
    j->buf = calloc(1, j->buflen ? j->buflen : 1);  /* write/send: zeros */
    return j->buf ? 0 : ENOMEM;
}

static long long do_sockopt(const tl_job *j, ts_call_result *r)
{
    const ts_call *k = &j->call;
    int fd = (int)arg_i(k, 0, -1), lvl = (int)arg_i(k, 1, 0), name = (int)arg_i(k, 2, 0);
    if (call_is(k, "getsockopt")) {
        socklen_t len = (socklen_t)(j->buflen - 1);  /* the script's [LEN] */
        long long ret = getsockopt(fd, lvl, name, j->buf, &len);
        r->vallen = len < sizeof r->val ? len : sizeof r->val;
        memcpy(r->val, j->buf, r->vallen);
        return ret;
    }
    const ts_call_arg *v = k->nargs > 3 ? &k->args[3] : NULL;
    socklen_t len = (socklen_t)arg_i(k, 4, 0);
    int iv = v ? (int)v->i : 0;
    struct linger lg = { v ? v->onoff : 0, v ? v->linger : 0 };
    const void *p = &iv;
    if (!v || v->kind == TS_ARG_NULL || v->kind == TS_ARG_ELLIPSIS)
        p = NULL;
    else if (v->kind == TS_ARG_LINGER)
        p = &lg;
    else if (v->kind == TS_ARG_STRING)
        p = v->str;
    return setsockopt(fd, lvl, name, p, len);
}

static long long do_poll(const ts_call *k, ts_call_result *r)
{
    struct pollfd pf[TS_POLL_MAX];
    int n = k->nargs > 0 && k->args[0].kind == TS_ARG_POLLFDS ? k->args[0].npoll : 0;
    if (n < 0 || n > TS_POLL_MAX)
        n = 0;
    for (int i = 0; i < n; i++) {
        pf[i].fd = k->args[0].poll[i].fd;
        pf[i].events = k->args[0].poll[i].events;
        pf[i].revents = 0;
    }
    long long nfds = arg_i(k, 1, n);
    if (nfds < 0 || nfds > n)
        nfds = n;
    long long ret = poll(pf, (nfds_t)nfds, (int)arg_i(k, 2, 0));
    for (int i = 0; i < n; i++)
        r->revents[i] = pf[i].revents;
    return ret;
}

static long long do_addr_call(const tl_child *c, const ts_call *k, ts_call_result *r)
{
    int fd = (int)arg_i(k, 0, -1);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    if (call_is(k, "bind")) {
        sin.sin_addr.s_addr = htonl(c->cfg.local_ip);
        sin.sin_port = htons(c->cfg.bind_port);
        return bind(fd, (struct sockaddr *)&sin, sizeof sin);
    }
    if (call_is(k, "connect")) {
        if (k->nargs > 1 && k->args[1].kind == TS_ARG_INT) {
            sin.sin_family = (sa_family_t)k->args[1].i;  /* AF_UNSPEC: disconnect */
        } else {
            sin.sin_addr.s_addr = htonl(c->cfg.remote_ip);
            sin.sin_port = htons(c->cfg.connect_port);
        }
        return connect(fd, (struct sockaddr *)&sin, sizeof sin);
    }
    socklen_t len = sizeof sin;  /* accept: the peer, in val (sockaddr_in) */
    long long ret = accept(fd, (struct sockaddr *)&sin, &len);
    if (ret >= 0) {
        r->vallen = len < sizeof r->val ? len : sizeof r->val;
        memcpy(r->val, &sin, r->vallen);
    }
    return ret;
}

static long long do_io(const tl_job *j)
{
    const ts_call *k = &j->call;
    int fd = (int)arg_i(k, 0, -1);
    size_t n = (size_t)arg_i(k, 2, 0);
    void *buf = j->buf;  /* NULL when the script wrote 0 / NULL */
    int flags = (int)arg_i(k, 3, 0);
    if (call_is(k, "read"))
        return read(fd, buf, n);
    if (call_is(k, "write"))
        return write(fd, buf, n);
    if (call_is(k, "recv"))
        return recv(fd, buf, n, flags);
    return send(fd, buf, n, flags);
}

/* Makes the system call itself: nothing but argument shuffling around it.
 * Returns the result with errno as the call left it. */
static long long do_syscall(const tl_child *c, const tl_job *j, ts_call_result *r)
{
    const ts_call *k = &j->call;
    if (call_is(k, "socket")) {
        int dom = k->nargs > 0 && k->args[0].kind == TS_ARG_ELLIPSIS ? AF_INET : (int)arg_i(k, 0, AF_INET);
        return socket(dom, (int)arg_i(k, 1, SOCK_STREAM), (int)arg_i(k, 2, 0));
    }
    if (call_is(k, "poll"))
        return do_poll(k, r);
    if (k->nargs < 1 || is_own_fd(c, arg_i(k, 0, -1))) {
        errno = EBADF;
        return -1;
    }
    int fd = (int)arg_i(k, 0, -1);
    if (call_is(k, "bind") || call_is(k, "connect") || call_is(k, "accept"))
        return do_addr_call(c, k, r);
    if (call_is(k, "listen"))
        return listen(fd, (int)arg_i(k, 1, 0));
    if (call_is(k, "read") || call_is(k, "write") || call_is(k, "recv") || call_is(k, "send"))
        return do_io(j);
    if (call_is(k, "shutdown"))
        return shutdown(fd, (int)arg_i(k, 1, SHUT_RDWR));
    if (call_is(k, "close"))
        return close(fd);
    if (call_is(k, "setsockopt") || call_is(k, "getsockopt"))
        return do_sockopt(j, r);
    if (call_is(k, "fcntl"))
        return k->nargs >= 3 ? fcntl(fd, (int)arg_i(k, 1, 0), (int)arg_i(k, 2, 0))
                             : fcntl(fd, (int)arg_i(k, 1, 0));
    errno = ENOSYS;
    return -1;
}

/* Keeps track of the sockets the script holds, so quit closes them all. */
static void track_fds(tl_child *c, const ts_call *k, const ts_call_result *r)
{
    int is_new = call_is(k, "socket") || call_is(k, "accept");
    pthread_mutex_lock(&c->mu);
    if (is_new && r->ret >= 0 && r->ret < TL_CHAN_FD)
        c->open_fd[r->ret] = 1;
    else if (call_is(k, "close") && r->ret == 0 && k->args[0].i >= 0 && k->args[0].i < TL_CHAN_FD)
        c->open_fd[k->args[0].i] = 0;
    pthread_mutex_unlock(&c->mu);
}

/* Runs a prepared call. *state becomes JOB_IN_CALL (under the lock) just
 * before the system call, for the sleep detection. */
static void run_job(tl_child *c, tl_job *j, ts_call_result *r, int *state)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&c->mu);
    *state = JOB_IN_CALL;
    pthread_mutex_unlock(&c->mu);
    errno = 0;
    long long ret = do_syscall(c, j, r);
    int e = errno;
    r->t_end = mono_us();
    r->ret = ret;
    r->err = ret == -1 ? e : 0;
    track_fds(c, &j->call, r);
    free(j->buf);
    j->buf = NULL;
}

/* -------------------------------------------------------- the workers */

static void *worker_main(void *arg)
{
    tl_worker *w = arg;
    tl_child *c = w->c;
    pthread_mutex_lock(&c->mu);
    w->tid = (pid_t)syscall(SYS_gettid);
    pthread_cond_broadcast(&w->done);
    for (;;) {
        while (w->state != JOB_POSTED)
            pthread_cond_wait(&w->go, &c->mu);
        pthread_mutex_unlock(&c->mu);
        ts_call_result r;
        run_job(c, &w->job, &r, &w->state);
        pthread_mutex_lock(&c->mu);
        w->res = r;
        w->state = JOB_DONE;
        pthread_cond_broadcast(&w->done);
    }
    return NULL;
}

/* The scheduler state letter of a thread of ours ('S' sleeping, 'R', ...). */
static char thread_state(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = '\0';
    char *p = strrchr(buf, ')');  /* the name may hold anything but ')' ends it */
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Takes a finished job's result (caller holds mu). */
static void take_result(tl_worker *w, ts_call_result *res)
{
    *res = w->res;
    w->state = JOB_IDLE;
}

/* Hands the blocking worker its prepared call; returns once it sleeps in
 * the call (0) or the call returned (1, res filled). */
static int start_blocking(tl_child *c, tl_worker *w, ts_call_result *res)
{
    pthread_mutex_lock(&c->mu);
    w->state = JOB_POSTED;
    pthread_cond_broadcast(&w->go);
    pthread_mutex_unlock(&c->mu);
    for (;;) {
        pthread_mutex_lock(&c->mu);
        int st = w->state;
        if (st == JOB_DONE)
            take_result(w, res);
        pthread_mutex_unlock(&c->mu);
        if (st == JOB_DONE)
            return 1;
        if (st == JOB_IN_CALL && thread_state(w->tid) == 'S')
            return 0;
        struct timespec ts = { 0, 10000 };  /* 10 µs */
        nanosleep(&ts, NULL);
    }
}

/* Hands the inline worker its prepared call and waits for it to return:
 * 1 with res. After TL_STALL_US, a call asleep in the kernel is given up
 * on (0); one still running (copying a large buffer) is waited for. */
static struct timespec abs_ts(uint64_t us)
{
    struct timespec ts = { (time_t)(us / 1000000u), (long)(us % 1000000u) * 1000 };
    return ts;
}

static int run_inline(tl_child *c, tl_worker *w, ts_call_result *res)
{
    struct timespec ts = abs_ts(mono_us() + TL_STALL_US);
    int expired = 0;
    pthread_mutex_lock(&c->mu);
    w->state = JOB_POSTED;
    pthread_cond_broadcast(&w->go);
    for (;;) {
        if (w->state == JOB_DONE) {
            take_result(w, res);
            pthread_mutex_unlock(&c->mu);
            return 1;
        }
        if (expired && w->state == JOB_IN_CALL && thread_state(w->tid) == 'S') {
            pthread_mutex_unlock(&c->mu);
            return 0;
        }
        if (pthread_cond_timedwait(&w->done, &c->mu, &ts) == ETIMEDOUT) {
            expired = 1;
            ts = abs_ts(mono_us() + 10000);  /* then look again every 10 ms */
        }
    }
}

/* ---------------------------------------------------- serving requests */

/* Rebuilds a ts_call sent as [ts_call][name\0][str\0]...: the pointers in
 * the copied struct are the parent's and are replaced by the payload's. */
static int decode_call(tl_job *j, const uint8_t *p, size_t len)
{
    if (len < sizeof j->call || len - sizeof j->call > sizeof j->strs)
        return -1;
    memcpy(&j->call, p, sizeof j->call);
    size_t n = len - sizeof j->call, off = 0;
    memcpy(j->strs, p + sizeof j->call, n);
    if (j->call.nargs < 0 || j->call.nargs > TS_CALL_MAX_ARGS)
        return -1;
    const char *name = j->strs;
    off = strnlen(name, n) + 1;
    if (off > n)
        return -1;
    j->call.name = name;
    for (int i = 0; i < j->call.nargs; i++) {
        ts_call_arg *a = &j->call.args[i];
        a->str = NULL;
        if (a->kind != TS_ARG_STRING)
            continue;
        if (a->strlen >= n - off || j->strs[off + a->strlen] != '\0')
            return -1;
        a->str = j->strs + off;
        off += a->strlen + 1;
    }
    return 0;
}

static void serve_call(tl_child *c, const uint8_t *p, size_t len)
{
    ts_call_result res;
    memset(&res, 0, sizeof res);
    ts_call peek;
    memset(&peek, 0, sizeof peek);
    memcpy(&peek, p, len < sizeof peek ? len : sizeof peek);
    int idx = peek.blocking ? W_BLOCKING : W_INLINE;
    tl_worker *w = &c->w[idx];
    pthread_mutex_lock(&c->mu);
    int busy = w->state == JOB_POSTED || w->state == JOB_IN_CALL;
    pthread_mutex_unlock(&c->mu);
    int done = 1;
    if (busy) {
        /* two blocking calls may not overlap (the runner should not ask) */
        res.ret = -1, res.err = EBUSY;
    } else if (decode_call(&w->job, p, len) < 0) {
        res.ret = -1, res.err = EINVAL;
    } else if ((res.err = job_prepare(&w->job)) != 0) {
        res.ret = -1;
    } else {
        done = idx == W_BLOCKING ? start_blocking(c, w, &res) : run_inline(c, w, &res);
    }
    if (!done)
        c->pending = idx;
    else if (res.t_end == 0)
        res.t_end = mono_us();
    chan_send(c->chan, OP_CALL, done, 0, &res, sizeof res, NULL, 0);
}

static void serve_pollcall(tl_child *c)
{
    ts_call_result res;
    memset(&res, 0, sizeof res);
    int done = 1;
    pthread_mutex_lock(&c->mu);
    if (c->pending < 0) {  /* nothing is pending: a runner error */
        res.ret = -1, res.err = EINVAL, res.t_end = mono_us();
    } else if (c->w[c->pending].state == JOB_DONE) {
        take_result(&c->w[c->pending], &res);
        c->pending = -1;
    } else {
        done = 0;
    }
    pthread_mutex_unlock(&c->mu);
    chan_send(c->chan, OP_POLLCALL, done, 0, &res, sizeof res, NULL, 0);
}

/* Waits for the reader's next datagram until the absolute deadline. */
static void serve_recv(tl_child *c, uint64_t deadline)
{
    pthread_mutex_lock(&c->mu);
    while (!c->qhead) {
        uint64_t now = mono_us();
        if (deadline != TL_NEVER && now >= deadline)
            break;
        if (deadline == TL_NEVER) {
            pthread_cond_wait(&c->pkt_cv, &c->mu);
            continue;
        }
        struct timespec ts = { (time_t)(deadline / 1000000u), (long)(deadline % 1000000u) * 1000 };
        pthread_cond_timedwait(&c->pkt_cv, &c->mu, &ts);
    }
    tl_pkt *p = c->qhead;
    if (p) {
        c->qhead = p->next;
        if (!c->qhead)
            c->qtail = NULL;
        c->qlen--;
    }
    pthread_mutex_unlock(&c->mu);
    if (!p) {
        chan_send(c->chan, OP_RECV, 0, 0, NULL, 0, NULL, 0);
        return;
    }
    chan_send(c->chan, OP_RECV, (int32_t)p->len, p->when, p->data, p->len, NULL, 0);
    free(p);
}

static void serve_inject(tl_child *c, const uint8_t *p, size_t len)
{
    ssize_t w = write(c->tun, p, len);
    int32_t rc = w == (ssize_t)len ? 0 : w < 0 ? errno : EIO;
    chan_send(c->chan, OP_INJECT, rc, mono_us(), NULL, 0, NULL, 0);
}

/* The sysctl request carries "path\0value\0" with path already mapped. */
static void serve_sysctl(tl_child *c, uint8_t *p, size_t len)
{
    char err[512] = "";
    int rc = -1;
    if (len >= 2 && p[len - 1] == '\0') {
        const char *path = (const char *)p;
        size_t pl = strlen(path);
        if (pl + 1 < len)
            rc = proc_write(c, path, path + pl + 1, err, sizeof err);
    }
    if (rc < 0 && !err[0])
        snprintf(err, sizeof err, "malformed sysctl request");
    chan_send(c->chan, OP_SYSCTL, rc, 0, err, rc < 0 ? strlen(err) + 1 : 0, NULL, 0);
}

static void close_all(tl_child *c)
{
    pthread_mutex_lock(&c->mu);
    for (int fd = 0; fd < TL_CHAN_FD; fd++)
        if (c->open_fd[fd]) {
            close(fd);
            c->open_fd[fd] = 0;
        }
    pthread_mutex_unlock(&c->mu);
}

static void serve(tl_child *c)
{
    for (;;) {
        tl_hdr h;
        long n = chan_recv(c->chan, &h, c->msg, -1);
        if (n < 0)
            return;  /* the parent is gone */
        switch (h.op) {
        case OP_SYSCTL: serve_sysctl(c, c->msg, (size_t)n); break;
        case OP_INJECT: serve_inject(c, c->msg, (size_t)n); break;
        case OP_RECV: serve_recv(c, h.arg); break;
        case OP_CALL: serve_call(c, c->msg, (size_t)n); break;
        case OP_POLLCALL: serve_pollcall(c); break;
        case OP_QUIT:
            close_all(c);
            chan_send(c->chan, OP_QUIT, 0, 0, NULL, 0, NULL, 0);
            return;
        default: return;
        }
    }
}

static int start_threads(tl_child *c, char *err, size_t errlen)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->pkt_cv, &ca);
    pthread_t t;
    int bad = pthread_create(&t, NULL, reader_main, c) != 0 || pthread_detach(t) != 0;
    for (int i = 0; i < W_COUNT && !bad; i++) {
        tl_worker *w = &c->w[i];
        w->c = c;
        pthread_cond_init(&w->go, NULL);
        pthread_cond_init(&w->done, &ca);
        bad = pthread_create(&t, NULL, worker_main, w) != 0 || pthread_detach(t) != 0;
        pthread_mutex_lock(&c->mu);
        while (!bad && w->tid == 0)
            pthread_cond_wait(&w->done, &c->mu);
        pthread_mutex_unlock(&c->mu);
    }
    pthread_condattr_destroy(&ca);
    if (bad)
        snprintf(err, errlen, "cannot start the target's threads");
    return bad ? -1 : 0;
}

static void child_main(int chan, pid_t parent, ino_t host_netns, const ts_target_cfg *cfg)
{
    /* Die with the runner: a leftover child would keep the namespace. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    signal(SIGPIPE, SIG_IGN);  /* send() on a reset socket: EPIPE, as packetdrill */
    static tl_child c;         /* big (message buffers); the child has one */
    c.cfg = *cfg;
    c.host_netns = host_netns;
    c.tun = -1;
    c.pending = -1;
    char err[512] = "";
    if (tidy_fds(&c, chan) < 0)
        _exit(1);
    if (child_setup(&c, err, sizeof err) < 0 || start_threads(&c, err, sizeof err) < 0) {
        chan_send(c.chan, OP_READY, -1, 0, err, strlen(err) + 1, NULL, 0);
        _exit(1);
    }
    chan_send(c.chan, OP_READY, 0, 0, NULL, 0, NULL, 0);
    serve(&c);
    close_all(&c);
    _exit(0);
}

/* ================================================= the parent (the ops) */

struct ts_target {
    ts_target_cfg cfg;
    pid_t child;
    int chan;
    int dead;        /* the child is gone: every op fails */
    uint64_t t0;     /* the start instant, absolute µs; 0 until anchored */
    uint8_t msg[TL_MSG_MAX];
};

static uint64_t anchor(ts_target *t)
{
    uint64_t now = mono_us();
    if (t->t0 == 0)
        t->t0 = now;
    return now;
}

static uint64_t rel(const ts_target *t, uint64_t abs_us)
{
    return abs_us > t->t0 ? abs_us - t->t0 : 0;
}

/* One request, one reply. Returns the reply's payload length or -1. */
static long rpc(ts_target *t, uint32_t op, uint64_t arg, const void *p1, size_t n1,
                const void *p2, size_t n2, tl_hdr *h)
{
    if (t->dead)
        return -1;
    if (chan_send(t->chan, op, 0, arg, p1, n1, p2, n2) < 0)
        goto dead;
    long n = chan_recv(t->chan, h, t->msg, -1);
    if (n < 0 || h->op != op)
        goto dead;
    return n;
dead:
    t->dead = 1;
    fprintf(stderr, "tcpstate: linux target: the namespace process is gone\n");
    return -1;
}

static int in_testnet(uint32_t ip)
{
    return (ip & 0xffffff00u) == 0xc0000200u;  /* 192.0.2.0/24 */
}

static int precheck(const ts_target_cfg *cfg, char *err, size_t errlen)
{
    if (!in_testnet(cfg->local_ip) || !in_testnet(cfg->remote_ip) ||
        cfg->local_ip == cfg->remote_ip || (cfg->local_ip & 0xff) == 0 ||
        (cfg->local_ip & 0xff) == 0xff) {
        snprintf(err, errlen, "addresses must be two distinct hosts of 192.0.2.0/24");
        return -1;
    }
    if (access("/dev/net/tun", F_OK) != 0) {
        snprintf(err, errlen, "no /dev/net/tun (the TUN driver is missing)");
        return -1;
    }
    if (geteuid() != 0) {
        snprintf(err, errlen, "needs root (it creates a network namespace and a TUN device)");
        return -1;
    }
    return 0;
}

static void reap(ts_target *t, int wait_ms)
{
    for (int i = 0; i < wait_ms; i++) {
        if (waitpid(t->child, NULL, WNOHANG) == t->child)
            return;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    kill(t->child, SIGKILL);
    waitpid(t->child, NULL, 0);
}

static int lx_open(ts_target **out, const ts_target_cfg *cfg, char *err, size_t errlen)
{
    *out = NULL;
    if (precheck(cfg, err, errlen) < 0)
        return -1;
    ts_target *t = calloc(1, sizeof *t);
    int sv[2];
    if (!t || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        free(t);
        return -1;
    }
    t->cfg = *cfg;
    ino_t host_ns = netns_inode();
    fflush(NULL);  /* the child must not repeat buffered output */
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        child_main(sv[1], getppid(), host_ns, cfg);
    }
    close(sv[1]);
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        free(t);
        return -1;
    }
    t->child = pid;
    t->chan = sv[0];
    tl_hdr h;
    long n = chan_recv(t->chan, &h, t->msg, 10000);
    if (n < 0 || h.op != OP_READY || h.rc != 0) {
        if (n > 0 && t->msg[n - 1] == '\0')
            snprintf(err, errlen, "%s", (const char *)t->msg);
        else
            snprintf(err, errlen, "the namespace process failed to start");
        close(t->chan);
        reap(t, 1000);
        free(t);
        return -1;
    }
    if (cfg->verbose)
        fprintf(stderr, "linux target: namespace ready (pid %d, device %s, local 192.0.2.%u/24)\n",
                (int)pid, TL_DEV, (unsigned)(cfg->local_ip & 0xff));
    *out = t;
    return 0;
}

static void lx_close(ts_target *t)
{
    if (!t)
        return;
    tl_hdr h;
    if (!t->dead && chan_send(t->chan, OP_QUIT, 0, 0, NULL, 0, NULL, 0) == 0)
        chan_recv(t->chan, &h, t->msg, 2000);
    close(t->chan);
    reap(t, 2000);
    free(t);
}

/* Maps a script name to a path under /proc/sys: "tcp_sack",
 * "net.ipv4.tcp_sack" and "net/ipv4/tcp_sack" all give net/ipv4/tcp_sack;
 * another "net." name (net.core.somaxconn) is taken as it is. Only
 * [A-Za-z0-9_-] components; no empty ones, no "..". */
static int sysctl_path(const char *name, char *out, size_t cap)
{
    const char *rest = name;
    const char *pfx = "net/ipv4/";
    if (strncmp(name, "net.", 4) == 0 || strncmp(name, "net/", 4) == 0) {
        pfx = "";
        rest = name;
    }
    size_t pl = strlen(pfx), n = strlen(rest);
    if (n == 0 || pl + n + 1 > cap)
        return -1;
    memcpy(out, pfx, pl);
    char prev = '/';
    for (size_t i = 0; i < n; i++) {
        char ch = rest[i];
        if (ch == '.')
            ch = '/';
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '/';
        if (!ok || (ch == '/' && prev == '/'))
            return -1;
        out[pl + i] = prev = ch;
    }
    out[pl + n] = '\0';
    return prev == '/' ? -1 : 0;
}

static int lx_sysctl(ts_target *t, const char *name, const char *value, char *err, size_t errlen)
{
    char path[256];
    if (sysctl_path(name, path, sizeof path) < 0) {
        snprintf(err, errlen, "sysctl %s: not a valid setting name", name);
        return -1;
    }
    if (strlen(value) > 256 || strpbrk(value, "\n")) {
        snprintf(err, errlen, "sysctl %s: value too long or multi-line", name);
        return -1;
    }
    tl_hdr h;
    long n = rpc(t, OP_SYSCTL, 0, path, strlen(path) + 1, value, strlen(value) + 1, &h);
    if (n < 0) {
        snprintf(err, errlen, "sysctl %s: the linux target is gone", name);
        return -1;
    }
    if (h.rc != 0) {
        snprintf(err, errlen, "sysctl %s: %s", name, n > 0 && t->msg[n - 1] == '\0' ? (const char *)t->msg : "failed");
        return -1;
    }
    return 0;
}

static uint64_t lx_now(ts_target *t)
{
    return rel(t, anchor(t));
}

static void lx_wait_until(ts_target *t, uint64_t when)
{
    anchor(t);
    if (when == TL_NEVER)
        return;
    uint64_t abs_us = t->t0 + when;
    struct timespec ts = { (time_t)(abs_us / 1000000u), (long)(abs_us % 1000000u) * 1000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static int lx_inject(ts_target *t, const uint8_t *pkt, size_t len)
{
    anchor(t);
    tl_hdr h;
    if (len == 0 || len > 65535 || rpc(t, OP_INJECT, 0, pkt, len, NULL, 0, &h) < 0)
        return -1;
    if (h.rc != 0 && t->cfg.verbose)
        fprintf(stderr, "tcpstate: linux target: inject: %s\n", strerror(h.rc));
    return h.rc == 0 ? 0 : -1;
}

static long lx_receive(ts_target *t, uint8_t *buf, size_t cap, uint64_t *when, uint64_t deadline)
{
    anchor(t);
    uint64_t abs_dl = deadline == TL_NEVER ? TL_NEVER : t->t0 + deadline;
    tl_hdr h;
    long n = rpc(t, OP_RECV, abs_dl, NULL, 0, NULL, 0, &h);
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    size_t k = (size_t)n < cap ? (size_t)n : cap;  /* larger than cap: cut */
    memcpy(buf, t->msg, k);
    if (when)
        *when = rel(t, h.arg);
    return (long)k;
}

/* Sends [ts_call][name\0][each string arg\0]; see decode_call. */
static int send_call(ts_target *t, const ts_call *c, tl_hdr *h)
{
    static uint8_t tail[TL_MSG_MAX];
    size_t off = 0, nl = strlen(c->name ? c->name : "");
    if (nl + 1 > 64)
        return -1;
    memcpy(tail, c->name ? c->name : "", nl + 1);
    off = nl + 1;
    for (int i = 0; i < c->nargs && i < TS_CALL_MAX_ARGS; i++) {
        const ts_call_arg *a = &c->args[i];
        if (a->kind != TS_ARG_STRING)
            continue;
        if (!a->str || off + a->strlen + 1 > sizeof tail - sizeof *c - 64)
            return -1;
        memcpy(tail + off, a->str, a->strlen);
        tail[off + a->strlen] = '\0';
        off += a->strlen + 1;
    }
    long n = rpc(t, OP_CALL, 0, c, sizeof *c, tail, off, h);
    return n == (long)sizeof(ts_call_result) ? 0 : -1;
}

static int fill_result(ts_target *t, const tl_hdr *h, ts_call_result *res)
{
    memcpy(res, t->msg, sizeof *res);
    if (!h->rc)
        return 0;
    res->t_end = rel(t, res->t_end);
    return 1;
}

static int lx_start_call(ts_target *t, const ts_call *c, ts_call_result *res)
{
    anchor(t);
    memset(res, 0, sizeof *res);
    tl_hdr h;
    if (c->nargs < 0 || c->nargs > TS_CALL_MAX_ARGS || send_call(t, c, &h) < 0) {
        res->ret = -1;
        res->err = t->dead ? EIO : EINVAL;
        res->t_end = lx_now(t);
        return 1;
    }
    return fill_result(t, &h, res);
}

static int lx_poll_call(ts_target *t, ts_call_result *res)
{
    tl_hdr h;
    if (rpc(t, OP_POLLCALL, 0, NULL, 0, NULL, 0, &h) != (long)sizeof *res) {
        memset(res, 0, sizeof *res);
        res->ret = -1;
        res->err = EIO;
        res->t_end = lx_now(t);
        return 1;
    }
    return fill_result(t, &h, res);
}

const ts_target_ops ts_target_linux = {
    .name = "linux",
    .open = lx_open,
    .close = lx_close,
    .sysctl = lx_sysctl,
    .now = lx_now,
    .wait_until = lx_wait_until,
    .inject = lx_inject,
    .receive = lx_receive,
    .start_call = lx_start_call,
    .poll_call = lx_poll_call,
};
