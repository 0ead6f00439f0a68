#!/usr/bin/env python3
"""kpeer.py -- the Linux kernel's side of the interop tests: small socket
programs run inside the test's network namespace (never elsewhere: lib.sh
checks the namespace before anything starts).

Every subcommand prints one result line on stdout ("ok ..." or "error ...")
and exits 0 when the outcome is the expected one, 1 otherwise.

  listen PORT [--expect N] [--send N] [--hold S] [--close-after S] [--ka I,I,C]
      accept one connection; --send: send N pattern bytes, then shut down
      writing; read to EOF checking the pattern (--expect N: exactly N bytes);
      --hold S: keep the socket open S seconds after EOF (CLOSE_WAIT);
      --close-after S: close S seconds after accepting, without reading
  connect HOST PORT [--bind P] [--send N] [--idle S] [--ka I,I,C] [--syncnt N]
        [--expect-error NAME] [--recv-error] [--wait-eof] [--ready FILE]
      connect; send N pattern bytes; stay idle S seconds; then close, or
      --wait-eof: read until the peer closes, then close;
      --recv-error: block in recv() and report the error it ends with;
      --expect-error: the connect (or recv) must fail with errno NAME
  check FILE N      FILE holds exactly the first N bytes of the pattern
  garbage DEV N     send N malformed datagrams on interface DEV (AF_PACKET)
  syns PCAP         the times of the pure SYNs in a raw-IP capture, per source
                    address, relative to its first SYN: "ADDR t0 t1 ..." lines
"""
import errno
import os
import socket
import struct
import sys
import time


def pattern(off, n):
    start = off - off % 16
    lines = b"".join([b"%015x\n" % x for x in range(start, off + n, 16)])
    return lines[off - start:off - start + n]


def check_stream(data, off):
    want = pattern(off, len(data))
    if data == want:
        return -1
    for i, (a, b) in enumerate(zip(data, want)):
        if a != b:
            return off + i
    return off + min(len(data), len(want))


def opts(argv, flags):
    """--name value pairs and bare flags after the positional arguments."""
    out, pos, i = {}, [], 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            if a[2:] in flags:
                out[a[2:]] = True
                i += 1
            else:
                out[a[2:]] = argv[i + 1]
                i += 2
        else:
            pos.append(a)
            i += 1
    return pos, out


def keepalive(s, spec):
    idle, intvl, cnt = (int(x) for x in spec.split(","))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)


def send_pattern(s, n):
    off = 0
    while off < n:
        k = min(65536, n - off)
        s.sendall(pattern(off, k))
        off += k


def read_checked(s):
    got, bad = 0, -1
    while True:
        d = s.recv(65536)
        if not d:
            return got, bad
        if bad < 0:
            bad = check_stream(d, got)
        got += len(d)


def cmd_listen(argv):
    pos, o = opts(argv, set())
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", int(pos[0])))
    ls.listen(16)
    ls.settimeout(30)
    c, peer = ls.accept()
    if "ka" in o:
        keepalive(c, o["ka"])
    if "close-after" in o:
        time.sleep(float(o["close-after"]))
        c.close()
        print("ok closed after %s s" % o["close-after"])
        return 0
    if "send" in o:
        send_pattern(c, int(o["send"]))
        c.shutdown(socket.SHUT_WR)
    got, bad = read_checked(c)
    if "hold" in o:
        print("eof after %d bytes; holding" % got, flush=True)
        time.sleep(float(o["hold"]))
    c.close()
    if bad >= 0:
        print("error: received %d bytes, not the pattern from byte %d" % (got, bad))
        return 1
    if "expect" in o and got != int(o["expect"]):
        print("error: received %d bytes, expected %s" % (got, o["expect"]))
        return 1
    print("ok received %d bytes, pattern ok" % got)
    return 0


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if isinstance(e, OSError) and e.errno else repr(e)


def cmd_connect(argv):
    pos, o = opts(argv, {"wait-eof", "recv-error"})
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if "bind" in o:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(o["bind"])))
    if "syncnt" in o:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, int(o["syncnt"]))
    if "ka" in o:
        keepalive(s, o["ka"])
    want = o.get("expect-error")
    t0 = time.monotonic()
    try:
        s.connect((pos[0], int(pos[1])))
    except OSError as e:
        dt = time.monotonic() - t0
        name = errname(e)
        print("%s connect: %s after %.3f s" % ("ok" if name == want else "error", name, dt))
        return 0 if name == want else 1
    if "ready" in o:
        with open(o["ready"], "w") as f:
            f.write("connected\n")
    if "send" in o:
        send_pattern(s, int(o["send"]))
    if "idle" in o:
        time.sleep(float(o["idle"]))
    if "recv-error" in o:
        try:
            d = s.recv(65536)
            res = "eof" if not d else "data"
        except OSError as e:
            res = errname(e)
        dt = time.monotonic() - t0
        ok = res == want
        print("%s recv: %s after %.3f s" % ("ok" if ok else "error", res, dt))
        return 0 if ok else 1
    if "wait-eof" in o:
        got, bad = read_checked(s)
    s.close()
    if want:
        print("error: connected, expected %s" % want)
        return 1
    print("ok connected and closed")
    return 0


def cmd_check(argv):
    data = open(argv[0], "rb").read()
    n = int(argv[1])
    bad = check_stream(data, 0)
    if len(data) != n or bad >= 0:
        print("error: %d bytes (expected %d), pattern broken at %d" % (len(data), n, bad))
        return 1
    print("ok %d bytes, pattern ok" % n)
    return 0


def ip_header(payload_len, proto, src, dst, ihl=5, csum=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + payload_len, 0, 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    if csum is None:
        s = sum(struct.unpack("!10H", h))
        s = (s & 0xFFFF) + (s >> 16)
        s = (s & 0xFFFF) + (s >> 16)
        csum = ~s & 0xFFFF
    return h[:10] + struct.pack("!H", csum) + h[12:]


def cmd_garbage(argv):
    """Malformed datagrams straight into the device: tcpstate reads them."""
    import random
    dev, n = argv[0], int(argv[1])
    rnd = random.Random(7)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.bind((dev, 0x0800))
    src, dst = "192.0.2.2", "192.0.2.1"
    sent = refused = 0
    for i in range(n):
        k = i % 8
        tcp = bytearray(rnd.randbytes(20 + rnd.randrange(0, 40)))
        tcp[2:4] = struct.pack("!H", 80)
        if k == 0:      # random bytes of random length
            pkt = rnd.randbytes(rnd.randrange(1, 80))
        elif k == 1:    # IPv4 header claiming more than was sent
            pkt = ip_header(500, 6, src, dst)[:20] + bytes(tcp[:10])
        elif k == 2:    # bad IP checksum
            pkt = ip_header(len(tcp), 6, src, dst, csum=0x1234) + bytes(tcp)
        elif k == 3:    # TCP with a random header (bad checksum, options, offset)
            pkt = ip_header(len(tcp), 6, src, dst) + bytes(tcp)
        elif k == 4:    # a fragment
            h = bytearray(ip_header(len(tcp), 6, src, dst))
            h[6:8] = struct.pack("!H", 0x2000 | 5)
            pkt = bytes(h) + bytes(tcp)
        elif k == 5:    # UDP / ICMP / unknown protocol
            pkt = ip_header(len(tcp), rnd.choice([1, 17, 47, 200]), src, dst) + bytes(tcp)
        elif k == 6:    # IHL past the packet
            pkt = ip_header(8, 6, src, dst, ihl=15) + bytes(8)
        else:           # truncated TCP header
            pkt = ip_header(10, 6, src, dst) + bytes(tcp[:10])
        if i % 200 == 199:
            time.sleep(0.01)  # the device's queue holds 500: let tcpstate read
        try:
            s.send(pkt)
            sent += 1
        except OSError as e:
            refused += 1
    print("ok sent %d malformed datagrams (%d refused by the kernel)" % (sent, refused))
    return 0


def cmd_syns(argv):
    data = open(argv[0], "rb").read()
    if len(data) < 24 or data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        print("error: not a pcap file")
        return 1
    end = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off, times = 24, {}
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != 6:
            continue
        ihl = (pkt[0] & 15) * 4
        flags = pkt[ihl + 13]
        if flags & 0x12 == 0x02:  # SYN without ACK
            times.setdefault(socket.inet_ntoa(pkt[12:16]), []).append(sec + usec / 1e6)
    for src, ts in sorted(times.items()):
        print(src, " ".join("%.6f" % (t - ts[0]) for t in ts))
    return 0


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    cmds = {"listen": cmd_listen, "connect": cmd_connect, "check": cmd_check,
            "garbage": cmd_garbage, "syns": cmd_syns}
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
