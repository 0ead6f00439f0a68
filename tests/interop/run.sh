#!/bin/sh
# run.sh -- interop tests: tcpstate on a TUN device against the Linux
# kernel and curl. Each case (tests/interop/cases/*.sh) runs in a network
# namespace of its own (`unshare -n`), with 192.0.2.0/24 addresses only;
# lib.sh's ns_guard refuses to run a case anywhere else.
#
#   sh tests/interop/run.sh [path/to/tcpstate]
#
# Root only (namespaces, TUN): otherwise every case is counted as skipped
# with the reason. Prints a line per check and "N passed, N failed, N skipped".
set -u
BIN=${1:-build/tcpstate}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
IDIR=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/tcpstate-interop.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
export BIN IDIR

why=""
if [ "$(id -u)" != 0 ]; then why="needs root (network namespaces and TUN devices)"
elif [ ! -e /dev/net/tun ]; then why="no /dev/net/tun"
elif ! command -v unshare >/dev/null 2>&1; then why="no unshare(1)"
elif ! command -v python3 >/dev/null 2>&1; then why="no python3 (the kernel-side peer)"
elif ! command -v ip >/dev/null 2>&1 || ! command -v ss >/dev/null 2>&1; then why="no iproute2 (ip, ss)"
elif [ ! -x "$BIN" ]; then why="$BIN is not built"
elif ! unshare -n true 2>/dev/null; then why="cannot create a network namespace"
fi

P=0; F=0; S=0
HOST_NETNS=$(stat -L -c %i /proc/self/ns/net)
export HOST_NETNS
for c in "$IDIR"/cases/*.sh; do
    name=$(basename "$c" .sh)
    if [ -n "$why" ]; then
        n=$(grep -c '^# check: ' "$c")
        echo "skip $name ($n checks): $why"
        S=$((S + n))
        continue
    fi
    mkdir -p "$T/$name"
    start=$(date +%s.%N)
    T="$T/$name" timeout 90 unshare -n sh -c ". '$IDIR/lib.sh'; ns_guard; . '$c'" \
        > "$T/$name.log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    # whatever the case left running (a peer after a failure) lives in the
    # namespace the case made: end exactly those processes
    ns=$(cat "$T/$name/.netns" 2>/dev/null)
    if [ -n "$ns" ] && [ "$ns" != "$HOST_NETNS" ]; then
        for p in /proc/[0-9]*; do
            [ "$(stat -L -c %i "$p/ns/net" 2>/dev/null)" = "$ns" ] && kill -KILL "${p#/proc/}" 2>/dev/null
        done
    fi
    cat "$T/$name.log"
    p=$(grep -c '^ok ' "$T/$name.log"); f=$(grep -c '^FAIL' "$T/$name.log")
    s=$(grep -c '^skip' "$T/$name.log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exited with status $rc"
        f=1
    fi
    P=$((P + p)); F=$((F + f)); S=$((S + s))
    echo "-- $name: $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
done
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
