# Closing against the kernel, each side's state observed: the kernel's in
# `ss -tan`, tcpstate's in its --json transitions.
# check: kernel closes first: kernel TIME_WAIT, tcpstate CLOSE_WAIT -> LAST_ACK -> CLOSED
# check: tcpstate closes first: kernel CLOSE_WAIT, tcpstate FIN_WAIT_1 -> FIN_WAIT_2
# check: simultaneous close: tcpstate FIN_WAIT_1 -> CLOSING -> TIME_WAIT, kernel TIME_WAIT, FINs crossed

# wait_ss STATE LOCAL PEER: up to 3 s for the kernel to show it.
wait_ss() {
    i=0
    while [ $i -lt 60 ]; do
        ss_has "$@" && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

name="kernel closes first: kernel TIME_WAIT, tcpstate CLOSE_WAIT -> LAST_ACK -> CLOSED"
if start_tun kf --json serve --port 7 --discard; then
    res=$(kpeer connect 192.0.2.1 7 --send 1000)
    wait_ss TIME-WAIT '*' 192.0.2.1:7; tw=$?
    stop_tun
    j="$T/kf.out"
    if [ $tw -eq 0 ] && json_has "$j" ESTABLISHED CLOSE_WAIT && json_has "$j" CLOSE_WAIT LAST_ACK &&
        json_has "$j" LAST_ACK CLOSED; then
        ok "$name"
    else
        bad "$name" "kernel: $res; ss TIME-WAIT seen: $([ $tw -eq 0 ] && echo yes || echo no); tcpstate: $(grep -o '"from": "[A-Z_0-9]*", "to": "[A-Z_0-9]*"' "$j" | tr '\n' ' ')"
    fi
else
    bad "$name" "tcpstate tun did not start"
fi

name="tcpstate closes first: kernel CLOSE_WAIT, tcpstate FIN_WAIT_1 -> FIN_WAIT_2"
kpeer listen 9002 --hold 3 > "$T/k2.txt" 2>&1 &
K=$!
wait_listen 9002
"$BIN" tun --json connect 192.0.2.2:9002 --send-bytes 1000 > "$T/tf.out" 2> "$T/tf.err"
rc=$?
wait_ss CLOSE-WAIT 192.0.2.2:9002 '*'; cw=$?
kill $K 2>/dev/null; wait $K 2>/dev/null
j="$T/tf.out"
if [ $rc -eq 0 ] && [ $cw -eq 0 ] && json_has "$j" ESTABLISHED FIN_WAIT_1 && json_has "$j" FIN_WAIT_1 FIN_WAIT_2; then
    ok "$name"
else
    bad "$name" "tcpstate exit $rc, ss CLOSE-WAIT seen: $([ $cw -eq 0 ] && echo yes || echo no); kernel: $(cat "$T/k2.txt"); tcpstate: $(grep -o '"from": "[A-Z_0-9]*", "to": "[A-Z_0-9]*"' "$j" | tr '\n' ' ')"
fi

name="simultaneous close: tcpstate FIN_WAIT_1 -> CLOSING -> TIME_WAIT, kernel TIME_WAIT, FINs crossed"
kpeer listen 9003 --close-after 0.5 > "$T/k3.txt" 2>&1 &
K=$!
wait_listen 9003
"$BIN" tun --json --pcap "$T/sc.pcap" --hold-fin connect 192.0.2.2:9003 > "$T/sc.out" 2> "$T/sc.err"
rc=$?
# both FINs crossed: neither acknowledges the other (relative ack 1 each),
# so the kernel too got a FIN in FIN_WAIT_1 and went through CLOSING
crossed=2
if command -v tshark >/dev/null 2>&1; then
    crossed=$(tshark -r "$T/sc.pcap" -Y 'tcp.flags.fin == 1 && tcp.ack == 1 && !tcp.analysis.retransmission' 2>/dev/null | wc -l)
fi
wait_ss TIME-WAIT 192.0.2.2:9003 '*'; tw=$?
wait_exit $K 5
j="$T/sc.out"
if [ $rc -eq 0 ] && [ $tw -eq 0 ] && json_has "$j" ESTABLISHED FIN_WAIT_1 && json_has "$j" FIN_WAIT_1 CLOSING &&
    json_has "$j" CLOSING TIME_WAIT && grep -q "holding our FIN" "$T/sc.err" && [ "$crossed" -eq 2 ]; then
    ok "$name"
else
    bad "$name" "tcpstate exit $rc, ss TIME-WAIT seen: $([ $tw -eq 0 ] && echo yes || echo no), crossed FINs: $crossed; tcpstate: $(grep -o '"from": "[A-Z_0-9]*", "to": "[A-Z_0-9]*"' "$j" | tr '\n' ' ')"
fi
