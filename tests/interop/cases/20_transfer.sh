# tcpstate's active opener against a kernel listener: 10 MiB each way,
# byte-exact; the receiving run is recorded and replayed.
# check: connect sends 10 MiB to a kernel listener, byte-exact
# check: connect receives 10 MiB from a kernel listener, byte-exact
# check: record of the receiving run replays identically

N=10485760
kpeer listen 9000 --expect $N > "$T/k1.txt" 2>&1 &
K=$!
wait_listen 9000
"$BIN" tun --counters connect 192.0.2.2:9000 --send-bytes 10M > "$T/c1.out" 2> "$T/c1.err"
rc=$?
wait_exit $K 10; krc=$?
if [ $rc -eq 0 ] && [ $krc -eq 0 ]; then ok "connect sends 10 MiB to a kernel listener, byte-exact ($(cat "$T/k1.txt"))"
else bad "connect sends 10 MiB" "tcpstate exit $rc ($(tail -1 "$T/c1.err")), kernel: $(cat "$T/k1.txt")"; fi

kpeer listen 9001 --send $N --expect 0 > "$T/k2.txt" 2>&1 &
K=$!
wait_listen 9001
"$BIN" tun --record "$T/recv.rec" connect 192.0.2.2:9001 --recv > "$T/c2.out" 2> "$T/c2.err"
rc=$?
wait_exit $K 10; krc=$?
if [ $rc -eq 0 ] && grep -q "received $N bytes, pattern ok" "$T/c2.err" && [ $krc -eq 0 ]; then
    ok "connect receives 10 MiB from a kernel listener, byte-exact"
else
    bad "connect receives 10 MiB" "tcpstate exit $rc ($(cat "$T/c2.err" | tr '\n' ' ')), kernel: $(cat "$T/k2.txt")"
fi
res=$("$BIN" replay "$T/recv.rec" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then ok "record of the receiving run replays identically"
else bad "record of the receiving run replays identically" "exit $rc: $res"; fi
