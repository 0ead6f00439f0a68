/*
 * lwep.c — the endpoints of lwpeer.h: small applications on either stack
 * that send a pattern, read and check what arrives, and close by a
 * policy; lwIP's raw-API callbacks; the lwIP and tcpstate open helpers.
 *
 * An lwIP endpoint learns everything through callbacks (connected, recv,
 * sent, err); a tcpstate endpoint polls its socket each time lp_pump()
 * runs the endpoints. After the application closes an lwIP pcb, or lwIP
 * reports it gone (err callback: the pcb is already freed), e->pcb is
 * NULL and the pcb's callbacks no longer point at e.
 */
#include "lwpeer.h"

#include <stdlib.h>
#include <string.h>

#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"

#define LP_EPS_MAX 32
#define LP_CHUNK 16384

static lp_ep *lp_eps[LP_EPS_MAX];

void lp_ep_add(lp_ep *e)
{
    for (int i = 0; i < LP_EPS_MAX; i++)
        if (lp_eps[i] == e)
            return;
    for (int i = 0; i < LP_EPS_MAX; i++)
        if (!lp_eps[i]) {
            lp_eps[i] = e;
            return;
        }
}

void lp_ep_clear_all(void); /* for lp_init */
void lp_ep_clear_all(void) { memset(lp_eps, 0, sizeof lp_eps); }

void lp_ep_remove(lp_ep *e)
{
    for (int i = 0; i < LP_EPS_MAX; i++)
        if (lp_eps[i] == e)
            lp_eps[i] = NULL;
}

/* Checks n received bytes against the pattern at e->rx_done. */
static void lp_check(lp_ep *e, const uint8_t *p, size_t n)
{
    if (!e->pattern || e->rx_bad)
        return;
    for (size_t i = 0; i < n; i++)
        if (p[i] != lp_pattern(e->rx_done + i)) {
            e->rx_bad = e->rx_done + i + 1;
            return;
        }
}

static const uint8_t *lp_fill(const lp_ep *e, size_t n)
{
    static uint8_t buf[LP_CHUNK], zeros[LP_CHUNK];
    if (!e->pattern)
        return zeros;
    for (size_t i = 0; i < n; i++)
        buf[i] = lp_pattern(e->tx_done + i);
    return buf;
}

static size_t lp_tx_chunk(const lp_ep *e)
{
    uint64_t left = e->tx_goal - e->tx_done;
    return left < LP_CHUNK ? (size_t)left : LP_CHUNK;
}

/* ------------------------------------------------------ lwIP callbacks */

static void lp_lw_forget(lp_ep *e)
{
    if (e->held) {
        pbuf_free(e->held);
        e->held = NULL;
    }
    e->pcb = NULL;
}

static void lp_lw_err(void *arg, err_t err)
{
    lp_ep *e = arg;
    if (!e)
        return;
    e->got_err = 1;
    e->err = err;
    lp_lw_forget(e); /* lwIP has freed the pcb already */
}

static err_t lp_lw_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    lp_ep *e = arg;
    (void)err;
    if (!p) { /* the peer's FIN */
        if (e && !e->rx_eof) {
            e->rx_eof = 1;
            e->t_eof = lp_now();
        }
        return ERR_OK;
    }
    if (!e) {
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        return ERR_OK;
    }
    if (e->no_read) { /* keep it: the window stays closed by this much */
        e->rx_held += p->tot_len;
        if (e->held)
            pbuf_cat(e->held, p);
        else
            e->held = p;
        return ERR_OK;
    }
    for (struct pbuf *q = p; q; q = q->next) {
        lp_check(e, q->payload, q->len);
        e->rx_done += q->len;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t lp_lw_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    lp_ep *e = arg;
    (void)pcb;
    if (e)
        e->tx_acked += len;
    return ERR_OK;
}

static err_t lp_lw_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    lp_ep *e = arg;
    (void)pcb;
    if (e && err == ERR_OK) {
        e->connected = 1;
        e->t_connected = lp_now();
    }
    return ERR_OK;
}

void lp_ep_attach_lw(lp_ep *e, struct tcp_pcb *pcb)
{
    e->lw = 1;
    e->pcb = pcb;
    tcp_arg(pcb, e);
    tcp_recv(pcb, lp_lw_recv);
    tcp_sent(pcb, lp_lw_sent);
    tcp_err(pcb, lp_lw_err);
    lp_ep_add(e);
}

/* The application lets go of the pcb: lwIP finishes the close alone. */
static void lp_lw_detach(lp_ep *e)
{
    tcp_arg(e->pcb, NULL);
    tcp_recv(e->pcb, NULL);
    tcp_sent(e->pcb, NULL);
    tcp_err(e->pcb, NULL);
    lp_lw_forget(e);
    e->closed = 1;
    e->t_closed = lp_now();
}

/* ------------------------------------------------------- lwIP stepping */

static int lp_lw_tx(lp_ep *e)
{
    int n = 0;
    while (e->tx_done < e->tx_goal) {
        size_t len = lp_tx_chunk(e);
        u16_t room = tcp_sndbuf(e->pcb);
        if (room == 0 || tcp_sndqueuelen(e->pcb) >= TCP_SND_QUEUELEN)
            break;
        if (len > room)
            len = room;
        if (tcp_write(e->pcb, lp_fill(e, len), (u16_t)len, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break; /* ERR_MEM: the queue is full, the sent callback will come */
        e->tx_done += len;
        n++;
    }
    if (n)
        tcp_output(e->pcb);
    return n;
}

static int lp_lw_close_step(lp_ep *e)
{
    int sent_all = e->tx_done == e->tx_goal;
    switch (e->close) {
    case LP_CLOSE_NONE:
        return 0;
    case LP_SHUT_AFTER_TX:
        if (sent_all && !e->shut && tcp_shutdown(e->pcb, 0, 1) == ERR_OK) {
            e->shut = 1;
            return 1;
        }
        if (!e->shut || !e->rx_eof)
            return 0;
        break;
    case LP_CLOSE_AFTER_EOF:
        if (!sent_all || !e->rx_eof)
            return 0;
        break;
    case LP_CLOSE_AFTER_TX:
        if (!sent_all)
            return 0;
        break;
    }
    if (e->pcb && tcp_close(e->pcb) == ERR_OK) {
        lp_lw_detach(e);
        return 1;
    }
    return 0;
}

static int lp_lw_step(lp_ep *e)
{
    int n;
    if (!e->pcb || !e->connected || e->closed)
        return 0;
    n = lp_lw_tx(e);
    if (e->pcb)
        n += lp_lw_close_step(e);
    return n;
}

/* --------------------------------------------------- tcpstate stepping */

static void lp_ts_error(lp_ep *e, long r)
{
    if (!e->got_err) {
        e->got_err = 1;
        e->err = (int)r;
    }
}

static int lp_ts_rx(lp_ep *e)
{
    static uint8_t buf[65536];
    int n = 0;
    while (!e->no_read && !e->rx_eof && !e->got_err) {
        long r = ts_recv(e->ts, e->sk, e->pattern ? buf : NULL, sizeof buf);
        if (r > 0) {
            if (e->pattern)
                lp_check(e, buf, (size_t)r);
            e->rx_done += (uint64_t)r;
            n++;
        } else if (r == 0) {
            e->rx_eof = 1;
            e->t_eof = lp_now();
            n++;
        } else {
            if (r != TS_EAGAIN)
                lp_ts_error(e, r);
            break;
        }
    }
    return n;
}

static int lp_ts_tx(lp_ep *e)
{
    int n = 0;
    while (e->tx_done < e->tx_goal && !e->got_err) {
        size_t len = lp_tx_chunk(e);
        long r;
        if (!(ts_poll(e->ts, e->sk) & TS_POLLOUT))
            break;
        r = ts_send(e->ts, e->sk, lp_fill(e, len), len);
        if (r > 0) {
            e->tx_done += (uint64_t)r;
            n++;
        } else {
            if (r != TS_EAGAIN)
                lp_ts_error(e, r);
            break;
        }
    }
    return n;
}

static int lp_ts_close_step(lp_ep *e)
{
    int sent_all = e->tx_done == e->tx_goal;
    if (e->got_err && e->close != LP_CLOSE_NONE)
        goto close; /* reset or timed out: the application gives up the socket */
    switch (e->close) {
    case LP_CLOSE_NONE:
        return 0;
    case LP_SHUT_AFTER_TX:
        if (sent_all && !e->shut) {
            ts_shutdown(e->ts, e->sk, TS_SHUT_WR);
            e->shut = 1;
            return 1;
        }
        if (!e->shut || !e->rx_eof)
            return 0;
        break;
    case LP_CLOSE_AFTER_EOF:
        if (!sent_all || !e->rx_eof)
            return 0;
        break;
    case LP_CLOSE_AFTER_TX:
        if (!sent_all)
            return 0;
        break;
    }
close:
    ts_close(e->ts, e->sk);
    e->closed = 1;
    e->t_closed = lp_now();
    return 1;
}

static int lp_ts_step(lp_ep *e)
{
    int n = 0;
    if (e->closed || (e->got_err && e->close == LP_CLOSE_NONE))
        return 0;
    if (!e->connected && !e->got_err) {
        ts_info i;
        if (ts_sock_info(e->ts, e->sk, &i) != 0)
            return 0;
        if (i.error != 0 || i.state == TS_CLOSE) {
            lp_ts_error(e, i.error ? i.error : TS_ECONNABORTED);
            return 1 + lp_ts_close_step(e);
        }
        if (i.state == TS_SYN_SENT || i.state == TS_SYN_RECV)
            return 0;
        e->connected = 1;
        e->t_connected = lp_now();
        n++;
    }
    n += lp_ts_rx(e);
    n += lp_ts_tx(e);
    n += lp_ts_rx(e);
    return n + lp_ts_close_step(e);
}

void lp_ep_attach_ts(lp_ep *e, ts_stack *s, ts_sock sk)
{
    e->lw = 0;
    e->ts = s;
    e->sk = sk;
    lp_ep_add(e);
}

void lp_ep_run_all(int *progress); /* for lwpeer.c */
void lp_ep_run_all(int *progress)
{
    for (int i = 0; i < LP_EPS_MAX; i++) {
        lp_ep *e = lp_eps[i];
        if (e)
            *progress += e->lw ? lp_lw_step(e) : lp_ts_step(e);
    }
}

int lp_ep_done(const lp_ep *e)
{
    if (e->got_err || e->closed)
        return 1;
    if (e->tx_done < e->tx_goal || e->close != LP_CLOSE_NONE)
        return 0;
    return e->no_read || e->rx_eof;
}

int lp_eps_done(void *eps)
{
    for (lp_ep **e = eps; *e; e++)
        if (!lp_ep_done(*e))
            return 0;
    return 1;
}

/* ------------------------------------------------------------- opening */

static void lp_ip(ip_addr_t *a, uint32_t ip)
{
    ip4_addr_t v4;
    v4.addr = lwip_htonl(ip);
    ip_addr_copy_from_ip4(*a, v4);
}

static struct netif *lp_nif_by_ip(uint32_t ip)
{
    struct netif *n;
    NETIF_FOREACH(n)
        if (lwip_ntohl(netif_ip4_addr(n)->addr) == ip)
            return n;
    return NULL;
}

int lp_lw_connect(lp_ep *e, uint32_t local_ip, uint16_t local_port,
                  uint32_t remote_ip, uint16_t remote_port)
{
    ip_addr_t l, r;
    err_t err;
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb)
        return ERR_MEM;
    lp_ip(&l, local_ip);
    lp_ip(&r, remote_ip);
    if ((err = tcp_bind(pcb, &l, local_port)) != ERR_OK) {
        tcp_close(pcb);
        return err;
    }
    /* Bound to its interface: lwIP would otherwise route a datagram for
     * its own other address through loopback. */
    tcp_bind_netif(pcb, lp_nif_by_ip(local_ip));
    lp_ep_attach_lw(e, pcb);
    err = tcp_connect(pcb, &r, remote_port, lp_lw_connected);
    if (err != ERR_OK) {
        lp_ep_remove(e);
        tcp_arg(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_abort(pcb);
        e->pcb = NULL;
    }
    return err;
}

typedef struct lp_listener {
    lp_ep *expect;
} lp_listener;

static err_t lp_lw_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    lp_listener *l = arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    if (l && l->expect) {
        lp_ep_attach_lw(l->expect, pcb);
        l->expect->connected = 1;
        l->expect->t_connected = lp_now();
        l->expect = NULL;
    } else {
        tcp_arg(pcb, NULL); /* lwIP copied the listener's arg: not ours to keep */
    }
    return ERR_OK;
}

struct tcp_pcb *lp_lw_listen(uint32_t ip, uint16_t port)
{
    ip_addr_t a;
    struct tcp_pcb *pcb = tcp_new(), *lpcb;
    lp_listener *l = calloc(1, sizeof *l);
    if (!pcb || !l)
        goto fail;
    lp_ip(&a, ip);
    if (tcp_bind(pcb, &a, port) != ERR_OK)
        goto fail;
    tcp_bind_netif(pcb, lp_nif_by_ip(ip));
    lpcb = tcp_listen(pcb); /* frees pcb, returns the smaller listen pcb */
    if (!lpcb)
        goto fail;
    tcp_arg(lpcb, l);
    tcp_accept(lpcb, lp_lw_accept);
    return lpcb;
fail:
    if (pcb)
        tcp_close(pcb);
    free(l);
    return NULL;
}

void lp_lw_expect(struct tcp_pcb *listener, lp_ep *e)
{
    lp_listener *l = listener->callback_arg;
    if (l)
        l->expect = e;
}

void lp_lw_listener_free(struct tcp_pcb_listen *l);
void lp_lw_listener_free(struct tcp_pcb_listen *l)
{
    free(l->callback_arg);
    l->callback_arg = NULL;
    tcp_close((struct tcp_pcb *)l);
}

void lp_lw_close_listener(struct tcp_pcb *listener)
{
    if (listener)
        lp_lw_listener_free((struct tcp_pcb_listen *)listener);
}

int lp_ts_connect(lp_ep *e, ts_stack *s, uint16_t local_port, uint32_t remote_ip,
                  uint16_t remote_port)
{
    ts_sock sk;
    int r = ts_socket(s, &sk);
    ts_addr to = { remote_ip, remote_port };
    if (r)
        return r;
    if (local_port) {
        ts_addr me = { 0, local_port };
        if ((r = ts_bind(s, sk, &me)) != 0) {
            ts_close(s, sk);
            return r;
        }
    }
    r = ts_connect(s, sk, &to);
    if (r != TS_EINPROGRESS && r != 0) {
        ts_close(s, sk);
        return r;
    }
    lp_ep_attach_ts(e, s, sk);
    return 0;
}

int lp_ts_listen(ts_stack *s, uint16_t port, ts_sock *out)
{
    ts_addr a = { 0, port };
    int r = ts_socket(s, out);
    if (r)
        return r;
    if ((r = ts_bind(s, *out, &a)) != 0 || (r = ts_listen(s, *out, 64)) != 0)
        ts_close(s, *out);
    return r;
}
