/*
 * config.c — the runtime configuration under Linux's sysctl names, with
 * Linux 6.18's defaults and ranges, and the errno names.
 *
 * One table maps each sysctl name to its field, its arity and its range, so
 * `--sysctl`, `--sysctl-file` and a script's sysctl line share one parser.
 * Ranges are Linux's (net/ipv4/sysctl_net_ipv4.c; the limits were probed
 * on 6.18, tests/test_sysctl.c) where Linux has one, and sane bounds
 * otherwise.
 */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

void ts_config_default(ts_config *c)
{
    memset(c, 0, sizeof *c);
    c->size = sizeof *c;
    c->tcp_syn_retries = 6;
    c->tcp_syn_linear_timeouts = 4;
    c->tcp_synack_retries = 5;
    c->tcp_keepalive_time = 7200;
    c->tcp_keepalive_intvl = 75;
    c->tcp_keepalive_probes = 9;
    c->tcp_retries1 = 3;
    c->tcp_retries2 = 15;
    c->tcp_orphan_retries = 0;
    c->tcp_fin_timeout = 60;
    c->tcp_max_orphans = 131072;
    c->tcp_max_tw_buckets = 131072;
    c->tcp_tw_reuse = 2;
    c->tcp_tw_reuse_delay = 1000;
    c->tcp_rfc1337 = 0;
    c->tcp_max_syn_backlog = 2048;
    c->tcp_abort_on_overflow = 0;
    c->somaxconn = 4096;
    c->tcp_rto_min_us = 200000;
    c->tcp_rto_max_ms = 120000;
    c->tcp_timestamps = 1;
    c->tcp_sack = 1;
    c->tcp_window_scaling = 1;
    c->tcp_syncookies = 1;
    c->tcp_invalid_ratelimit = 500;
    c->tcp_challenge_ack_limit = INT_MAX;
    c->ip_local_port_range[0] = 32768;
    c->ip_local_port_range[1] = 60999;
    c->tcp_rmem[0] = 4096;
    c->tcp_rmem[1] = 131072;
    c->tcp_rmem[2] = 33554432;
    c->tcp_wmem[0] = 4096;
    c->tcp_wmem[1] = 16384;
    c->tcp_wmem[2] = 4194304;
    c->tcp_delack_min_ms = 40;
    c->tcpstate_timewait_len_ms = 60000;
    c->mtu = 1500;
}

typedef struct cfg_var {
    const char *name;   /* short name; "net.ipv4." is implied unless prefix set */
    const char *prefix; /* "net.ipv4." or "net.core." */
    size_t off;
    int n;              /* number of integers */
    long long lo, hi;
} cfg_var;

#define V(field, lo, hi) { #field, "net.ipv4.", offsetof(ts_config, field), 1, lo, hi }
#define VN(field, n, lo, hi) { #field, "net.ipv4.", offsetof(ts_config, field), n, lo, hi }
static const cfg_var vars[] = {
    V(tcp_syn_retries, 1, 127),
    V(tcp_syn_linear_timeouts, 0, 127),
    V(tcp_synack_retries, 0, 255),
    /* seconds to jiffies in Linux, any int; here at least 1 (0 would
     * probe in a loop) and what fits in ms */
    V(tcp_keepalive_time, 1, INT_MAX / 1000),
    V(tcp_keepalive_intvl, 1, INT_MAX / 1000),
    V(tcp_keepalive_probes, 0, 255),
    V(tcp_retries1, 0, 255),
    V(tcp_retries2, 0, 255),
    V(tcp_orphan_retries, 0, 255),
    V(tcp_fin_timeout, 0, INT_MAX / 1000),
    V(tcp_max_orphans, 0, INT_MAX),
    V(tcp_max_tw_buckets, 0, INT_MAX),
    V(tcp_tw_reuse, 0, 2),
    V(tcp_tw_reuse_delay, 1, 60000), /* TCP_PAWS_MSL in ms */
    V(tcp_rfc1337, 0, 255),          /* u8: any non-zero is on */
    V(tcp_max_syn_backlog, 1, INT_MAX),
    V(tcp_abort_on_overflow, 0, 255),
    { "somaxconn", "net.core.", offsetof(ts_config, somaxconn), 1, 0, INT_MAX },
    V(tcp_rto_min_us, 1, 120000000),
    V(tcp_rto_max_ms, 1000, 120000),
    V(tcp_timestamps, 0, 2),
    V(tcp_sack, 0, 1),
    V(tcp_window_scaling, 0, 1),
    V(tcp_syncookies, 0, 2),
    V(tcp_invalid_ratelimit, 0, INT_MAX),
    V(tcp_challenge_ack_limit, 0, INT_MAX),
    VN(ip_local_port_range, 2, 1024, 65535), /* not below ip_unprivileged_port_start */
    VN(tcp_rmem, 3, 1, INT_MAX),
    VN(tcp_wmem, 3, 1, INT_MAX),
    V(tcp_delack_min_ms, 1, 1000),
    V(tcpstate_timewait_len_ms, 1, 86400000),
    { "mtu", "tcpstate.", offsetof(ts_config, mtu), 1, 68, 65535 },
};
#undef V
#undef VN
#define NVARS (sizeof vars / sizeof vars[0])

const char *ts_config_name(size_t i) { return i < NVARS ? vars[i].name : NULL; }

/* Accepts "tcp_x", "net.ipv4.tcp_x", "net/ipv4/tcp_x", "/proc/sys/net/ipv4/tcp_x". */
static const cfg_var *find_var(const char *name)
{
    const char *base = name;
    const char *p;
    if (strncmp(base, "/proc/sys/", 10) == 0)
        base += 10;
    for (size_t i = 0; i < NVARS; i++) {
        size_t pl = strlen(vars[i].prefix);
        if (strcmp(base, vars[i].name) == 0)
            return &vars[i];
        if (strlen(base) == pl + strlen(vars[i].name) && strcmp(base + pl, vars[i].name) == 0) {
            int ok = 1;
            for (size_t j = 0; j < pl && ok; j++) {
                char a = base[j], b = vars[i].prefix[j];
                ok = (a == b) || (a == '/' && b == '.');
            }
            if (ok)
                return &vars[i];
        }
    }
    p = strrchr(base, '.');
    (void)p;
    return NULL;
}

/* Levenshtein distance, for "did you mean". Names are short. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la > 63 || lb > 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

static const cfg_var *closest_var(const char *name)
{
    const char *base = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    const cfg_var *best = &vars[0];
    size_t bd = 99;
    if (slash && (!base || slash > base))
        base = slash;
    base = base ? base + 1 : name;
    for (size_t i = 0; i < NVARS; i++) {
        size_t d = edit_distance(base, vars[i].name);
        if (d < bd) {
            bd = d;
            best = &vars[i];
        }
    }
    return best;
}

static int parse_ll(const char **p, long long *out)
{
    char *end;
    long long v;
    while (**p == ' ' || **p == '\t')
        (*p)++;
    if (!**p)
        return -1;
    v = strtoll(*p, &end, 10);
    if (end == *p)
        return -1;
    *p = end;
    *out = v;
    return 0;
}

int ts_config_set(ts_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    const cfg_var *v;
    long long vals[3];
    const char *p = value;
    char dummy[1];

    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!cfg || !name || !value) {
        snprintf(err, errlen, "missing sysctl name or value");
        return TS_EINVAL;
    }
    v = find_var(name);
    if (!v) {
        const cfg_var *c = closest_var(name); /* with its own prefix: net.core.somaxconn */
        snprintf(err, errlen, "unknown sysctl '%s' (did you mean %s%s?)", name, c->prefix,
                 c->name);
        return TS_ENOENT;
    }
    for (int i = 0; i < v->n; i++) {
        if (parse_ll(&p, &vals[i]) < 0) {
            snprintf(err, errlen, "%s%s: bad value '%s' (expected %d integer%s)", v->prefix,
                     v->name, value, v->n, v->n > 1 ? "s" : "");
            return TS_EINVAL;
        }
        if (vals[i] < v->lo || vals[i] > v->hi) {
            snprintf(err, errlen, "%s%s: value %lld out of range [%lld, %lld]", v->prefix,
                     v->name, vals[i], v->lo, v->hi);
            return TS_EINVAL;
        }
    }
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p) {
        snprintf(err, errlen, "%s%s: bad value '%s' (trailing text)", v->prefix, v->name, value);
        return TS_EINVAL;
    }
    if (v->off == offsetof(ts_config, ip_local_port_range) && vals[0] > vals[1]) {
        snprintf(err, errlen, "%s%s: low end %lld above high end %lld", v->prefix, v->name,
                 vals[0], vals[1]);
        return TS_EINVAL;
    }
    for (int i = 0; i < v->n; i++) {
        int x = (int)vals[i];
        memcpy((char *)cfg + v->off + (size_t)i * sizeof(int), &x, sizeof x);
    }
    return 0;
}

int ts_config_get(const ts_config *cfg, const char *name, char *buf, size_t len)
{
    const cfg_var *v = cfg && name ? find_var(name) : NULL;
    size_t used = 0;
    if (!v)
        return TS_ENOENT;
    if (len)
        buf[0] = 0;
    for (int i = 0; i < v->n && used < len; i++) {
        int x;
        memcpy(&x, (const char *)cfg + v->off + (size_t)i * sizeof(int), sizeof x);
        used += (size_t)snprintf(buf + used, len - used, "%s%d", i ? "\t" : "", x);
    }
    return 0;
}

/* ------------------------------------------------------------- errno names */

static const struct { int code; const char *name, *text; } errs[] = {
    { TS_OK, "OK", "Success" },
    { TS_EPERM, "EPERM", "Operation not permitted" },
    { TS_ENOENT, "ENOENT", "No such file or directory" },
    { TS_EBADF, "EBADF", "Bad file descriptor" },
    { TS_EAGAIN, "EAGAIN", "Resource temporarily unavailable" },
    { TS_ENOMEM, "ENOMEM", "Cannot allocate memory" },
    { TS_EBUSY, "EBUSY", "Device or resource busy" },
    { TS_EINVAL, "EINVAL", "Invalid argument" },
    { TS_EMFILE, "EMFILE", "Too many open files" },
    { TS_EPIPE, "EPIPE", "Broken pipe" },
    { TS_ENOPROTOOPT, "ENOPROTOOPT", "Protocol not available" },
    { TS_EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported" },
    { TS_EADDRINUSE, "EADDRINUSE", "Address already in use" },
    { TS_EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address" },
    { TS_ENETUNREACH, "ENETUNREACH", "Network is unreachable" },
    { TS_ECONNABORTED, "ECONNABORTED", "Software caused connection abort" },
    { TS_ECONNRESET, "ECONNRESET", "Connection reset by peer" },
    { TS_ENOBUFS, "ENOBUFS", "No buffer space available" },
    { TS_EISCONN, "EISCONN", "Transport endpoint is already connected" },
    { TS_ENOTCONN, "ENOTCONN", "Transport endpoint is not connected" },
    { TS_ESHUTDOWN, "ESHUTDOWN", "Cannot send after transport endpoint shutdown" },
    { TS_ETIMEDOUT, "ETIMEDOUT", "Connection timed out" },
    { TS_ECONNREFUSED, "ECONNREFUSED", "Connection refused" },
    { TS_EHOSTUNREACH, "EHOSTUNREACH", "No route to host" },
    { TS_EALREADY, "EALREADY", "Operation already in progress" },
    { TS_EINPROGRESS, "EINPROGRESS", "Operation now in progress" },
};

const char *ts_strerror(int err)
{
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        if (errs[i].code == err)
            return errs[i].name;
    return "E?";
}

const char *ts_strerror_text(int err)
{
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        if (errs[i].code == err)
            return errs[i].text;
    return "Unknown error";
}
