/*
 * replay.h — re-running a record (record.h) on a fresh simulated stack and
 * checking that it does what the recorded stack did.
 *
 * The replayer builds a stack from the recorded settings and addresses,
 * then makes every recorded call at its recorded stack time: each datagram
 * in, each ts_stack_output(), each ts_stack_advance(), each application
 * call with its recorded arguments and data. Its hooks give back the
 * recorded ISNs, port offsets and timestamp offsets. After every call it
 * compares: the call's result (and a returned socket, peer, or a hash of
 * the bytes read), the datagram produced (byte for byte), the hook values
 * asked for (kind and 4-tuple), and the transitions made (connection,
 * states, cause, 4-tuple, time). The first difference stops the replay.
 */
#ifndef TS_DRV_REPLAY_H
#define TS_DRV_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "drv/ladder.h"
#include "drv/record.h"

enum ts_replay_result {
    TS_REPLAY_SAME = 0,    /* everything reproduced */
    TS_REPLAY_DIFFERS = 1, /* msg: the first difference */
    TS_REPLAY_BAD_FILE = 2 /* msg: why the record cannot be replayed */
};

typedef struct ts_replay_opts {
    /* The replayed stack's segments and transitions as trace events (host
     * 0 is the recorded stack), in time order; NULL: none. */
    void (*on_event)(void *user, const ts_trace_ev *ev);
    void *event_user;
} ts_replay_opts;

typedef struct ts_replay_stats {
    uint64_t records, inputs, outputs, datagrams_out, advances, calls, hooks, transitions;
    uint64_t t_end_us;  /* time of the last record */
    uint32_t addr;      /* the stack's first address (0: none recorded) */
} ts_replay_stats;

/* Replays everything r still holds. Returns enum ts_replay_result; for
 * DIFFERS and BAD_FILE, msg holds one or more lines saying where (record
 * number, byte offset, stack time) and what. st may be NULL. */
int ts_replay(ts_rec_reader *r, const ts_replay_opts *o, ts_replay_stats *st,
              char *msg, size_t msglen);

#endif
