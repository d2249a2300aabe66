"""A short run of the benchmark (make bench) as a smoke test: it must run end
to end, account for every connection in every run, price the connection,
end with its table of targets and, on the last line, a verdict that agrees
with the runs it printed. No timing is asserted."""
import os
import re
import subprocess
import sys

from lib import ROOT, check

TARGETS = ("one-thread storm: runs with 0 records lost", "saturated storm (",
           "saturated storm: skipped runs repaired", "saturated storm: histories written",
           "one-thread storm rate traced", "saturated storm rate traced",
           "nginx, Connection: close: tcptrail", "nginx, keep-alive: tcptrail",
           "kernel per connection", "tracer CPU per connection", "start-up")
CONFIGS = ("untraced", "tcptrail", "libbpf-tools tcplife", "libbpf-tools tcpstates")


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_bench_quick():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "bench.py"),
                        "--quick"], capture_output=True, text=True, timeout=900,
                       env=dict(os.environ, OUT=os.environ.get("OUT", "build")))
    check(p.returncode == 0, "bench exited %d: %s" % (p.returncode, p.stderr[-2000:]))
    lines = p.stdout.splitlines()
    runs = [cells(l) for l in lines if l.startswith(("| 1 thread |", "| %d threads |"
                                                     % (2 * os.cpu_count())))]
    traced = [r for r in runs if r[2] == "current"]
    check(len(traced) == 4, "%d traced storm rows, expected 4:\n%s" % (len(traced), p.stdout))
    lossy = False
    for r in traced:
        written, expected = map(int, r[7].split("/"))
        missing, incomplete = int(r[8].split()[0]), int(r[9].split()[0])
        check(written + missing >= expected, "row %s: %d written + %d missing < %d"
              % (r, written, missing, expected))
        check(r[10] != "?" and "ring_full" in r[11], "row %s: no loss reported" % r)
        lossy = lossy or int(r[10]) or missing or incomplete or int(r[15])
    for l in lines:	# the nginx rounds under tcptrail
        m = re.match(r"  .*, round \d+, tcptrail: .*; lost (\S+) .* (\d+) incomplete, "
                     r"(\d+) missing, (\d+) not JSON", l)
        if m:
            lossy = lossy or m.group(1) != "0" or any(int(g) for g in m.groups()[1:])
    for mode in ("Connection: close", "keep-alive"):
        i = lines.index("nginx, 2 workers, wrk 64 connections, %s:" % mode)
        names = [cells(l)[0] for l in lines[i + 4:i + 8]]
        check(names == list(CONFIGS), "nginx %s rows %s" % (mode, names))
    cost = [cells(l) for l in lines if l.startswith("| current | 1 thread | histories |")]
    check(cost and float(cost[0][3]) > 0, "no kernel cost per connection: %s" % cost)
    i = lines.index("| figure | target | this run | met |")
    table = [cells(l) for l in lines[i + 2:] if l.startswith("| ")]
    check(len(table) == len(TARGETS), "the targets table has %d rows, not %d:\n%s"
          % (len(table), len(TARGETS), "\n".join(lines[i:])))
    for row, want in zip(table, TARGETS):
        check(row[0].startswith(want) and row[3] in ("yes", "no"), "target row %s" % row)
    last = lines[-1]
    check(last.startswith("verdict: "), "the last line is not the verdict: %r" % last)
    check(("REGRESSION" in last) == bool(lossy),
          "verdict %r, yet the runs %s loss" % (last, "showed" if lossy else "showed no"))
