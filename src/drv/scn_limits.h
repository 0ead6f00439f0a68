/*
 * scn_limits.h — the scenarios of Linux's timers, limits and tunables
 * (scn_limits.c), listed in the table of scenarios.c.
 */
#ifndef TS_DRV_SCN_LIMITS_H
#define TS_DRV_SCN_LIMITS_H

#include "drv/scenarios.h"

void scn_syn_timeout(ts_scn *s, const ts_scn_ev *ev);
void scn_synack_timeout(ts_scn *s, const ts_scn_ev *ev);
void scn_keepalive_dead_peer(ts_scn *s, const ts_scn_ev *ev);
void scn_keepalive_alive(ts_scn *s, const ts_scn_ev *ev);
void scn_keepalive_reset(ts_scn *s, const ts_scn_ev *ev);
void scn_retries_timeout(ts_scn *s, const ts_scn_ev *ev);
void scn_fin_wait_2_timeout(ts_scn *s, const ts_scn_ev *ev);
void scn_fin_wait_1_orphan(ts_scn *s, const ts_scn_ev *ev);
void scn_last_ack_retrans(ts_scn *s, const ts_scn_ev *ev);
void scn_time_wait(ts_scn *s, const ts_scn_ev *ev);
void scn_time_wait_reopen(ts_scn *s, const ts_scn_ev *ev);
void scn_tw_reuse(ts_scn *s, const ts_scn_ev *ev);
void scn_tw_overflow(ts_scn *s, const ts_scn_ev *ev);
void scn_orphan_limit(ts_scn *s, const ts_scn_ev *ev);
void scn_close_wait_leak(ts_scn *s, const ts_scn_ev *ev);
void scn_linger_zero(ts_scn *s, const ts_scn_ev *ev);
void scn_listen_overflow(ts_scn *s, const ts_scn_ev *ev);
void scn_challenge_ack(ts_scn *s, const ts_scn_ev *ev);

#endif
