#!/bin/sh
# test_cli.sh — the `tcpstate` command's interface: help, usage errors, and
# the sim/diagram output shapes. Usage errors must exit 2 with exactly one
# line on stderr naming the bad word, and nothing on stdout.
#
#   sh tests/test_cli.sh [path/to/tcpstate]   (default: $TCPSTATE, else build/tcpstate)
#
# Prints one line per check and "N passed, N failed"; exits 1 on a failure.

BIN=${1:-${TCPSTATE:-build/tcpstate}}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcpstate-cli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0

if [ ! -x "$BIN" ]; then
    echo "FAIL $BIN is not built"
    exit 1
fi

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# usage_error NAME WORD ARGS...: exit 2, one stderr line containing WORD,
# empty stdout.
usage_error() {
    name=$1 word=$2
    shift 2
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    lines=$(wc -l <"$TMP/err")
    if [ "$rc" -ne 2 ]; then
        bad "$name" "exit status $rc, expected 2"
    elif [ "$lines" -ne 1 ]; then
        bad "$name" "$lines lines on stderr, expected 1: $(cat "$TMP/err")"
    elif ! grep -qF -- "$word" "$TMP/err"; then
        bad "$name" "stderr does not name '$word': $(cat "$TMP/err")"
    elif [ -s "$TMP/out" ]; then
        bad "$name" "something on stdout"
    else
        ok "$name"
    fi
}

# succeeds NAME PATTERN ARGS...: exit 0 and stdout contains PATTERN.
succeeds() {
    name=$1 pattern=$2
    shift 2
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        bad "$name" "exit status $rc: $(head -c 300 "$TMP/err")"
    elif ! grep -qF -- "$pattern" "$TMP/out"; then
        bad "$name" "stdout lacks '$pattern'"
    else
        ok "$name"
    fi
}

# ---- help and version
succeeds "--help" "sim SCENARIO" --help
succeeds "-h" "diagram" -h
succeeds "help sim" "--sysctl-file" help sim
succeeds "sim --help" "--counters" sim --help
succeeds "diagram --help" "--format" diagram --help
succeeds "help diagram" "dot" help diagram
succeeds "--version" "tcpstate 0." --version
"$BIN" >/dev/null 2>&1
[ $? -eq 2 ] && ok "no command: exit 2" || bad "no command" "exit status not 2"

# ---- usage errors: one line, naming the bad word, exit 2
usage_error "unknown command" "frobnicate" frobnicate
usage_error "unknown top option" "--frob" --frob
usage_error "help for an unknown command" "nosuch" help nosuch
usage_error "sim without scenario" "scenario" sim
usage_error "unknown scenario" "no-such-scenario" sim no-such-scenario
usage_error "unknown sim option" "--nope" sim lifecycle --nope
usage_error "scenario typo gets a suggestion" "did you mean lifecycle?" sim lifecyle
usage_error "option typo gets a suggestion" "did you mean --json?" sim lifecycle --jsno
usage_error "command typo gets a suggestion" "did you mean sim?" simm
usage_error "two scenarios" "refused" sim lifecycle refused
usage_error "--seed without value" "--seed" sim lifecycle --seed
usage_error "--seed not a number" "abc" sim lifecycle --seed abc
usage_error "--seed negative" "-3" sim lifecycle --seed=-3
usage_error "--loss out of range" "150" sim lifecycle --loss 150
usage_error "--loss not a number" "lots" sim lifecycle --loss lots
usage_error "--delay negative" "-1" sim lifecycle --delay -1
usage_error "--limit zero" "--limit" sim lifecycle --limit 0
usage_error "--sysctl unknown name" "tcp_no_such" sim lifecycle --sysctl net.ipv4.tcp_no_such=1
usage_error "--sysctl bad value" "tcp_fin_timeout" sim lifecycle --sysctl net.ipv4.tcp_fin_timeout=soon
usage_error "--sysctl without =" "tcp_fin_timeout" sim lifecycle --sysctl tcp_fin_timeout
usage_error "--sysctl-file missing" "$TMP/none.conf" sim lifecycle --sysctl-file "$TMP/none.conf"
printf '# comment\nnet.ipv4.tcp_fin_timeout = 30\nthis line is wrong\n' >"$TMP/bad.conf"
usage_error "--sysctl-file bad line" "bad.conf:3" sim lifecycle --sysctl-file "$TMP/bad.conf"
printf 'net.ipv4.tcp_fin_timeout = 30\nnet.ipv4.tcp_bogus = 1 # typo\n' >"$TMP/bad2.conf"
usage_error "--sysctl-file bad name" "bad2.conf:2" sim lifecycle --sysctl-file "$TMP/bad2.conf"
usage_error "diagram unknown format" "png" diagram --format png
usage_error "diagram unknown option" "--bogus" diagram --bogus
usage_error "diagram extra argument" "extra" diagram extra
usage_error "diagram --format without value" "--format" diagram --format

# ---- sim output
succeeds "sim --list" "lifecycle" sim --list
for s in lifecycle server-close simultaneous-open simultaneous-close refused reset-unread lossy; do
    grep -q "^  $s " "$TMP/out" || bad "sim --list names $s" "missing"
done
succeeds "sim lifecycle" "checks: all" sim lifecycle
grep -q "TIME_WAIT" "$TMP/out" || bad "sim lifecycle shows TIME_WAIT" "missing"
succeeds "sim lifecycle --counters" "TcpActiveOpens" sim lifecycle --counters
printf '# shorter TIME_WAIT\nnet.ipv4.tcpstate_timewait_len_ms = 2000\n' >"$TMP/good.conf"
succeeds "sim --sysctl-file" "ended at 2." sim lifecycle --sysctl-file "$TMP/good.conf"
succeeds "sim --sysctl=" "ended at 2." sim lifecycle --sysctl=net.ipv4.tcpstate_timewait_len_ms=2000

"$BIN" sim lifecycle --json --seed 5 >"$TMP/a.json" 2>"$TMP/err"
rc=$?
if [ $rc -ne 0 ]; then
    bad "sim --json" "exit status $rc"
elif grep -qv '^{"t": [0-9]*\.[0-9]\{6\}, ' "$TMP/a.json"; then
    bad "sim --json" "a line is not a JSON event: $(grep -v '^{"t": ' "$TMP/a.json" | head -1)"
elif ! tail -n 1 "$TMP/a.json" | grep -q '"ev": "end", "conns": \['; then
    bad "sim --json" "the last line is not the end line"
else
    ok "sim --json lines"
fi
"$BIN" sim lifecycle --json --seed 5 >"$TMP/b.json" 2>&1
cmp -s "$TMP/a.json" "$TMP/b.json" && ok "same seed, same bytes" || bad "same seed" "outputs differ"
"$BIN" sim lifecycle --json --seed 5 --loss 30 >"$TMP/c.json" 2>&1
"$BIN" sim lifecycle --json --seed 6 --loss 30 >"$TMP/d.json" 2>&1
cmp -s "$TMP/c.json" "$TMP/d.json" && bad "different seeds under loss" "same output" ||
    ok "different seeds under loss differ"

succeeds "diagram" "ESTABLISHED" diagram
succeeds "diagram --format dot" "digraph" diagram --format dot
succeeds "diagram --format=json" '"transitions"' diagram --format=json

# ---- every row of the transition table is exercised by some script in
# tests/pkt (issue 5: a script per transition); all scripts must pass too
PKT="$(dirname "$0")/pkt"
"$BIN" script --coverage "$PKT" >"$TMP/cov" 2>"$TMP/err"
rc=$?
cov=$(grep '^transition coverage: ' "$TMP/cov")
hit=$(echo "$cov" | sed -nE 's/^transition coverage: ([0-9]+) of ([0-9]+) .*/\1/p')
all=$(echo "$cov" | sed -nE 's/^transition coverage: ([0-9]+) of ([0-9]+) .*/\2/p')
if [ "$rc" -ne 0 ]; then
    bad "script --coverage tests/pkt" "exit status $rc: $(grep -E '^(FAIL|ERROR)' "$TMP/cov" | head -3)"
elif [ -z "$hit" ] || [ -z "$all" ] || [ "$all" -eq 0 ]; then
    bad "script --coverage tests/pkt" "no coverage line"
elif [ "$hit" -ne "$all" ] || grep -q 'not exercised' "$TMP/cov"; then
    bad "script --coverage tests/pkt" "$hit of $all rows; $(grep 'not exercised' "$TMP/cov" | head -5 | tr -s ' ' | tr '\n' ';')"
else
    ok "script --coverage: all $all transition rows exercised by tests/pkt"
fi

# ---- examples/embed.c, the smallest embedding (public header + library only)
EMB="$(dirname "$BIN")/examples/embed"
if [ -x "$EMB" ]; then
    if "$EMB" >"$TMP/emb" 2>&1 && grep -q 'client TIME_WAIT    -> CLOSED' "$TMP/emb" &&
        grep -q '0 connections left on the client, 0 on the server' "$TMP/emb"; then
        ok "examples/embed runs a whole lifecycle"
    else
        bad "examples/embed" "$(tail -3 "$TMP/emb" | tr '\n' ' ')"
    fi
else
    bad "examples/embed" "not built ($EMB)"
fi

# ---- golden traces: the seeded simulations of issue 4, byte for byte
# (tests/golden/update.sh rewrites them once a change is meant)
GOLD="$(dirname "$0")/golden"
for g in "$GOLD"/*.jsonl; do
    [ -e "$g" ] || continue
    name=$(basename "$g" .jsonl)
    "$BIN" sim "$name" --json --seed 1 >"$TMP/gold" 2>&1
    if cmp -s "$TMP/gold" "$g"; then
        ok "golden trace $name"
    else
        bad "golden trace $name" "differs from tests/golden/$name.jsonl: $(diff "$g" "$TMP/gold" | head -3 | tr '\n' ' ')"
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
