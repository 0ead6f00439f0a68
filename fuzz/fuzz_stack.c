/*
 * fuzz_stack.c — libFuzzer target for the whole stack: the input is a
 * sequence of records (kind byte, then a datagram or an action) fed to a
 * stack holding a listener and an active connection, with virtual time
 * moving. Invariants are checked after every event (build with
 * -DTS_CONN_CHECK: a broken invariant aborts); everything must be freed.
 *
 *   clang -fsanitize=fuzzer,address,undefined -DTS_CONN_CHECK -Iinclude -Isrc \
 *         fuzz/fuzz_stack.c src/core/[a-z]*.c -o build/fuzz_stack  (or: make fuzz)
 */
#include "core/wire.h"
#include "tcpstate.h"

#include <stdlib.h>
#include <string.h>

#define LOCAL 0xC0000202u
#define PEER 0xC0000201u

static uint32_t isn(void *u, const ts_tuple *t, uint64_t now)
{
    (void)u; (void)t;
    return (uint32_t)(now * 7u + 12345u);
}

/* A datagram from the peer built from fuzz bytes: mostly well-formed, so
 * the state machine (not only the parser) is exercised. */
static size_t build(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
    ts_seg g;
    memset(&g, 0, sizeof g);
    if (n < 12)
        return 0;
    g.src_ip = PEER;
    g.dst_ip = LOCAL;
    g.src_port = (p[0] & 1) ? 40000 : 40001;
    g.dst_port = (p[0] & 2) ? 8080 : 33000;
    g.flags = p[1];
    memcpy(&g.seq, p + 2, 4);
    memcpy(&g.ack, p + 6, 4);
    g.win = (uint16_t)(p[10] << 8 | p[11]);
    if (p[0] & 4) {
        g.opt_present |= TS_OPT_TS;
        g.tsval = (uint32_t)p[2] << 8;
        g.tsecr = p[3];
    }
    if (p[0] & 8) {
        g.opt_present |= TS_OPT_MSS | TS_OPT_WSCALE | TS_OPT_SACKOK;
        g.mss = (uint16_t)(p[4] * 8 + 64);
        g.wscale = p[5] & 15;
    }
    g.data = p + 12;
    g.len = (uint32_t)(n - 12);
    return ts_wire_build(&g, out, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_hooks h;
    ts_stack *s;
    ts_sock l, c, a;
    ts_addr la = { LOCAL, 8080 }, ra = { PEER, 40000 };
    uint8_t buf[70000];
    uint64_t now = 0;
    size_t i = 0;

    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.isn = isn;
    s = ts_stack_new(NULL, &h, NULL);
    if (!s)
        return 0;
    ts_stack_add_addr(s, LOCAL);
    ts_socket(s, &l);
    ts_bind(s, l, &la);
    ts_listen(s, l, 4);
    ts_socket(s, &c);
    ts_connect(s, c, &ra);
    while (i + 2 <= size) {
        uint8_t kind = data[i], len = data[i + 1];
        const uint8_t *p = data + i + 2;
        size_t n = len;
        if (i + 2 + n > size)
            n = size - i - 2;
        i += 2 + n;
        switch (kind % 8) {
        case 0: /* raw bytes straight into the parser */
            ts_stack_input(s, now, p, n);
            break;
        case 1: case 2: { /* a well-formed segment */
            size_t m = build(p, n, buf, sizeof buf);
            if (m)
                ts_stack_input(s, now, buf, m);
            break;
        }
        case 3: /* time passes */
            now += (uint64_t)(n ? p[0] : 1) * 37000u;
            ts_stack_advance(s, now);
            break;
        case 4: /* application calls */
            if (ts_accept(s, l, &a, NULL) == 0 && n && (p[0] & 1))
                ts_close(s, a);
            ts_send(s, c, p, n);
            ts_recv(s, c, buf, n);
            break;
        case 5:
            if (n && p[0] % 3 == 0)
                ts_shutdown(s, c, p[0] % 3);
            else if (n && p[0] % 3 == 1)
                ts_close(s, c);
            break;
        default: /* drain output */
            while (ts_stack_output(s, now, buf, sizeof buf))
                ;
            break;
        }
    }
    ts_stack_free(s);
    return 0;
}
