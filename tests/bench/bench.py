#!/usr/bin/env python3
"""tcptrail benchmark (make bench): one run, one machine, every figure
printed by the run itself, ending with a table of targets and, on the last
line, the regression verdict.

1. Connection storms on loopback (tests/bench/storm.c: client threads
   connect, send a byte and close; as many server threads accept, read and
   close), one client thread and client threads at twice the CPU count
   (saturated: softirqs interrupt the tracer's programs and the kernel
   skips nested runs). Each storm is repeated --runs times; each repetition
   runs untraced, then under tcptrail writing JSON histories to a file
   (--no-states), then with the per-transition stream too. Per run: records
   lost by cause and incomplete or missing histories (tcptrail's exit
   summary and its output file), the kernel's skipped runs of tcptrail's
   programs (recursion_misses) against those tcptrail repaired, and the
   kernel's run_time_ns of every program (kernel.bpf_stats_enabled).
   libbpf-tools tcpstates and tcplife run once per storm beside it.
2. With BASE=<rev> (--base), that commit is built in a temporary worktree
   under build-base/ and its runs are interleaved with the current ones.
   Loss of even one record where the base lost none at the same storm is a
   regression. Without a base, any loss is measured against the loss-free
   expectation.
3. A real server: Debian's nginx driven by wrk until the CPUs are saturated
   (tests/bench/webserver.py), Connection: close and keep-alive, untraced,
   tcptrail, tcplife and tcpstates, interleaved rounds.
4. Cost per connection (both ends of a loopback connection count as one):
   the kernel's run_time_ns summed over all of tcptrail's programs, and the
   tracer's user+system CPU from /proc/PID/stat, each over the one-thread
   storm, divided by its connections. Start-up: exec to the tracing line.

--parts adds tests/bench/bpfprof's price of each part of a state-change
record (a program of its own per part on the same tracepoint; it is built
from the BPF side's headers, so it follows the tracer's internals), and the
delivery facts' read at a CLOSE against its target (one program reading
and not in turns, a tenth of a second each: the median of the pairs), over
a storm three times as long (15 s at least).

Usage: bench.py [--seconds S] [--runs N] [--base REV] [--quick] [--strict] [--parts]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import webserver  # noqa: E402
from benchlib import ROOT, median_of, storm, traced_storm  # noqa: E402

# The two outputs of tcptrail each storm runs under: histories alone (the
# cost targets' subject), and with the per-transition stream, priced apart.
OUTPUTS = (("histories", ["--no-states"]), ("histories+transitions", []))
TRANSITIONS_PER_CONN = 10
TARGET_KERNEL_NS = 1500
TARGET_CPU_US = 1.0
TARGET_DELIVERY_NS = 30	# the delivery facts' reads at a CLOSE (--parts)


class Version:
    def __init__(self, name, binary):
        self.name, self.binary = name, binary


def build_base(rev):
    """The tracer of commit rev, built in a temporary worktree under
    build-base/ and kept there as build-base/tcptrail-<commit> (a second run
    reuses it). Our storm drives both: only the tracer differs."""
    sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--verify", rev + "^{commit}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    keep = os.path.join(ROOT, "build-base", "tcptrail-" + sha[:12])
    if os.path.exists(keep):
        return sha, keep
    tree = os.path.join(ROOT, "build-base", sha[:12])
    os.makedirs(os.path.dirname(tree), exist_ok=True)
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--force", "--detach", tree, sha],
                   capture_output=True, check=True)
    try:
        p = subprocess.run(["make", "-C", tree, "OUT=build", "-j%d" % os.cpu_count(), "all"],
                           capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError("building %s failed: %s" % (rev, p.stderr[-1500:]))
        os.replace(os.path.join(tree, "build", "tcptrail"), keep)
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree],
                       capture_output=True)
    return sha, keep


def peer_storm(tool, port, seconds, threads, tmp):
    """A libbpf-tools tracer writing to a file during a storm."""
    path = os.path.join(tmp, tool + ".txt")
    stats = benchlib.ProgStats()
    with open(path, "w") as out:
        proc = subprocess.Popen([tool], stdout=out, stderr=subprocess.PIPE, text=True)
    try:
        if not benchlib.wait_loaded(stats):
            raise RuntimeError(tool + " loaded no program")
        stats.mark()
        conns, _, rate = storm(port, seconds, threads, stats.sample)
        progs = stats.read()
    finally:
        time.sleep(0.5)
        proc.send_signal(2)
        err = proc.communicate(timeout=30)[1]
    with open(path, errors="replace") as f:
        text = f.read()
    os.unlink(path)
    lines = len(re.findall(r"\s%d\s" % port, text))
    lost = re.findall(r"[Ll]ost (\d+)", err + text)
    per = TRANSITIONS_PER_CONN if tool == "tcpstates" else benchlib.HISTORIES_PER_CONN
    return {"tool": tool, "rate": rate, "conns": conns, "lines": lines,
            "expected": conns * per, "lost": sum(map(int, lost)) if lost else None,
            "misses": sum(p["misses"] for p in progs), "progs": progs}


def parts(seconds):
    """tests/bench/bpfprof during a one-thread storm: | part | runs | ns |.
    Returns the delivery read's price per CLOSE (None if not printed)."""
    subprocess.run(["make", "-C", ROOT, "--no-print-directory",
                    os.path.relpath(benchlib.OUT, ROOT) + "/bpfprof"], check=True)
    # three storms' length, 15 s at least: the delivery read's price is a
    # median of pairs of 0.1 s windows, and 15 s give it about 37 per part
    # (3 s gave 8)
    span = max(15.0, 3 * seconds)
    out = subprocess.run([os.path.join(benchlib.OUT, "bpfprof"), benchlib.STORM, "19400",
                          "%g" % span, "1"], capture_output=True, text=True, check=True).stdout
    print()
    print("Parts of a state-change record, each alone in a program, one-thread storm of %g s:"
          % span)
    print()
    print("| part | runs | ns per run |")
    print("|---|---|---|")
    print(out.rstrip())
    m = re.search(r"^\| delivery facts read at the CLOSE.* \| ([-0-9.]+) \|$", out, re.M)
    return float(m.group(1)) if m else None


def lossy(r):
    """Did a traced run lose anything? Unknown (no summary) counts as lost."""
    h = r["hist"]
    return (r["lost"] is None or r["lost"] > 0 or h["missing"] or h["incomplete"]
            or r["bad_lines"])


def run_row(storm_name, r):
    h = r["hist"]
    rep = r["summary"]["repaired"]
    unrep = r["summary"]["by_cause"].get("kernel_skipped")
    missing = str(h["missing"])
    if h["missing"] or h["extra"]:	# which ends, and what the tracer still held open
        missing += " (%s; %s still open%s; open in the kernel at stop: %s)" % (
            ", ".join("%s %d" % (k, v) for k, v in sorted(h["roles"].items(), key=str)),
            r["summary"]["counts"].get("still open", "?"),
            ", %d extra" % h["extra"] if h["extra"] else "",
            " ".join(r.get("open_at_stop") or []) or "none")
    return ("| %s | %d | %s | %s | %.0f | %.2f | %d | %d/%d | %s | %d%s | %s | %s | %d | %s | %s "
            "| %d | %s |" % (
                storm_name, r["rep"], r["version"], r["output"], r["rate"], r["ratio"],
                r["conns"], h["written"], h["expected"], missing, h["incomplete"],
                " (%s)" % ", ".join("%s %d" % kv for kv in h["incomplete_causes"].items())
                if h["incomplete"] else "", "?" if r["lost"] is None else r["lost"],
                benchlib.fmt_causes(r["summary"]), r["misses"], "?" if rep is None else rep,
                "?" if unrep is None else unrep, r["bad_lines"],
                "%s ms" % r["startup_ms"] if r["startup_ms"] is not None
                else "%.0f ms (wall)" % (1000 * r["startup_wall_s"])))


RUN_HEAD = ("| storm | run | version | output | conn/s | vs untraced | connections | "
            "histories | missing | incomplete | records lost | lost by cause | "
            "runs the kernel skipped (all programs) | repaired | unrepaired (kernel_skipped) | not JSON | "
            "start-up |\n|" + "---|" * 17)


def storm_section(args, versions, threads, tmp):
    """Every repetition of one storm, printed as it runs."""
    port = 19500 + threads
    name = "%d thread%s" % (threads, "s" if threads > 1 else "")
    print()
    print("Storm, %s, %g s, %d runs:" % (name, args.seconds, args.runs))
    print()
    print(RUN_HEAD, flush=True)
    runs = []
    # what each version spends idle over a run's span, printed beside its
    # CPU per connection
    idle = {v.name: benchlib.idle_cpu(v.binary, args.seconds + 0.5) for v in versions}
    for rep in range(args.runs):
        conns, _, base = storm(port, args.seconds, threads)
        print("| %s | %d | untraced | - | %.0f | 1.00 | %d |%s" % (name, rep + 1, base, conns,
                                                                  " - |" * 10), flush=True)
        order = versions if rep % 2 == 0 else versions[::-1]
        for output, extra in OUTPUTS:
            for v in order:
                r = traced_storm(v.binary, port, args.seconds, threads,
                                 os.path.join(tmp, "trail.json"), extra)
                r.update(rep=rep + 1, version=v.name, output=output, ratio=r["rate"] / base,
                         threads=threads, idle_cpu=idle[v.name])
                runs.append(r)
                print(run_row(name, r), flush=True)
    peers = [peer_storm(t, port, args.seconds, threads, tmp) for t in ("tcpstates", "tcplife")]
    print()
    print("| peer tool, %s | conn/s | connections | lines (with the storm's port) | lost "
          "(reported) | runs the kernel skipped |" % name)
    print("|---|---|---|---|---|---|")
    for p in peers:
        print("| libbpf-tools %s | %.0f | %d | %d/%d | %s | %d |" % (
            p["tool"], p["rate"], p["conns"], p["lines"], p["expected"],
            "not reported" if p["lost"] is None else p["lost"], p["misses"]))
    print_programs(name, runs, peers)
    return runs, peers


def print_programs(name, runs, peers):
    """The kernel's accounting per program, summed over the repetitions."""
    print()
    print("| %s: tool | program | runs | ns per run (mean) | median of 0.5 s windows "
          "(median over runs) | skipped runs |" % name)
    print("|---|---|---|---|---|---|")
    groups = {}
    for r in runs:
        for p in r["progs"]:
            groups.setdefault(("tcptrail %s, %s" % (r["version"], r["output"]), p["name"]),
                              []).append(p)
    for p in peers:
        for q in p["progs"]:
            groups.setdefault(("libbpf-tools " + p["tool"], q["name"]), []).append(q)
    for (tool, prog), ps in groups.items():
        runs_ = sum(p["runs"] for p in ps)
        ns = sum(p["ns"] for p in ps)
        print("| %s | %s | %d | %.0f | %.0f | %d |" % (
            tool, prog, runs_, ns / runs_ if runs_ else 0, median_of([p["median"] for p in ps]),
            sum(p["misses"] for p in ps)))


def cost_section(runs):
    """Per connection, from the same runs: the kernel's run_time_ns of every
    tcptrail program and the tracer's CPU, divided by connections."""
    print()
    print("Cost per connection (both ends of a loopback connection are one connection), "
          "median over the runs:")
    print()
    print("| version | storm | output | kernel ns per connection (all programs) | "
          "kernel ns per transition | tracer CPU per connection: user + system | "
          "less an idle tracer's CPU over the same span | tracer CPU per record |")
    print("|---|---|---|---|---|---|---|---|")
    cost = {}
    keys = []
    for r in runs:
        k = (r["version"], r["threads"], r["output"])
        if k not in cost:
            keys.append(k)
        cost.setdefault(k, []).append(r)
    out = {}
    for k in keys:
        rs = cost[k]
        kns = median_of([r["kernel_ns"] / r["conns"] for r in rs])
        user = median_of([r["cpu"][0] / r["conns"] * 1e6 for r in rs])
        system = median_of([r["cpu"][1] / r["conns"] * 1e6 for r in rs])
        cpu = median_of([sum(r["cpu"]) / r["conns"] * 1e6 for r in rs])
        busy = median_of([(sum(r["cpu"]) - r["idle_cpu"]) / r["conns"] * 1e6 for r in rs])
        recs = [sum(r["cpu"]) / r["summary"]["counts"]["records"] * 1e6 for r in rs
                if r["summary"]["counts"].get("records")]
        out[k] = (kns, cpu, busy)
        print("| %s | %d thread%s | %s | %.0f | %.0f | %.3f us: %.3f + %.3f | %.3f us | %s |" % (
            k[0], k[1], "s" if k[1] > 1 else "", k[2], kns, kns / TRANSITIONS_PER_CONN, cpu,
            user, system, busy, "%.3f us" % median_of(recs) if recs else "?"))
    return out


def repaired_share(rs):
    """Skipped runs tcptrail repaired, against those it repaired or reported
    lost (kernel_skipped), summed over runs. The kernel's recursion_misses
    of all programs is printed beside it: a skipped run of a program that
    only repairs loses nothing, so the two need not agree."""
    repaired = sum(r["summary"]["repaired"] or 0 for r in rs)
    unrepaired = sum(r["summary"]["by_cause"].get("kernel_skipped", 0) for r in rs)
    return repaired, repaired + unrepaired, sum(r["misses"] for r in rs)


def targets(runs, one, many, web, cost, delivery_ns):
    """(figure, target, this run, met) for the current version; the delivery
    read's row only with --parts (delivery_ns not None)."""
    cur = [r for r in runs if r["version"] == "current" and r["output"] == "histories"]
    c1 = [r for r in cur if r["threads"] == one]
    cm = [r for r in cur if r["threads"] == many]
    rows = []
    lossless = sum(1 for r in c1 if not lossy(r))
    rows.append(("one-thread storm: runs with 0 records lost, 0 incomplete, 0 missing",
                 "every run", "%d/%d" % (lossless, len(c1)), lossless == len(c1)))
    lossless = sum(1 for r in cm if not lossy(r))
    rows.append(("saturated storm (%d threads): runs with 0 lost, 0 incomplete, 0 missing"
                 % many, "every run", "%d/%d" % (lossless, len(cm)), lossless == len(cm)))
    rep, skip, misses = repaired_share(cm)
    rows.append(("saturated storm: skipped runs repaired (of those repaired or reported lost)",
                 ">= 95%", "%d of %d%s; the kernel counted %d skipped runs of all programs" % (
                     rep, skip, " (%.0f%%)" % (100.0 * rep / skip) if skip else "", misses),
                 skip == 0 or rep >= 0.95 * skip))
    missing = sum(r["hist"]["missing"] for r in cm)
    rows.append(("saturated storm: histories written (complete or marked with a cause)",
                 "all", "%d missing" % missing, missing == 0))
    for rs, want, label in ((c1, 0.99, "one-thread"), (cm, 0.95, "saturated")):
        m = median_of([r["ratio"] for r in rs])
        rows.append(("%s storm rate traced (median)" % label, ">= %.2f x untraced" % want,
                     "%.2f" % m, m >= want))
    for mode, res in web.items():
        m = median_of([w["ratio"] for w in res["tcptrail"]])
        rows.append(("nginx, %s: tcptrail throughput (median)" % mode, ">= 0.95 x untraced",
                     "%.2f" % m, m >= 0.95))
    kns, cpu, busy = cost[("current", one, "histories")]
    rows.append(("kernel per connection, all programs, JSON histories",
                 "<= %.1f us" % (TARGET_KERNEL_NS / 1000), "%.2f us" % (kns / 1000),
                 kns <= TARGET_KERNEL_NS))
    rows.append(("tracer CPU per connection, JSON histories (its idle work included)",
                 "<= %.1f us" % TARGET_CPU_US, "%.2f us (%.2f less an idle tracer's)"
                 % (cpu, busy), cpu <= TARGET_CPU_US))
    starts = [r["startup_ms"] for r in runs if r["version"] == "current"
              and r["startup_ms"] is not None]
    walls = [r["startup_wall_s"] for r in runs if r["version"] == "current"]
    st = median_of(starts) / 1000 if starts else median_of(walls)
    if delivery_ns is not None:
        rows.append(("delivery facts read at a CLOSE (bpfprof: median of on/off pairs; "
                     "the data phase kept at the FIN is priced beside it, in the parts)",
                     "<= %d ns" % TARGET_DELIVERY_NS, "%.1f ns" % delivery_ns,
                     delivery_ns <= TARGET_DELIVERY_NS))
    rows.append(("start-up, exec to the tracing line (median; few sockets)", "<= 10 s",
                 "%.0f ms%s" % (st * 1000, "" if starts else " (wall)"), st <= 10))
    return rows


def verdict(runs, web, base):
    """The regression verdict, one line."""
    problems = []
    groups = {}
    for r in runs:
        groups.setdefault((r["threads"], r["output"]), {}).setdefault(r["version"], []).append(r)
    for (threads, output), byv in groups.items():
        bad = [r for r in byv["current"] if lossy(r)]
        if not bad:
            continue
        what = "%d-thread storm (%s): %d of %d runs lost (records %s, incomplete %d, missing %d)" % (
            threads, output, len(bad), len(byv["current"]),
            "+".join("?" if r["lost"] is None else str(r["lost"]) for r in bad),
            sum(r["hist"]["incomplete"] for r in bad), sum(r["hist"]["missing"] for r in bad))
        if base is None:
            problems.append(what)
        elif not any(lossy(r) for r in byv[base]):
            problems.append(what + " where %s lost nothing in %d runs at %.0f conn/s" % (
                base, len(byv[base]), median_of([r["rate"] for r in byv[base]])))
    for mode, res in web.items():
        def bad_rounds(name):
            return [w for w in res.get(name, []) if w["lost"] is None or w["lost"] or
                    w["incomplete"] or w["missing"] or w["bad_lines"]]
        bad = bad_rounds("tcptrail")
        if bad and (base is None or ("tcptrail " + base in res
                                     and not bad_rounds("tcptrail " + base))):
            problems.append("nginx %s: %d of %d rounds lost" % (mode, len(bad),
                                                                 len(res["tcptrail"])))
    against = base or "the loss-free expectation (no BASE given)"
    if problems:
        return "verdict: REGRESSION against %s: %s" % (against, "; ".join(problems))
    if base:
        return "verdict: no regression against %s: no loss where it lost nothing" % base
    return "verdict: no regression: no record lost in any run (no BASE given: compared " \
        "with the loss-free expectation)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="per storm (default 4)")
    ap.add_argument("--runs", type=int, default=5, help="repetitions of each storm (>= 5)")
    ap.add_argument("--base", help="a commit to compare with, built here")
    ap.add_argument("--web-seconds", type=float, default=5.0)
    ap.add_argument("--web-rounds", type=int, default=3)
    ap.add_argument("--tracer", default=benchlib.default_tracer())
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 s storms, 1 run each, 1 s nginx rounds")
    ap.add_argument("--strict", action="store_true", help="exit 1 on a regression")
    ap.add_argument("--parts", action="store_true", help="price each part of a record")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.runs, args.web_seconds, args.web_rounds = 1.0, 1, 1.0, 1
    if os.geteuid() != 0:
        sys.exit("bench: tracing needs root: run 'sudo make bench'")
    versions = [Version("current", args.tracer)]
    base = None
    if args.base:
        sha, binary = build_base(args.base)
        base = "base %s" % sha[:12]
        versions.append(Version(base, binary))
    one, many = 1, 2 * os.cpu_count()
    print("tcptrail benchmark: %s, %d CPUs, kernel %s; storms of %g s, %d runs each%s" % (
        time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), os.uname().release, args.seconds,
        args.runs, "; base %s (%s)" % (args.base, base) if base else ""), flush=True)
    with tempfile.TemporaryDirectory(prefix="tcptrail-bench-") as tmp:
        with benchlib.BpfStats(on=True):
            delivery_ns = parts(args.seconds) if args.parts else None
            # a traced storm not kept: the output file's pages are reused after
            traced_storm(args.tracer, 19399, args.seconds, 1, os.path.join(tmp, "warm.json"))
            runs = []
            for threads in (one, many):
                runs += storm_section(args, versions, threads, tmp)[0]
        configs = [{"name": "untraced", "kind": "untraced"}]
        configs += [{"name": "tcptrail" + ("" if v.name == "current" else " " + v.name),
                     "kind": "tcptrail", "binary": v.binary} for v in versions]
        configs += [{"name": "libbpf-tools " + t, "kind": "peer", "binary": t}
                    for t in ("tcplife", "tcpstates")]
        print()
        print("nginx rounds (%g s each, %d rounds, order rotating):" % (args.web_seconds,
                                                                     args.web_rounds),
              flush=True)
        web = webserver.run(configs, 18080, args.web_seconds, args.web_rounds, tmp,
                            lambda s: print(s, flush=True))
    for line in webserver.table(web):
        print(line)
    for line in benchlib.BAD_LINES:
        print("Not JSON: " + line)
    cost = cost_section(runs)
    rows = targets(runs, one, many, web, cost, delivery_ns)
    print()
    print("| figure | target | this run | met |")
    print("|---|---|---|---|")
    for figure, target, got, ok in rows:
        print("| %s | %s | %s | %s |" % (figure, target, got, "yes" if ok else "no"))
    line = verdict(runs, web, base)
    print()
    print(line)
    return 1 if args.strict and "REGRESSION" in line else 0


if __name__ == "__main__":
    sys.exit(main())
