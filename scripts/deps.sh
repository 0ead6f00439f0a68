#!/bin/sh
# Installs the Debian packages tcpstate's build, tests and tools use, when
# one is missing and we may (root with apt-get). Without root it says what
# is missing and carries on: the build itself needs only a C compiler and
# make; tests that need a missing tool are skipped with the reason.
#
#   build:  gcc, make            tests: clang (second compiler), graphviz (dot),
#   valgrind (benchmarks), iproute2 (kernel target), python3 (kernel report),
#   libpcap-dev, tshark, curl, liblwip-dev (real-peer interop)
PKGS="gcc make clang graphviz valgrind iproute2 python3 libpcap-dev liblwip-dev curl tshark"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null 2>&1 ||
        echo "deps: could not install$missing (tests that need them are skipped)"
else
    echo "deps: missing$missing (not root: tests that need them are skipped)"
fi
exit 0
