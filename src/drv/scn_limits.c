/*
 * scn_limits.c — the scenarios of Linux's timers, limits and tunables, one
 * per behaviour of LINUX_BEHAVIOUR.md: how long SYN_SENT and SYN_RECEIVED
 * last, keepalive, giving up on retransmissions, orphans in FIN_WAIT_1/2
 * and LAST_ACK, TIME_WAIT and its reuse, the limits on TIME_WAIT entries,
 * orphans and the accept queue, CLOSE_WAIT's lack of any timer, SO_LINGER
 * {1, 0} and RFC 5961's challenge ACKs.
 *
 * Each checks, besides states and errors, the virtual time (to the
 * microsecond, written in ms) of the segments and transitions that Linux's
 * timers produce, computed from Linux's rules in the comment above it, and
 * the counters Linux 6.18 keeps for it (measured in a private namespace
 * where the comment says so). A peer that never answers is a host cut off
 * from the network (every datagram to and from it lost); an attacker or an
 * old duplicate is a segment injected into a stack.
 */
#include "drv/scn_limits.h"

#include <stdio.h>
#include <string.h>

#include "core/wire.h"

#define MS 1000ull
#define SEC 1000000ull

/* The times below assume the default links, 10 ms one way: a handshake
 * takes 20 ms and its RTT sample gives RTO = 20 ms + max(2 x 20 ms,
 * tcp_rto_min) = 220 ms. */

static const ts_sim_link dead_link = { .loss = 1.0 };

/* A host whose cable was pulled: everything it sends, and everything sent
 * to it, is lost (its stack keeps running). */
static void cut_off(ts_scn *s, int host)
{
    scn_link_set(s, host, -1, &dead_link);
    scn_link_set(s, -1, host, &dead_link);
}

/* Back to the scenario's links. */
static void reconnect(ts_scn *s, int host)
{
    scn_link_set(s, host, -1, scn_link(s));
    scn_link_set(s, -1, host, scn_link(s));
}

/* The application's handle of the n-th connection of host. */
static ts_sock nth_sock(const ts_scn *s, int host, int n)
{
    scn_peer_view v;
    ts_sock none = { 0, 0 };
    return scn_peer(s, scn_nth_peer(s, host, n), &v) == 0 ? v.sk : none;
}

/* Writes n bytes on host's n-th connection (a timer's action). */
static void send_on(ts_scn *s, int host, int n, size_t len)
{
    static const uint8_t zeros[1000];
    long r = ts_send(scn_stack(s, host), nth_sock(s, host, n), zeros, len);
    ts_sim_note(ts_scn_sim(s), host, "send(%zu): %ld", len, r);
}

/* SYN_SENT against a peer that never answers, three ways: the defaults
 * (tcp_syn_retries 6, tcp_syn_linear_timeouts 4: four retransmissions at
 * the initial 1 s RTO, then doubling; ETIMEDOUT at 131 s), the pre-6.5
 * exponential schedule (tcp_syn_linear_timeouts = 0: ETIMEDOUT at 127 s),
 * and TCP_SYNCNT = 2, where Linux's time limit (2 << 2) - 1 = 7 s ends it
 * before the count 2 + 4 does. */
void scn_syn_timeout(ts_scn *s, const ts_scn_ev *ev)
{
    enum { CLIENT, SERVER, LEGACY, SYNCNT2 };
    static const scn_beh plain = { .close = SCN_CLOSE_NEVER };
    static const scn_beh syncnt2 = { .opt = { { TS_SOL_TCP, TS_TCP_SYNCNT, 2 } } };
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_host(s, "client");
        scn_host(s, "server");
        scn_host(s, "legacy");
        scn_host(s, "syncnt2");
        scn_cfg(s, LEGACY)->tcp_syn_linear_timeouts = 0;
        break;
    case TS_SCN_START:
        cut_off(s, SERVER);
        scn_connect(s, CLIENT, 0, SERVER, 80, &plain);
        scn_connect(s, LEGACY, 0, SERVER, 80, &plain);
        scn_connect(s, SYNCNT2, 0, SERVER, 80, &syncnt2);
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, CLIENT, TS_TH_SYN,
                         "0 1000 2000 3000 4000 5000 7000 11000 19000 35000 67000");
        scn_expect_state_ms(s, CLIENT, TS_CLOSE, "131000");
        scn_expect_tx_ms(s, LEGACY, TS_TH_SYN, "0 1000 3000 7000 15000 31000 63000");
        scn_expect_state_ms(s, LEGACY, TS_CLOSE, "127000");
        scn_expect_tx_ms(s, SYNCNT2, TS_TH_SYN, "0 1000 2000 3000 4000 5000");
        scn_expect_state_ms(s, SYNCNT2, TS_CLOSE, "7000");
        for (int h = CLIENT; h <= SYNCNT2; h++)
            if (h != SERVER)
                scn_expect_err(s, scn_nth_peer(s, h, 0), TS_ETIMEDOUT);
        scn_expect_path(s, CLIENT, "CLOSED SYN_SENT CLOSED");
        scn_expect_counter(s, CLIENT, "TcpActiveOpens", 1);
        scn_expect_counter(s, CLIENT, "TcpAttemptFails", 1);
        scn_expect_counter(s, CLIENT, "TcpOutSegs", 1);
        scn_expect_counter(s, CLIENT, "TcpRetransSegs", 10);
        scn_expect_counter(s, CLIENT, "TcpExtTCPSynRetrans", 10);
        scn_expect_counter(s, CLIENT, "TcpExtTCPTimeouts", 11);
        scn_expect_counter(s, CLIENT, "TcpExtTCPAbortOnTimeout", 1);
        scn_expect_gone(s);
        break;
    default:
        break;
    }
}

/* SYN_RECEIVED whose final ACK never arrives (the client's link dies just
 * after its SYN left): the server's requests retransmit the SYN-ACK at 1,
 * 3, 7, 15, 31 s after the first (tcp_synack_retries = 5) and are dropped
 * at 63 s; the listeners stay in LISTEN. The listener on port 81 has
 * TCP_SYNCNT = 2, which replaces tcp_synack_retries for its requests: 1, 3
 * s, dropped at 7 s. The client, ESTABLISHED since the first SYN-ACK,
 * answers each repeated one with a challenge ACK (RFC 5961 §4) that is
 * lost too, and stays ESTABLISHED. */
void scn_synack_timeout(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh plain = { .close = SCN_CLOSE_NEVER };
    static const scn_beh syncnt2 = { .opt = { { TS_SOL_TCP, TS_TCP_SYNCNT, 2 } } };
    static const ts_sim_link dead = { .loss = 1.0 };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &plain, 0);
        scn_listen(s, SCN_SERVER, 81, &syncnt2, 0);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &plain);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 81, &plain);
        scn_timer(s, 1 * MS, SCN_CLIENT, 0);
        break;
    case TS_SCN_TIMER:
        scn_link_set(s, SCN_CLIENT, SCN_SERVER, &dead);
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, SCN_SERVER, TS_TH_SYN | TS_TH_ACK,
                         "10 10 1010 1010 3010 3010 7010 15010 31010");
        scn_expect_state_ms(s, SCN_SERVER, TS_LISTEN, "0 0 7010 63010");
        scn_expect_path(s, SCN_SERVER, "LISTEN SYN_RECEIVED LISTEN");
        scn_expect_state_ms(s, SCN_CLIENT, TS_ESTABLISHED, "20 20");
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_ACK, "20 20 1020 1020 3020 3020 7020 15020 31020");
        scn_expect_counter(s, SCN_SERVER, "TcpPassiveOpens", 0);
        scn_expect_counter(s, SCN_SERVER, "TcpAttemptFails", 0);
        scn_expect_counter(s, SCN_SERVER, "TcpOutSegs", 9);
        scn_expect_counter(s, SCN_SERVER, "TcpRetransSegs", 7);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTCPSynRetrans", 7);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTCPTimeouts", 9);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPSYNChallenge", 7);
        break;
    default:
        break;
    }
}

/* Keepalive against a dead peer: the client sets SO_KEEPALIVE, gets 100
 * bytes at 40 ms, and the server is cut off at 1 s. Linux's keepalive
 * timer, armed at establishment (20 ms) for tcp_keepalive_time = 7200 s,
 * finds the last segment 20 ms younger and re-arms for the rest: the first
 * probe (an ACK with seq = snd_una - 1) leaves 7200 s after the last
 * segment, then one every tcp_keepalive_intvl = 75 s; after the 9th
 * unanswered probe the connection is reset (RST+ACK) with ETIMEDOUT, 7875 s
 * after the last segment. */
void scn_keepalive_dead_peer(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 100 };
    static const scn_beh client = { .expect = 100,
                                    .opt = { { TS_SOL_SOCKET, TS_SO_KEEPALIVE, 1 } } };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        scn_timer(s, 1 * SEC, SCN_SERVER, 0);
        break;
    case TS_SCN_TIMER:
        ts_sim_note(ts_scn_sim(s), SCN_SERVER, "powered off (every link lost)");
        cut_off(s, SCN_SERVER);
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_ACK,
                         "20 40 7200040 7275040 7350040 7425040 7500040 7575040 7650040 "
                         "7725040 7800040");
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_RST | TS_TH_ACK, "7875040");
        scn_expect_state_ms(s, SCN_CLIENT, TS_CLOSE, "7875040");
        scn_expect_path(s, SCN_CLIENT, "CLOSED SYN_SENT ESTABLISHED CLOSED");
        scn_expect_err(s, scn_nth_peer(s, SCN_CLIENT, 0), TS_ETIMEDOUT);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPKeepAlive", 9);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPAbortOnTimeout", 1);
        scn_expect_counter(s, SCN_CLIENT, "TcpEstabResets", 1);
        scn_expect_counter(s, SCN_CLIENT, "TcpOutRsts", 1);
        break;
    default:
        break;
    }
}

/* Keepalive against a live peer, for a whole day: each probe is answered
 * (the server's stack ACKs the old sequence number), the answer resets the
 * probe count and restarts the idle clock, so the next probe comes 7200 s
 * after the answer: 11 probes, and the connection is still ESTABLISHED at
 * the 24 h limit. */
void scn_keepalive_alive(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 100 };
    static const scn_beh client = { .expect = 100,
                                    .opt = { { TS_SOL_SOCKET, TS_SO_KEEPALIVE, 1 } } };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_ACK,
                         "20 40 7200040 14400060 21600080 28800100 36000120 43200140 50400160 "
                         "57600180 64800200 72000220 79200240");
        scn_expect_state_ms(s, SCN_CLIENT, TS_CLOSE, "");
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPKeepAlive", 11);
        scn_expect_counter(s, SCN_CLIENT, "TcpCurrEstab", 1);
        scn_expect(s, scn_now(s) == 86400 * SEC, "the run should last the whole day");
        break;
    default:
        break;
    }
}

/* The peer lost the connection (its application aborted at 1 s with
 * SO_LINGER {1, 0}, and that RST was lost): the first keepalive probe at
 * 7200.04 s reaches a stack with no such connection, which answers RST;
 * the client's connection is reset: ECONNRESET. */
void scn_keepalive_reset(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 100 };
    static const scn_beh client = { .expect = 100,
                                    .opt = { { TS_SOL_SOCKET, TS_SO_KEEPALIVE, 1 } } };
    static const ts_sim_link dead = { .loss = 1.0 };
    ts_linger lg = { 1, 0 };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        scn_timer(s, 1 * SEC, SCN_SERVER, 0);
        scn_timer(s, 2 * SEC, SCN_SERVER, 1);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            scn_link_set(s, SCN_SERVER, SCN_CLIENT, &dead);
            ts_setsockopt(scn_stack(s, SCN_SERVER), nth_sock(s, SCN_SERVER, 0), TS_SOL_SOCKET,
                          TS_SO_LINGER, &lg, sizeof lg);
            scn_close(s, scn_nth_peer(s, SCN_SERVER, 0));
        } else {
            reconnect(s, SCN_SERVER);
        }
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_ACK, "20 40 7200040");
        scn_expect_tx_ms(s, SCN_SERVER, TS_TH_RST, "7200050");
        scn_expect_state_ms(s, SCN_CLIENT, TS_CLOSE, "7200060");
        scn_expect_err(s, scn_nth_peer(s, SCN_CLIENT, 0), TS_ECONNRESET);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPKeepAlive", 1);
        scn_expect_counter(s, SCN_CLIENT, "TcpEstabResets", 1);
        scn_expect_counter(s, SCN_SERVER, "TcpOutRsts", 2);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTCPAbortOnData", 1);
        scn_expect_gone(s);
        break;
    default:
        break;
    }
}

/* Data never acknowledged: the server is cut off at 1 s and each client
 * writes 100 bytes at 2 s. The RTO (220 ms) doubles up to tcp_rto_max; the
 * client gives up at the first expiry at least tcp_retries2's budget after
 * the first retransmission: Linux's tcp_model_timeout(15, 200 ms) = 1023 x
 * 200 ms + 6 x 120 s = 924.6 s, so 15 retransmissions and ETIMEDOUT at
 * 947.06 s. The second client has TCP_USER_TIMEOUT = 10 s, which replaces
 * that budget and clamps the timer: ETIMEDOUT 10 s after the first
 * retransmission, at 12.22 s. SACK is off: with it, Linux would first send
 * a tail loss probe (RFC 8985) and the chain would start one probe later
 * (as in last-ack-retrans); off, the RTO chain is plain. */
void scn_retries_timeout(ts_scn *s, const ts_scn_ev *ev)
{
    enum { CLIENT, SERVER, CLIENT2 };
    static const scn_beh server = { .close = SCN_CLOSE_NEVER };
    static const scn_beh plain = { .close = SCN_CLOSE_NEVER };
    static const scn_beh user_to = { .opt = { { TS_SOL_TCP, TS_TCP_USER_TIMEOUT, 10000 } } };
    switch (ev->kind) {
    case TS_SCN_SETUP:
        for (int h = 0; h < 3; h++)
            scn_cfg(s, scn_host(s, h == 0 ? "client" : h == 1 ? "server" : "client2"))
                ->tcp_sack = 0;
        break;
    case TS_SCN_START:
        scn_listen(s, SERVER, 80, &server, 2);
        scn_connect(s, CLIENT, 0, SERVER, 80, &plain);
        scn_connect(s, CLIENT2, 0, SERVER, 80, &user_to);
        scn_timer(s, 1 * SEC, SERVER, 0);
        scn_timer(s, 2 * SEC, CLIENT, 1);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            cut_off(s, SERVER);
        } else {
            send_on(s, CLIENT, 0, 100);
            send_on(s, CLIENT2, 0, 100);
        }
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, CLIENT, TS_TH_PSH | TS_TH_ACK,
                         "2000 2220 2660 3540 5300 8820 15860 29940 58100 114420 227060 "
                         "347060 467060 587060 707060 827060");
        scn_expect_state_ms(s, CLIENT, TS_CLOSE, "947060");
        scn_expect_tx_ms(s, CLIENT2, TS_TH_PSH | TS_TH_ACK, "2000 2220 2660 3540 5300 8820");
        scn_expect_state_ms(s, CLIENT2, TS_CLOSE, "12220");
        scn_expect_err(s, scn_nth_peer(s, CLIENT, 0), TS_ETIMEDOUT);
        scn_expect_err(s, scn_nth_peer(s, CLIENT2, 0), TS_ETIMEDOUT);
        scn_expect_counter(s, CLIENT, "TcpRetransSegs", 15);
        scn_expect_counter(s, CLIENT, "TcpExtTCPTimeouts", 16);
        scn_expect_counter(s, CLIENT, "TcpExtTCPAbortOnTimeout", 1);
        scn_expect_counter(s, CLIENT, "TcpEstabResets", 1);
        scn_expect_counter(s, CLIENT, "TcpOutRsts", 0);
        break;
    default:
        break;
    }
}

/* A segment from nowhere into host's stack, as a blind attacker or an old
 * duplicate would deliver it (the threats of RFC 5961 and RFC 1337). t is
 * the connection as host sees it; the segment comes from t->remote. */
static void inject(ts_scn *s, int host, const ts_tuple *t, uint8_t flags, uint32_t seq)
{
    ts_seg g;
    uint8_t buf[64];
    size_t n;
    char fl[12];
    memset(&g, 0, sizeof g);
    g.src_ip = t->remote.ip;
    g.src_port = t->remote.port;
    g.dst_ip = t->local.ip;
    g.dst_port = t->local.port;
    g.flags = flags;
    g.seq = seq;
    n = ts_wire_build(&g, buf, sizeof buf);
    ts_sim_note(ts_scn_sim(s), host, "injected %s seq %u from %u.%u.%u.%u:%u", ts_flags_str(flags, fl),
                seq, t->remote.ip >> 24, (t->remote.ip >> 16) & 255, (t->remote.ip >> 8) & 255,
                t->remote.ip & 255, t->remote.port);
    ts_stack_input(scn_stack(s, host), scn_now(s), buf, n);
}

/* Information about host's n-th connection (zeroed if it is gone). */
static ts_info info_of(ts_scn *s, int host, int n)
{
    ts_info i;
    if (ts_sock_info(scn_stack(s, host), nth_sock(s, host, n), &i) != 0)
        memset(&i, 0, sizeof i);
    return i;
}

/* FIN_WAIT_2 of an orphan: the client closes at 1 s, the server ACKs the
 * FIN (4 ms later: no data was received, Linux's delayed ACK leaves on the
 * next tick) but never sends its own. The client's connection becomes a
 * FIN_WAIT_2 minisocket at 1.024 s and disappears silently tcp_fin_timeout
 * = 60 s later; the server's data at 100 s then gets a RST. client2 only
 * shuts down its sending side at 1 s: FIN_WAIT_2 waits without limit
 * until the application closes at 1000 s, and the 60 s start then. */
void scn_fin_wait_2_timeout(ts_scn *s, const ts_scn_ev *ev)
{
    enum { CLIENT, SERVER, CLIENT2 };
    static const scn_beh plain = { .close = SCN_CLOSE_NEVER };
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_host(s, "client");
        scn_host(s, "server");
        scn_host(s, "client2");
        break;
    case TS_SCN_START:
        scn_listen(s, SERVER, 80, &plain, 2);
        scn_connect(s, CLIENT, 0, SERVER, 80, &plain);
        scn_connect(s, CLIENT2, 0, SERVER, 80, &plain);
        scn_timer(s, 1 * SEC, CLIENT, 0);
        scn_timer(s, 100 * SEC, SERVER, 1);
        scn_timer(s, 1000 * SEC, CLIENT2, 2);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            scn_close(s, scn_nth_peer(s, CLIENT, 0));
            ts_shutdown(scn_stack(s, CLIENT2), nth_sock(s, CLIENT2, 0), TS_SHUT_WR);
            ts_sim_note(ts_scn_sim(s), CLIENT2, "shutdown(SHUT_WR)");
        } else if (ev->timer == 1) {
            send_on(s, SERVER, 0, 10);
        } else {
            scn_close(s, scn_nth_peer(s, CLIENT2, 0));
        }
        break;
    case TS_SCN_END:
        scn_expect_state_ms(s, CLIENT, TS_FIN_WAIT2, "1024");
        scn_expect_state_ms(s, CLIENT, TS_CLOSE, "61024");
        scn_expect_tx_ms(s, CLIENT, TS_TH_RST, "100010");
        scn_expect_state_ms(s, SERVER, TS_CLOSE_WAIT, "1010 1010");
        scn_expect_state_ms(s, SERVER, TS_CLOSE, "100020");
        scn_expect_state_ms(s, CLIENT2, TS_FIN_WAIT2, "1024");
        scn_expect_state_ms(s, CLIENT2, TS_CLOSE, "1060000");
        scn_expect_path(s, CLIENT, "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSED");
        scn_expect_counter(s, CLIENT, "TcpExtTW", 1);
        scn_expect_counter(s, CLIENT2, "TcpExtTW", 1);
        scn_expect_counter(s, CLIENT, "TcpOutRsts", 1);
        scn_expect_counter(s, SERVER, "TcpEstabResets", 1);
        break;
    default:
        break;
    }
}

/* Orphans whose peer vanished (cut off at 1 s): client closes in
 * ESTABLISHED at 2 s (FIN_WAIT_1), client2 in CLOSE_WAIT (LAST_ACK, the
 * server having closed its side at 0.5 s). Neither state has a timer of
 * its own: the FIN is retransmitted with RTO backoff (220 ms doubling) and
 * both orphans give up silently at the first expiry at least
 * tcp_orphan_retries (0, meaning 8 while the RTO is below its cap) worth
 * of backoffs after the first retransmission: 511 x 200 ms = 102.2 s after
 * 2.22 s, i.e. at 114.42 s after 8 retransmissions. SACK is off: with it
 * Linux (and tcpstate) would first send a tail loss probe. */
void scn_fin_wait_1_orphan(ts_scn *s, const ts_scn_ev *ev)
{
    enum { CLIENT, SERVER, CLIENT2 };
    static const scn_beh plain = { .close = SCN_CLOSE_NEVER };
    static const char *const fins = "2000 2220 2660 3540 5300 8820 15860 29940 58100";
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_cfg(s, scn_host(s, "client"))->tcp_sack = 0;
        scn_cfg(s, scn_host(s, "server"))->tcp_sack = 0;
        scn_cfg(s, scn_host(s, "client2"))->tcp_sack = 0;
        break;
    case TS_SCN_START:
        scn_listen(s, SERVER, 80, &plain, 2);
        scn_connect(s, CLIENT, 0, SERVER, 80, &plain);
        scn_connect(s, CLIENT2, 0, SERVER, 80, &plain);
        scn_timer(s, 500 * MS, SERVER, 0);
        scn_timer(s, 1 * SEC, SERVER, 1);
        scn_timer(s, 2 * SEC, CLIENT, 2);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            scn_close(s, scn_nth_peer(s, SERVER, 1));
        } else if (ev->timer == 1) {
            cut_off(s, SERVER);
        } else {
            scn_close(s, scn_nth_peer(s, CLIENT, 0));
            scn_close(s, scn_nth_peer(s, CLIENT2, 0));
        }
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, CLIENT, TS_TH_FIN | TS_TH_ACK, fins);
        scn_expect_state_ms(s, CLIENT, TS_CLOSE, "114420");
        scn_expect_path(s, CLIENT, "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSED");
        scn_expect_tx_ms(s, CLIENT2, TS_TH_FIN | TS_TH_ACK, fins);
        scn_expect_state_ms(s, CLIENT2, TS_CLOSE, "114420");
        scn_expect_path(s, CLIENT2, "CLOSED SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
        scn_expect_tx_ms(s, CLIENT, TS_TH_RST, "");
        scn_expect_counter(s, CLIENT, "TcpRetransSegs", 8);
        scn_expect_counter(s, CLIENT, "TcpExtTCPTimeouts", 9);
        scn_expect_counter(s, CLIENT, "TcpExtTCPAbortOnTimeout", 1);
        scn_expect_counter(s, CLIENT, "TcpEstabResets", 0);
        break;
    default:
        break;
    }
}

/* The final ACK is lost: the client's link to the server drops everything
 * from 1.065 s to 5 s, so the server in LAST_ACK (it closed 50 ms after
 * reading the client's FIN) sends a tail loss probe 220 ms after its FIN
 * (SACK is on: tlp.c), then retransmits it on the RTO, 220 ms doubling from
 * the probe, until one gets through at 8.1 s and is ACKed. The client's
 * TIME_WAIT re-ACKs every copy and restarts its 60 s each time: it ends
 * 60 s after the last one arrived. */
void scn_last_ack_retrans(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .close = SCN_CLOSE_ON_EOF, .close_delay_us = 50 * MS };
    static const scn_beh client = { .close = SCN_CLOSE_NEVER };
    static const ts_sim_link dead = { .loss = 1.0 };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        scn_timer(s, 1 * SEC, SCN_CLIENT, 0);
        scn_timer(s, 1065 * MS, SCN_CLIENT, 1);
        scn_timer(s, 5 * SEC, SCN_CLIENT, 2);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0)
            scn_close(s, scn_nth_peer(s, SCN_CLIENT, 0));
        else if (ev->timer == 1)
            scn_link_set(s, SCN_CLIENT, SCN_SERVER, &dead);
        else
            scn_link_set(s, SCN_CLIENT, SCN_SERVER, scn_link(s));
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, SCN_SERVER, TS_TH_FIN | TS_TH_ACK, "1060 1280 1500 1940 2820 4580 8100");
        scn_expect_state_ms(s, SCN_SERVER, TS_LAST_ACK, "1060");
        scn_expect_state_ms(s, SCN_SERVER, TS_CLOSE, "8120");
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_ACK, "20 1070 1290 1510 1950 2830 4590 8110");
        scn_expect_state_ms(s, SCN_CLIENT, TS_TIME_WAIT, "1070");
        scn_expect_state_ms(s, SCN_CLIENT, TS_CLOSE, "68110");
        scn_expect_path(s, SCN_SERVER,
                        "LISTEN SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
        scn_expect_counter(s, SCN_SERVER, "TcpRetransSegs", 6);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTCPLossProbes", 1);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTCPTimeouts", 5);
        scn_expect_gone(s);
        break;
    default:
        break;
    }
}

/* TIME_WAIT, four ways. Each client connects, closes first at 1 s; the
 * server closes 50 ms after reading the FIN; TIME_WAIT starts at 1.07 s.
 *   client:  60 s, then CLOSED at 61.07 s (TcpExtTW).
 *   client2: its final ACK is lost (link dead 1.065-1.2 s), the server
 *            retransmits its FIN at 1.28 s, TIME_WAIT ACKs it again and
 *            restarts the 60 s: CLOSED at 61.29 s.
 *   client3: an old duplicate RST with the exact sequence number arrives
 *            at 30 s and ends TIME_WAIT (tcp_rfc1337 = 0, RFC 1337's
 *            "TIME-WAIT assassination").
 *   client4: the same RST, but tcp_rfc1337 = 1: ignored, 60 s as usual. */
void scn_time_wait(ts_scn *s, const ts_scn_ev *ev)
{
    enum { SERVER, CLIENT, CLIENT2, CLIENT3, CLIENT4 };
    static const scn_beh server = { .close = SCN_CLOSE_ON_EOF, .close_delay_us = 50 * MS };
    static const scn_beh client = { .close = SCN_CLOSE_NEVER };
    static const ts_sim_link dead = { .loss = 1.0 };
    int *v = scn_vars(s);
    ts_info i;
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_host(s, "server");
        scn_host(s, "client");
        scn_host(s, "client2");
        scn_host(s, "client3");
        scn_cfg(s, scn_host(s, "client4"))->tcp_rfc1337 = 1;
        break;
    case TS_SCN_START:
        scn_listen(s, SERVER, 80, &server, 4);
        for (int h = CLIENT; h <= CLIENT4; h++)
            scn_connect(s, h, 0, SERVER, 80, &client);
        scn_timer(s, 1 * SEC, CLIENT, 0);
        scn_timer(s, 1065 * MS, CLIENT2, 1);
        scn_timer(s, 1200 * MS, CLIENT2, 2);
        scn_timer(s, 30 * SEC, CLIENT3, 3);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            for (int h = CLIENT3; h <= CLIENT4; h++) {
                /* what an old duplicate RST must carry: the peer's FIN
                 * will take rcv_nxt one further */
                i = info_of(s, h, 0);
                v[2 * (h - CLIENT3)] = (int)(i.rcv_nxt + 1);
                v[2 * (h - CLIENT3) + 1] = i.tuple.local.port;
            }
            for (int h = CLIENT; h <= CLIENT4; h++)
                scn_close(s, scn_nth_peer(s, h, 0));
        } else if (ev->timer == 1) {
            scn_link_set(s, CLIENT2, SERVER, &dead);
        } else if (ev->timer == 2) {
            scn_link_set(s, CLIENT2, SERVER, scn_link(s));
        } else {
            for (int h = CLIENT3; h <= CLIENT4; h++) {
                ts_tuple t = { { ts_sim_host_ip(h), (uint16_t)v[2 * (h - CLIENT3) + 1] },
                               { ts_sim_host_ip(SERVER), 80 } };
                inject(s, h, &t, TS_TH_RST, (uint32_t)v[2 * (h - CLIENT3)]);
            }
        }
        break;
    case TS_SCN_END:
        for (int h = CLIENT; h <= CLIENT4; h++) {
            scn_expect_state_ms(s, h, TS_TIME_WAIT, "1070");
            scn_expect_counter(s, h, "TcpExtTW", 1);
        }
        scn_expect_state_ms(s, CLIENT, TS_CLOSE, "61070");
        scn_expect_tx_ms(s, SERVER, TS_TH_FIN | TS_TH_ACK, "1060 1060 1060 1060 1280");
        scn_expect_tx_ms(s, CLIENT2, TS_TH_ACK, "20 1070 1290");
        scn_expect_state_ms(s, CLIENT2, TS_CLOSE, "61290");
        scn_expect_state_ms(s, CLIENT3, TS_CLOSE, "30000");
        scn_expect_state_ms(s, CLIENT4, TS_CLOSE, "61070");
        scn_expect_path(s, CLIENT,
                        "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
        scn_expect_gone(s);
        break;
    default:
        break;
    }
}

/* TIME_WAIT on the server, which closes first (at 1 s, after sending 100
 * bytes); the client closes 50 ms after the EOF. At 5 s the client connects
 * again from the same port: its SYN (a higher ISN, RFC 6528's clock) finds
 * the server's TIME_WAIT, which reopens the 4-tuple through the listener
 * with ISN = old snd_nxt + 65537. */
void scn_time_wait_reopen(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 100 };
    static const scn_beh client = { .expect = 100, .close = SCN_CLOSE_ON_EOF,
                                    .close_delay_us = 50 * MS };
    static const scn_beh again = { .close = SCN_CLOSE_NEVER };
    int *v = scn_vars(s);
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 2);
        scn_connect(s, SCN_CLIENT, 40000, SCN_SERVER, 80, &client);
        scn_timer(s, 1 * SEC, SCN_SERVER, 0);
        scn_timer(s, 5 * SEC, SCN_CLIENT, 1);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            v[0] = (int)(info_of(s, SCN_SERVER, 0).snd_nxt + 1); /* its FIN takes one */
            scn_close(s, scn_nth_peer(s, SCN_SERVER, 0));
        } else {
            scn_connect(s, SCN_CLIENT, 40000, SCN_SERVER, 80, &again);
        }
        break;
    case TS_SCN_END:
        scn_expect_state_ms(s, SCN_SERVER, TS_TIME_WAIT, "1070");
        scn_expect_state_ms(s, SCN_CLIENT, TS_ESTABLISHED, "20 5020");
        scn_expect_path(s, SCN_SERVER,
                        "LISTEN SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
        scn_expect(s, info_of(s, SCN_SERVER, 1).iss == (uint32_t)v[0] + 65537,
                   "server: the reopened connection's ISN is %u, expected old snd_nxt %u + "
                   "65537", info_of(s, SCN_SERVER, 1).iss, (uint32_t)v[0]);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTW", 1);
        scn_expect_counter(s, SCN_SERVER, "TcpPassiveOpens", 2);
        break;
    default:
        break;
    }
}

/* Three clients with ip_local_port_range 40000-40002 open three
 * connections each and close them first: every port they have is in
 * TIME_WAIT (from 1.07 s). A fourth connect():
 *   client0, tcp_tw_reuse = 0: EADDRNOTAVAIL;
 *   client2, tcp_tw_reuse = 2 (the default): loopback only, EADDRNOTAVAIL;
 *   client1, tcp_tw_reuse = 1: at 1.5 s the entries' last timestamp is
 *     younger than tcp_tw_reuse_delay (1000 ms): EADDRNOTAVAIL; at 10 s one
 *     is taken over (TWRecycled) with ISN = its old snd_nxt + 65537 and
 *     the connection is established. */
void scn_tw_reuse(ts_scn *s, const ts_scn_ev *ev)
{
    enum { SERVER, C0, C1, C2 };
    static const scn_beh server = { .close = SCN_CLOSE_ON_EOF, .close_delay_us = 50 * MS };
    static const scn_beh client = { .close = SCN_CLOSE_NEVER };
    static const int reuse[3] = { 0, 1, 2 };
    int *v = scn_vars(s), r;
    ts_info in;
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_host(s, "server");
        for (int k = 0; k < 3; k++) {
            char name[24]; /* "client" + any int: no truncation warning at -O1 */
            ts_config *c;
            snprintf(name, sizeof name, "client%d", k);
            c = scn_cfg(s, scn_host(s, name));
            c->tcp_tw_reuse = reuse[k];
            c->ip_local_port_range[0] = 40000;
            c->ip_local_port_range[1] = 40002;
        }
        break;
    case TS_SCN_START:
        scn_listen(s, SERVER, 80, &server, 0);
        for (int h = C0; h <= C2; h++)
            for (int k = 0; k < 3; k++)
                scn_connect(s, h, 0, SERVER, 80, &client);
        scn_timer(s, 1 * SEC, C0, 0);
        scn_timer(s, 1500 * MS, C0, 1);
        scn_timer(s, 10 * SEC, C0, 2);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            /* client1's ports and what each TIME_WAIT's snd_nxt will be
             * (its FIN takes one): a takeover starts at that + 65537 */
            for (int k = 0; k < 3; k++) {
                in = info_of(s, C1, k);
                v[2 * k] = in.tuple.local.port;
                v[2 * k + 1] = (int)(in.snd_nxt + 1);
            }
            for (int h = C0; h <= C2; h++)
                scn_close_host(s, h);
        } else if (ev->timer == 1) {
            r = scn_connect(s, C1, 0, SERVER, 80, &client);
            scn_expect(s, r == TS_EADDRNOTAVAIL, "client1 at 1.5 s: connect gave %s, expected "
                       "EADDRNOTAVAIL (last timestamp too young)", ts_strerror(r));
        } else {
            for (int h = C0; h <= C2; h++) {
                r = scn_connect(s, h, 0, SERVER, 80, &client);
                scn_expect(s, (h == C1) == (r >= 0), "%s at 10 s: connect gave %s",
                           ts_sim_host_name(ts_scn_sim(s), h), r >= 0 ? "OK" : ts_strerror(r));
            }
            in = info_of(s, C1, 3);
            r = -1;
            for (int k = 0; k < 3; k++)
                if (v[2 * k] == in.tuple.local.port)
                    r = k;
            scn_expect(s, r >= 0 && in.iss == (uint32_t)v[2 * r + 1] + 65537,
                       "client1: the reused 4-tuple's ISN is %u, expected its old snd_nxt + "
                       "65537", in.iss);
        }
        break;
    case TS_SCN_END:
        for (int h = C0; h <= C2; h++)
            scn_expect_state_ms(s, h, TS_TIME_WAIT, "1070 1070 1070");
        scn_expect_state_ms(s, C1, TS_ESTABLISHED, "20 20 20 10020");
        scn_expect_counter(s, C1, "TcpExtTWRecycled", 1);
        scn_expect_counter(s, C0, "TcpExtTWRecycled", 0);
        scn_expect_counter(s, C2, "TcpExtTWRecycled", 0);
        scn_expect_counter(s, C1, "TcpActiveOpens", 4);
        break;
    default:
        break;
    }
}

/* tcp_max_tw_buckets = 2 on the client, which closes four connections
 * first at 1 s. The minisockets count from FIN_WAIT_2 on (Linux holds an
 * orphan's FIN_WAIT_2 in one): the first two connections get one, the
 * other two are destroyed instead at 1.024 s (TCPTimeWaitOverflow), so the
 * server's FINs for them at 1.06 s meet no socket and get a RST. */
void scn_tw_overflow(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .close = SCN_CLOSE_ON_EOF, .close_delay_us = 50 * MS };
    static const scn_beh client = { .close = SCN_CLOSE_NEVER };
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_host(s, "client");
        scn_host(s, "server");
        scn_cfg(s, SCN_CLIENT)->tcp_max_tw_buckets = 2;
        break;
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 4);
        for (int k = 0; k < 4; k++)
            scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        scn_timer(s, 1 * SEC, SCN_CLIENT, 0);
        break;
    case TS_SCN_TIMER:
        scn_close_host(s, SCN_CLIENT);
        break;
    case TS_SCN_END:
        scn_expect_state_ms(s, SCN_CLIENT, TS_FIN_WAIT2, "1024 1024 1024 1024");
        scn_expect_state_ms(s, SCN_CLIENT, TS_TIME_WAIT, "1070 1070");
        scn_expect_state_ms(s, SCN_CLIENT, TS_CLOSE, "1024 1024 61070 61070");
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_RST, "1070 1070");
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPTimeWaitOverflow", 2);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTW", 2);
        scn_expect_gone(s);
        break;
    default:
        break;
    }
}

/* tcp_max_orphans = 2 on the client, whose server is cut off at 0.5 s:
 * closing four connections at 1 s leaves the first two as orphans in
 * FIN_WAIT_1 (retransmitting their FIN); the third and fourth push the
 * count past the limit and are reset and freed at once (TCPAbortOnMemory;
 * as Linux's tcp_close, after the FIN_WAIT_1 transition and the FIN it
 * sends before it checks, so the RST's seq is past the FIN).
 * client2 shows the other orphan rule: it closes at 1 s, and the data its
 * server sends at 2 s reaches an orphan that closed its receive side: RST
 * and the connection ends (TCPAbortOnData). */
void scn_orphan_limit(ts_scn *s, const ts_scn_ev *ev)
{
    enum { CLIENT, SERVER, CLIENT2, SERVER2 };
    static const scn_beh plain = { .close = SCN_CLOSE_NEVER };
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_cfg(s, scn_host(s, "client"))->tcp_max_orphans = 2;
        scn_host(s, "server");
        scn_host(s, "client2");
        scn_host(s, "server2");
        break;
    case TS_SCN_START:
        scn_listen(s, SERVER, 80, &plain, 4);
        scn_listen(s, SERVER2, 80, &plain, 1);
        for (int k = 0; k < 4; k++)
            scn_connect(s, CLIENT, 0, SERVER, 80, &plain);
        scn_connect(s, CLIENT2, 0, SERVER2, 80, &plain);
        scn_timer(s, 500 * MS, SERVER, 0);
        scn_timer(s, 1 * SEC, CLIENT, 1);
        scn_timer(s, 2 * SEC, SERVER2, 2);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            cut_off(s, SERVER);
        } else if (ev->timer == 1) {
            scn_close_host(s, CLIENT);
            scn_close_host(s, CLIENT2);
        } else {
            send_on(s, SERVER2, 0, 10);
        }
        break;
    case TS_SCN_END:
        scn_expect_state_ms(s, CLIENT, TS_FIN_WAIT1, "1000 1000 1000 1000");
        scn_expect_tx_ms(s, CLIENT, TS_TH_RST | TS_TH_ACK, "1000 1000");
        scn_expect_counter(s, CLIENT, "TcpExtTCPAbortOnMemory", 2);
        scn_expect_tx_ms(s, CLIENT2, TS_TH_RST, "2010");
        scn_expect_state_ms(s, CLIENT2, TS_CLOSE, "2010");
        scn_expect_state_ms(s, SERVER2, TS_CLOSE, "2020");
        scn_expect_counter(s, CLIENT2, "TcpExtTCPAbortOnData", 1);
        scn_expect_counter(s, SERVER2, "TcpEstabResets", 1); /* CLOSE_WAIT -> CLOSED */
        break;
    default:
        break;
    }
}

/* The server's application never closes: after the client's FIN at 1 s
 * the server's side sits in CLOSE_WAIT (Linux has no timer there), with
 * no transition and no timer for a whole virtual day; the check at 23:59:59
 * finds it unchanged. The client's orphan is gone 60 s after FIN_WAIT_2. */
void scn_close_wait_leak(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh plain = { .close = SCN_CLOSE_NEVER };
    ts_info i;
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &plain, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &plain);
        scn_timer(s, 1 * SEC, SCN_CLIENT, 0);
        scn_timer(s, 86399 * SEC, SCN_SERVER, 1);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            scn_close(s, scn_nth_peer(s, SCN_CLIENT, 0));
            break;
        }
        i = info_of(s, SCN_SERVER, 0);
        scn_expect(s, i.state == TS_CLOSE_WAIT, "server: %s at 23:59:59, expected CLOSE_WAIT",
                   ts_state_name(i.state));
        scn_expect(s, ts_stack_next_deadline(scn_stack(s, SCN_SERVER)) == UINT64_MAX,
                   "server: a timer is armed in CLOSE_WAIT");
        ts_sim_note(ts_scn_sim(s), SCN_SERVER, "still CLOSE_WAIT, no timer: the leak");
        break;
    case TS_SCN_END:
        scn_expect_state_ms(s, SCN_SERVER, TS_CLOSE_WAIT, "1010");
        scn_expect_state_ms(s, SCN_SERVER, TS_CLOSE, "");
        scn_expect_state_ms(s, SCN_CLIENT, TS_CLOSE, "61024");
        scn_expect_counter(s, SCN_SERVER, "TcpCurrEstab", 1);
        break;
    default:
        break;
    }
}

/* SO_LINGER {1, 0}: after 100 bytes each way the client closes at 1 s;
 * instead of a FIN it sends RST and its connection is gone at once, no
 * TIME_WAIT (Linux counts TCPAbortOnData); the server reads ECONNRESET. */
void scn_linger_zero(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 100, .expect = 100 };
    static const scn_beh client = { .send = 100, .expect = 100,
                                    .opt = { { TS_SOL_SOCKET, TS_SO_LINGER, 0 } } };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        scn_timer(s, 1 * SEC, SCN_CLIENT, 0);
        break;
    case TS_SCN_TIMER:
        scn_close(s, scn_nth_peer(s, SCN_CLIENT, 0));
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, SCN_CLIENT, TS_TH_RST | TS_TH_ACK, "1000");
        scn_expect_state_ms(s, SCN_CLIENT, TS_CLOSE, "1000");
        scn_expect_state_ms(s, SCN_CLIENT, TS_TIME_WAIT, "");
        scn_expect_state_ms(s, SCN_SERVER, TS_CLOSE, "1010");
        scn_expect_path(s, SCN_CLIENT, "CLOSED SYN_SENT ESTABLISHED CLOSED");
        scn_expect_err(s, scn_nth_peer(s, SCN_SERVER, 0), TS_ECONNRESET);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPAbortOnData", 1);
        scn_expect_counter(s, SCN_CLIENT, "TcpEstabResets", 1);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTW", 0);
        scn_expect_counter(s, SCN_SERVER, "TcpEstabResets", 1);
        scn_expect_gone(s);
        break;
    default:
        break;
    }
}

/* A listener the application does not accept from until 2 s, backlog 1:
 * its queue is full once it holds 2 children. Client 1 connects at 0,
 * clients 2 and 3 at 100 ms (so no more requests are pending than the
 * backlog: past that Linux, and tcpstate, answer with SYN cookies, which
 * tests/test_syncookies.c covers), client 4 at 500 ms.
 *   server: listen(0), then listen(1) again, which changes the backlog.
 *     Client 3's final ACK meets a full queue and is dropped
 *     (ListenOverflows, ListenDrops); the request stays and retransmits its
 *     SYN-ACK at 1.11 s (the answer is dropped again) and 3.11 s, by when
 *     the application has accepted (2 s): then it completes. Client 4's
 *     SYNs at 0.5 and 1.5 s find the queue full and are dropped; the one at
 *     2.5 s is admitted.
 *   server2: somaxconn = 1 caps listen(100) to 1; tcp_abort_on_overflow =
 *     1: client 3's final ACK gets a RST (EmbryonicRsts), ECONNRESET. */
void scn_listen_overflow(ts_scn *s, const ts_scn_ev *ev)
{
    enum { CLIENT, SERVER, CLIENT2, SERVER2 };
    static const scn_beh client = { .close = SCN_CLOSE_NEVER };
    int *v = scn_vars(s);
    ts_sock l;
    ts_addr a;
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_host(s, "client");
        scn_host(s, "server");
        scn_host(s, "client2");
        scn_cfg(s, scn_host(s, "server2"))->tcp_abort_on_overflow = 1;
        scn_cfg(s, SERVER2)->somaxconn = 1;
        break;
    case TS_SCN_START:
        /* listeners of our own: the kit's would accept at once */
        for (int h = SERVER; h <= SERVER2; h += 2) {
            a.ip = ts_sim_host_ip(h);
            a.port = 80;
            memset(&l, 0, sizeof l);
            if (ts_socket(scn_stack(s, h), &l) == 0 && ts_bind(scn_stack(s, h), l, &a) == 0) {
                ts_listen(scn_stack(s, h), l, h == SERVER ? 0 : 100);
                if (h == SERVER)
                    ts_listen(scn_stack(s, h), l, 1);
            }
            v[h - 1] = (int)l.index;
            v[h] = (int)l.gen;
        }
        scn_connect(s, CLIENT, 0, SERVER, 80, &client);
        scn_connect(s, CLIENT2, 0, SERVER2, 80, &client);
        scn_timer(s, 100 * MS, CLIENT, 0);
        scn_timer(s, 500 * MS, CLIENT, 1);
        scn_timer(s, 2 * SEC, SERVER, 2);
        break;
    case TS_SCN_TIMER:
        if (ev->timer == 0) {
            for (int k = 0; k < 2; k++) {
                scn_connect(s, CLIENT, 0, SERVER, 80, &client);
                scn_connect(s, CLIENT2, 0, SERVER2, 80, &client);
            }
        } else if (ev->timer == 1) {
            scn_connect(s, CLIENT, 0, SERVER, 80, &client);
        } else {
            for (int h = SERVER; h <= SERVER2; h += 2) {
                ts_sock c;
                int n = 0;
                l.index = (uint32_t)v[h - 1];
                l.gen = (uint32_t)v[h];
                while (ts_accept(scn_stack(s, h), l, &c, NULL) == 0)
                    n++;
                ts_sim_note(ts_scn_sim(s), h, "accept() x %d", n);
            }
        }
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, SERVER, TS_TH_SYN | TS_TH_ACK, "10 110 110 1110 2510 3110");
        scn_expect_state_ms(s, SERVER, TS_ESTABLISHED, "30 130 2530 3130");
        scn_expect_counter(s, SERVER, "TcpExtListenOverflows", 4);
        scn_expect_counter(s, SERVER, "TcpExtListenDrops", 4);
        scn_expect_counter(s, SERVER, "TcpPassiveOpens", 4);
        scn_expect_tx_ms(s, SERVER2, TS_TH_RST, "130");
        scn_expect_state_ms(s, SERVER2, TS_ESTABLISHED, "30 130");
        scn_expect_counter(s, SERVER2, "TcpExtListenOverflows", 1);
        scn_expect_counter(s, SERVER2, "TcpExtListenDrops", 1);
        scn_expect_counter(s, SERVER2, "TcpExtEmbryonicRsts", 1);
        scn_expect_counter(s, SERVER2, "TcpAttemptFails", 0);
        scn_expect_state_ms(s, CLIENT2, TS_CLOSE, "140");
        scn_expect_err(s, scn_nth_peer(s, CLIENT2, 2), TS_ECONNRESET);
        break;
    default:
        break;
    }
}

/* RFC 5961 as Linux does it, against a blind attacker who injects RSTs and
 * SYNs into an established connection (the server's side) from 1 s on: an
 * in-window RST that is not exact gets a challenge ACK; another 0.1 s
 * later does not (one per tcp_invalid_ratelimit = 500 ms per connection,
 * TCPACKSkippedChallenge), nor does a SYN 0.2 s later; a RST out of the
 * window is dropped silently; a SYN at 1.6 s gets the next challenge ACK
 * (TCPSYNChallenge). The connection is still ESTABLISHED at 2 s; the exact
 * RST at 3 s finally resets it. */
void scn_challenge_ack(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh plain = { .close = SCN_CLOSE_NEVER };
    static const struct { uint64_t at_ms; uint8_t flags; uint32_t off; } atk[] = {
        { 1000, TS_TH_RST, 1000 }, { 1100, TS_TH_RST, 2000 }, { 1200, TS_TH_SYN, 3000 },
        { 1300, TS_TH_RST, 1000000 }, { 1600, TS_TH_SYN, 4000 }, { 3000, TS_TH_RST, 0 },
    };
    ts_info i;
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &plain, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &plain);
        for (int k = 0; k < 6; k++)
            scn_timer(s, atk[k].at_ms * MS, SCN_SERVER, k);
        scn_timer(s, 2 * SEC, SCN_SERVER, 6);
        break;
    case TS_SCN_TIMER:
        i = info_of(s, SCN_SERVER, 0);
        if (ev->timer == 6) {
            scn_expect(s, i.state == TS_ESTABLISHED, "server: %s at 2 s, expected ESTABLISHED",
                       ts_state_name(i.state));
            break;
        }
        inject(s, SCN_SERVER, &i.tuple, atk[ev->timer].flags, i.rcv_nxt + atk[ev->timer].off);
        break;
    case TS_SCN_END:
        scn_expect_tx_ms(s, SCN_SERVER, TS_TH_ACK, "1000 1600");
        scn_expect_state_ms(s, SCN_SERVER, TS_CLOSE, "3000");
        scn_expect_err(s, scn_nth_peer(s, SCN_SERVER, 0), TS_ECONNRESET);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTCPChallengeACK", 2);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTCPSYNChallenge", 2);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTCPACKSkippedChallenge", 2);
        scn_expect_counter(s, SCN_SERVER, "TcpEstabResets", 1);
        break;
    default:
        break;
    }
}
