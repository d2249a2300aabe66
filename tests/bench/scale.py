#!/usr/bin/env python3
"""tcptrail at scale (make bench-scale N=1000000): N real established
loopback connections (2N sockets), held by a fleet of tests/bench/holder
processes (at most 9,000 connections each: a process may hold 20,000
descriptors here), each listening on an address of its own in 127.1.0.0/16
so that no destination runs short of ephemeral ports. Then, each with its
target:

  start-up to the tracing line, with no history and no "vanished" for the
  open connections; the tracer's idle CPU over a minute with no traffic
  (/proc/PID/stat); records lost and histories written while idle; RSS growth
  per connection against the tracer's RSS with no connections; a metrics
  scrape; tcptrail top's refresh; tcptrail leaks --json with N/10 of the
  connections left in CLOSE_WAIT (every owner named, compared with the
  holders' pids); and a mass close of all N giving 2N whole histories with
  nothing lost. The kernel's own memory per connection (slab) is printed
  beside tcptrail's.

Every holder dies with this script (PR_SET_PDEATHSIG) and is killed on any
exit, Ctrl-C included. TIME_WAIT sockets left by the close expire by
themselves within a minute.

Usage: scale.py N [--idle S] [--port P] [--tracer PATH]
"""
import argparse
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import webserver  # noqa: E402

PER_HOLDER = 9000
# Histories of the connections' ends may carry this and still be whole: the
# connection began before the tracer did.
WHOLE_CAUSES = benchlib.NOT_A_LOSS


def holder_addr(i):
    return "127.1.%d.%d" % (i // 250, i % 250 + 1)


class Fleet:
    """The holder processes and the connections they hold."""

    def __init__(self, n, port, per=PER_HOLDER, timeout=1200):
        self.port = port
        self.procs, self.queues, self.addr_pid = [], [], {}
        sizes = [per] * (n // per) + ([n % per] if n % per else [])
        try:
            for i, count in enumerate(sizes):
                p = subprocess.Popen([benchlib.HOLDER, holder_addr(i), str(port), str(count)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                self.procs.append(p)
                q = queue.Queue()
                self.queues.append(q)
                threading.Thread(target=self._pump, args=(p, q), daemon=True).start()
                self.addr_pid[holder_addr(i)] = p.pid
            self.sizes = sizes
            self.expect_all("ready", timeout)
        except BaseException:
            self.kill()
            raise

    @staticmethod
    def _pump(proc, q):
        for line in proc.stdout:
            q.put(line.strip())
        q.put(None)

    def send_all(self, lines):
        for p, line in zip(self.procs, lines):
            p.stdin.write(line + "\n")
            p.stdin.flush()

    def expect_all(self, word, timeout):
        end = time.time() + timeout
        got = []
        for i, q in enumerate(self.queues):
            try:
                line = q.get(timeout=max(0.1, end - time.time()))
            except queue.Empty:
                line = None
            if not line or not line.startswith(word):
                raise RuntimeError("holder %d (%s) said %r, expected %r (exit %s)" % (
                    i, holder_addr(i), line, word, self.procs[i].poll()))
            got.append(line)
        return got

    def halfclose(self, total):
        """Leave total connections in CLOSE_WAIT (server ends), spread
        evenly: returns how many each holder left."""
        n = len(self.procs)
        each = [total // n + (1 if i < total % n else 0) for i in range(n)]
        self.send_all(["halfclose %d" % min(e, s) for e, s in zip(each, self.sizes)])
        self.expect_all("halfclosed", 120)
        return each

    def close(self):
        """Every connection closed; seconds until the last holder was done."""
        t0 = time.time()
        self.send_all(["close"] * len(self.procs))
        self.expect_all("closed", 600)
        return time.time() - t0

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait()
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def meminfo():
    with open("/proc/meminfo") as f:
        return {l.split(":")[0]: int(l.split()[1]) * 1024 for l in f}


def slab_caches():
    """Bytes in use per slab cache (active objects times object size)."""
    caches = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            v = line.split()
            if line.startswith(("slabinfo", "#")) or len(v) < 4:
                continue
            caches[v[0]] = int(v[1]) * int(v[3])
    return caches


def slab_growth(before, after, top=6):
    rows = sorted(((after.get(k, 0) - before.get(k, 0), k) for k in after), reverse=True)
    return [(k, d) for d, k in rows[:top] if d > 0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def die_with_parent():
    """In the child before exec: killed if this script dies."""
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)	# PR_SET_PDEATHSIG


def baseline_rss(binary, tmp, settle):
    """The tracer's RSS with none of the fleet's connections open, and the part
    of it in mapped BPF maps."""
    tr = benchlib.Tracer(binary, ["-v", "--json", "-o", os.path.join(tmp, "base.json"),
                                  "--metrics", "127.0.0.1:%d" % free_port()])
    try:
        time.sleep(settle)
        return benchlib.proc_rss(tr.pid), benchlib.proc_rss_bpf_maps(tr.pid)
    finally:
        tr.stop()
        os.unlink(os.path.join(tmp, "base.json"))


def scrape(port, tries=3):
    """curl the metrics: the slowest of tries, and the sockets tracked."""
    worst, tracked = 0.0, None
    for _ in range(tries):
        p = subprocess.run(["curl", "-s", "-m", "60", "-w", "\n%{time_total}",
                            "http://127.0.0.1:%d/metrics" % port], capture_output=True, text=True)
        body, _, t = p.stdout.rpartition("\n")
        worst = max(worst, float(t) if p.returncode == 0 else float("inf"))
        m = re.findall(r"^tcptrail_connections_tracked\{[^}]*\} (\d+)", body, re.M)
        tracked = sum(map(int, m)) if m else None
    return worst, tracked


def top_refresh(binary, frames=6, interval=0.5, timeout=600):
    """tcptrail top with its output not a terminal (a frame after a blank
    line, each opening with "tcptrail top"): seconds to the first frame and
    the longest gap between frames, asked for every interval seconds."""
    p = subprocess.Popen([binary, "top", "--interval", str(interval)], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
                         preexec_fn=die_with_parent)
    t0 = time.time()
    seen = []
    done = threading.Event()

    def pump():
        for line in p.stdout:
            if line.startswith("tcptrail top"):
                seen.append(time.time())
                if len(seen) > frames:
                    done.set()
        done.set()
    threading.Thread(target=pump, daemon=True).start()
    done.wait(timeout)
    p.send_signal(signal.SIGINT)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    if len(seen) < 2:
        return (seen[0] - t0 if seen else None), None
    return seen[0] - t0, max(b - a for a, b in zip(seen, seen[1:]))


def leaks_report(binary, fleet, each):
    """tcptrail leaks --json: its time, and its records of the fleet's
    CLOSE_WAIT sockets checked against the holders' pids."""
    t0 = time.time()
    p = subprocess.run([binary, "leaks", "--json"], capture_output=True, text=True, timeout=600)
    took = time.time() - t0
    found, wrong, bad = 0, [], 0
    for line in p.stdout.splitlines():
        try:
            r = benchlib.json.loads(line)
        except ValueError:
            bad += 1
            continue
        if r.get("type") != "close_wait_leak" or r.get("lport") != fleet.port \
                or r.get("laddr") not in fleet.addr_pid:
            continue
        found += 1
        want = fleet.addr_pid[r["laddr"]]
        if r.get("pid") != want or want not in [o.get("pid") for o in r.get("owners", [])]:
            wrong.append(r)
    return {"seconds": took, "rc": p.returncode, "found": found, "expected": sum(each),
            "wrong": len(wrong), "first_wrong": wrong[:2], "bad_lines": bad,
            "stderr": p.stderr.strip()[-500:]}


class Tally:
    """Counts of the output's records, for the fleet's port only where it
    says so."""

    def __init__(self, port):
        self.port = port
        self.hist = self.hist_mine = self.whole = self.lost = 0
        self.causes = {}
        self.examples = {}	# the first history not whole, per cause
        self.ids = set()
        self.dups = 0		# histories of an id already seen
        self.repeats = 0	# histories holding one state twice in a row

    def __call__(self, r):
        t = r.get("type")
        if t == "lost":
            self.lost += r.get("count", 0)
        if t != "history":
            return
        self.hist += 1
        if self.port not in (r.get("lport"), r.get("rport")):
            return
        self.hist_mine += 1
        if r.get("id") in self.ids:
            self.dups += 1
        self.ids.add(r.get("id"))
        if benchlib.repeated_state(r) is not None:
            self.repeats += 1
        causes = set(r.get("incomplete") or []) if not r.get("complete") else set()
        if causes <= WHOLE_CAUSES and r.get("end") == "orderly":
            self.whole += 1
        for c in causes - WHOLE_CAUSES or ([] if r.get("end") == "orderly"
                                             else ["end " + str(r.get("end"))]):
            self.causes[c] = self.causes.get(c, 0) + 1
            if c not in self.examples:
                self.examples[c] = r


class HistoryCount:
    """Counts the history lines of the fleet's port as the tracer appends
    them, reading only what is new (the listener records keep the file
    growing every interval, so its size says nothing)."""

    def __init__(self, path, port):
        self.f = open(path, "rb")
        self.rest = b""
        self.count = 0
        self.marks = (b'"lport":%d,' % port, b'"rport":%d,' % port)

    def poll(self):
        data = self.rest + self.f.read()
        lines = data.split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            if b'"type":"history"' in line and any(m in line for m in self.marks):
                self.count += 1
        return self.count

    def wait(self, want, quiet=5.0, limit=600):
        """Until want histories are there, or none came for quiet seconds:
        when the last one came."""
        t_last, seen = time.time(), self.poll()
        end = time.time() + limit
        while seen < want and time.time() < end and time.time() - t_last < quiet:
            time.sleep(0.2)
            n = self.poll()
            if n != seen:
                seen, t_last = n, time.time()
        self.f.close()
        return t_last


def run(n, binary, idle=60.0, port=21000, with_top=True, log=print):
    """The whole scenario; a dict of every figure measured."""
    res = {"n": n}
    with tempfile.TemporaryDirectory(prefix="tcptrail-scale-") as tmp:
        res["rss_base"], res["rss_base_maps"] = baseline_rss(binary, tmp, 5.0)
        m0, s0 = meminfo(), slab_caches()
        t0 = time.time()
        with Fleet(n, port) as fleet:
            res["build_s"] = time.time() - t0
            res["holders"] = len(fleet.procs)
            m1, s1 = meminfo(), slab_caches()
            res["kernel_slab"] = (m1["Slab"] - m0["Slab"]) / n
            res["kernel_used"] = ((m0["MemAvailable"] - m1["MemAvailable"])) / n
            res["slab_top"] = slab_growth(s0, s1)
            log("%d connections held by %d holders, built in %.1f s" % (n, res["holders"],
                                                                       res["build_s"]))
            out = os.path.join(tmp, "trail.json")
            mport = free_port()
            tr = benchlib.Tracer(binary, ["-v", "--json", "-o", out, "--metrics",
                                          "127.0.0.1:%d" % mport], timeout=600)
            try:
                measure(res, tr, fleet, out, mport, binary, idle, with_top, s1, log)
            finally:
                tr.kill()
    return res


def measure(res, tr, fleet, out, mport, binary, idle, with_top, slab_before, log):
    n = res["n"]
    res["startup_s"] = tr.startup_s()
    res["startup_ms"] = benchlib.parse_summary(tr.stderr())["started_ms"]
    log("tracing after %.1f s; idle for %g s" % (res["startup_s"], idle))
    cpu0 = benchlib.proc_cpu(tr.pid)
    t0 = time.time()
    time.sleep(min(5.0, idle))
    res["rss_start"] = benchlib.proc_rss(tr.pid)
    res["rss_start_maps"] = benchlib.proc_rss_bpf_maps(tr.pid)
    # the first quarter holds the one-off work after the tracing line (the
    # first listener sample names every listener's owner: a walk of every
    # descriptor); the rest is the steady idle cost
    time.sleep(max(0.0, idle / 4 - (time.time() - t0)))
    cpu_q, t_q = benchlib.proc_cpu(tr.pid), time.time()
    time.sleep(max(0.0, idle - (time.time() - t0)))
    cpu1 = benchlib.proc_cpu(tr.pid)
    res["idle_cpu_all"] = (sum(cpu1) - sum(cpu0)) / (time.time() - t0)
    res["idle_cpu_first"] = (sum(cpu_q) - sum(cpu0)) / (t_q - t0)
    res["idle_cpu"] = (sum(cpu1) - sum(cpu_q)) / (time.time() - t_q)
    res["rss_idle_end"] = benchlib.proc_rss(tr.pid)
    res["kernel_by_tracer"] = sum(d for _, d in slab_growth(slab_before, slab_caches(), 1000))
    idle_tally = Tally(fleet.port)
    res["idle_lines"], res["idle_bad"] = benchlib.scan_ndjson(out, idle_tally)
    res["idle_hist"], res["idle_hist_mine"] = idle_tally.hist, idle_tally.hist_mine
    res["idle_lost"] = idle_tally.lost
    # the summary, the only line that names "vanished" by design, is not
    # printed before the tracer stops
    res["vanished_lines"] = [l for l in tr.stderr() if "vanished" in l]
    res["repeat_lines"] = [l for l in tr.stderr() if "transitions came twice" in l]
    warnings = [l for l in tr.stderr() if "warning" in l]
    res["warnings"] = sorted(set(warnings))
    res["warnings_repeated"] = len(warnings) - len(set(warnings))
    log("idle: %.2f%% of a core, %d histories (%d of the fleet), %d lost" % (
        100 * res["idle_cpu_all"], res["idle_hist"], res["idle_hist_mine"], res["idle_lost"]))
    res["scrape_s"], res["tracked"] = scrape(mport)
    if with_top:
        res["top_first_s"], res["top_gap_s"] = top_refresh(binary)
        log("top: first frame after %s s, longest gap %s s" % (res["top_first_s"],
                                                              res["top_gap_s"]))
    each = fleet.halfclose(n // 10)
    time.sleep(1.0)
    res["leaks"] = leaks_report(binary, fleet, each)
    log("leaks: %(found)d of %(expected)d found in %(seconds).1f s, %(wrong)d owners wrong"
        % res["leaks"])
    counter = HistoryCount(out, fleet.port)
    counter.poll()
    # who had the CPUs while the close filled the ring: the tracer's share
    # against the machine's busy share, from the close until the drain
    cpu0, busy0 = benchlib.proc_cpu(tr.pid), webserver.cpu_busy()
    t_close = time.time()
    res["close_s"] = fleet.close()
    res["drain_s"] = counter.wait(2 * n) - t_close
    cpu1, busy1 = benchlib.proc_cpu(tr.pid), webserver.cpu_busy()
    span = time.time() - t_close
    res["close_tracer_cpu"] = (sum(cpu1) - sum(cpu0)) / span
    res["close_busy"] = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    log("during the close and drain (%.1f s): the tracer had %.0f%% of a core (user %.1f s, "
        "system %.1f s); all CPUs %.0f%% busy" % (
            span, 100 * res["close_tracer_cpu"], cpu1[0] - cpu0[0], cpu1[1] - cpu0[1],
            100 * res["close_busy"]))
    summary = tr.stop(timeout=600)
    res["summary"] = summary
    log("closed in %.1f s; %s" % (res["close_s"], summary["summary"]))
    tally = Tally(fleet.port)
    res["lines"], res["bad"] = benchlib.scan_ndjson(out, tally)
    res["hist_mine"], res["whole"], res["causes"] = tally.hist_mine, tally.whole, tally.causes
    res["hist_dups"], res["hist_repeats"] = tally.dups, tally.repeats
    res["examples"] = tally.examples
    res["lost_lines"] = tally.lost
    os.unlink(out)


def targets(res):
    n = res["n"]
    s = res["summary"]
    lost = benchlib.lost_total(s)
    vanished = s["counts"].get("vanished")
    per_conn = (res["rss_start"] - res["rss_base"]) / n
    heap_per_conn = ((res["rss_start"] - res["rss_start_maps"]) -
                     (res["rss_base"] - res["rss_base_maps"])) / n
    lk = res["leaks"]
    rows = [
        ("start-up to the tracing line", "<= 10 s", "%.1f s%s" % (
            res["startup_s"], " (%d ms by its own clock)" % res["startup_ms"]
            if res["startup_ms"] is not None else ""), res["startup_s"] <= 10),
        ("no 'vanished' and no warning said twice at start", "none",
         "%d vanished lines, %d repeated warnings" % (len(res["vanished_lines"]),
                                                       res["warnings_repeated"]),
         not res["vanished_lines"] and not res["warnings_repeated"]),
        ("sockets tracked at start (metrics)", ">= %d" % (2 * n),
         "?" if res["tracked"] is None else str(res["tracked"]),
         res["tracked"] is not None and res["tracked"] >= 2 * n),
        ("idle CPU with no traffic, the last 3/4 of %g s (steady)" % res.get("idle_s", 60),
         "<= 1% of a core",
         "%.2f%% (the first quarter: %.2f%%; all: %.2f%%)" % (
             100 * res["idle_cpu"], 100 * res["idle_cpu_first"], 100 * res["idle_cpu_all"]),
         res["idle_cpu"] <= 0.01),
        ("records lost while idle", "0", str(res["idle_lost"]), res["idle_lost"] == 0),
        ("histories written while idle (of the open connections)", "0",
         "%d (%d)" % (res["idle_hist"], res["idle_hist_mine"]), res["idle_hist_mine"] == 0),
        ("RSS growth per connection (%d after start - %d with none)" % (res["rss_start"],
                                                                       res["rss_base"]),
         "<= 64 B", "%.0f B (%.0f per socket; %.0f at the idle minute's end)" % (
             per_conn, per_conn / 2, (res["rss_idle_end"] - res["rss_base"]) / n),
         per_conn <= 64),
        ("of which outside the BPF maps it reads (the ring: kernel memory, %d B)"
         % res["rss_start_maps"], "<= 64 B", "%.0f B" % heap_per_conn, heap_per_conn <= 64),
        ("metrics scrape (slowest of 3)", "<= 1 s", "%.3f s" % res["scrape_s"],
         res["scrape_s"] <= 1),
    ]
    if "top_gap_s" in res:
        gap = res["top_gap_s"]
        rows.append(("tcptrail top: longest gap between frames at --interval 0.5", "<= 1 s",
                     "?" if gap is None else "%.2f s (first frame after %.1f s)"
                     % (gap, res["top_first_s"]), gap is not None and gap <= 1))
    rows += [
        ("tcptrail leaks --json, %d CLOSE_WAIT" % lk["expected"], "<= 5 s", "%.1f s"
         % lk["seconds"], lk["seconds"] <= 5),
        ("leaks found, owner named (holder's pid)", "%d, all" % lk["expected"],
         "%d found, %d wrong or unnamed" % (lk["found"], lk["wrong"]),
         lk["found"] == lk["expected"] and not lk["wrong"] and lk["rc"] == 0),
        ("mass close of all connections", "~10 s", "%.1f s (histories done %.1f s after)"
         % (res["close_s"], res["drain_s"]), res["close_s"] <= 10),
        ("whole histories after the close", "%d" % (2 * n), "%d of %d written%s" % (
            res["whole"], res["hist_mine"], "; " + ", ".join(
                "%s %d" % kv for kv in res["causes"].items()) if res["causes"] else ""),
         res["whole"] == 2 * n),
        ("records lost, whole run (summary; lost records in the output)", "0",
         "%s (%d); %s" % ("?" if lost is None else lost, res["lost_lines"],
                          benchlib.fmt_causes(s)), lost == 0 and res["lost_lines"] == 0),
        ("vanished (summary)", "0", "?" if vanished is None else str(vanished), vanished == 0),
        ("lines that are not JSON", "0", str(res["bad"] + res["idle_bad"]),
         res["bad"] + res["idle_bad"] == 0),
    ]
    return rows


def report(res):
    n = res["n"]
    print()
    print("Kernel memory per connection (both sockets, their files): slab %.0f B, "
          "available memory %.0f B; tcptrail's: RSS %.0f B, kernel slab it added %.0f B" % (
              res["kernel_slab"], res["kernel_used"], (res["rss_start"] - res["rss_base"]) / n,
              res["kernel_by_tracer"] / n))
    print("Slab caches that grew most with the connections: " + ", ".join(
        "%s %.0f B" % (k, d / n) for k, d in res["slab_top"]))
    if res["warnings"]:
        print("Warnings: " + " | ".join(res["warnings"]))
    for cause, h in res["examples"].items():
        print("A history not whole (%s): %s" % (cause, benchlib.json.dumps(h)[:1500]))
    for line in benchlib.BAD_LINES:
        print("Not JSON: " + line)
    print()
    print("| figure (%d connections, %d sockets, %d holders) | target | this run | met |"
          % (n, 2 * n, res["holders"]))
    print("|---|---|---|---|")
    rows = targets(res)
    for figure, target, got, ok in rows:
        print("| %s | %s | %s | %s |" % (figure, target, got, "yes" if ok else "no"))
    met = sum(1 for r in rows if r[3])
    print()
    print("%d of %d targets met at %d connections" % (met, len(rows), n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--idle", type=float, default=60.0)
    ap.add_argument("--port", type=int, default=21000)
    ap.add_argument("--tracer", default=benchlib.default_tracer())
    ap.add_argument("--no-top", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-scale: tracing needs root")
    if not 1000 <= args.n <= 2000000:
        sys.exit("bench-scale: N from 1000 to 2000000")
    # SIGTERM and SIGHUP unwind like Ctrl-C: every holder is killed
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    print("tcptrail scale benchmark: %s, %d CPUs, kernel %s; %d connections, idle %g s" % (
        time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), os.uname().release, args.n, args.idle),
        flush=True)
    res = run(args.n, args.tracer, args.idle, args.port, not args.no_top,
              lambda s: print(s, flush=True))
    res["idle_s"] = args.idle
    report(res)


if __name__ == "__main__":
    main()
