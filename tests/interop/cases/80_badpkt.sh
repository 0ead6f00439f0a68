# Bad datagrams from the kernel's side never crash the driver: 4000
# malformed ones (random bytes, short and lying IPv4 headers, bad
# checksums, fragments, other protocols, broken TCP headers and options)
# written into the device with a packet socket, then a normal fetch.
# check: 4000 malformed datagrams are counted and dropped, the server still serves

name="4000 malformed datagrams are counted and dropped, the server still serves"
if start_tun bp --counters serve --port 80 --http --http-bytes 100K; then
    res=$(kpeer garbage tcpstate0 4000)
    got=0
    if command -v curl >/dev/null 2>&1; then
        curl -s -m 10 -o "$T/body" http://192.0.2.1/ && kpeer check "$T/body" 102400 >/dev/null && got=1
    else
        got=$(kpeer listen 1 --expect 0 >/dev/null 2>&1; echo 1)  # no curl: survival only
    fi
    kill -0 "$TUN_PID" 2>/dev/null; alive=$?
    stop_tun
    in=$(awk '$1 == "TunInDatagrams" { print $2 }' "$T/bp.out")
    dropped=$(awk '$1 == "TunInDropped" { print $2 }' "$T/bp.out")
    if [ $alive -eq 0 ] && [ $TUN_RC -eq 0 ] && [ $got -eq 1 ] && [ "${in:-0}" -ge 4000 ] &&
        [ "${dropped:-0}" -ge 3900 ] && [ "${res#ok sent 4000 }" != "$res" ]; then
        ok "$name ($in datagrams in, $dropped dropped)"
    else
        bad "$name" "$res; alive $alive, exit $TUN_RC, fetch ok $got, in ${in:-?}, dropped ${dropped:-?}: $(grep -i drop "$T/bp.out" | tr '\n' ' ')"
    fi
else
    bad "$name" "tcpstate tun did not start"
fi
