# Keepalive both ways with short per-socket settings: idle 1 s, interval
# 1 s, one probe allowed (KEEPCNT 1), so an unanswered probe kills the
# connection at 2 s, before the 2.5 s idle period ends; and a peer that
# disappears.
# check: tcpstate's keepalive probes are answered by the kernel
# check: tcpstate answers the kernel's keepalive probes
# check: a killed tcpstate makes the kernel's keepalive fail

netstat_ctr() { # the namespace's TcpExt counter NAME
    awk -v n="$1" '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) k[i] = $i; h = 1 }
        else for (i = 1; i <= NF; i++) if (k[i] == n) print $i }' /proc/net/netstat
}

name="tcpstate's keepalive probes are answered by the kernel"
kpeer listen 9010 --expect 100 > "$T/k1.txt" 2>&1 &
K=$!
wait_listen 9010
"$BIN" tun --counters --json connect 192.0.2.2:9010 --keepalive 1,1,1 --hold 2500 --send-bytes 100 \
    > "$T/ka1.out" 2> "$T/ka1.err"
rc=$?
wait_exit $K 5; krc=$?
probes=$(grep -o '"TcpExtTCPKeepAlive": [0-9]*' "$T/ka1.out" | grep -o '[0-9]*$')
if [ $rc -eq 0 ] && [ $krc -eq 0 ] && [ "${probes:-0}" -ge 2 ]; then
    ok "$name ($probes probes, each answered: the connection outlived KEEPCNT 1)"
else
    bad "$name" "tcpstate exit $rc ($(tail -1 "$T/ka1.err")), kernel: $(cat "$T/k1.txt"), probes ${probes:-none}"
fi

name="tcpstate answers the kernel's keepalive probes"
if start_tun ka2 --counters serve --port 9011 --discard; then
    before=$(netstat_ctr TCPKeepAlive)
    res=$(kpeer connect 192.0.2.1 9011 --ka 1,1,1 --idle 2.5 --send 10)
    after=$(netstat_ctr TCPKeepAlive)
    stop_tun
    sent=$((after - before))
    if [ "${res#ok}" != "$res" ] && [ $sent -ge 2 ]; then
        ok "$name (the kernel sent $sent probes with KEEPCNT 1, the connection survived)"
    else
        bad "$name" "kernel: $res, kernel probes $sent"
    fi
else
    bad "$name" "tcpstate tun did not start"
fi

name="a killed tcpstate makes the kernel's keepalive fail"
if start_tun ka3 serve --port 9012 --discard; then
    kpeer connect 192.0.2.1 9012 --ka 1,1,2 --ready "$T/ka3.ready" --recv-error --expect-error ETIMEDOUT \
        > "$T/k3.txt" 2>&1 &
    K=$!
    wait_file "$T/ka3.ready" 5
    kill -KILL "$TUN_PID"; wait "$TUN_PID" 2>/dev/null
    # the device went with the process; a blackhole route keeps the
    # kernel's probes "sent" (and unanswered) instead of unroutable
    ip route add blackhole 192.0.2.1/32
    wait_exit $K 10; krc=$?
    if [ $krc -eq 0 ]; then ok "$name ($(cat "$T/k3.txt"))"
    else bad "$name" "kernel: $(cat "$T/k3.txt") (exit $krc)"; fi
else
    bad "$name" "tcpstate tun did not start"
fi
