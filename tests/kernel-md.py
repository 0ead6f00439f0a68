#!/usr/bin/env python3
"""kernel-md.py -- writes tests/pkt/KERNEL.md (to stdout) from the results of
tests/kernel-check.sh.

Usage: kernel-md.py DIR SCRIPT...

For each SCRIPT, DIR holds BASENAME.json (the JSON Lines of
`tcpstate script --target linux --json`), BASENAME.log (its --verbose log,
which the CLI writes to stderr when --json is on) and BASENAME.rc (its exit
status). The verbose log is where the kernel's measured times come from:

    " 0.001539 line 6: > S. 0:0(0) ack 1 <mss 1460>"     an event starts
    " 0.001341   sniffed > S. 0:0(0) ack 1 ..."           the packet that matched it
    " 1.122125   accept() = 4"                           a call returned (t_end)

A blocking call (time written S...E) may return after later events have
started, so its return is matched to the oldest still-open blocking call of
the same name. Scripts whose first line is `// tcpstate-only: REASON` are
SKIP with that reason whatever the runner said.
"""
import datetime
import json
import os
import platform
import re
import sys

EVENT = re.compile(r"^\s*(\d+\.\d+) line (\d+): (.*)$")
SNIFF = re.compile(r"^\s*(\d+\.\d+)\s+sniffed > (\S+)")
CALL_RET = re.compile(r"^\s*(\d+\.\d+)\s+(\w+)\(\) = (.*)$")
BLOCKING_TIME = re.compile(r"^\s*\+?(\d+(\.\d*)?|\.\d+)\.\.\.")
ONLY = re.compile(r"^//\s*tcpstate-only:\s*(.*?)\s*$")


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def blocking_lines(script_text):
    """Line numbers (1-based) of the calls written S...E."""
    return {i for i, line in enumerate(script_text.splitlines(), 1)
            if BLOCKING_TIME.match(line)}


def kernel_times(log, blocking):
    """[(line, what, seconds)] for outbound packets and blocking returns."""
    out, pending, cur = [], [], None
    for raw in log.splitlines():
        m = EVENT.match(raw)
        if m:
            cur = int(m.group(2))
            text = m.group(3)
            if cur in blocking:
                name = re.match(r"(\w+)", text)
                pending.append((cur, name.group(1) if name else "?", len(out)))
            continue
        m = SNIFF.match(raw)
        if m and cur is not None:
            out.append((cur, ">" + m.group(2), float(m.group(1))))
            continue
        m = CALL_RET.match(raw)
        if m:
            t, name = float(m.group(1)), m.group(2)
            for k, (line, pname, _) in enumerate(pending):
                if pname == name:
                    out.append((line, name + "()", t))
                    del pending[k]
                    break
    return sorted(out, key=lambda e: (e[2], e[0]))


def runner_record(json_text):
    for line in json_text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "script" in rec:
            return rec
    return None


def md_cell(text):
    return text.replace("|", "\\|").replace("\n", " ").strip()


def outcome(script, d):
    """(result, times, note) for one script."""
    base = os.path.basename(script)
    text = read(script)
    first = text.splitlines()[0] if text else ""
    only = ONLY.match(first)
    if only:
        return "SKIP", "", "tcpstate-only: " + only.group(1)
    rec = runner_record(read(os.path.join(d, base + ".json")))
    times = kernel_times(read(os.path.join(d, base + ".log")), blocking_lines(text))
    tlist = " · ".join("L%d %s %.4f" % (line, what, t) for line, what, t in times)
    if rec is None:
        rc = read(os.path.join(d, base + ".rc")).strip() or "?"
        why = "no result after the time limit (killed)" if rc == "124" else \
            "the runner gave no result (exit status %s)" % rc
        return "FAIL", tlist, why
    res = str(rec.get("result", "?")).lower()
    if res == "pass":
        return "PASS", tlist, ""
    if res == "skip":
        return "SKIP", "", rec.get("reason", "")
    where = "line %s: " % rec["line"] if rec.get("line") else ""
    kind = "script error: " if res == "error" else ""
    return "FAIL", tlist, kind + where + str(rec.get("message", ""))


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: kernel-md.py DIR SCRIPT...\n")
        return 2
    d, scripts = argv[0], sorted(argv[1:])
    rows = [(s,) + outcome(s, d) for s in scripts]
    retried = set(read(os.path.join(d, "retried")).split())
    rows = [(s, res, times, (note + "; " if note else "") + "passed on its second run"
             if res == "PASS" and os.path.basename(s) in retried else
             (note + " (failed twice)" if res == "FAIL" and os.path.basename(s) in retried else note))
            for s, res, times, note in rows]
    count = {k: sum(1 for r in rows if r[1] == k) for k in ("PASS", "FAIL", "SKIP")}
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    p = sys.stdout.write
    p("# tests/pkt on the Linux kernel\n\n")
    p("Written by `make kernel-check` (tests/kernel-check.sh, tests/kernel-md.py): every\n"
      "script run by `tcpstate script --target linux`, i.e. on the kernel itself, in real\n"
      "time, over a TUN device in a private network namespace, with packetdrill's\n"
      "tolerances (4 ms or 12.5 %). Scripts run three at a time, each in its own namespace;\n"
      "a script that fails is run once more, alone, and the note says so. Do not edit by hand.\n\n")
    p("- Kernel: %s (`uname -r`)\n" % platform.release())
    p("- Date: %s\n" % now)
    p("- Result: %d passed, %d failed, %d skipped\n\n" % (count["PASS"], count["FAIL"], count["SKIP"]))
    p("Kernel times are seconds since the script's start, as the kernel did it: "
      "`L6 >S. 1.0166` is the packet that matched line 6 (read from the TUN device at "
      "1.0166 s), `L8 accept() 1.1221` the return of the blocking call of line 8.\n\n")
    p("| Script | Result | Kernel times (s) | Note |\n|---|---|---|---|\n")
    for script, res, times, note in rows:
        p("| %s | %s | %s | %s |\n" % (md_cell(os.path.basename(script)), res,
                                      md_cell(times), md_cell(note)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
