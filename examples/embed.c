/*
 * embed.c — the smallest complete embedding of tcpstate: two stacks in one
 * process, joined by a "wire" that is just a function call, on a clock
 * this program owns. It links only build/libtcpstate.a (C11 + libc):
 *
 *   make examples && build/examples/embed
 *
 * What a real driver does is the same loop: feed received datagrams to
 * ts_stack_input(), send what ts_stack_output() gives, and call
 * ts_stack_advance() when ts_stack_next_deadline() comes. Here "sending"
 * is handing the datagram to the other stack, and time jumps straight to
 * the next deadline, so the 60 s of TIME_WAIT at the end take no time.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tcpstate.h"

#define CLIENT_IP 0xC0000201u /* 192.0.2.1 */
#define SERVER_IP 0xC0000202u /* 192.0.2.2 */

/* The ISN hook: a real driver uses RFC 6528 (a keyed hash and a clock);
 * any value works for an example. */
static uint32_t isn(void *user, const ts_tuple *t, uint64_t now_us)
{
    (void)t;
    return (uint32_t)(now_us / 4) + (user ? 1000000u : 5000000u);
}

static void on_transition(void *user, const ts_transition_ev *ev)
{
    printf("%9.3f s  %-6s %-12s -> %-12s (%s)\n", (double)ev->now_us / 1e6, (const char *)user,
           ts_state_name(ev->from), ts_state_name(ev->to), ts_cause_name(ev->cause));
}

static ts_stack *make_stack(const char *name, uint32_t ip)
{
    ts_config cfg;
    ts_hooks hooks;
    ts_stack *s;
    ts_config_default(&cfg); /* Linux's defaults, under Linux's names */
    memset(&hooks, 0, sizeof hooks);
    hooks.size = sizeof hooks;
    hooks.isn = isn;
    hooks.on_transition = on_transition;
    s = ts_stack_new(&cfg, &hooks, (void *)name);
    if (s)
        ts_stack_add_addr(s, ip);
    return s;
}

/* Moves every datagram each stack wants to send to the other one. */
static int pump(ts_stack *a, ts_stack *b, uint64_t now)
{
    uint8_t pkt[2048];
    size_t n;
    int moved = 0;
    while ((n = ts_stack_output(a, now, pkt, sizeof pkt)) > 0) {
        ts_stack_input(b, now, pkt, n);
        moved = 1;
    }
    while ((n = ts_stack_output(b, now, pkt, sizeof pkt)) > 0) {
        ts_stack_input(a, now, pkt, n);
        moved = 1;
    }
    return moved;
}

int main(void)
{
    ts_stack *client = make_stack("client", CLIENT_IP);
    ts_stack *server = make_stack("server", SERVER_IP);
    ts_addr server_addr = { SERVER_IP, 80 };
    ts_sock listener, conn, peer = { 0, 0 };
    char buf[64];
    uint64_t now = 0;
    int sent = 0, replied = 0, closed = 0, rc = 1;

    if (!client || !server)
        return 1;
    /* the server: socket, bind, listen; the client: socket, connect */
    if (ts_socket(server, &listener) || ts_bind(server, listener, &server_addr) ||
        ts_listen(server, listener, 16) || ts_socket(client, &conn))
        return 1;
    if (ts_connect(client, conn, &server_addr) != TS_EINPROGRESS)
        return 1;

    for (int steps = 0; steps < 10000; steps++) {
        uint64_t next;
        if (pump(client, server, now))
            continue;
        /* the applications: every call is non-blocking */
        if (!peer.index && ts_accept(server, listener, &peer, NULL) == 0)
            printf("          server accepted a connection\n");
        if (!sent && ts_connect(client, conn, &server_addr) == 0) {
            ts_send(client, conn, "hello", 5); /* connected: 0 once, as Linux */
            sent = 1;
            continue;
        }
        if (peer.index && !replied && ts_recv(server, peer, buf, sizeof buf) == 5) {
            ts_send(server, peer, "world", 5);
            replied = 1;
            continue;
        }
        if (replied && !closed && ts_recv(client, conn, buf, sizeof buf) == 5) {
            printf("          client got \"%.5s\", closes first\n", buf);
            ts_close(client, conn); /* the handle is released at once */
            closed = 1;
            continue;
        }
        if (closed && peer.index && ts_recv(server, peer, buf, sizeof buf) == 0) {
            ts_close(server, peer); /* end of stream: close too */
            peer.index = 0;
            continue;
        }
        /* nothing to do now: jump to the next timer of either stack */
        next = ts_stack_next_deadline(client);
        if (ts_stack_next_deadline(server) < next)
            next = ts_stack_next_deadline(server);
        if (next == UINT64_MAX) {
            rc = closed && !peer.index ? 0 : 1;
            break;
        }
        now = next;
        ts_stack_advance(client, now);
        ts_stack_advance(server, now);
    }
    printf("          done at %.3f s: %zu connections left on the client, %zu on the server\n",
           (double)now / 1e6, ts_stack_conn_count(client), ts_stack_conn_count(server));
    ts_close(server, listener);
    ts_stack_free(client);
    ts_stack_free(server);
    return rc;
}
