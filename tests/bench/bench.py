#!/usr/bin/env python3
"""tcptrail benchmark, one run, one machine, figures printed by the run itself.

0. This machine's price of memory touched for the first time (a file
   written, then rewritten), and the price of each part of a state-change
   record: tests/bench/bpfprof.c runs each part alone in a program on the
   same tracepoint during a storm, the kernel accounting each; the empty
   program is the floor (dispatch plus the accounting itself), which every
   program's figure includes. Then one traced storm whose figures are not
   kept, so that the measured runs reuse pages as a long-running tracer does.
1. Connection storm on loopback (tests/bench/storm.c: client threads
   connect, send a byte, close; as many server threads accept, read, close),
   untraced, then traced by tcptrail (full JSON: transitions and histories to
   a file), by libbpf-tools tcpstates and by tcplife (each to a file). Twice:
   one client thread, then client threads at twice the CPU count (saturated:
   softirqs interrupt the tracers' programs, and the kernel skips nested
   runs). For each: connections/s, records captured versus expected, records
   lost as the tool reports them, the kernel's own count of skipped runs of
   the tool's programs, the kernel's ns per run of each program
   (kernel.bpf_stats_enabled: the mean, and the median of half-second
   windows), and for tcptrail its own CPU per record, user and system, with
   full JSON and with the text view.
2. Scale: a synthetic recording of N concurrent connections replayed offline
   (no kernel): records/s through the reconstruction on one core, memory per
   tracked connection.
3. Each target of the cost work, against this run's figures.

Usage: bench.py [--seconds S] [--scale N] [--quick]
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from lib import ndjson_stream  # noqa: E402  every JSON line read is checked
OUT = os.environ.get("OUT", "build")
TCPTRAIL = os.path.join(ROOT, OUT, "tcptrail")
STORM = os.path.join(ROOT, OUT, "storm")
GEN = os.path.join(ROOT, OUT, "gen_journal")
BPFPROF = os.path.join(ROOT, OUT, "bpfprof")
# Per connection, both ends: client CLOSE>SYN_SENT>ESTABLISHED>FIN_WAIT1>
# FIN_WAIT2>CLOSE, server LISTEN>SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE.
TRANSITIONS_PER_CONN = 10
# Seconds after a storm for the tracer to drain its last records.
SETTLE = 0.5
HISTORIES_PER_CONN = 2


def storm(port, seconds, threads=1):
    out = subprocess.run([STORM, str(port), str(seconds), str(threads)], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"connections (\d+) failed (\d+) seconds ([\d.]+) rate (\d+)", out)
    return int(m.group(1)), int(m.group(2)), float(m.group(4))


def bpf_progs():
    """Every loaded BPF program, by id, as bpftool reports it."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"]: p for p in json.loads(out)}


class ProgStats:
    """The programs a tool loaded (those not there before it started), read
    from the kernel while it runs: ns per run and skipped runs. sample()
    during the storm adds a window; the median over windows of each
    program's ns per run is reported beside the whole storm's mean."""

    def __init__(self):
        self.before = set(bpf_progs())
        self.at_start = None
        self.samples = []

    def mark(self):
        self.at_start = {i: p for i, p in bpf_progs().items() if i not in self.before}
        self.samples = [self.at_start]

    def sample(self):
        self.samples.append({i: p for i, p in bpf_progs().items() if i in self.at_start})

    def read(self):
        self.sample()
        now = self.samples[-1]
        rows = []
        for i, p in sorted(now.items()):
            s0 = self.at_start[i]
            runs = p.get("run_cnt", 0) - s0.get("run_cnt", 0)
            ns = p.get("run_time_ns", 0) - s0.get("run_time_ns", 0)
            misses = p.get("recursion_misses", 0) - s0.get("recursion_misses", 0)
            windows = []
            for a, b in zip(self.samples, self.samples[1:]):
                r = b[i].get("run_cnt", 0) - a[i].get("run_cnt", 0)
                if r >= 1000:
                    windows.append((b[i].get("run_time_ns", 0) - a[i].get("run_time_ns", 0)) / r)
            windows.sort()
            median = windows[len(windows) // 2] if windows else (ns / runs if runs else 0.0)
            rows.append((p.get("name", "?"), runs, ns / runs if runs else 0.0, median, misses))
        return rows


def storm_sampled(port, seconds, threads, stats):
    """storm() while sampling the programs' counters every half second."""
    proc = subprocess.Popen([STORM, str(port), str(seconds), str(threads)],
                            stdout=subprocess.PIPE, text=True)
    while proc.poll() is None:
        time.sleep(0.5)
        stats.sample()
    out = proc.stdout.read()
    m = re.search(r"connections (\d+) failed (\d+) seconds ([\d.]+) rate (\d+)", out)
    return int(m.group(1)), int(m.group(2)), float(m.group(4))


def start(cmd, ready_word=None, out_path=None, env=None):
    out = open(out_path, "w") if out_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(env or {})))
    if ready_word:
        end = time.time() + 30
        while time.time() < end:
            line = proc.stderr.readline()
            if not line or ready_word in line:
                break
    else:
        time.sleep(2.0)  # the peer tools print nothing when ready
    return proc


def proc_cpu(pid):
    """A process's CPU time so far, all threads, in seconds: (user, system)
    from /proc/PID/task/*/stat (clock ticks)."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            fields = open("/proc/%d/task/%s/stat" % (pid, tid)).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11])
        system += int(fields[12])
    return user / tick, system / tick


def stop(proc):
    """SIGINT, then the child's own CPU time from wait4(): (user, system)."""
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read()
    return (ru.ru_utime, ru.ru_stime), err


def count_lines(path, pattern):
    rx = re.compile(pattern)
    with open(path, errors="replace") as f:
        return sum(1 for line in f if rx.search(line))


def run_peer_tool(tool, per_conn, port, base, seconds, tmp, threads, progs):
    """A libbpf-tools tracer writing to a file during a storm: its row."""
    path = os.path.join(tmp, tool + ".txt")
    stats = ProgStats()
    proc = start([tool], None, path)
    stats.mark()
    conns, _, rate = storm_sampled(port, seconds, threads, stats)
    progs.append(("libbpf-tools " + tool, stats.read()))
    _, err = stop(proc)
    got = "%d/%d" % (count_lines(path, r"\s%d\s" % port), conns * per_conn)
    lost = re.findall(r"[Ll]ost (\d+)", err + open(path, errors="replace").read())
    lost = str(sum(map(int, lost))) if lost else "not reported"
    skipped = sum(r[4] for r in progs[-1][1])
    if tool == "tcpstates":  # one line per transition
        return ("libbpf-tools tcpstates", rate, rate / base, conns, got, "-", lost, skipped,
                "-")
    return ("libbpf-tools tcplife", rate, rate / base, conns, "-",
            got + " (one line per end)", lost, skipped, "-")


def run_tcptrail(label, env, port, base, args, tmp, threads, progs, idle_cpu, json_out=True):
    """tcptrail during a storm, everything traced, unfiltered: its row.
    Records of the storm are those with its port at either end."""
    path = os.path.join(tmp, "tcptrail.json")
    stats = ProgStats()
    proc = start([TCPTRAIL, "-v", "--no-snapshot", "-o", path] + (["--json"] if json_out else []),
                 "tcptrail: tracing;", env=env)
    stats.mark()
    cpu0 = proc_cpu(proc.pid)
    conns, failed, rate = storm_sampled(port, args.seconds, threads, stats)
    time.sleep(SETTLE)	# the last records drained
    cpu1 = proc_cpu(proc.pid)
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    progs.append((label.replace(" --json", ""), stats.read()))
    _, err = stop(proc)
    if json_out:
        states = hist = complete = 0
        for r in ndjson_stream(path):
            if port not in (r.get("lport"), r.get("rport")):
                continue
            states += r["type"] == "state"
            hist += r["type"] == "history"
            complete += r["type"] == "history" and r["complete"] is True
    else:
        mine = r':%d\s' % port
        states = count_lines(path, r'^\S+ +state .*' + mine)
        hist = count_lines(path, r'^\S+ +history .*' + mine)
        complete = hist - count_lines(path, r'^\S+ +history .*' + mine + r'.*incomplete')
    os.unlink(path)
    m = re.search(r"(\d+) records, .* (\d+) lost", err)
    records, lost = (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    caught = re.search(r"of which the catcher recorded (\d+)", err)
    cpu = user + system
    idle = idle_cpu[0] + idle_cpu[1]
    per = (lambda c: c / records * 1e6) if records else (lambda c: float("nan"))
    skipped = sum(r[4] for r in progs[-1][1] if r[0] in ("state_keep", "state_send"))
    # the storm's listener adds CLOSE>LISTEN and LISTEN>CLOSE
    return (label, rate, rate / base, conns,
            "%d/%d" % (states - 2, conns * TRANSITIONS_PER_CONN),
            "%d/%d (%d complete)" % (hist, conns * HISTORIES_PER_CONN, complete),
            str(lost), "%d (%s caught)" % (skipped, caught.group(1) if caught else "?"),
            "%.3f us/record: user %.3f, system %.3f (%.2f s during the storm for %d records, "
            "less %.2f s idle)"
            % (per(cpu - idle), per(user - idle_cpu[0]), per(system - idle_cpu[1]), cpu,
               records, idle))


def run_storm(args, tmp, threads, progs):
    port = 19500 + threads
    rows = []
    conns, failed, base = storm(port, args.seconds, threads)
    rows.append(("untraced", base, 1.0, conns, "-", "-", "-", "-", "-"))

    # The tracer's CPU is read from the kernel just before the storm and
    # just after it (and its last records) ended; what an idle tracer spends
    # in a window of that length (timers, listener samples) is subtracted.
    proc = start([TCPTRAIL, "-v", "--json", "--no-snapshot", "-o", os.devnull],
                 "tcptrail: tracing;")
    cpu0 = proc_cpu(proc.pid)
    time.sleep(args.seconds + SETTLE)
    cpu1 = proc_cpu(proc.pid)
    idle_cpu = (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1])
    stop(proc)

    rows.append(run_tcptrail("tcptrail --json", {}, port, base, args, tmp, threads, progs,
                             idle_cpu))
    # The syscall hooks (accept, shutdown) make every syscall of every task
    # take the kernel's tracing path: their cost, as the rate without them.
    rows.append(run_tcptrail("tcptrail --json, no syscall hooks", {"TCPTRAIL_SYSCALLS": "off"},
                             port, base, args, tmp, threads, progs, idle_cpu))
    rows.append(run_tcptrail("tcptrail, text view", {}, port, base, args, tmp, threads, progs,
                             idle_cpu, json_out=False))

    for tool, per_conn in (("tcpstates", TRANSITIONS_PER_CONN), ("tcplife", HISTORIES_PER_CONN)):
        rows.append(run_peer_tool(tool, per_conn, port, base, args.seconds, tmp, threads,
                                  progs))
    return rows


def print_storm(title, rows, progs, floor):
    print()
    print(title)
    print()
    print("| run | conn/s | vs untraced | connections | transitions captured | "
          "histories/lines | lost (reported) | runs skipped by the kernel | tracer CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %.0f | %.2f | %d | %s | %s | %s | %s | %s |" % r)
    print()
    print("| tool | program | runs | ns per run (mean) | median of 0.5 s windows | "
          "median less the floor (%.0f ns) | skipped runs |" % floor)
    print("|---|---|---|---|---|---|---|")
    for tool, rows in progs:
        for name, runs, ns, median, misses in rows:
            print("| %s | %s | %d | %.0f | %.0f | %s | %d |"
                  % (tool, name, runs, ns, median,
                     "%.0f" % (median - floor) if runs else "-", misses))


def run_scale(n, tmp):
    big = os.path.join(tmp, "scale.rec")
    small = os.path.join(tmp, "small.rec")
    subprocess.run([GEN, str(n), big], check=True)
    subprocess.run([GEN, "1000", small], check=True)

    def replay(path, *extra):
        p = subprocess.run([TCPTRAIL, "replay", path, "-o", "/dev/null"] + list(extra),
                           capture_output=True, text=True, check=True)
        m = re.search(r"replayed \d+ frames in ([\d.]+) s \((\d+) records/s\); peak memory "
                      r"(\d+) MiB; table (\d+) bytes", p.stderr)
        return float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))

    _, _, base_mib, _ = replay(small, "--no-states", "--no-histories")
    secs, rate, mib, reserved = replay(big, "--no-states", "--no-histories")
    _, rate_json, _, _ = replay(big, "--json")
    os.unlink(big)
    os.unlink(small)
    return {
        "connections": n,
        "records": n * 5,
        "reconstruct_rate": rate,
        "json_rate": rate_json,
        "bytes_per_conn": (mib - base_mib) * 1024 * 1024 / n,
        "peak_mib": mib,
        "base_mib": base_mib,
        "reserved_per_conn": reserved,
    }


def page_touch_rates(tmp, mib=512):
    """This machine's cost of memory it has not touched before: a file
    written to fresh page-cache pages, then rewritten into the same pages.
    A virtual machine whose host backs guest memory lazily pays a fault to
    the host on every first touch; the tracer's output file and table pay
    it too, until the pages are reused."""
    path = os.path.join(tmp, "touch")
    block = b"\0" * (1 << 20)
    rates = []
    for _ in range(2):
        t0 = time.time()
        with open(path, "wb") as f:
            for _ in range(mib):
                f.write(block)
        rates.append(mib / (time.time() - t0))
    os.unlink(path)
    return rates


def profile_parts(seconds):
    """tests/bench/bpfprof: each part of a state-change record alone in a
    program of its own, priced by the kernel during a one-thread storm."""
    out = subprocess.run([BPFPROF, STORM, "19400", str(seconds), "1"], capture_output=True,
                         text=True, check=True).stdout
    parts = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        parts[cells[0]] = (int(cells[1]), float(cells[2]))
    return parts


PART_NAMES = {
    "p_floor": "an empty program: dispatch and the accounting itself (the floor)",
    "p_percpu_lookup": "per-CPU scratch lookup",
    "p_ktime": "bpf_ktime_get_ns()",
    "p_pid_tgid": "bpf_get_current_pid_tgid()",
    "p_comm": "bpf_get_current_comm()",
    "p_cookie_helper": "bpf_get_socket_cookie()",
    "p_ring_reserve_submit": "ring buffer reserve + submit, 128 bytes",
    "p_ring_query": "bpf_ringbuf_query() (no longer used)",
    "p_sock_probe_read": "tuple, netns, owner bit, protocol: probe-read helpers (before)",
    "p_sock_direct": "the same: direct BTF loads + bpf_skc_to_tcp_sock() (now)",
    "p_cgroup_probe_read": "socket cgroup id: probe-read helpers (before)",
    "p_cgroup_direct": "socket cgroup id: direct BTF loads (now)",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--scale", type=int, default=1000000)
    ap.add_argument("--quick", action="store_true", help="CI smoke run: 1 s, 100 000 conns")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.scale = 1.0, 100000
    if os.geteuid() != 0:
        sys.exit("bench: tracing needs root: run 'sudo make bench'")
    with tempfile.TemporaryDirectory(prefix="tcptrail-bench-") as tmp:
        print("tcptrail benchmark: %s, %d CPUs, kernel %s; storm %.0f s per run"
              % (time.strftime("%Y-%m-%d"), os.cpu_count(), os.uname().release, args.seconds))
        first, again = page_touch_rates(tmp, 64 if args.quick else 1024)
        print()
        print("Memory this machine had not touched: written at %.0f MB/s, rewritten at %.0f MB/s."
              % (first, again))
        stats_was = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        results = {}
        try:
            parts = profile_parts(args.seconds)
            floor = parts["p_floor"][1]
            print()
            print("Parts of a state-change record, each alone in a program on "
                  "inet_sock_set_state, one-thread storm:")
            print()
            print("| part | runs | ns per run | less the floor |")
            print("|---|---|---|---|")
            for name, (runs, ns) in parts.items():
                print("| %s | %d | %.0f | %.0f |" % (PART_NAMES.get(name, name), runs, ns,
                                                     ns - floor))
            # A traced storm whose figures are not kept: the tracer's output
            # file and memory then reuse pages, as a long-running tracer's do.
            warm = start([TCPTRAIL, "-v", "--json", "--no-snapshot", "-o",
                          os.path.join(tmp, "warm.json")], "tcptrail: tracing;")
            storm(19399, args.seconds, 1)
            stop(warm)
            os.unlink(os.path.join(tmp, "warm.json"))
            for threads in (1, 2 * os.cpu_count()):
                progs = []
                rows = run_storm(args, tmp, threads, progs)
                print_storm("Storm, %d client thread%s:" % (threads, "s" if threads > 1 else ""),
                            rows, progs, floor)
                results[threads] = (rows, progs)
        finally:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(stats_was)
        sc = run_scale(args.scale, tmp)
        print()
        print("| scale (replayed, one core) | value |")
        print("|---|---|")
        print("| concurrent connections | %d |" % sc["connections"])
        print("| records | %d |" % sc["records"])
        print("| reconstruction only | %d records/s |" % sc["reconstruct_rate"])
        print("| reconstruction + full JSON | %d records/s |" % sc["json_rate"])
        print("| memory per tracked connection (RSS growth) | %.0f bytes (peak %d MiB, "
              "%d MiB with 1000 connections) |" % (sc["bytes_per_conn"], sc["peak_mib"],
                                                   sc["base_mib"]))
        print("| memory per tracked connection (table layout) | %d bytes |"
              % sc["reserved_per_conn"])
        print_targets(results, floor, sc)


def print_targets(results, floor, sc):
    """Each target of the cost work against this run's figures."""
    def prog(threads, tool, name):
        for t, rows in results[threads][1]:
            if t == tool:
                for r in rows:
                    if r[0] == name:
                        return r
        return None

    def row(threads, label):
        return next(r for r in results[threads][0] if r[0] == label)

    one, many = sorted(results)
    st = prog(one, "tcptrail", "state_keep") or prog(one, "tcptrail", "state_send")
    kf = prog(one, "tcptrail", "listen_overflow")
    cpu = row(one, "tcptrail --json")[8]
    us = float(cpu.split()[0])
    lines = [
        ("kernel per state event, handle_set_state (median, less the floor)", "<= 150 ns",
         "%.0f ns (%.0f with the floor)" % (st[3] - floor, st[3]), st[3] - floor <= 150),
        ("drop-reason filter, handle_kfree_skb (median, less the floor)", "<= 25 ns",
         "%.0f ns (%.0f with the floor)" % (kf[3] - floor, kf[3]) if kf and kf[1] else "no runs",
         bool(kf and kf[1] and kf[3] - floor <= 25)),
        ("tracer CPU per record, full JSON to a file", "<= 0.3 us", "%.3f us" % us, us <= 0.3),
        ("memory per tracked connection at %d (RSS growth)" % sc["connections"], "<= 128 bytes",
         "%.0f bytes" % sc["bytes_per_conn"], sc["bytes_per_conn"] <= 128),
        ("reconstruction alone, one core", ">= 5000000 records/s",
         "%d records/s" % sc["reconstruct_rate"], sc["reconstruct_rate"] >= 5000000),
        ("storm rate traced, 1 client thread", ">= 0.99 x untraced",
         "%.2f" % row(one, "tcptrail --json")[2], row(one, "tcptrail --json")[2] >= 0.99),
        ("storm rate traced, %d client threads" % many, ">= 0.95 x untraced",
         "%.2f" % row(many, "tcptrail --json")[2], row(many, "tcptrail --json")[2] >= 0.95),
    ]
    print()
    print("| target | wanted | this run | met |")
    print("|---|---|---|---|")
    for what, want, got, ok in lines:
        print("| %s | %s | %s | %s |" % (what, want, got, "yes" if ok else "no"))


if __name__ == "__main__":
    main()
