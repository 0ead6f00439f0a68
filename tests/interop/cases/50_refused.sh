# Refusals and resets between tcpstate and the kernel.
# check: kernel connect to a closed tcpstate port: ECONNREFUSED
# check: tcpstate connect to a closed kernel port: ECONNREFUSED
# check: tcpstate closes with unread data: the kernel sees ECONNRESET

name="kernel connect to a closed tcpstate port: ECONNREFUSED"
if start_tun rf serve --port 80 --no-read --close-after 300; then
    res=$(kpeer connect 192.0.2.1 81 --expect-error ECONNREFUSED)
    if [ "${res#ok}" != "$res" ]; then ok "$name ($res)"; else bad "$name" "$res"; fi

    name="tcpstate closes with unread data: the kernel sees ECONNRESET"
    # serve --no-read --close-after 300: close() 300 ms after accept, the
    # kernel's 1000 bytes unread: Linux's rule (and tcpstate's) is a RST
    res=$(kpeer connect 192.0.2.1 80 --send 1000 --recv-error --expect-error ECONNRESET)
    stop_tun
    if [ "${res#ok}" != "$res" ]; then ok "$name ($res)"; else bad "$name" "$res"; fi
else
    bad "$name" "tcpstate tun did not start"
fi

name="tcpstate connect to a closed kernel port: ECONNREFUSED"
"$BIN" tun connect 192.0.2.2:9 > "$T/c.out" 2> "$T/c.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "ECONNREFUSED" "$T/c.err"; then ok "$name ($(grep ECONNREFUSED "$T/c.err"))"
else bad "$name" "exit $rc: $(cat "$T/c.err" | tr '\n' ' ')"; fi
