/*
 * symbols.c — the names a script may use as integers, with their Linux
 * values (packetdrill's symbols_linux.c covers the same names; the values
 * are the kernel's UAPI numbers, written out so that the tcpstate target
 * gets Linux numbers on any host). Names packetdrill does not know
 * (SOCK_CLOEXEC, TCP_WINDOW_CLAMP, ...) are deliberately absent: a script
 * using them would not run under packetdrill either.
 */
#include "script/script.h"

#include <stdio.h>
#include <string.h>

typedef struct sym { const char *name; long long val; } sym;

/* "NULL" is packetdrill's portable symbol for a null pointer argument. */
static const sym syms[] = {
    { "NULL", 0 },
    { "AF_UNSPEC", 0 }, { "AF_INET", 0x2 }, { "AF_INET6", 0xa }, { "PF_UNSPEC", 0 },
    { "PF_INET", 0x2 }, { "PF_INET6", 0xa }, { "SOCK_STREAM", 0x1 }, { "SOCK_DGRAM", 0x2 },
    { "SOCK_RAW", 0x3 }, { "SOCK_NONBLOCK", 0x800 }, { "SOL_SOCKET", 0x1 }, { "SOL_IP", 0 },
    { "SOL_IPV6", 0x29 }, { "SOL_TCP", 0x6 }, { "SOL_UDP", 0x11 }, { "IPPROTO_IP", 0 },
    { "IPPROTO_TCP", 0x6 }, { "IPPROTO_UDP", 0x11 }, { "IPPROTO_IPV6", 0x29 },
    { "IPPROTO_ICMP", 0x1 }, { "IPPROTO_RAW", 0xff }, { "SO_ACCEPTCONN", 0x1e },
    { "SO_BINDTODEVICE", 0x19 }, { "SO_BROADCAST", 0x6 }, { "SO_DEBUG", 0x1 },
    { "SO_DONTROUTE", 0x5 }, { "SO_ERROR", 0x4 }, { "SO_KEEPALIVE", 0x9 }, { "SO_LINGER", 0xd },
    { "SO_MARK", 0x24 }, { "SO_OOBINLINE", 0xa }, { "SO_PRIORITY", 0xc }, { "SO_RCVBUF", 0x8 },
    { "SO_RCVLOWAT", 0x12 }, { "SO_RCVTIMEO", 0x14 }, { "SO_REUSEADDR", 0x2 },
    { "SO_REUSEPORT", 0xf }, { "SO_SNDBUF", 0x7 }, { "SO_SNDLOWAT", 0x13 },
    { "SO_SNDTIMEO", 0x15 }, { "SO_TIMESTAMP", 0x1d }, { "SO_TYPE", 0x3 },
    { "SO_ZEROCOPY", 0x3c }, { "SO_MAX_PACING_RATE", 0x2f }, { "SO_TIMESTAMPING", 0x25 },
    { "IP_TOS", 0x1 }, { "IP_TTL", 0x2 }, { "IP_MTU", 0xe }, { "IP_MTU_DISCOVER", 0xa },
    { "IP_FREEBIND", 0xf }, { "IP_PMTUDISC_DONT", 0 }, { "IP_PMTUDISC_WANT", 0x1 },
    { "IP_PMTUDISC_DO", 0x2 }, { "IP_PMTUDISC_PROBE", 0x3 }, { "TCP_NODELAY", 0x1 },
    { "TCP_MAXSEG", 0x2 }, { "TCP_CORK", 0x3 }, { "TCP_KEEPIDLE", 0x4 },
    { "TCP_KEEPINTVL", 0x5 }, { "TCP_KEEPCNT", 0x6 }, { "TCP_SYNCNT", 0x7 },
    { "TCP_LINGER2", 0x8 }, { "TCP_DEFER_ACCEPT", 0x9 }, { "TCP_INFO", 0xb },
    { "TCP_QUICKACK", 0xc }, { "TCP_CONGESTION", 0xd }, { "TCP_MD5SIG", 0xe },
    { "TCP_THIN_LINEAR_TIMEOUTS", 0x10 }, { "TCP_THIN_DUPACK", 0x11 },
    { "TCP_USER_TIMEOUT", 0x12 }, { "TCP_FASTOPEN", 0x17 }, { "TCP_FASTOPEN_CONNECT", 0x1e },
    { "TCP_FASTOPEN_KEY", 0x21 }, { "TCP_FASTOPEN_NO_COOKIE", 0x22 }, { "TCP_TIMESTAMP", 0x18 },
    { "TCP_NOTSENT_LOWAT", 0x19 }, { "TCP_INQ", 0x24 }, { "TCP_TX_DELAY", 0x25 },
    { "O_RDONLY", 0 }, { "O_WRONLY", 0x1 }, { "O_RDWR", 0x2 }, { "O_ACCMODE", 0x3 },
    { "O_CREAT", 0x40 }, { "O_EXCL", 0x80 }, { "O_NOCTTY", 0x100 }, { "O_TRUNC", 0x200 },
    { "O_APPEND", 0x400 }, { "O_NONBLOCK", 0x800 }, { "F_DUPFD", 0 }, { "F_GETFD", 0x1 },
    { "F_SETFD", 0x2 }, { "F_GETFL", 0x3 }, { "F_SETFL", 0x4 }, { "F_GETLK", 0x5 },
    { "F_SETLK", 0x6 }, { "F_SETLKW", 0x7 }, { "F_GETOWN", 0x9 }, { "F_SETOWN", 0x8 },
    { "F_DUPFD_CLOEXEC", 0x406 }, { "FD_CLOEXEC", 0x1 }, { "MSG_OOB", 0x1 },
    { "MSG_PEEK", 0x2 }, { "MSG_DONTROUTE", 0x4 }, { "MSG_CTRUNC", 0x8 }, { "MSG_PROXY", 0x10 },
    { "MSG_TRUNC", 0x20 }, { "MSG_DONTWAIT", 0x40 }, { "MSG_EOR", 0x80 },
    { "MSG_WAITALL", 0x100 }, { "MSG_FIN", 0x200 }, { "MSG_SYN", 0x400 },
    { "MSG_CONFIRM", 0x800 }, { "MSG_RST", 0x1000 }, { "MSG_ERRQUEUE", 0x2000 },
    { "MSG_NOSIGNAL", 0x4000 }, { "MSG_MORE", 0x8000 }, { "MSG_FASTOPEN", 0x20000000 },
    { "MSG_CMSG_CLOEXEC", 0x40000000 }, { "MSG_ZEROCOPY", 0x4000000 }, { "SIOCINQ", 0x541b },
    { "SIOCOUTQ", 0x5411 }, { "FIONREAD", 0x541b }, { "POLLIN", 0x1 }, { "POLLPRI", 0x2 },
    { "POLLOUT", 0x4 }, { "POLLRDNORM", 0x40 }, { "POLLRDBAND", 0x80 }, { "POLLWRNORM", 0x100 },
    { "POLLWRBAND", 0x200 }, { "POLLMSG", 0x400 }, { "POLLREMOVE", 0x1000 },
    { "POLLRDHUP", 0x2000 }, { "POLLERR", 0x8 }, { "POLLHUP", 0x10 }, { "POLLNVAL", 0x20 },
    { "SHUT_RD", 0 }, { "SHUT_WR", 0x1 }, { "SHUT_RDWR", 0x2 },    { NULL, 0 }
};

/* Linux errno values (include/uapi/asm-generic/errno*.h). Canonical names
 * come first, so the reverse lookup prefers EAGAIN to EWOULDBLOCK. */
static const sym errnos[] = {
    { "EPERM", 1 }, { "ENOENT", 2 }, { "ESRCH", 3 }, { "EINTR", 4 }, { "EIO", 5 },
    { "ENXIO", 6 }, { "E2BIG", 7 }, { "ENOEXEC", 8 }, { "EBADF", 9 }, { "ECHILD", 10 },
    { "EAGAIN", 11 }, { "ENOMEM", 12 }, { "EACCES", 13 }, { "EFAULT", 14 }, { "ENOTBLK", 15 },
    { "EBUSY", 16 }, { "EEXIST", 17 }, { "EXDEV", 18 }, { "ENODEV", 19 }, { "ENOTDIR", 20 },
    { "EISDIR", 21 }, { "EINVAL", 22 }, { "ENFILE", 23 }, { "EMFILE", 24 }, { "ENOTTY", 25 },
    { "ETXTBSY", 26 }, { "EFBIG", 27 }, { "ENOSPC", 28 }, { "ESPIPE", 29 }, { "EROFS", 30 },
    { "EMLINK", 31 }, { "EPIPE", 32 }, { "EDOM", 33 }, { "ERANGE", 34 }, { "EDEADLK", 35 },
    { "ENAMETOOLONG", 36 }, { "ENOLCK", 37 }, { "ENOSYS", 38 }, { "ENOTEMPTY", 39 },
    { "ELOOP", 40 }, { "EWOULDBLOCK", 11 }, { "ENOMSG", 42 }, { "EIDRM", 43 }, { "ECHRNG", 44 },
    { "EL2NSYNC", 45 }, { "EL3HLT", 46 }, { "EL3RST", 47 }, { "ELNRNG", 48 }, { "EUNATCH", 49 },
    { "ENOCSI", 50 }, { "EL2HLT", 51 }, { "EBADE", 52 }, { "EBADR", 53 }, { "EXFULL", 54 },
    { "ENOANO", 55 }, { "EBADRQC", 56 }, { "EBADSLT", 57 }, { "EDEADLOCK", 35 },
    { "EBFONT", 59 }, { "ENOSTR", 60 }, { "ENODATA", 61 }, { "ETIME", 62 }, { "ENOSR", 63 },
    { "ENONET", 64 }, { "ENOPKG", 65 }, { "EREMOTE", 66 }, { "ENOLINK", 67 }, { "EADV", 68 },
    { "ESRMNT", 69 }, { "ECOMM", 70 }, { "EPROTO", 71 }, { "EMULTIHOP", 72 }, { "EDOTDOT", 73 },
    { "EBADMSG", 74 }, { "EOVERFLOW", 75 }, { "ENOTUNIQ", 76 }, { "EBADFD", 77 },
    { "EREMCHG", 78 }, { "ELIBACC", 79 }, { "ELIBBAD", 80 }, { "ELIBSCN", 81 },
    { "ELIBMAX", 82 }, { "ELIBEXEC", 83 }, { "EILSEQ", 84 }, { "ERESTART", 85 },
    { "ESTRPIPE", 86 }, { "EUSERS", 87 }, { "ENOTSOCK", 88 }, { "EDESTADDRREQ", 89 },
    { "EMSGSIZE", 90 }, { "EPROTOTYPE", 91 }, { "ENOPROTOOPT", 92 }, { "EPROTONOSUPPORT", 93 },
    { "ESOCKTNOSUPPORT", 94 }, { "EOPNOTSUPP", 95 }, { "EPFNOSUPPORT", 96 },
    { "EAFNOSUPPORT", 97 }, { "EADDRINUSE", 98 }, { "EADDRNOTAVAIL", 99 }, { "ENETDOWN", 100 },
    { "ENETUNREACH", 101 }, { "ENETRESET", 102 }, { "ECONNABORTED", 103 },
    { "ECONNRESET", 104 }, { "ENOBUFS", 105 }, { "EISCONN", 106 }, { "ENOTCONN", 107 },
    { "ESHUTDOWN", 108 }, { "ETOOMANYREFS", 109 }, { "ETIMEDOUT", 110 },
    { "ECONNREFUSED", 111 }, { "EHOSTDOWN", 112 }, { "EHOSTUNREACH", 113 }, { "EALREADY", 114 },
    { "EINPROGRESS", 115 }, { "ESTALE", 116 }, { "EUCLEAN", 117 }, { "ENOTNAM", 118 },
    { "ENAVAIL", 119 }, { "EISNAM", 120 }, { "EREMOTEIO", 121 }, { "EDQUOT", 122 },
    { "ENOMEDIUM", 123 }, { "EMEDIUMTYPE", 124 }, { "ECANCELED", 125 }, { "ENOKEY", 126 },
    { "EKEYEXPIRED", 127 }, { "EKEYREVOKED", 128 }, { "EKEYREJECTED", 129 },
    { "EOWNERDEAD", 130 }, { "ENOTRECOVERABLE", 131 }, { "ERFKILL", 132 },    { NULL, 0 }
};

static const sym *find(const sym *t, const char *name)
{
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

int ts_symbol_value(const char *name, long long *val)
{
    const sym *s = find(syms, name);
    if (!s)
        s = find(errnos, name);
    if (!s)
        return -1;
    *val = s->val;
    return 0;
}

int ts_errno_value(const char *name, int *val)
{
    const sym *s = find(errnos, name);
    if (!s)
        return -1;
    *val = (int)s->val;
    return 0;
}

const char *ts_errno_name(int e)
{
    for (const sym *s = errnos; s->name; s++)
        if (s->val == e)
            return s->name;
    return NULL;
}

/* The texts glibc gives for the errors a TCP script meets; others by name. */
static const struct { int e; const char *text; } texts[] = {
    { 1, "Operation not permitted" }, { 2, "No such file or directory" },
    { 9, "Bad file descriptor" }, { 11, "Resource temporarily unavailable" },
    { 12, "Cannot allocate memory" }, { 14, "Bad address" }, { 16, "Device or resource busy" },
    { 22, "Invalid argument" }, { 24, "Too many open files" }, { 32, "Broken pipe" },
    { 38, "Function not implemented" }, { 88, "Socket operation on non-socket" },
    { 92, "Protocol not available" }, { 93, "Protocol not supported" },
    { 94, "Socket type not supported" }, { 95, "Operation not supported" },
    { 97, "Address family not supported by protocol" }, { 98, "Address already in use" },
    { 99, "Cannot assign requested address" }, { 100, "Network is down" },
    { 101, "Network is unreachable" }, { 103, "Software caused connection abort" },
    { 104, "Connection reset by peer" }, { 105, "No buffer space available" },
    { 106, "Transport endpoint is already connected" },
    { 107, "Transport endpoint is not connected" },
    { 108, "Cannot send after transport endpoint shutdown" },
    { 110, "Connection timed out" }, { 111, "Connection refused" },
    { 113, "No route to host" }, { 114, "Operation already in progress" },
    { 115, "Operation now in progress" },
};

const char *ts_errno_text(int e)
{
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (texts[i].e == e)
            return texts[i].text;
    return e == 0 ? "Success" : "Unknown error";
}

void ts_poll_bits_str(unsigned v, char *buf, size_t cap)
{
    static const char *const names[] = { "POLLIN", "POLLPRI", "POLLOUT", "POLLERR",
        "POLLHUP", "POLLNVAL", "POLLRDNORM", "POLLRDBAND", "POLLWRNORM", "POLLWRBAND",
        "POLLMSG", NULL, "POLLREMOVE", "POLLRDHUP" };
    size_t o = 0;
    buf[0] = '\0';
    if (v == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    for (unsigned b = 0; b < 32 && o < cap; b++) {
        if (!(v & (1u << b)))
            continue;
        const char *n = b < sizeof names / sizeof names[0] ? names[b] : NULL;
        int w = n ? snprintf(buf + o, cap - o, "%s%s", o ? "|" : "", n)
                  : snprintf(buf + o, cap - o, "%s0x%x", o ? "|" : "", 1u << b);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}
