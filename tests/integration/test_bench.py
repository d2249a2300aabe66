"""A short run of the benchmark (make bench) as a smoke test: it must run end
to end and account for every record. No timing is asserted."""
import os
import re
import subprocess
import sys

from lib import ROOT, check


def test_bench_quick():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "bench.py"),
                        "--quick"], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, OUT=os.environ.get("OUT", "build")))
    check(p.returncode == 0, "bench exited %d: %s" % (p.returncode, p.stderr[-2000:]))
    rows = {}	# by first cell; the first row of a name (a run before its programs)
    for l in p.stdout.splitlines():
        if l.startswith("| ") and not l.startswith("|---"):
            rows.setdefault(l.split("|")[1].strip(), [c.strip() for c in l.split("|")[2:-1]])
    for name in ("untraced", "tcptrail --json", "libbpf-tools tcpstates",
                 "libbpf-tools tcplife", "concurrent connections",
                 "reconstruction only", "memory per tracked connection (table layout)"):
        check(name in rows, "bench printed no row %r:\n%s" % (name, p.stdout))
    trail = rows["tcptrail --json"]
    # --json writes histories (no transition records unless asked)
    got, expected = map(int, trail[4].split()[0].split("/"))
    lost = int(trail[5])
    check(got + lost >= expected, "tcptrail saw %d and lost %d of %d histories"
          % (got, lost, expected))
    check(int(rows["concurrent connections"][0]) == 100000, "scale row %s"
          % rows["concurrent connections"])
    layout = int(re.match(r"\d+", rows["memory per tracked connection (table layout)"][0])
                 .group(0))
    check(layout <= 256, "table layout %d bytes per connection" % layout)
    # the parts of a record, each priced by the kernel during a storm
    floor = rows.get("an empty program: dispatch and the accounting itself (the floor)")
    check(floor and int(floor[0]) > 1000, "no priced floor: %s" % floor)
    for part in ("bpf_ktime_get_ns()", "ring buffer reserve + submit, 128 bytes",
                 "the same: direct BTF loads + bpf_skc_to_tcp_sock() (now)"):
        check(part in rows and int(rows[part][0]) == int(floor[0]),
              "part %r not priced over the same runs as the floor" % part)
    text = rows.get("tcptrail, text view")
    check(text, "no text-view row")
    got, expected = map(int, text[3].split("/"))
    check(got + int(text[5]) >= expected, "text view saw %d of %d transitions" % (got, expected))
    targets = [l for l in p.stdout.splitlines()
               if l.startswith("| ") and l.rstrip().endswith(("| yes |", "| no |"))]
    check(len(targets) == 7, "the targets table has %d rows, not 7:\n%s"
          % (len(targets), "\n".join(targets)))
