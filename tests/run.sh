#!/bin/sh
# `make test`: the whole suite once normally and once under AddressSanitizer
# + UndefinedBehaviorSanitizer, then a warnings-as-errors build with the
# other compiler. Each suite prints its own "N passed, N failed[, N skipped]";
# this sums them into the last line.
set -u
cd "$(dirname "$0")/.." || exit 2
sh scripts/deps.sh
JOBS=${JOBS:-2}
P=0; F=0; S=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

count() { # label file
    line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
    p=$(echo "$line" | sed -E 's/^[^0-9]*([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    if [ -z "$line" ]; then
        echo "== $1: no result line (crashed?)"; tail -20 "$2"; F=$((F + 1)); return
    fi
    P=$((P + p)); F=$((F + f)); S=$((S + ${s:-0}))
    echo "== $1: $line"
}

suite() { # label build-dir
    b=$2
    "$b/tcpstate-tests" > "$log/c.txt" 2>&1
    grep -E '^(FAIL|skip)' "$log/c.txt"
    count "$1 C tests" "$log/c.txt"
    if ls tests/pkt/*.pkt >/dev/null 2>&1; then
        "$b/tcpstate" script tests/pkt > "$log/pkt.txt" 2>&1
        grep -E '^(FAIL|SKIP)' "$log/pkt.txt" | head -40
        count "$1 scripts" "$log/pkt.txt"
    fi
    if [ -f tests/test_cli.sh ]; then
        TCPSTATE="$b/tcpstate" sh tests/test_cli.sh > "$log/cli.txt" 2>&1
        grep -E '^(FAIL|skip)' "$log/cli.txt"
        count "$1 CLI tests" "$log/cli.txt"
    fi
}

# lwIP as an in-process peer (tests/lwip/): built and run when Debian's
# liblwip-dev is installed, otherwise counted as skipped with the reason.
LWT=""; [ -f /usr/include/lwip/lwip/tcp.h ] && LWT="lwip-tests"
lwip() { # label build-dir [make args...]
    l=$1; b=$2; shift 2
    if [ -z "$LWT" ]; then
        S=$((S + 1)); echo "skip $l lwIP tests: liblwip-dev not installed (no /usr/include/lwip/lwip/tcp.h)"
        return
    fi
    if ! make -s -j"$JOBS" BUILD="$b" "$@" lwip-tests > "$log/lwb.txt" 2>&1; then
        F=$((F + 1)); echo "FAIL $l lwIP tests: build"; tail -20 "$log/lwb.txt"; return
    fi
    "$b/tcpstate-lwip-tests" > "$log/lw.txt" 2>&1
    grep -E '^(FAIL|skip)' "$log/lw.txt"
    count "$l lwIP tests" "$log/lw.txt"
}

echo "== building (gcc, -Werror)"
make -s -j"$JOBS" all || { echo "0 passed, 1 failed"; exit 1; }
suite "plain" build

# Interop with the Linux kernel and curl over a TUN device (tests/interop/):
# root only, each case in a network namespace of its own; plain build only.
if [ -f tests/interop/run.sh ]; then
    sh tests/interop/run.sh build/tcpstate > "$log/interop.txt" 2>&1
    grep -E '^(FAIL|skip)' "$log/interop.txt"
    count "interop" "$log/interop.txt"
fi
lwip "plain" build

echo "== building with AddressSanitizer + UndefinedBehaviorSanitizer"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
make -s -j"$JOBS" BUILD=build/asan OPT="-O1 -g" EXTRA_CFLAGS="$SAN" all ||
    { echo "$P passed, $((F + 1)) failed"; exit 1; }
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 suite "asan+ubsan" build/asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    lwip "asan+ubsan" build/asan OPT="-O1 -g" EXTRA_CFLAGS="$SAN"

if command -v clang >/dev/null 2>&1; then
    echo "== building with clang (-Werror)"
    if make -s -j"$JOBS" CC=clang BUILD=build/clang all $LWT > "$log/clang.txt" 2>&1; then
        P=$((P + 1)); echo "== clang build: ok"
    else
        F=$((F + 1)); echo "FAIL clang build"; tail -20 "$log/clang.txt"
    fi
else
    S=$((S + 1)); echo "skip clang build: clang not installed"
fi

echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
