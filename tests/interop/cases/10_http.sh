# curl against `tcpstate tun serve --http`: one 10 MiB fetch, byte-exact;
# 20 fetches in parallel; the capture read back by tshark; the parallel run
# recorded and replayed.
# check: http 10 MiB byte-exact
# check: http 20 parallel fetches
# check: pcap readable, no malformed or bad-checksum packet from tcpstate
# check: record of the parallel run replays identically
# check: replay of a truncated / corrupted record is a clean error

if ! command -v curl >/dev/null 2>&1; then
    for n in "http 10 MiB byte-exact" "http 20 parallel fetches"; do skip "$n" "no curl"; done
    skip "pcap" "no curl"; skip "record" "no curl"; skip "replay errors" "no curl"
    return 0
fi

N=10485760
if start_tun big --pcap "$T/big.pcap" serve --port 80 --http --http-bytes 10M; then
    curl -s -m 20 -o "$T/body" http://192.0.2.1/big
    rc=$?
    res=$(kpeer check "$T/body" $N)
    if [ $rc -eq 0 ] && [ "${res#ok}" != "$res" ]; then ok "http 10 MiB byte-exact ($res)"
    else bad "http 10 MiB byte-exact" "curl exit $rc; $res"; fi
    stop_tun
else
    bad "http 10 MiB byte-exact" "tcpstate tun did not start"
fi

if ! command -v tshark >/dev/null 2>&1; then
    skip "pcap readable, no malformed or bad-checksum packet" "no tshark"
elif [ ! -s "$T/big.pcap" ]; then
    bad "pcap readable" "no capture written"
else
    # one pass: every frame's source, malformed flag and checksum verdicts
    tshark -r "$T/big.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -T fields \
        -e ip.src -e _ws.malformed -e tcp.checksum.status -e ip.checksum.status \
        > "$T/fields.txt" 2>/dev/null
    total=$(wc -l < "$T/fields.txt")
    # checksum status: 0 bad, 1 good, 2 unverified (Wireshark's enum)
    badp=$(awk -F'\t' '$1 == "192.0.2.1" && ($2 != "" || $3 == "0" || $4 == "0")' "$T/fields.txt" | wc -l)
    # and every TCP checksum of ours was actually verified (status 1)
    ours=$(awk -F'\t' '$1 == "192.0.2.1"' "$T/fields.txt" | wc -l)
    good=$(awk -F'\t' '$1 == "192.0.2.1" && $3 == "1" && $4 == "1"' "$T/fields.txt" | wc -l)
    if [ "$total" -gt 7000 ] && [ "$badp" -eq 0 ] && [ "$ours" -gt 7000 ] && [ "$good" -eq "$ours" ]; then
        ok "pcap readable ($total packets), tcpstate's $ours all well-formed with verified good checksums"
    else
        bad "pcap readable" "$total packets, $ours from tcpstate: $badp bad, $good verified good"
    fi
fi

M=1048576
if start_tun par --record "$T/par.rec" --counters serve --port 80 --http --http-bytes 1M; then
    i=1
    pids=""
    while [ $i -le 20 ]; do
        curl -s -m 20 -o "$T/par.$i" "http://192.0.2.1/f$i" &
        pids="$pids $!"
        i=$((i + 1))
    done
    fails=0
    for p in $pids; do wait "$p" || fails=$((fails + 1)); done
    good=0
    i=1
    kpeer check "$T/par.1" $M >/dev/null && good=1
    while [ $i -lt 20 ]; do
        i=$((i + 1))
        cmp -s "$T/par.1" "$T/par.$i" && [ $good -ge 1 ] && good=$((good + 1))
    done
    stop_tun
    opens=$(awk '$1 == "TcpPassiveOpens" { print $2 }' "$T/par.out")
    if [ $fails -eq 0 ] && [ $good -eq 20 ] && [ "${opens:-0}" -eq 20 ]; then
        ok "http 20 parallel fetches of 1 MiB, all byte-exact ($opens passive opens)"
    else
        bad "http 20 parallel fetches" "$fails curl failures, $good of 20 byte-exact, ${opens:-?} opens"
    fi
    res=$("$BIN" replay "$T/par.rec" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && echo "$res" | grep -q identical; then ok "record of the parallel run replays identically"
    else bad "record of the parallel run replays identically" "exit $rc: $res"; fi
    # a truncated and a corrupted copy: exit 2 with a one-line reason, never a crash
    size=$(stat -c %s "$T/par.rec")
    head -c $((size / 2)) "$T/par.rec" > "$T/cut.rec"
    cp "$T/par.rec" "$T/flip.rec"
    printf 'X' | dd of="$T/flip.rec" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
    "$BIN" replay "$T/cut.rec" > "$T/cut.txt" 2>&1; rc1=$?
    "$BIN" replay "$T/flip.rec" > "$T/flip.txt" 2>&1; rc2=$?
    if [ $rc1 -eq 2 ] && grep -q truncated "$T/cut.txt" && [ $rc2 -eq 2 ] && grep -q corrupt "$T/flip.txt"; then
        ok "replay of a truncated / corrupted record is a clean error ($(cat "$T/flip.txt"))"
    else
        bad "replay of a truncated / corrupted record" "exit $rc1: $(cat "$T/cut.txt"); exit $rc2: $(cat "$T/flip.txt")"
    fi
else
    bad "http 20 parallel fetches" "tcpstate tun did not start"
fi
