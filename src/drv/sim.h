/*
 * sim.h — the deterministic simulator: several tcpstate stacks on a
 * virtual network with a virtual clock.
 *
 * Hosts are named ("client", "server") and numbered in the order added;
 * host i has the address 192.0.2.(i+1). Every direction between two hosts
 * is a link with its own delay, jitter, reordering, loss and duplication,
 * decided by its own seeded generator: the same seed gives the same run,
 * byte for byte. The clock jumps straight to the next thing that happens
 * (a packet arriving, a stack's timer, an application timer), so an hour of
 * TCP time takes milliseconds.
 *
 * The application logic (a scenario) is a set of callbacks: start at t=0,
 * ready when a socket's readiness changes (the stack's on_ready hook, but
 * delivered after the stack call returned, so the callback may call the
 * stack), timer for the wake-ups it asked for. Every transition, segment,
 * network loss and duplication goes to the trace sink as a ts_trace_ev.
 *
 *   ts_sim *sim = ts_sim_new(&opts);
 *   int c = ts_sim_add_host(sim, "client", &cfg), s = ts_sim_add_host(...);
 *   ts_sim_set_link(sim, -1, -1, &link);
 *   int why = ts_sim_run(sim, limit_us);
 *   ... ts_sim_stack(sim, c) for counters ...
 *   ts_sim_free(sim);
 */
#ifndef TS_DRV_SIM_H
#define TS_DRV_SIM_H

#include <stdint.h>
#include "tcpstate.h"
#include "drv/ladder.h"

#define TS_SIM_MAX_HOSTS 16
#define TS_SIM_NEVER UINT64_MAX

typedef struct ts_sim ts_sim;

/* One direction of a link. Probabilities are 0..1. */
typedef struct ts_sim_link {
    uint64_t delay_us;   /* base one-way delay */
    uint64_t jitter_us;  /* plus uniform [0, jitter]; the link stays FIFO */
    double loss;         /* a datagram is lost */
    double dup;          /* a datagram arrives twice */
    double reorder;      /* a datagram is held back (up to 2 x delay + jitter
                            more) and later ones overtake it */
} ts_sim_link;

typedef struct ts_sim_link_stats {
    uint64_t sent, lost, dup, delivered;
} ts_sim_link_stats;

/* The application driving the stacks. Any callback may be NULL. Callbacks
 * may call every ts_* function on the sim's stacks and ts_sim_timer,
 * ts_sim_note, ts_sim_stop. */
typedef struct ts_sim_app {
    void *user;
    void (*start)(void *user, ts_sim *sim);
    void (*ready)(void *user, ts_sim *sim, int host, ts_sock s, unsigned events);
    void (*timer)(void *user, ts_sim *sim, int host, int id);
} ts_sim_app;

typedef struct ts_sim_opts {
    uint64_t seed;
    ts_sim_app app;
    /* Trace sink, called in time order; NULL: no trace. */
    void (*on_event)(void *user, const ts_trace_ev *ev);
    void *event_user;
} ts_sim_opts;

enum ts_sim_end {
    TS_SIM_STOPPED = 0, /* the application called ts_sim_stop */
    TS_SIM_IDLE,        /* nothing in flight, no timer anywhere */
    TS_SIM_LIMIT,       /* the virtual time limit was reached */
    TS_SIM_STUCK        /* a stack kept sending at one instant (a bug) */
};

/* NULL on out of memory. */
ts_sim *ts_sim_new(const ts_sim_opts *opts);
/* Frees every stack and every packet in flight. NULL is fine. */
void ts_sim_free(ts_sim *sim);

/* Adds a host with a stack built from cfg (NULL: defaults) and the sim's
 * hooks. Returns its index (>= 0), TS_ENOBUFS past TS_SIM_MAX_HOSTS,
 * TS_ENOMEM. The name is copied (at most 31 characters kept). */
int ts_sim_add_host(ts_sim *sim, const char *name, const ts_config *cfg);
/* Sets the link from -> to; -1 means every host on that side. New links
 * have no delay and no loss. 0 or TS_EINVAL. */
int ts_sim_set_link(ts_sim *sim, int from, int to, const ts_sim_link *link);

size_t ts_sim_host_count(const ts_sim *sim);
ts_stack *ts_sim_stack(ts_sim *sim, int host);          /* NULL if no such host */
const char *ts_sim_host_name(const ts_sim *sim, int host); /* "?" if none */
/* The host table the renderers take (valid while sim lives). */
const ts_trace_host *ts_sim_hosts(const ts_sim *sim);
/* 192.0.2.(host+1). */
uint32_t ts_sim_host_ip(int host);
/* The host owning ip, -1 if none. */
int ts_sim_host_of(const ts_sim *sim, uint32_t ip);

uint64_t ts_sim_now(const ts_sim *sim);
/* Calls app.timer(host, id) at virtual time at_us (now if earlier).
 * 0 or TS_ENOMEM. */
int ts_sim_timer(ts_sim *sim, uint64_t at_us, int host, int id);
/* A NOTE event in host's column (printf format). */
void ts_sim_note(ts_sim *sim, int host, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the run after the current instant's work. */
void ts_sim_stop(ts_sim *sim);

/* Runs from the current time until stopped, idle, or limit_us. Calls
 * app.start first on the first run. Returns enum ts_sim_end. */
int ts_sim_run(ts_sim *sim, uint64_t limit_us);

void ts_sim_link_stats_get(const ts_sim *sim, int from, int to, ts_sim_link_stats *out);
/* Every connection of every host, host by host (each by conn id). Fills
 * up to cap, returns the total. */
size_t ts_sim_conns(const ts_sim *sim, ts_trace_conn *out, size_t cap);

#endif
