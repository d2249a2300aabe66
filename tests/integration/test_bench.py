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
    rows = {l.split("|")[1].strip(): [c.strip() for c in l.split("|")[2:-1]]
            for l in p.stdout.splitlines() if l.startswith("| ") and not l.startswith("|---")}
    for name in ("untraced", "tcptrail --json", "libbpf-tools tcpstates",
                 "libbpf-tools tcplife", "concurrent connections",
                 "reconstruction only", "memory per tracked connection (table layout)"):
        check(name in rows, "bench printed no row %r:\n%s" % (name, p.stdout))
    trail = rows["tcptrail --json"]
    got, expected = map(int, trail[3].split("/"))
    lost = int(trail[5])
    check(got + lost >= expected, "tcptrail saw %d and lost %d of %d transitions"
          % (got, lost, expected))
    check(int(rows["concurrent connections"][0]) == 100000, "scale row %s"
          % rows["concurrent connections"])
    layout = int(re.match(r"\d+", rows["memory per tracked connection (table layout)"][0])
                 .group(0))
    check(layout <= 256, "table layout %d bytes per connection" % layout)
