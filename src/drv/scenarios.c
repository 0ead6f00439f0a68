/*
 * scenarios.c — the named simulations: one function each and one row in
 * the table at the end (scenarios.h explains the events and the kit).
 *
 * Hosts are "client" (192.0.2.1) and "server" (192.0.2.2) unless a
 * scenario declares others; links have a 10 ms one-way delay and no loss
 * unless it says otherwise. Each scenario ends by checking what must have
 * happened: the states each side went through (as Linux goes through
 * them; see LINUX_BEHAVIOUR.md), the errors the application saw, the
 * bytes that arrived, and that nothing is left behind.
 *
 * To add one: write `static void scn_NAME(ts_scn *s, const ts_scn_ev *ev)`
 * and add `{ "NAME", "one line", scn_NAME }` to the table.
 */
#include "drv/scenarios.h"
#include "drv/scn_limits.h"

#include <string.h>

#define MS 1000ull
#define SEC 1000000ull

/* Client first: SYN_SENT, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT for
 * 60 s; the server's side CLOSE_WAIT, LAST_ACK. The server takes 50 ms
 * after reading the client's FIN before it closes, as a program finishing
 * its work would: closing at once would send its FIN with the ACK of the
 * client's FIN (Linux delays that ACK), and the client would go straight
 * from FIN_WAIT_1 to TIME_WAIT. */
static void scn_lifecycle(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 1000, .send_after = 100, .expect = 100,
                                    .close = SCN_CLOSE_ON_EOF, .close_delay_us = 50 * MS };
    static const scn_beh client = { .send = 100, .expect = 1000, .close = SCN_CLOSE_AFTER_IO };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        break;
    case TS_SCN_END:
        scn_expect_path(s, SCN_CLIENT,
                        "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
        scn_expect_path(s, SCN_SERVER,
                        "LISTEN SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
        scn_expect_path(s, SCN_SERVER, "CLOSED LISTEN CLOSED");
        scn_expect_io(s);
        scn_expect_gone(s);
        scn_expect_counter(s, SCN_CLIENT, "TcpActiveOpens", 1);
        scn_expect_counter(s, SCN_SERVER, "TcpPassiveOpens", 1);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTW", 1);
        break;
    default:
        break;
    }
}

/* The server closes first, so it is the one in TIME_WAIT. */
static void scn_server_close(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 1000, .send_after = 100, .expect = 100,
                                    .close = SCN_CLOSE_AFTER_IO };
    static const scn_beh client = { .send = 100, .expect = 1000, .close = SCN_CLOSE_ON_EOF,
                                    .close_delay_us = 50 * MS };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        break;
    case TS_SCN_END:
        scn_expect_path(s, SCN_SERVER,
                        "LISTEN SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
        scn_expect_path(s, SCN_CLIENT,
                        "CLOSED SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
        scn_expect_io(s);
        scn_expect_gone(s);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTW", 1);
        break;
    default:
        break;
    }
}

/* Both hosts bind a fixed port and connect to each other at t=0: the SYNs
 * cross, each SYN_SENT side answers SYN,ACK and goes SYN_RECEIVED (RFC 9293
 * §3.5 figure 8), then ESTABLISHED. Each sends 100 bytes; the client
 * closes first. */
static void scn_simultaneous_open(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh first = { .send = 100, .expect = 100, .close = SCN_CLOSE_AFTER_IO };
    static const scn_beh second = { .send = 100, .expect = 100, .close = SCN_CLOSE_ON_EOF,
                                    .close_delay_us = 50 * MS };
    static const char *const path =
        "CLOSED SYN_SENT SYN_RECEIVED ESTABLISHED";
    char want[160];
    switch (ev->kind) {
    case TS_SCN_START:
        scn_connect(s, SCN_CLIENT, 5000, SCN_SERVER, 6000, &first);
        scn_connect(s, SCN_SERVER, 6000, SCN_CLIENT, 5000, &second);
        break;
    case TS_SCN_END:
        snprintf(want, sizeof want, "%s FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED", path);
        scn_expect_path(s, SCN_CLIENT, want);
        snprintf(want, sizeof want, "%s CLOSE_WAIT LAST_ACK CLOSED", path);
        scn_expect_path(s, SCN_SERVER, want);
        scn_expect_io(s);
        scn_expect_gone(s);
        scn_expect_counter(s, SCN_CLIENT, "TcpActiveOpens", 1);
        scn_expect_counter(s, SCN_SERVER, "TcpActiveOpens", 1);
        break;
    default:
        break;
    }
}

/* Both applications call close() at the same instant, 1 s after the data
 * went both ways: the FINs cross, each side is in FIN_WAIT_1 when the
 * other's FIN arrives (CLOSING), then its own FIN is ACKed (TIME_WAIT).
 * Both sides wait out TIME_WAIT. */
static void scn_simultaneous_close(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 100, .expect = 100 };
    static const scn_beh client = { .send = 100, .expect = 100 };
    int *armed = &scn_vars(s)[0];
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        break;
    case TS_SCN_READY:
        if (!*armed && scn_nth_peer(s, SCN_SERVER, 0) >= 0 && scn_io_done(s)) {
            *armed = 1;
            scn_timer(s, scn_now(s) + 1 * SEC, SCN_CLIENT, 0);
        }
        break;
    case TS_SCN_TIMER:
        scn_close_host(s, SCN_CLIENT);
        scn_close_host(s, SCN_SERVER);
        break;
    case TS_SCN_END:
        scn_expect_path(s, SCN_CLIENT,
                        "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT CLOSED");
        scn_expect_path(s, SCN_SERVER,
                        "LISTEN SYN_RECEIVED ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT CLOSED");
        scn_expect_io(s);
        scn_expect_gone(s);
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTW", 1);
        scn_expect_counter(s, SCN_SERVER, "TcpExtTW", 1);
        break;
    default:
        break;
    }
}

/* A SYN to a port nobody listens on: the server's stack answers RST,ACK
 * (ack = SYN's seq + 1) and connect() fails with ECONNREFUSED. */
static void scn_refused(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh client = { .close = SCN_CLOSE_AFTER_IO };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 81, &client);
        break;
    case TS_SCN_END:
        scn_expect_err(s, scn_nth_peer(s, SCN_CLIENT, 0), TS_ECONNREFUSED);
        scn_expect_path(s, SCN_CLIENT, "CLOSED SYN_SENT CLOSED");
        scn_expect_gone(s);
        scn_expect_counter(s, SCN_CLIENT, "TcpAttemptFails", 1);
        if (scn_perfect(s)) /* a lost RST means a retransmitted SYN, a second RST */
            scn_expect_counter(s, SCN_SERVER, "TcpOutRsts", 1);
        break;
    default:
        break;
    }
}

/* The server answers at once with 1000 bytes; the client closes without
 * reading them. Linux then sends RST instead of FIN (RFC 2525 §2.17,
 * TCPAbortOnClose) and the connection is gone at once on both sides: the
 * server's next read gives ECONNRESET. */
static void scn_reset_unread(ts_scn *s, const ts_scn_ev *ev)
{
    static const scn_beh server = { .send = 1000, .close = SCN_CLOSE_ON_EOF };
    static const scn_beh client = { .close = SCN_CLOSE_UNREAD };
    switch (ev->kind) {
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        break;
    case TS_SCN_END:
        scn_expect_path(s, SCN_CLIENT, "CLOSED SYN_SENT ESTABLISHED CLOSED");
        scn_expect_path(s, SCN_SERVER, "LISTEN SYN_RECEIVED ESTABLISHED CLOSED");
        scn_expect_counter(s, SCN_CLIENT, "TcpExtTCPAbortOnClose", 1);
        if (!scn_perfect(s))
            break; /* a RST is sent once: lost, it leaves the server half-open */
        scn_expect_err(s, scn_nth_peer(s, SCN_SERVER, 0), TS_ECONNRESET);
        scn_expect_gone(s);
        scn_expect_counter(s, SCN_SERVER, "TcpEstabResets", 1);
        break;
    default:
        break;
    }
}

/* The lifecycle with 1 MiB each way, both directions at once, over links
 * that lose 20 %, duplicate 5 % and reorder 10 % of the datagrams, with
 * jitter: every byte must arrive, in order, exactly once. */
static void scn_lossy(ts_scn *s, const ts_scn_ev *ev)
{
    enum { MIB = 1 << 20 };
    static const scn_beh server = { .send = MIB, .expect = MIB, .close = SCN_CLOSE_ON_EOF };
    static const scn_beh client = { .send = MIB, .expect = MIB, .close = SCN_CLOSE_AFTER_IO };
    switch (ev->kind) {
    case TS_SCN_SETUP:
        scn_link(s)->loss = 0.20;
        scn_link(s)->dup = 0.05;
        scn_link(s)->reorder = 0.10;
        scn_link(s)->jitter_us = 5 * MS;
        break;
    case TS_SCN_START:
        scn_listen(s, SCN_SERVER, 80, &server, 1);
        scn_connect(s, SCN_CLIENT, 0, SCN_SERVER, 80, &client);
        break;
    case TS_SCN_END:
        scn_expect_io(s);
        scn_expect_gone(s);
        scn_expect_counter(s, SCN_CLIENT, "TcpActiveOpens", 1);
        break;
    default:
        break;
    }
}

static const ts_scenario table[] = {
    { "lifecycle",
      "client connects, sends 100 B, gets 1000 B, closes first; TIME_WAIT ends 60 s later",
      scn_lifecycle },
    { "server-close",
      "the same exchange, but the server closes first and waits in TIME_WAIT",
      scn_server_close },
    { "simultaneous-open",
      "both hosts connect to each other at the same instant: SYN_SENT -> SYN_RECEIVED",
      scn_simultaneous_open },
    { "simultaneous-close",
      "both applications close at the same instant: FIN_WAIT_1 -> CLOSING -> TIME_WAIT",
      scn_simultaneous_close },
    { "refused",
      "SYN to a port with no listener: RST, connect() fails with ECONNREFUSED",
      scn_refused },
    { "reset-unread",
      "client closes with unread data: RST instead of FIN, server reads ECONNRESET",
      scn_reset_unread },
    { "lossy",
      "1 MiB each way under 20% loss, duplication and reordering, checked byte for byte",
      scn_lossy },
    { "syn-timeout",
      "no answer to SYN: 11 SYNs, ETIMEDOUT at 131 s (127 s without linear timeouts, 7 s with TCP_SYNCNT 2)",
      scn_syn_timeout },
    { "synack-timeout",
      "the final ACK never comes: SYN-ACKs at 0, 1, 3, 7, 15, 31 s, request dropped at 63 s",
      scn_synack_timeout },
    { "keepalive-dead-peer",
      "SO_KEEPALIVE, peer gone: probes from 7200 s every 75 s, ETIMEDOUT 7875 s after the last segment",
      scn_keepalive_dead_peer },
    { "keepalive-alive",
      "SO_KEEPALIVE, peer alive: every answered probe restarts the 7200 s, the connection lives all day",
      scn_keepalive_alive },
    { "keepalive-reset",
      "SO_KEEPALIVE, peer lost the connection: the first probe gets RST, ECONNRESET",
      scn_keepalive_reset },
    { "retries-timeout",
      "data never ACKed: 15 retransmissions, ETIMEDOUT at 947 s (tcp_retries2); TCP_USER_TIMEOUT 10 s",
      scn_retries_timeout },
    { "fin-wait-2-timeout",
      "orphan in FIN_WAIT_2 gone 60 s after entering it (tcp_fin_timeout); after shutdown it waits",
      scn_fin_wait_2_timeout },
    { "fin-wait-1-orphan",
      "peer gone: FIN_WAIT_1 and LAST_ACK orphans retransmit their FIN, give up at 114 s (orphan retries)",
      scn_fin_wait_1_orphan },
    { "last-ack-retrans",
      "the final ACK is lost: LAST_ACK retransmits its FIN with backoff until it is ACKed",
      scn_last_ack_retrans },
    { "time-wait",
      "TIME_WAIT 60 s; a retransmitted FIN restarts it; an exact RST ends it unless tcp_rfc1337",
      scn_time_wait },
    { "time-wait-reopen",
      "a new SYN reopens the server's TIME_WAIT 4-tuple with ISN = old snd_nxt + 65537",
      scn_time_wait_reopen },
    { "tw-reuse",
      "every local port in TIME_WAIT: EADDRNOTAVAIL, unless tcp_tw_reuse=1 and 1 s have passed",
      scn_tw_reuse },
    { "tw-overflow",
      "tcp_max_tw_buckets = 2, four closes: two connections destroyed (TCPTimeWaitOverflow)",
      scn_tw_overflow },
    { "orphan-limit",
      "tcp_max_orphans = 2, four closes: two reset (TCPAbortOnMemory); data to an orphan: RST",
      scn_orphan_limit },
    { "close-wait-leak",
      "the application never closes: CLOSE_WAIT for a whole day, no timer",
      scn_close_wait_leak },
    { "linger-zero",
      "SO_LINGER {1, 0}: close() sends RST, no TIME_WAIT, the peer reads ECONNRESET",
      scn_linger_zero },
    { "listen-overflow",
      "accept queue full: final ACKs dropped and SYN-ACKs retransmitted, or RST (abort_on_overflow)",
      scn_listen_overflow },
    { "challenge-ack",
      "RFC 5961: injected RSTs and SYNs get challenge ACKs, one per 500 ms; only the exact RST resets",
      scn_challenge_ack },
};

const ts_scenario *ts_scenario_at(size_t i)
{
    return i < sizeof table / sizeof table[0] ? &table[i] : NULL;
}

const ts_scenario *ts_scenario_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}
