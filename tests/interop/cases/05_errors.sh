# How `tcpstate tun` and `tcpstate replay` refuse: one line on stderr, exit
# status 2, nothing on stdout.
# check: tun without root: one line saying so, exit 2
# check: tun without /dev/net/tun: one line saying so, exit 2
# check: tun usage errors: one line naming the bad word, exit 2
# check: replay of a missing file: one line, exit 2

# refuses NAME WORD CMD...: exit 2, one stderr line containing WORD, no stdout
refuses() {
    name=$1 word=$2
    shift 2
    "$@" > "$T/out" 2> "$T/err"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -qF -- "$word" "$T/err" && [ ! -s "$T/out" ]; then
        return 0
    fi
    echo "  $name: exit $rc, stderr: $(cat "$T/err"), stdout: $(head -c 200 "$T/out")"
    return 1
}

name="tun without root: one line saying so, exit 2"
if ! command -v setpriv >/dev/null 2>&1; then skip "$name" "no setpriv(1)"
elif refuses "$name" "needs root" setpriv --reuid 65534 --regid 65534 --clear-groups "$BIN" tun serve --port 80
then ok "$name ($(cat "$T/err"))"; else bad "$name" "see above"; fi

name="tun without /dev/net/tun: one line saying so, exit 2"
# a private mount namespace with an empty /dev/net: the host's is untouched
if refuses "$name" "no /dev/net/tun" unshare -m sh -c "mount -t tmpfs none /dev/net && exec '$BIN' tun serve --port 80"
then ok "$name ($(cat "$T/err"))"; else bad "$name" "see above"; fi

name="tun usage errors: one line naming the bad word, exit 2"
n=0
refuses "$name" "--port" "$BIN" tun serve || n=$((n + 1))
refuses "$name" "--bogus" "$BIN" tun --bogus serve --port 80 || n=$((n + 1))
refuses "$name" "dance" "$BIN" tun dance || n=$((n + 1))
refuses "$name" "HOST:PORT" "$BIN" tun connect || n=$((n + 1))
refuses "$name" "999999" "$BIN" tun connect 192.0.2.2:999999 || n=$((n + 1))
refuses "$name" "another host" "$BIN" tun --addr 198.51.100.1 serve --port 80 || n=$((n + 1))
refuses "$name" "--keepalive" "$BIN" tun connect 192.0.2.2:80 --keepalive 1,2 || n=$((n + 1))
refuses "$name" "tcp_fin_timeot" "$BIN" tun --sysctl tcp_fin_timeot=3 serve --port 80 || n=$((n + 1))
if [ $n -eq 0 ]; then ok "$name"; else bad "$name" "$n of 8 cases wrong"; fi

name="replay of a missing file: one line, exit 2"
if refuses "$name" "cannot open" "$BIN" replay "$T/none.rec"; then ok "$name"; else bad "$name" "see above"; fi
