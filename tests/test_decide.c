/*
 * test_decide.c — the decision tables (DESIGN.md rule 2: decide, then
 * apply). Each of ts_listen_decide, ts_synsent_decide, ts_req_decide and
 * ts_tw_decide reads its object through a const pointer and returns a
 * disposition; here a fixed object meets a table of segments, one row per
 * case, and each row names the disposition it must get. The rows cite the
 * rule they pin (RFC 9293 §3.10.7, Linux tcp_rcv_state_process /
 * tcp_rcv_synsent_state_process / tcp_check_req /
 * tcp_timewait_state_process).
 */
#include "fixture.h"
#include "core/internal.h"

/* A segment from the peer (absolute numbers: the objects below are built
 * by hand with round ISNs). */
typedef struct row {
    int line;
    uint8_t flags;
    uint32_t seq, ack, len;
    uint32_t tsval;   /* 0: no timestamp option */
    int setup;        /* a per-table variant of the object (0: as built) */
    int want;
} row;

#define ROW(fl, sq, ak, ln, ts, su, w) { __LINE__, (fl), (sq), (ak), (ln), (ts), (su), (w) }

static ts_seg seg_of(const row *r)
{
    static const uint8_t zeros[64];
    ts_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = FX_PEER;
    g.dst_ip = FX_LOCAL;
    g.src_port = 40000;
    g.dst_port = 8080;
    g.flags = r->flags;
    g.seq = r->seq;
    g.ack = r->ack;
    g.len = r->len;
    g.data = zeros;
    g.win = 1000;
    if (r->tsval) {
        g.opt_present |= TS_OPT_TS;
        g.tsval = r->tsval;
    }
    return g;
}

static int report(const char *table, const row *r, int got)
{
    if (got == r->want)
        return 0;
    th_fail(__FILE__, r->line, "%s: got disposition %d, want %d", table, got, r->want);
    return 1;
}

/* ---- LISTEN ------------------------------------------------------------- */

enum { L_AS_BUILT, L_QUEUE_AT_BACKLOG, L_QUEUE_OVER, L_REQS_FULL };

TS_TEST(decide_listen_table)
{
    static const row rows[] = {
        /* §3.10.7.2 first: a RST is ignored, whatever else it has */
        ROW(R, 1, 0, 0, 0, 0, TS_LD_IGNORE_RST),
        ROW(R | A, 1, 5, 0, 0, 0, TS_LD_IGNORE_RST),
        ROW(R | S, 1, 0, 0, 0, 0, TS_LD_IGNORE_RST),
        /* second: any ACK gets <SEQ=SEG.ACK><CTL=RST> */
        ROW(A, 1, 5, 0, 0, 0, TS_LD_SEND_RST),
        ROW(S | A, 1, 5, 0, 0, 0, TS_LD_SEND_RST),
        ROW(F | A, 1, 5, 0, 0, 0, TS_LD_SEND_RST),
        ROW(A | P, 1, 5, 100, 0, 0, TS_LD_SEND_RST),
        /* third: a SYN opens a request; SYN+FIN is dropped (Linux) */
        ROW(S, 1, 0, 0, 0, 0, TS_LD_NEW_REQUEST),
        ROW(S | TS_TH_ECE | TS_TH_CWR, 1, 0, 0, 0, 0, TS_LD_NEW_REQUEST),
        ROW(S, 1, 0, 20, 0, 0, TS_LD_NEW_REQUEST), /* data on a SYN: kept out */
        ROW(S | F, 1, 0, 0, 0, 0, TS_LD_NO_SYN),
        /* fourth: anything else is dropped */
        ROW(F, 1, 0, 0, 0, 0, TS_LD_NO_SYN),
        ROW(P, 1, 0, 10, 0, 0, TS_LD_NO_SYN),
        ROW(0, 1, 0, 0, 0, 0, TS_LD_NO_SYN),
        /* the limits: full means MORE children than the backlog */
        ROW(S, 1, 0, 0, 0, L_QUEUE_AT_BACKLOG, TS_LD_NEW_REQUEST),
        ROW(S, 1, 0, 0, 0, L_QUEUE_OVER, TS_LD_QUEUE_FULL),
        ROW(A, 1, 5, 0, 0, L_QUEUE_OVER, TS_LD_SEND_RST),
        /* more requests than the backlog: a SYN cookie (the fixture has a
         * cookie_hash; tests/test_syncookies.c covers cookies off) */
        ROW(S, 1, 0, 0, 0, L_REQS_FULL, TS_LD_COOKIE),
    };
    fx f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ts_conn l;
        ts_seg g = seg_of(&rows[i]);
        memset(&l, 0, sizeof l);
        l.c.kind = TS_K_FULL;
        l.c.state = TS_LISTEN;
        l.backlog = 1;
        if (rows[i].setup == L_QUEUE_AT_BACKLOG)
            l.acc_len = 1;
        if (rows[i].setup == L_QUEUE_OVER)
            l.acc_len = 2;
        if (rows[i].setup == L_REQS_FULL)
            l.req_count = (uint32_t)f.cfg.tcp_max_syn_backlog;
        if (report("LISTEN", &rows[i], ts_listen_decide(f.s, &l, &g)))
            return;
    }
    fx_free(&f);
}

/* ---- SYN_SENT ----------------------------------------------------------- */

enum { SS_AS_BUILT, SS_WRAPPED };

TS_TEST(decide_synsent_table)
{
    /* iss 1000 (snd_una 1000, snd_max 1001); wrapped: iss 0xffffffff */
    static const row rows[] = {
        /* §3.10.7.3 first: the ACK must acknowledge our SYN and nothing more */
        ROW(S | A, 7, 1001, 0, 0, 0, TS_SD_ESTABLISH),
        ROW(S | A, 7, 1000, 0, 0, 0, TS_SD_BAD_ACK),
        ROW(S | A, 7, 999, 0, 0, 0, TS_SD_BAD_ACK),
        ROW(S | A, 7, 1002, 0, 0, 0, TS_SD_BAD_ACK),
        ROW(A, 7, 5, 0, 0, 0, TS_SD_BAD_ACK),
        ROW(F | A, 7, 0x80001000u, 0, 0, 0, TS_SD_BAD_ACK),
        /* second: RST with an acceptable ACK refuses; without ACK, ignored */
        ROW(R | A, 7, 1001, 0, 0, 0, TS_SD_REFUSED),
        ROW(R | A, 7, 1000, 0, 0, 0, TS_SD_BAD_ACK),
        ROW(R, 7, 0, 0, 0, 0, TS_SD_IGNORE),
        ROW(R | S, 7, 0, 0, 0, 0, TS_SD_IGNORE),
        /* fourth: a SYN alone is a simultaneous open */
        ROW(S, 7, 0, 0, 0, 0, TS_SD_SIMOPEN),
        ROW(S, 7, 0, 10, 0, 0, TS_SD_SIMOPEN),
        /* fifth: neither SYN nor RST: dropped */
        ROW(A, 7, 1001, 0, 0, 0, TS_SD_IGNORE),
        ROW(A | P, 7, 1001, 10, 0, 0, TS_SD_IGNORE),
        ROW(F, 7, 0, 0, 0, 0, TS_SD_IGNORE),
        ROW(0, 7, 0, 0, 0, 0, TS_SD_IGNORE),
        /* modular arithmetic across the wrap */
        ROW(S | A, 7, 0, 0, 0, SS_WRAPPED, TS_SD_ESTABLISH),
        ROW(S | A, 7, 0xffffffffu, 0, 0, SS_WRAPPED, TS_SD_BAD_ACK),
        ROW(S | A, 7, 1, 0, 0, SS_WRAPPED, TS_SD_BAD_ACK),
        ROW(R | A, 7, 0, 0, 0, SS_WRAPPED, TS_SD_REFUSED),
    };
    fx f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ts_conn c;
        ts_seg g = seg_of(&rows[i]);
        uint32_t iss = rows[i].setup == SS_WRAPPED ? 0xffffffffu : 1000u;
        memset(&c, 0, sizeof c);
        c.c.kind = TS_K_FULL;
        c.c.state = TS_SYN_SENT;
        c.iss = c.snd_una = iss;
        c.snd_nxt = c.snd_max = iss + 1;
        if (report("SYN_SENT", &rows[i], ts_synsent_decide(f.s, &c, &g)))
            return;
    }
    fx_free(&f);
}

/* ---- SYN_RECEIVED request ------------------------------------------------ */

enum { RQ_AS_BUILT, RQ_LIMITED, RQ_QUEUE_FULL, RQ_QUEUE_FULL_ABORT, RQ_TS };

TS_TEST(decide_request_table)
{
    /* irs 5000 (rcv_nxt 5001), iss 9000; the SYN-ACK window is 64240 */
    static const row rows[] = {
        /* the SYN again: SYN-ACK, unless one went out within 500 ms */
        ROW(S, 5000, 0, 0, 0, 0, TS_RD_DUP_SYN),
        ROW(S, 5000, 0, 0, 0, RQ_LIMITED, TS_RD_DUP_SYN_LIMITED),
        /* an ACK must be iss + 1, else RST from the listener (even on a RST) */
        ROW(A, 5001, 9002, 0, 0, 0, TS_RD_BAD_ACK_RST),
        ROW(A, 5001, 9000, 0, 0, 0, TS_RD_BAD_ACK_RST),
        ROW(R | A, 5001, 5, 0, 0, 0, TS_RD_BAD_ACK_RST),
        ROW(S | A, 5000, 1, 0, 0, 0, TS_RD_BAD_ACK_RST),
        /* out of window: ACK (rate-limited unless data), never for a RST */
        ROW(A, 5001 + 100000, 9001, 0, 0, 0, TS_RD_OUT_OF_WINDOW),
        ROW(A, 5001 + 100000, 9001, 0, 0, RQ_LIMITED, TS_RD_OOW_LIMITED),
        ROW(A, 5001 + 100000, 9001, 10, 0, RQ_LIMITED, TS_RD_OUT_OF_WINDOW),
        ROW(A, 4000, 9001, 0, 0, 0, TS_RD_OUT_OF_WINDOW),
        ROW(R, 5001 + 100000, 0, 0, 0, RQ_LIMITED, TS_RD_OUT_OF_WINDOW),
        ROW(R, 5000, 0, 0, 0, 0, TS_RD_OUT_OF_WINDOW),
        ROW(S | A, 5000, 9001, 0, 0, 0, TS_RD_OUT_OF_WINDOW), /* our SYN-ACK echoed */
        /* in window: RST drops, a new SYN resets, no ACK drops */
        ROW(R, 5001, 0, 0, 0, 0, TS_RD_RST_DROP),
        ROW(R, 5001 + 60000, 0, 0, 0, 0, TS_RD_RST_DROP),
        ROW(S, 5010, 0, 0, 0, 0, TS_RD_SYN_RESET),
        ROW(S | A, 5010, 9001, 0, 0, 0, TS_RD_SYN_RESET),
        ROW(P, 5001, 0, 10, 0, 0, TS_RD_NO_ACK),
        ROW(F, 5001, 0, 0, 0, 0, TS_RD_NO_ACK),
        /* the right ACK: a child, unless the accept queue is full */
        ROW(A, 5001, 9001, 0, 0, 0, TS_RD_CHILD),
        ROW(A | P, 5001, 9001, 100, 0, 0, TS_RD_CHILD),
        ROW(F | A, 5001, 9001, 0, 0, 0, TS_RD_CHILD),
        ROW(A, 5001, 9001, 0, 0, RQ_QUEUE_FULL, TS_RD_OVERFLOW),
        ROW(A, 5001, 9001, 0, 0, RQ_QUEUE_FULL_ABORT, TS_RD_OVERFLOW_RST),
        /* PAWS against the SYN's TSval (1000), a RST included; the ACK
         * check comes first */
        ROW(A, 5001, 9001, 0, 1000, RQ_TS, TS_RD_CHILD),
        ROW(A, 5001, 9001, 0, 999, RQ_TS, TS_RD_OUT_OF_WINDOW),
        ROW(R, 5001, 0, 0, 999, RQ_TS, TS_RD_OUT_OF_WINDOW),
        ROW(S, 5000, 0, 0, 999, RQ_TS, TS_RD_OUT_OF_WINDOW),
        ROW(A, 5001, 9002, 0, 999, RQ_TS, TS_RD_BAD_ACK_RST),
        ROW(A, 5001, 9001, 0, 999, 0, TS_RD_CHILD), /* no timestamps agreed */
    };
    fx f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ts_conn l;
        ts_req r;
        ts_seg g = seg_of(&rows[i]);
        memset(&l, 0, sizeof l);
        memset(&r, 0, sizeof r);
        l.c.state = TS_LISTEN;
        l.backlog = 1;
        r.c.kind = TS_K_REQ;
        r.c.state = TS_NEW_SYN_RECV;
        r.listener = &l;
        r.irs = 5000;
        r.iss = 9000;
        f.now += 1000000; /* rate limits never carry over between rows */
        ts_stack_advance(f.s, f.now);
        if (rows[i].setup == RQ_LIMITED)
            r.last_dup = f.now + 1 - 100000; /* a reply 100 ms ago */
        if (rows[i].setup == RQ_QUEUE_FULL || rows[i].setup == RQ_QUEUE_FULL_ABORT)
            l.acc_len = 2;
        if (rows[i].setup == RQ_TS) {
            r.opts |= TS_OPT_TS;
            r.ts_recent = 1000;
        }
        CHECK_EQ(ts_stack_sysctl(f.s, "tcp_abort_on_overflow",
                                 rows[i].setup == RQ_QUEUE_FULL_ABORT ? "1" : "0", NULL, 0), 0);
        if (report("SYN_RECEIVED", &rows[i], ts_req_decide(f.s, &r, &g)))
            return;
    }
    fx_free(&f);
}

/* ---- TIME_WAIT and the FIN_WAIT_2 minisocket ------------------------------ */

enum { TW_AS_BUILT, TW_LIMITED, TW_RFC1337, TW_FW2, TW_FW2_LIMITED };

TS_TEST(decide_timewait_table)
{
    /* rcv_nxt 7000, snd_nxt 3000, window 1000, timestamps on, ts_recent 5000 */
    static const row rows[] = {
        /* the exact next bare segment is absorbed and restarts the 60 s
         * (tests/pkt/time_wait_exact_ack_restarts_timer.pkt); a RST there
         * kills */
        ROW(A, 7000, 3000, 0, 0, 0, TS_TWD_ABSORB_RESTART),
        ROW(A, 7000, 3000, 0, 6000, 0, TS_TWD_ABSORB_RESTART),
        ROW(R, 7000, 0, 0, 0, 0, TS_TWD_KILL),
        ROW(R | A, 7000, 3000, 0, 0, 0, TS_TWD_KILL),
        ROW(R, 7000, 0, 0, 0, TW_RFC1337, TS_TWD_ABSORB),
        ROW(R, 7001, 0, 0, 0, 0, TS_TWD_ABSORB),
        ROW(R, 6999, 0, 0, 0, 0, TS_TWD_ABSORB),
        /* a retransmitted FIN: ACK and restart, never rate-limited */
        ROW(F | A, 6999, 3000, 0, 0, 0, TS_TWD_ACK_RESTART),
        ROW(F | A, 6999, 3000, 0, 0, TW_LIMITED, TS_TWD_ACK_RESTART),
        /* an old ACK: ACK (rate-limited) and, like anything with the ACK
         * flag, restart (tests/pkt/time_wait_old_ack_restarts_timer.pkt);
         * an ACK-less old SYN: ACK, no restart */
        ROW(A, 6000, 3000, 0, 0, 0, TS_TWD_ACK_RESTART),
        ROW(A, 6000, 3000, 0, 0, TW_LIMITED, TS_TWD_LIMITED_RESTART),
        ROW(A | P, 6000, 3000, 10, 0, TW_LIMITED, TS_TWD_ACK_RESTART),
        ROW(F, 6999, 0, 0, 0, 0, TS_TWD_ACK),
        ROW(S, 6000, 0, 0, 0, 0, TS_TWD_ACK),
        ROW(S, 7000, 0, 0, 0, 0, TS_TWD_ACK),
        ROW(S, 6000, 0, 0, 0, TW_LIMITED, TS_TWD_LIMITED),
        /* a new SYN: higher seq, or a newer timestamp (and never PAWS-old) */
        ROW(S, 7001, 0, 0, 0, 0, TS_TWD_SYN),
        ROW(S, 0x80000000u, 0, 0, 0, 0, TS_TWD_SYN),
        ROW(S, 6000, 0, 0, 6000, 0, TS_TWD_SYN),
        ROW(S, 8000, 0, 0, 4000, 0, TS_TWD_ACK_RESTART),
        ROW(S | A, 8000, 3000, 0, 0, 0, TS_TWD_ACK_RESTART),
        ROW(S | R, 8000, 0, 0, 0, 0, TS_TWD_ABSORB),
        /* PAWS: an old timestamp makes even the exact next ACK a dupack */
        ROW(A, 7000, 3000, 0, 4000, 0, TS_TWD_ACK_RESTART),
        /* FIN_WAIT_2 substate */
        ROW(A, 7000, 3000, 0, 0, TW_FW2, TS_TWD_ABSORB),
        ROW(A, 7500, 3000, 0, 0, TW_FW2, TS_TWD_ABSORB),
        ROW(A, 900000, 3000, 0, 0, TW_FW2, TS_TWD_ACK),
        ROW(A, 900000, 3000, 0, 0, TW_FW2_LIMITED, TS_TWD_LIMITED),
        ROW(R, 900000, 0, 0, 0, TW_FW2, TS_TWD_ACK),
        ROW(R, 7000, 0, 0, 0, TW_FW2, TS_TWD_KILL),
        ROW(R, 7500, 0, 0, 0, TW_FW2, TS_TWD_KILL),
        ROW(S, 7000, 0, 0, 0, TW_FW2, TS_TWD_RST),
        ROW(S, 6999, 0, 0, 0, TW_FW2, TS_TWD_ACK),
        ROW(A | P, 7000, 3000, 10, 0, TW_FW2, TS_TWD_RST),
        ROW(P, 7000, 0, 10, 0, TW_FW2, TS_TWD_ABSORB),
        ROW(F | A, 7000, 3000, 0, 0, TW_FW2, TS_TWD_FIN),
        ROW(F | A, 7000, 3000, 0, 0, TW_FW2_LIMITED, TS_TWD_FIN),
        ROW(F | A, 7000, 3000, 10, 0, TW_FW2, TS_TWD_RST),
        ROW(F | A, 7005, 3000, 0, 0, TW_FW2, TS_TWD_RST),
        ROW(F | A, 7000, 3000, 0, 4000, TW_FW2, TS_TWD_ACK),
    };
    fx f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ts_tw tw;
        ts_seg g = seg_of(&rows[i]);
        int su = rows[i].setup;
        memset(&tw, 0, sizeof tw);
        tw.c.kind = TS_K_TW;
        tw.c.state = (su == TW_FW2 || su == TW_FW2_LIMITED) ? TS_FIN_WAIT2 : TS_TIME_WAIT;
        tw.rcv_nxt = 7000;
        tw.snd_nxt = 3000;
        tw.rcv_win = 1000;
        tw.ts_ok = 1;
        tw.ts_recent = 5000;
        f.now += 1000000;
        ts_stack_advance(f.s, f.now);
        if (su == TW_LIMITED || su == TW_FW2_LIMITED)
            tw.last_oow_ack_ms = (uint32_t)(f.now / 1000u) + 1 - 100; /* 100 ms ago */
        CHECK_EQ(ts_stack_sysctl(f.s, "tcp_rfc1337", su == TW_RFC1337 ? "1" : "0", NULL, 0), 0);
        if (report(tw.c.state == TS_TIME_WAIT ? "TIME_WAIT" : "FIN_WAIT_2", &rows[i],
                   ts_tw_decide(f.s, &tw, &g)))
            return;
    }
    fx_free(&f);
}
