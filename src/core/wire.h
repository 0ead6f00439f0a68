/*
 * wire.h — bytes <-> validated segments (IPv4 + TCP).
 *
 * The state machine never reads raw bytes: ts_wire_parse() turns a datagram
 * into a ts_seg (or a drop reason), ts_wire_build() turns a ts_seg back into
 * a datagram with both checksums. Options are parsed into fields; unknown
 * options are skipped by their length. Payload is referenced, not copied.
 */
#ifndef TS_WIRE_H
#define TS_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "tcpstate.h"

#define TS_IP_HDR_MIN 20
#define TS_TCP_HDR_MIN 20
#define TS_TCP_OPT_MAX 40
#define TS_MAX_SACK 4

/* Which options a segment carries (ts_seg.opt_present bits). */
enum {
    TS_OPT_MSS = 1u << 0,
    TS_OPT_WSCALE = 1u << 1,
    TS_OPT_SACKOK = 1u << 2,
    TS_OPT_SACK = 1u << 3,
    TS_OPT_TS = 1u << 4
};

/* Option layout when building: the order Linux writes them.
 *   SYN / SYN-ACK with TS:    mss, sackOK, TS, nop, wscale
 *   SYN / SYN-ACK without TS: mss, nop, nop, sackOK, nop, wscale
 *     (sackOK / wscale parts left out when not present; Linux pads with nop)
 *   other segments:           nop, nop, TS   then  nop, nop, sack blocks
 * ts_wire_build picks the layout from flags and opt_present. */

typedef struct ts_seg {
    /* addresses, host order */
    uint32_t src_ip, dst_ip;
    uint16_t src_port, dst_port;
    uint8_t ttl, tos;
    /* TCP header */
    uint32_t seq, ack;
    uint8_t flags;          /* TS_TH_* */
    uint16_t win;           /* raw field, not scaled */
    uint16_t urg;
    /* options */
    uint32_t opt_present;   /* TS_OPT_* */
    uint16_t mss;
    uint8_t wscale;         /* as sent (a value > 14 is kept; users clamp to 14) */
    uint32_t tsval, tsecr;
    uint8_t nsack;
    struct { uint32_t left, right; } sack[TS_MAX_SACK];
    /* the raw option bytes as received (parse) or to write verbatim
     * (ts_wire_build_raw); ts_wire_build ignores them */
    const uint8_t *opt;
    uint8_t optlen;
    /* payload */
    const uint8_t *data;
    uint32_t len;
} ts_seg;

/* Parses one IPv4 datagram. Returns TS_DROP_NONE (0) and fills seg, or a
 * TS_DROP_* reason. Never reads outside pkt[0..len). IPv4 options are
 * skipped; fragments (MF set or offset != 0) give TS_DROP_IP_FRAGMENT; a
 * non-TCP protocol TS_DROP_IP_PROTO; bad checksums TS_DROP_IP_CSUM /
 * TS_DROP_TCP_CSUM; an option whose length is < 2 or runs past the header
 * TS_DROP_TCP_OPT; data offset < 5 or past the packet TS_DROP_TCP_HDR;
 * total length > len or < headers TS_DROP_IP_HDR / TS_DROP_TRUNCATED.
 * Bytes after the IP total length (link padding) are ignored. */
int ts_wire_parse(const uint8_t *pkt, size_t len, ts_seg *seg);

/* Writes seg as an IPv4 datagram (ID 0, DF set, TTL seg->ttl or 64 when
 * 0) with both checksums. Returns the length written, 0 if cap is too
 * small. Payload comes from seg->data/len. */
size_t ts_wire_build(const ts_seg *seg, uint8_t *buf, size_t cap);

/* Like ts_wire_build, but writes seg->opt[0..optlen) verbatim as the TCP
 * options (optlen a multiple of 4, at most 40; else returns 0) and the IPv4
 * header with seg->ttl (0 means 64), seg->tos, ID 0 and no DF, as
 * packetdrill injects packets. Used by the script runner. */
size_t ts_wire_build_raw(const ts_seg *seg, uint8_t *buf, size_t cap);

/* Length of the TCP options ts_wire_build would write for seg. */
size_t ts_wire_opt_len(const ts_seg *seg);

/* Internet checksum helpers (RFC 1071), exposed for tests and drivers. */
uint32_t ts_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t ts_csum_fold(uint32_t sum);

/* "S.", "P.", "F.", "R.", ".", "FP." (tcpdump order F S R P . U E W).
 * buf needs 12 bytes. Returns buf. */
char *ts_flags_str(uint8_t flags, char *buf);

#endif
