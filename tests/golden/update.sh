#!/bin/sh
# Rewrites the golden traces: `tcpstate sim NAME --json --seed 1` for the
# scenarios of issue 4. Run it only after checking that a change of the
# trace is intended (git diff tests/golden shows what moved).
set -e
cd "$(dirname "$0")/../.."
make -s build/tcpstate
for s in lifecycle server-close simultaneous-open simultaneous-close refused reset-unread; do
    build/tcpstate sim "$s" --json --seed 1 >"tests/golden/$s.jsonl"
done
echo "golden traces rewritten; review with: git diff tests/golden"
