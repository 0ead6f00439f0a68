#!/bin/sh
# `make bench`: builds every benchmark program and runs them in name order.
#
# Every bench/*.c is one program with its own main (bench/lib/*.c is shared
# and linked into all of them, with lwIP and tests/lwip's link when
# liblwip-dev is installed). Each prints its own lines: figures, and ratios
# against a peer measured in the same run (absolute times on shared machines
# are noise; callgrind's instruction counts, bench/instr.c, are the stable
# figure). To add a benchmark, add bench/NAME.c: nothing here changes.
#
# The build is optimised and without the test builds' invariant checks
# (CHECKS=0), in build/bench. As root, with unshare(1), the programs run in
# a private network namespace whose lo has MTU 1500 (like the in-process
# link), so the kernel over loopback carries 1500-byte datagrams too; else
# on this namespace's lo as it is (each program says which MTU it saw).
# BENCH_HOST_LO=1 keeps the host's lo even as root.
set -u
cd "$(dirname "$0")/.." || exit 2
sh scripts/deps.sh
B=build/bench
make -s -j"${JOBS:-2}" BUILD="$B" CHECKS=0 OPT="-O2 -g" bench-build || exit 1

NS=""
if [ "$(id -u)" = 0 ] && [ "${BENCH_HOST_LO:-0}" != 1 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -n sh -c 'ip link set lo mtu 1500 && ip link set lo up' 2>/dev/null; then
    NS=1
fi

for src in bench/*.c; do
    name=$(basename "$src" .c)
    prog="$B/bench-bin/$name"
    if [ -n "$NS" ]; then
        unshare -n sh -c 'ip link set lo mtu 1500 && ip link set lo up && exec "$0"' "$prog"
    else
        "$prog"
    fi || echo "bench $name: exit status $?"
done
