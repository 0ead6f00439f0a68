/*
 * record.h — the record file of a live run (`tcpstate tun --record FILE`)
 * and its reader (`tcpstate replay FILE`).
 *
 * A record holds every call the driver made into its stack, in order, with
 * the time it gave the stack: each datagram in (with the stack's verdict),
 * each ts_stack_output() (with the datagram it produced, or none), each
 * ts_stack_advance(), each application call (with its arguments, the data
 * it sent and its result), and, just before the call that caused them,
 * the values the stack's hooks returned (ISN, port offset, timestamp
 * offset: the driver's secrets stay secret, their results are recorded)
 * and the transitions the call made. The stack is sans-I/O and
 * deterministic, so replaying the calls with the recorded hook values must
 * reproduce the same transitions and the same datagrams, byte for byte.
 *
 * Layout (little-endian throughout):
 *   file    = magic "TCPSTREC" | u32 version (1) | u32 zero | record* | END
 *   record  = u8 type | u8 0 | u16 0 | u32 len | u64 t_us | payload[len]
 *             | u32 crc32 (IEEE 802.3, over type .. payload)
 * A record with a bad CRC, an unknown type, a length over TS_REC_MAX_LEN,
 * a short read, or a file that ends without END is an error the reader
 * reports with its byte offset; it never trusts a length it has not
 * bounded.
 */
#ifndef TS_DRV_RECORD_H
#define TS_DRV_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "tcpstate.h"

#define TS_REC_MAGIC "TCPSTREC"
#define TS_REC_VERSION 1
#define TS_REC_HEADER 16
#define TS_REC_MAX_LEN (16u << 20)

enum ts_rec_type {
    TS_REC_CONFIG = 1, /* "name=value": one sysctl of the stack's config */
    TS_REC_ADDR,       /* u32 ip: ts_stack_add_addr */
    TS_REC_HOOK,       /* u8 kind | tuple | u32 value; t_us: the hook's now */
    TS_REC_TRANS,      /* u32 conn | u8 from | u8 to | u16 cause | tuple */
    TS_REC_INPUT,      /* i32 result | datagram */
    TS_REC_OUTPUT,     /* datagram (empty: ts_stack_output returned 0) */
    TS_REC_ADVANCE,    /* no payload */
    TS_REC_CALL,       /* ts_rec_call (TS_REC_CALL_SIZE bytes) | data */
    TS_REC_END,        /* no payload: the recording ended cleanly */
    TS_REC_TYPE_MAX
};

enum ts_rec_hook_kind { TS_REC_HOOK_ISN = 1, TS_REC_HOOK_PORT, TS_REC_HOOK_TSOFF };

/* Application calls. */
enum ts_rec_op {
    TS_OP_SOCKET = 1, TS_OP_BIND, TS_OP_LISTEN, TS_OP_CONNECT, TS_OP_ACCEPT,
    TS_OP_SEND, TS_OP_RECV, TS_OP_SHUTDOWN, TS_OP_CLOSE, TS_OP_SETSOCKOPT,
    TS_OP_GETSOCKOPT, TS_OP_SYSCTL, TS_OP_MAX
};

/* One application call. a0..a2 by op: LISTEN backlog; RECV length asked;
 * SHUTDOWN how; SETSOCKOPT/GETSOCKOPT level, option (GETSOCKOPT: a2 the
 * length asked). addr: BIND/CONNECT's address. out/out_addr: SOCKET's and
 * ACCEPT's new socket, ACCEPT's peer. aux: RECV/GETSOCKOPT a hash of the
 * bytes returned (ts_rec_hash). Data: SEND's bytes, SETSOCKOPT's value,
 * SYSCTL's "name\0value". */
typedef struct ts_rec_call {
    uint32_t op;
    ts_sock sk;
    int32_t a0, a1, a2;
    ts_addr addr;
    int64_t ret;
    ts_sock out;
    ts_addr out_addr;
    uint64_t aux;
} ts_rec_call;
#define TS_REC_CALL_SIZE 64

#define TS_REC_TUPLE_SIZE 12

/* "SOCKET", "SEND", ...; "?" when unknown. */
const char *ts_rec_op_name(uint32_t op);
/* "INPUT", "CALL", ...; "?" when unknown. */
const char *ts_rec_type_name(int type);
/* A 64-bit FNV-1a hash (recv'd bytes are compared by it, not stored). */
uint64_t ts_rec_hash(const void *p, size_t n);

/* ---------------------------------------------------------------- writer */

typedef struct ts_rec_writer ts_rec_writer;

/* Creates (truncates) path and writes the header. NULL with err set. */
ts_rec_writer *ts_rec_create(const char *path, char *err, size_t errlen);
/* Same on an open stream the caller keeps (tests: open_memstream). */
ts_rec_writer *ts_rec_create_fp(FILE *fp);
/* Appends one record; the payload is p1 then p2 (either may be empty).
 * Write errors are sticky and reported by ts_rec_finish. */
void ts_rec_put(ts_rec_writer *w, int type, uint64_t t_us,
                const void *p1, size_t n1, const void *p2, size_t n2);
/* Typed appenders. */
void ts_rec_put_hook(ts_rec_writer *w, uint64_t t_us, int kind, const ts_tuple *t,
                     uint32_t value);
void ts_rec_put_trans(ts_rec_writer *w, const ts_transition_ev *ev);
void ts_rec_put_call(ts_rec_writer *w, uint64_t t_us, const ts_rec_call *c,
                     const void *data, size_t len);
/* Writes END (unless end_record is 0: a recording cut short on purpose),
 * flushes, closes the file it opened (not a caller's stream) and frees.
 * 0, or -1 with err set if any write failed. NULL is fine (0). */
int ts_rec_finish(ts_rec_writer *w, uint64_t t_us, int end_record, char *err, size_t errlen);

/* ---------------------------------------------------------------- reader */

typedef struct ts_rec_reader ts_rec_reader;

typedef struct ts_rec_item {
    int type;
    uint64_t t_us;
    uint64_t offset;        /* of the record in the file */
    uint64_t index;         /* 0-based record number */
    const uint8_t *payload; /* valid until the next ts_rec_next */
    uint32_t len;
} ts_rec_item;

/* Opens path and checks the header. NULL with err set (a one-line reason). */
ts_rec_reader *ts_rec_open(const char *path, char *err, size_t errlen);
/* Same on a stream the caller keeps (tests: fmemopen). */
ts_rec_reader *ts_rec_open_fp(FILE *fp, char *err, size_t errlen);
/* The next record: 1 with *it, 0 after END (nothing may follow it), -1 on
 * a truncated or corrupt file with err naming the byte offset. */
int ts_rec_next(ts_rec_reader *r, ts_rec_item *it, char *err, size_t errlen);
void ts_rec_close(ts_rec_reader *r);

/* Payload decoders: 0, or -1 when the payload's length does not fit. */
int ts_rec_get_hook(const ts_rec_item *it, int *kind, ts_tuple *t, uint32_t *value);
int ts_rec_get_trans(const ts_rec_item *it, ts_transition_ev *ev);
int ts_rec_get_call(const ts_rec_item *it, ts_rec_call *c, const uint8_t **data,
                    size_t *len);

#endif
