# lib.sh -- helpers for the interop cases (sourced inside the case's own
# network namespace by run.sh; never on the host's network).
#
#   start_tun NAME ARGS...   runs `tcpstate tun ARGS` in the background
#                            (stdout NAME.out, stderr NAME.err under $T) and
#                            waits until its device is up; sets TUN_PID
#   stop_tun                 SIGTERM, wait; sets TUN_RC
#   ok NAME / bad NAME WHY / skip NAME WHY     one result line each
#   kpeer ARGS...            python3 kpeer.py ARGS (the kernel's side)

KPEER="$(dirname "$0")/kpeer.py"
[ -f "$KPEER" ] || KPEER="$IDIR/kpeer.py"

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1: $2"; }
skip() { echo "skip $1: $2"; }

# Refuses to go on unless this shell is in a network namespace other than
# the host's (run.sh passes the host's namespace inode in HOST_NETNS).
ns_guard() {
    here=$(stat -L -c %i /proc/self/ns/net 2>/dev/null)
    if [ -z "$here" ] || [ -z "${HOST_NETNS:-}" ] || [ "$here" = "$HOST_NETNS" ]; then
        echo "FAIL namespace guard: not inside a private network namespace; refusing to run"
        exit 1
    fi
    echo "$here" > "$T/.netns"  # run.sh ends what is left in it
    ip link set lo up
    # no IPv6 chatter on the device (router solicitations, MLD)
    sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
    return 0
}

# The distribution's python3 first: a version-manager shim (pyenv) can
# take seconds per start.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
kpeer() { "$PY" "$KPEER" "$@"; }

start_tun() {
    TUN_NAME=$1
    shift
    "$BIN" tun "$@" >"$T/$TUN_NAME.out" 2>"$T/$TUN_NAME.err" &
    TUN_PID=$!
    i=0
    while [ $i -lt 100 ]; do
        grep -q " up: " "$T/$TUN_NAME.err" 2>/dev/null && return 0
        kill -0 "$TUN_PID" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    echo "  tcpstate tun did not come up: $(cat "$T/$TUN_NAME.err")"
    kill -KILL "$TUN_PID" 2>/dev/null
    wait "$TUN_PID" 2>/dev/null
    return 1
}

stop_tun() {
    kill -TERM "$TUN_PID" 2>/dev/null
    wait "$TUN_PID"
    TUN_RC=$?
}

# wait_exit PID SECONDS: waits for a background job; 124 if it outlived SECONDS.
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null; do
        if [ $i -ge $(($2 * 20)) ]; then
            kill -KILL "$1" 2>/dev/null
            wait "$1" 2>/dev/null
            return 124
        fi
        sleep 0.05
        i=$((i + 1))
    done
    wait "$1"
}

# json_has FILE FROM TO: a transition FROM -> TO appears in tcpstate's JSON.
json_has() {
    grep -q "\"from\": \"$2\", \"to\": \"$3\"" "$1"
}

# ss_has STATE LOCAL PEER: the kernel shows a socket in STATE (ss -tan's
# spelling, e.g. TIME-WAIT) from LOCAL to PEER (addr:port, port may be *).
ss_has() {
    ss -tan | awk -v st="$1" -v l="$2" -v p="$3" '
        $1 == st && ($4 == l || l == "*") && ($5 == p || p == "*") { f = 1 } END { exit !f }'
}

# wait_listen PORT: until a kernel socket listens on PORT (at most 5 s).
wait_listen() {
    i=0
    while [ $i -lt 100 ]; do
        ss -tln | awk -v p=":$1" '$4 ~ p"$" { f = 1 } END { exit !f }' && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# wait_file FILE [SECONDS]: until FILE exists and is not empty.
wait_file() {
    i=0
    while [ $i -lt $((${2:-5} * 20)) ]; do
        [ -s "$1" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
