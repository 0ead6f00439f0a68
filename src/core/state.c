/*
 * state.c — the states, the transition table, the (state x call) table and
 * ts_set_state(), the only writer of a connection's state.
 *
 * Owns: state names (Linux's numbers, RFC 9293's names), transition causes,
 * drop reason names, and the two tables below. Both are data: `tcpstate
 * diagram` draws the transition table, the socket calls in api.c take their
 * answers from the call table.
 *
 * Invariant: every state change goes through ts_set_state(), which checks it
 * against the transition table (a missing row is a bug: in check builds it
 * aborts, so the fuzzer and the tests find it), counts it, keeps CurrEstab
 * and queues the on_transition hook.
 *
 * The (state x call) table — what the socket calls do in each state when no
 * error is pending (a pending error, SO_ERROR, is reported first, once):
 *
 *   state         send        recv         shutdown(WR)   close
 *   CLOSED        EPIPE       ENOTCONN/0   ENOTCONN       free
 *   LISTEN        EPIPE       ENOTCONN     0, no-op (RD: closes listener)  reset requests, free
 *   SYN_SENT      EAGAIN      EAGAIN       -> CLOSED      -> CLOSED, nothing sent
 *   SYN_RECEIVED  EAGAIN      EAGAIN       FIN deferred   -> FIN_WAIT_1 (FIN)
 *   ESTABLISHED   queue       read         -> FIN_WAIT_1  -> FIN_WAIT_1, RST if unread data
 *   FIN_WAIT_1    EPIPE       read         no-op          orphan
 *   FIN_WAIT_2    EPIPE       read         no-op          orphan (tcp_fin_timeout)
 *   CLOSE_WAIT    queue       0 (EOF)      -> LAST_ACK    -> LAST_ACK, RST if unread data
 *   CLOSING       EPIPE       0            no-op          orphan
 *   LAST_ACK      EPIPE       0            no-op          orphan
 *   TIME_WAIT     (the socket is CLOSED: a minisocket holds the 4-tuple)
 *
 * (Linux: tcp_sendmsg -> sk_stream_wait_connect gives EPIPE outside
 * SYN_SENT/SYN_RECV; tcp_recvmsg gives ENOTCONN in LISTEN and in a CLOSED
 * socket that never connected; inet_shutdown disconnects SYN_SENT;
 * tcp_shutdown leaves SYN_RECEIVED alone and the FIN follows the
 * handshake's completion, ESTABLISHED -> FIN_WAIT_1, measured on 6.18.)
 */
#include "internal.h"

#include <stdlib.h>

static const char *const state_names[TS_STATE_MAX] = {
    [0] = "CLOSED",
    [TS_ESTABLISHED] = "ESTABLISHED",
    [TS_SYN_SENT] = "SYN_SENT",
    [TS_SYN_RECV] = "SYN_RECEIVED",
    [TS_FIN_WAIT1] = "FIN_WAIT_1",
    [TS_FIN_WAIT2] = "FIN_WAIT_2",
    [TS_TIME_WAIT] = "TIME_WAIT",
    [TS_CLOSE] = "CLOSED",
    [TS_CLOSE_WAIT] = "CLOSE_WAIT",
    [TS_LAST_ACK] = "LAST_ACK",
    [TS_LISTEN] = "LISTEN",
    [TS_CLOSING] = "CLOSING",
    [TS_NEW_SYN_RECV] = "SYN_RECEIVED",
};

const char *ts_state_name(int state)
{
    if (state < 0 || state >= TS_STATE_MAX)
        return "UNKNOWN";
    return state_names[state];
}

int ts_state_public(int state)
{
    return state == TS_NEW_SYN_RECV ? TS_SYN_RECV : state;
}

static const char *const cause_names[TS_CAUSE_MAX] = {
    [TS_CAUSE_NONE] = "-",
    [TS_CAUSE_APP_LISTEN] = "app listen",
    [TS_CAUSE_APP_CONNECT] = "app connect",
    [TS_CAUSE_APP_CLOSE] = "app close",
    [TS_CAUSE_APP_SHUTDOWN] = "app shutdown",
    [TS_CAUSE_APP_ABORT] = "app abort",
    [TS_CAUSE_RCV_SYN] = "rcv SYN",
    [TS_CAUSE_RCV_SYNACK] = "rcv SYN+ACK",
    [TS_CAUSE_RCV_ACK] = "rcv ACK",
    [TS_CAUSE_RCV_FIN] = "rcv FIN",
    [TS_CAUSE_RCV_FINACK] = "rcv FIN+ACK",
    [TS_CAUSE_RCV_RST] = "rcv RST",
    [TS_CAUSE_RCV_DATA_CLOSED] = "rcv data after close",
    [TS_CAUSE_TIMER_SYN] = "timer SYN retries",
    [TS_CAUSE_TIMER_SYNACK] = "timer SYN-ACK retries",
    [TS_CAUSE_TIMER_RTO] = "timer RTO retries",
    [TS_CAUSE_TIMER_KEEPALIVE] = "timer keepalive",
    [TS_CAUSE_TIMER_FIN_WAIT2] = "timer FIN_WAIT_2",
    [TS_CAUSE_TIMER_2MSL] = "timer 2MSL",
    [TS_CAUSE_TIMER_ORPHAN] = "timer orphan retries",
    [TS_CAUSE_USER_TIMEOUT] = "timer user timeout",
    [TS_CAUSE_TW_REUSE] = "tw reuse",
    [TS_CAUSE_TW_REOPEN] = "rcv SYN in TIME_WAIT",
    [TS_CAUSE_TW_OVERFLOW] = "tw buckets full",
    [TS_CAUSE_ORPHAN_LIMIT] = "too many orphans",
    [TS_CAUSE_LISTEN_CLOSE] = "listener closed",
    [TS_CAUSE_LISTEN_OVERFLOW] = "accept queue full",
};

const char *ts_cause_name(int cause)
{
    if (cause < 0 || cause >= TS_CAUSE_MAX || !cause_names[cause])
        return "?";
    return cause_names[cause];
}

static const char *const drop_names[TS_DROP_MAX] = {
    [TS_DROP_NONE] = "NONE",
    [TS_DROP_TRUNCATED] = "TRUNCATED",
    [TS_DROP_IP_VERSION] = "IP_VERSION",
    [TS_DROP_IP_HDR] = "IP_HDR",
    [TS_DROP_IP_CSUM] = "IP_CSUM",
    [TS_DROP_IP_FRAGMENT] = "IP_FRAGMENT",
    [TS_DROP_IP_PROTO] = "IP_PROTO",
    [TS_DROP_IP_ADDR] = "IP_ADDR",
    [TS_DROP_TCP_HDR] = "TCP_HDR",
    [TS_DROP_TCP_CSUM] = "TCP_CSUM",
    [TS_DROP_TCP_OPT] = "TCP_OPT",
    [TS_DROP_TCP_FLAGS] = "TCP_FLAGS",
    [TS_DROP_NO_SOCKET] = "NO_SOCKET",
    [TS_DROP_OUT_OF_WINDOW] = "OUT_OF_WINDOW",
    [TS_DROP_PAWS] = "PAWS",
    [TS_DROP_BAD_ACK] = "BAD_ACK",
    [TS_DROP_RST_OUT_OF_WINDOW] = "RST_OUT_OF_WINDOW",
    [TS_DROP_RST_CHALLENGE] = "RST_CHALLENGE",
    [TS_DROP_SYN_CHALLENGE] = "SYN_CHALLENGE",
    [TS_DROP_NO_ACK] = "NO_ACK",
    [TS_DROP_LISTEN_OVERFLOW] = "LISTEN_OVERFLOW",
    [TS_DROP_SYN_BACKLOG] = "SYN_BACKLOG",
    [TS_DROP_ABORT_ON_DATA] = "ABORT_ON_DATA",
    [TS_DROP_OFO] = "OFO",
    [TS_DROP_RCVBUF] = "RCVBUF",
    [TS_DROP_TW] = "TIME_WAIT",
    [TS_DROP_INVALID_STATE] = "INVALID_STATE",
    [TS_DROP_NOMEM] = "NOMEM",
};

const char *ts_drop_reason_name(int reason)
{
    if (reason < 0 || reason >= TS_DROP_MAX || !drop_names[reason])
        return "?";
    return drop_names[reason];
}

/*
 * The transition table: RFC 9293 §3.3.2's figure plus the Linux edges
 * (timers, orphans, TIME_WAIT reuse). Rows with the same (from, to) differ
 * by cause. A request minisocket is born LISTEN -> SYN_RECEIVED and, if it
 * never completes, returns SYN_RECEIVED -> LISTEN (the RFC's edge), while
 * the listener itself stays in LISTEN.
 */
#define C TS_CLOSE
#define L TS_LISTEN
#define SS TS_SYN_SENT
#define SR TS_SYN_RECV
#define E TS_ESTABLISHED
#define F1 TS_FIN_WAIT1
#define F2 TS_FIN_WAIT2
#define CW TS_CLOSE_WAIT
#define CL TS_CLOSING
#define LA TS_LAST_ACK
#define TW TS_TIME_WAIT
static const ts_transition_row table[] = {
    { C, L, TS_CAUSE_APP_LISTEN, "app listen", "-" },
    { C, SS, TS_CAUSE_APP_CONNECT, "app connect", "snd SYN" },
    { L, SS, TS_CAUSE_APP_CONNECT, "app connect (RFC 9293; Linux refuses)", "snd SYN" },
    { L, SR, TS_CAUSE_RCV_SYN, "rcv SYN", "snd SYN,ACK" },
    { L, C, TS_CAUSE_APP_CLOSE, "app close", "snd RST to unaccepted children" },
    { L, C, TS_CAUSE_APP_SHUTDOWN, "app shutdown(SHUT_RD)", "-" },
    { SS, SR, TS_CAUSE_RCV_SYN, "rcv SYN (simultaneous open)", "snd SYN,ACK" },
    { SS, E, TS_CAUSE_RCV_SYNACK, "rcv SYN,ACK", "snd ACK" },
    { SS, C, TS_CAUSE_APP_CLOSE, "app close", "-" },
    { SS, C, TS_CAUSE_APP_SHUTDOWN, "app shutdown", "-" },
    { SS, C, TS_CAUSE_RCV_RST, "rcv RST,ACK", "ECONNREFUSED" },
    { SS, C, TS_CAUSE_TIMER_SYN, "timeout SYN retries", "ETIMEDOUT" },
    { SS, C, TS_CAUSE_USER_TIMEOUT, "timeout TCP_USER_TIMEOUT", "ETIMEDOUT" },
    { SR, E, TS_CAUSE_RCV_ACK, "rcv ACK of SYN", "-" },
    { SR, F1, TS_CAUSE_APP_CLOSE, "app close", "snd FIN" },
    { SR, L, TS_CAUSE_RCV_RST, "rcv RST (passive open)", "-" },
    { SR, L, TS_CAUSE_TIMER_SYNACK, "timeout SYN-ACK retries", "drop request" },
    { SR, L, TS_CAUSE_LISTEN_OVERFLOW, "rcv ACK, accept queue full, tcp_abort_on_overflow=1", "snd RST" },
    { SR, C, TS_CAUSE_LISTEN_CLOSE, "listener closed", "drop request" },
    { SR, C, TS_CAUSE_RCV_RST, "rcv RST (simultaneous open)", "ECONNRESET" },
    { SR, C, TS_CAUSE_TIMER_SYNACK, "timeout SYN-ACK retries (active open)", "ETIMEDOUT" },
    { SR, C, TS_CAUSE_APP_ABORT, "app abort", "snd RST" },
    { E, F1, TS_CAUSE_APP_CLOSE, "app close", "snd FIN" },
    { E, F1, TS_CAUSE_APP_SHUTDOWN, "app shutdown", "snd FIN" },
    { E, CW, TS_CAUSE_RCV_FIN, "rcv FIN", "snd ACK" },
    { E, C, TS_CAUSE_RCV_RST, "rcv RST", "ECONNRESET" },
    { E, C, TS_CAUSE_APP_ABORT, "app close with unread data / SO_LINGER 0", "snd RST" },
    { E, C, TS_CAUSE_TIMER_RTO, "timeout tcp_retries2", "ETIMEDOUT" },
    { E, C, TS_CAUSE_USER_TIMEOUT, "timeout TCP_USER_TIMEOUT", "ETIMEDOUT" },
    { E, C, TS_CAUSE_TIMER_KEEPALIVE, "timeout keepalive probes", "snd RST, ETIMEDOUT" },
    { F1, F2, TS_CAUSE_RCV_ACK, "rcv ACK of FIN", "-" },
    { F1, CL, TS_CAUSE_RCV_FIN, "rcv FIN", "snd ACK" },
    { F1, TW, TS_CAUSE_RCV_FINACK, "rcv FIN,ACK of FIN", "snd ACK" },
    { F1, C, TS_CAUSE_RCV_RST, "rcv RST", "ECONNRESET" },
    { F1, C, TS_CAUSE_APP_ABORT, "app abort", "snd RST" },
    { F1, C, TS_CAUSE_RCV_DATA_CLOSED, "rcv data after close", "snd RST" },
    { F1, C, TS_CAUSE_TIMER_ORPHAN, "timeout tcp_orphan_retries", "-" },
    { F1, C, TS_CAUSE_TIMER_RTO, "timeout tcp_retries2", "ETIMEDOUT" },
    { F1, C, TS_CAUSE_USER_TIMEOUT, "timeout TCP_USER_TIMEOUT", "ETIMEDOUT" },
    { F1, C, TS_CAUSE_ORPHAN_LIMIT, "too many orphans", "snd RST" },
    { F1, C, TS_CAUSE_TW_OVERFLOW, "rcv FIN,ACK, tw buckets full", "snd ACK" },
    { F2, TW, TS_CAUSE_RCV_FIN, "rcv FIN", "snd ACK" },
    { F2, C, TS_CAUSE_RCV_RST, "rcv RST", "ECONNRESET" },
    { F2, C, TS_CAUSE_APP_ABORT, "app abort", "snd RST" },
    { F2, C, TS_CAUSE_RCV_DATA_CLOSED, "rcv data after close", "snd RST" },
    { F2, C, TS_CAUSE_TIMER_FIN_WAIT2, "timeout tcp_fin_timeout", "-" },
    { F2, C, TS_CAUSE_ORPHAN_LIMIT, "TCP_LINGER2 < 0 / too many orphans", "snd RST" },
    { F2, C, TS_CAUSE_TW_OVERFLOW, "rcv FIN, tw buckets full", "snd ACK" },
    { F2, C, TS_CAUSE_TIMER_KEEPALIVE, "timeout keepalive probes", "snd RST, ETIMEDOUT" },
    { CW, LA, TS_CAUSE_APP_CLOSE, "app close", "snd FIN" },
    { CW, LA, TS_CAUSE_APP_SHUTDOWN, "app shutdown", "snd FIN" },
    { CW, C, TS_CAUSE_RCV_RST, "rcv RST", "EPIPE (Linux tcp_reset)" },
    { CW, C, TS_CAUSE_APP_ABORT, "app close with unread data / SO_LINGER 0", "snd RST" },
    { CW, C, TS_CAUSE_TIMER_RTO, "timeout tcp_retries2", "ETIMEDOUT" },
    { CW, C, TS_CAUSE_USER_TIMEOUT, "timeout TCP_USER_TIMEOUT", "ETIMEDOUT" },
    { CW, C, TS_CAUSE_TIMER_KEEPALIVE, "timeout keepalive probes", "snd RST, ETIMEDOUT" },
    { CL, TW, TS_CAUSE_RCV_ACK, "rcv ACK of FIN", "-" },
    { CL, C, TS_CAUSE_RCV_RST, "rcv RST", "ECONNRESET" },
    { CL, C, TS_CAUSE_APP_ABORT, "app abort", "- (RST only with unsent data)" },
    { CL, C, TS_CAUSE_TIMER_ORPHAN, "timeout tcp_orphan_retries", "-" },
    { CL, C, TS_CAUSE_TIMER_RTO, "timeout tcp_retries2", "ETIMEDOUT" },
    { CL, C, TS_CAUSE_USER_TIMEOUT, "timeout TCP_USER_TIMEOUT", "ETIMEDOUT" },
    { CL, C, TS_CAUSE_ORPHAN_LIMIT, "too many orphans", "snd RST" },
    { CL, C, TS_CAUSE_TW_OVERFLOW, "rcv ACK, tw buckets full", "-" },
    { LA, C, TS_CAUSE_RCV_ACK, "rcv ACK of FIN", "-" },
    { LA, C, TS_CAUSE_RCV_RST, "rcv RST", "ECONNRESET" },
    { LA, C, TS_CAUSE_APP_ABORT, "app abort", "- (RST only with unsent data)" },
    { LA, C, TS_CAUSE_TIMER_ORPHAN, "timeout tcp_orphan_retries", "-" },
    { LA, C, TS_CAUSE_TIMER_RTO, "timeout tcp_retries2", "ETIMEDOUT" },
    { LA, C, TS_CAUSE_USER_TIMEOUT, "timeout TCP_USER_TIMEOUT", "ETIMEDOUT" },
    { LA, C, TS_CAUSE_ORPHAN_LIMIT, "too many orphans", "snd RST" },
    { TW, C, TS_CAUSE_TIMER_2MSL, "timeout 2MSL (60 s)", "-" },
    { TW, C, TS_CAUSE_RCV_RST, "rcv RST (tcp_rfc1337=0)", "-" },
    { TW, C, TS_CAUSE_TW_REUSE, "app connect, tcp_tw_reuse", "-" },
    { TW, C, TS_CAUSE_TW_REOPEN, "rcv SYN, higher seq", "new request, ISN = snd_nxt + 65537" },
};
#undef C
#undef L
#undef SS
#undef SR
#undef E
#undef F1
#undef F2
#undef CW
#undef CL
#undef LA
#undef TW

const ts_transition_row *ts_transition_table(size_t *n)
{
    if (n)
        *n = sizeof table / sizeof table[0];
    return table;
}

int ts_transition_allowed(int from, int to, int cause)
{
    from = ts_state_public(from);
    to = ts_state_public(to);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].from == from && table[i].to == to && table[i].cause == cause)
            return 1;
    return 0;
}

static int is_estab_like(int st)
{
    return st == TS_ESTABLISHED || st == TS_CLOSE_WAIT;
}

/* Linux counts AttemptFails in tcp_done (a full SYN_SENT or SYN_RECV
 * socket reset or timed out) and in tcp_check_req (a RST or SYN hitting a
 * request); not when the application closes a connecting socket, nor
 * when a request's SYN-ACKs run out (both measured on Linux 6.18). */
static int attempt_failed(const ts_skc *k, int old, int new_state, int cause)
{
    if ((old != TS_SYN_SENT && ts_state_public(old) != TS_SYN_RECV) ||
        (new_state != TS_CLOSE && new_state != TS_LISTEN))
        return 0;
    if (k->kind == TS_K_REQ)
        return cause == TS_CAUSE_RCV_RST || cause == TS_CAUSE_RCV_SYN;
    return cause != TS_CAUSE_APP_CLOSE && cause != TS_CAUSE_APP_SHUTDOWN &&
           cause != TS_CAUSE_APP_ABORT;
}

/*
 * The one writer of state. Checks the row, counts it (Linux keeps
 * CurrEstab in tcp_set_state the same way), queues the hook. Returns
 * TS_SR_CLOSED when the object reached CLOSED and the caller must unhash
 * and free it (or keep the full socket for its handle).
 */
int ts_set_state(ts_stack *s, ts_skc *k, int new_state, int cause)
{
    int old = k->state;
    ts_sock h = { 0, 0 };

    if (!ts_transition_allowed(old, new_state, cause)) {
        ts_log(s, "BUG: transition %s -> %s (%s) is not in the table",
               ts_state_name(old), ts_state_name(new_state), ts_cause_name(cause));
#ifdef TS_CONN_CHECK
        abort();
#endif
    }
    if (is_estab_like(old) && !is_estab_like(new_state) && s->mib[TS_MIB_CurrEstab])
        s->mib[TS_MIB_CurrEstab]--;
    if (!is_estab_like(old) && is_estab_like(new_state))
        s->mib[TS_MIB_CurrEstab]++;
    /* Linux tcp_set_state: any ESTABLISHED/CLOSE_WAIT -> CLOSE, whatever
     * ended it (RST, timeout, keepalive, abortive close: measured) */
    if (new_state == TS_CLOSE && is_estab_like(old))
        TS_MIB_INC(s, TS_MIB_EstabResets);
    if (new_state == TS_SYN_SENT)
        TS_MIB_INC(s, TS_MIB_ActiveOpens);
    /* PassiveOpens: when the child is born (reqsk.c) */
    if (attempt_failed(k, old, new_state, cause))
        TS_MIB_INC(s, TS_MIB_AttemptFails);
    TS_MIB_INC(s, TS_MIB_TCPStateTransitions);

    k->state = (uint8_t)new_state;
    if (k->kind == TS_K_FULL)
        h = ((ts_conn *)k)->handle;
    ts_ev_transition(s, k, h, old, new_state, cause);
    return (new_state == TS_CLOSE || (new_state == TS_LISTEN && k->kind == TS_K_REQ))
               ? TS_SR_CLOSED : TS_SR_OK;
}
