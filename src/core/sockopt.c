/*
 * sockopt.c — per-socket options with Linux's levels, numbers, ranges and
 * errors (net/core/sock.c sk_setsockopt, net/ipv4/tcp.c do_tcp_setsockopt).
 *
 * Integer options take an int (len >= 4); SO_LINGER a ts_linger. Values
 * are kept on the connection; 0 means "use the sysctl" as in Linux.
 * Setting SO_KEEPALIVE on an established connection arms the keepalive
 * timer at once (Linux tcp_set_keepalive); changing TCP_KEEPIDLE re-arms it.
 */
#include "internal.h"

#include <limits.h>

static int get_int(const void *val, size_t len, int *out)
{
    if (!val || len < sizeof(int))
        return TS_EINVAL;
    memcpy(out, val, sizeof(int));
    return 0;
}

static int keepalive_active(const ts_conn *c)
{
    return (c->flags & TS_CF_KEEPALIVE) &&
           !(TSF(c->c.state) & (TSF(TS_CLOSE) | TSF(TS_LISTEN) | TSF(TS_SYN_SENT)));
}

static int set_socket_level(ts_stack *s, ts_conn *c, int opt, const void *val, size_t len)
{
    int v;
    if (opt == TS_SO_LINGER) {
        ts_linger l;
        if (!val || len < sizeof l)
            return TS_EINVAL;
        memcpy(&l, val, sizeof l);
        c->linger_onoff = l.l_onoff != 0;
        /* Linux sk_setsockopt keeps the old time when l_onoff is 0 */
        if (l.l_onoff)
            c->linger_secs = l.l_linger < 0 ? 0 : l.l_linger;
        return 0;
    }
    if (get_int(val, len, &v))
        return TS_EINVAL;
    switch (opt) {
    case TS_SO_REUSEADDR:
        if (v)
            c->flags |= TS_CF_REUSEADDR;
        else
            c->flags &= ~TS_CF_REUSEADDR;
        return 0;
    case TS_SO_KEEPALIVE:
        if (v) {
            int was = !!(c->flags & TS_CF_KEEPALIVE);
            c->flags |= TS_CF_KEEPALIVE;
            if (!was && keepalive_active(c))
                ts_keepalive_reset(s, c);
        } else {
            c->flags &= ~TS_CF_KEEPALIVE;
            if (c->life_timer == TS_LT_KEEPALIVE) {
                c->life_timer = TS_LT_NONE;
                c->t_life = TS_NEVER;
            }
        }
        return 0;
    case TS_SO_SNDBUF:
        c->sndbuf = (uint32_t)TS_MAX(TS_MIN((long long)v, INT_MAX / 2) * 2, 4608);
        return 0;
    case TS_SO_RCVBUF:
        c->rcvbuf = (uint32_t)TS_MAX(TS_MIN((long long)v, INT_MAX / 2) * 2, 2304);
        return 0;
    case TS_SO_REUSEPORT:
        return 0;
    default:
        return TS_ENOPROTOOPT;
    }
}

static int set_tcp_level(ts_stack *s, ts_conn *c, int opt, const void *val, size_t len)
{
    int v;
    if (get_int(val, len, &v))
        return TS_EINVAL;
    switch (opt) {
    case TS_TCP_NODELAY:
        if (v)
            c->flags |= TS_CF_NODELAY;
        else
            c->flags &= ~TS_CF_NODELAY;
        return 0;
    case TS_TCP_KEEPIDLE:
        if (v < 1 || v > 32767)
            return TS_EINVAL;
        c->keepidle = v;
        if (keepalive_active(c))
            ts_keepalive_rearm(s, c);
        return 0;
    case TS_TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            return TS_EINVAL;
        c->keepintvl = v;
        return 0;
    case TS_TCP_KEEPCNT:
        if (v < 1 || v > 127)
            return TS_EINVAL;
        c->keepcnt = v;
        return 0;
    case TS_TCP_SYNCNT:
        if (v < 1 || v > 127)
            return TS_EINVAL;
        c->syncnt = v;
        return 0;
    case TS_TCP_LINGER2:
        /* Linux: < 0 means no FIN_WAIT_2; 0 the sysctl; capped at
         * TCP_FIN_TIMEOUT_MAX = 120 s (tests/pkt/sysctl_sockopt_roundtrip.pkt) */
        c->linger2 = v < 0 ? -1 : v > 120 ? 120 : v;
        return 0;
    case TS_TCP_USER_TIMEOUT:
        if (v < 0)
            return TS_EINVAL;
        c->user_timeout_ms = v;
        return 0;
    case TS_TCP_MAXSEG:
    case TS_TCP_QUICKACK:
        return 0;
    default:
        return TS_ENOPROTOOPT;
    }
}

int ts_setsockopt(ts_stack *s, ts_sock h, int level, int opt, const void *val, size_t len)
{
    ts_conn *c;
    int rc;
    if (!s)
        return TS_EINVAL;
    if (s->in_hook)
        return TS_EBUSY;
    c = ts_conn_from_handle(s, h);
    if (!c)
        return TS_EBADF;
    if (level == TS_SOL_SOCKET)
        rc = set_socket_level(s, c, opt, val, len);
    else if (level == TS_SOL_TCP)
        rc = set_tcp_level(s, c, opt, val, len);
    else
        rc = TS_ENOPROTOOPT;
    ts_sync(s, &c->c);
    ts_ev_flush(s);
    return rc;
}

static int put_int(void *val, size_t *len, int v)
{
    if (!val || !len || *len < sizeof(int))
        return TS_EINVAL;
    memcpy(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

int ts_getsockopt(ts_stack *s, ts_sock h, int level, int opt, void *val, size_t *len)
{
    ts_conn *c = ts_conn_from_handle(s, h);
    if (!s)
        return TS_EINVAL;
    if (!c)
        return TS_EBADF;
    if (level == TS_SOL_SOCKET) {
        switch (opt) {
        case TS_SO_ERROR: {
            int e = -c->err;
            if (!val || !len || *len < sizeof(int))
                return TS_EINVAL;
            c->err = 0;
            if (e)
                c->flags |= TS_CF_RST_REPORTED;
            return put_int(val, len, e);
        }
        case TS_SO_REUSEADDR: return put_int(val, len, !!(c->flags & TS_CF_REUSEADDR));
        case TS_SO_KEEPALIVE: return put_int(val, len, !!(c->flags & TS_CF_KEEPALIVE));
        case TS_SO_SNDBUF: return put_int(val, len, (int)c->sndbuf);
        case TS_SO_RCVBUF: return put_int(val, len, (int)c->rcvbuf);
        case TS_SO_ACCEPTCONN: return put_int(val, len, c->c.state == TS_LISTEN);
        case TS_SO_LINGER: {
            ts_linger l = { c->linger_onoff, c->linger_secs };
            if (!val || !len || *len < sizeof l)
                return TS_EINVAL;
            memcpy(val, &l, sizeof l);
            *len = sizeof l;
            return 0;
        }
        default:
            return TS_ENOPROTOOPT;
        }
    }
    if (level != TS_SOL_TCP)
        return TS_ENOPROTOOPT;
    switch (opt) {
    case TS_TCP_NODELAY: return put_int(val, len, !!(c->flags & TS_CF_NODELAY));
    case TS_TCP_MAXSEG: return put_int(val, len, c->mss);
    case TS_TCP_KEEPIDLE:
        return put_int(val, len, c->keepidle ? c->keepidle : s->cfg.tcp_keepalive_time);
    case TS_TCP_KEEPINTVL:
        return put_int(val, len, c->keepintvl ? c->keepintvl : s->cfg.tcp_keepalive_intvl);
    case TS_TCP_KEEPCNT:
        return put_int(val, len, c->keepcnt ? c->keepcnt : s->cfg.tcp_keepalive_probes);
    case TS_TCP_SYNCNT:
        return put_int(val, len, c->syncnt ? c->syncnt : s->cfg.tcp_syn_retries);
    case TS_TCP_LINGER2:
        return put_int(val, len, c->linger2 < 0 ? -1 : c->linger2 ? c->linger2 : s->cfg.tcp_fin_timeout);
    case TS_TCP_USER_TIMEOUT: return put_int(val, len, c->user_timeout_ms);
    default:
        return TS_ENOPROTOOPT;
    }
}
