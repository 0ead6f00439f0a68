#!/bin/sh
# kernel-check.sh — runs every tests/pkt script on the Linux kernel (the
# `linux` target: a private network namespace and a TUN device, so nothing
# reaches the host's network) and writes tests/pkt/KERNEL.md: the kernel
# version, the date, and per script PASS / FAIL / SKIP with the kernel's
# measured event times (tests/kernel-md.py turns the runner's JSON Lines and
# --verbose log into the table).
#
# Needs root: exit 2 with a one-line reason otherwise. Each script runs in its
# own `tcpstate script --target linux --json --verbose` process under a time
# limit (KERNEL_CHECK_LIMIT seconds, default 300), so a script that hangs costs
# only itself. KERNEL_CHECK_DIR runs another directory of scripts (its own
# KERNEL.md is written there). Exit status: 0 when no script failed, 1 otherwise, 2 when the
# check could not run.
set -u
cd "$(dirname "$0")/.." || exit 2

if [ "$(id -u)" != 0 ]; then
    echo "kernel-check: needs root (it creates a network namespace and a TUN device)"
    exit 2
fi
if [ ! -e /dev/net/tun ]; then
    echo "kernel-check: no /dev/net/tun (the TUN driver is missing)"
    exit 2
fi
make -s build/tcpstate || exit 2

LIMIT=${KERNEL_CHECK_LIMIT:-300}
PKT=${KERNEL_CHECK_DIR:-tests/pkt}
dir=$(mktemp -d /tmp/kernel-check.XXXXXX) || exit 2
trap 'rm -rf "$dir"' EXIT
trap 'exit 2' INT TERM

# One script: its JSON, log and exit status land in $dir.
run_one() {
    f=$1
    b=$(basename "$f")
    timeout "$LIMIT" build/tcpstate script --target linux --json --verbose "$f" \
        >"$dir/$b.json" 2>"$dir/$b.log"
    echo $? >"$dir/$b.rc"
}

result_of() {
    b=$(basename "$1")
    res=$(sed -n 's/.*"result": *"\([a-z]*\)".*/\1/p' "$dir/$b.json" | head -n 1 | tr a-z A-Z)
    if [ -z "$res" ]; then
        rc=$(cat "$dir/$b.rc" 2>/dev/null || echo '?')
        [ "$rc" = 124 ] && res="FAIL (killed after $LIMIT s)" || res="FAIL (exit status $rc, no result)"
    fi
    echo "$res"
}

# Scripts run KERNEL_CHECK_JOBS at a time (default 3): each has its own
# namespace and mostly sleeps in real time. A script that fails is run once
# more, alone, so a timing hiccup of a loaded machine is not mistaken for a
# wrong script; KERNEL.md says which needed the second run.
JOBS=${KERNEL_CHECK_JOBS:-3}
n=0
for f in "$PKT"/*.pkt; do
    [ -e "$f" ] || continue
    n=$((n + 1))
done
if [ $n -eq 0 ]; then
    echo "kernel-check: no scripts in $PKT"
    exit 2
fi
echo "kernel-check: $n scripts, $JOBS at a time"
export LIMIT dir
ls "$PKT"/*.pkt | xargs -P "$JOBS" -n 1 sh -c '
    b=$(basename "$1")
    timeout "$LIMIT" build/tcpstate script --target linux --json --verbose "$1" \
        >"$dir/$b.json" 2>"$dir/$b.log"
    echo $? >"$dir/$b.rc"' sh
: >"$dir/retried"
for f in "$PKT"/*.pkt; do
    res=$(result_of "$f")
    case "$res" in
    FAIL*)
        run_one "$f"
        res=$(result_of "$f")
        basename "$f" >>"$dir/retried"
        ;;
    esac
    printf '%-56s %s\n' "$f" "$res"
done

python3 tests/kernel-md.py "$dir" "$PKT"/*.pkt >"$dir/KERNEL.md" || exit 2
cp "$dir/KERNEL.md" "$PKT/KERNEL.md" || exit 2
sed -n 's/^- Result: /kernel-check: /p' "$PKT/KERNEL.md"
echo "wrote $PKT/KERNEL.md"
if grep -q '^| [^|]* | FAIL |' "$PKT/KERNEL.md"; then
    exit 1
fi
exit 0
