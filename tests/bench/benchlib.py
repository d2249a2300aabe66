"""What make bench, make bench-scale and their integration tests share: the
tracer run from its command line and read from its outputs only (stderr
lines, the -o file, the kernel's accounting of its BPF programs), so that
the same equipment measures any version of it."""
import json
import os
import re
import signal
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The helper programs live beside the tracer the tests were given, else in
# the build folder (make's OUT).
OUT = (os.path.dirname(os.path.abspath(os.environ["TCPTRAIL"])) if os.environ.get("TCPTRAIL")
       else os.path.join(ROOT, os.environ.get("OUT", "build")))
STORM = os.path.join(OUT, "storm")
HOLDER = os.path.join(OUT, "holder")
READY_LINE = "tcptrail: tracing;"
# Per connection of the storm, both ends: one history each.
HISTORIES_PER_CONN = 2
# Incompleteness that is not a loss: the connection began before tracing.
NOT_A_LOSS = {"started_before_trace"}


def default_tracer():
    return os.environ.get("TCPTRAIL", os.path.join(OUT, "tcptrail"))


# --- The exit summary ------------------------------------------------------

SUMMARY_PART = re.compile(r"(\d+) ([A-Za-z_][A-Za-z_ ]*?)\s*(?=[,;(]|$)")
PAREN_PART = re.compile(r"\((\d+) ([A-Za-z_ ]+?)\)")


def parse_summary(lines):
    """The figures of tcptrail's closing lines on stderr, by name.

    The line that says "lost by cause" gives its "N name" parts (records,
    histories, incomplete, lost, evicted, vanished, ...) and after the
    colon the causes ("ring_full N, ..."). Any part a version lacks is
    absent, never guessed: callers print "?" for it. -v adds the count of
    skipped state changes the catcher recorded (repaired) and the
    start-up time."""
    out = {"counts": {}, "by_cause": {}, "repaired": None, "started_ms": None,
           "summary": None}
    for line in lines:
        # the catcher's line as main says it, and as earlier versions did
        m = re.search(r"(?:of which the catcher recorded|"
                      r"nested state changes recorded by the second program:) (\d+)", line)
        if m:
            out["repaired"] = int(m.group(1))
        m = re.search(r"started in (\d+) ms", line)
        if m:
            out["started_ms"] = int(m.group(1))
        if not re.match(r"tcptrail: \d+ records,", line):
            continue
        out["summary"] = line
        head, _, causes = line.partition("lost by cause:")
        head = head[len("tcptrail: "):]
        for n, name in PAREN_PART.findall(head):
            out["counts"][name.strip()] = int(n)
        for n, name in SUMMARY_PART.findall(PAREN_PART.sub("", head)):
            out["counts"][name.strip()] = int(n)
        for part in causes.split(","):
            m = re.match(r"\s*([A-Za-z_]+) (\d+)", part)
            if m:
                out["by_cause"][m.group(1)] = int(m.group(2))
    return out


def lost_total(summary):
    """Records lost, all causes: the summary's total, or the causes' sum."""
    c = summary["counts"]
    if "lost" in c:
        return c["lost"]
    return sum(summary["by_cause"].values()) if summary["by_cause"] else None


def fmt_causes(summary):
    return ", ".join("%s %d" % kv for kv in summary["by_cause"].items()) or "?"


# --- Processes --------------------------------------------------------------

def proc_cpu(pid):
    """CPU seconds of a whole process so far, (user, system): /proc/PID/stat
    fields 14 and 15 count every thread, live and exited."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def proc_rss(pid):
    """Resident memory of a process in bytes (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def proc_rss_bpf_maps(pid):
    """The part of a process's resident memory in BPF maps it has mapped
    (the ring buffer above all: kernel memory, mapped whole when the tracer
    maps it, its data pages twice), in bytes, from /proc/PID/smaps."""
    total, in_map = 0, False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                in_map = len(head) >= 6 and head[5].startswith("anon_inode:bpf")
            elif in_map and line.startswith("Rss:"):
                total += int(head[1]) * 1024
    return total


class Tracer:
    """One tcptrail process started from its command line. Ready when it
    prints its tracing line; stderr is kept line by line, with the time each
    line arrived."""

    def __init__(self, binary, args, env=None, stdout=None, timeout=120):
        self.t0 = time.time()
        self.proc = subprocess.Popen([binary] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=stdout or subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **(env or {})))
        self.lines = []
        self.ready_at = None
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.lines.append((time.time(), line.rstrip("\n")))
                if line.startswith(READY_LINE):
                    self.ready_at = time.time()
                    ready.set()
            ready.set()
        self.thread = threading.Thread(target=pump, daemon=True)
        self.thread.start()
        if not ready.wait(timeout) or self.ready_at is None:
            self.kill()
            raise RuntimeError("tcptrail did not start within %d s: %s"
                               % (timeout, " | ".join(self.stderr()[-8:])))
        self.pid = self.proc.pid

    def startup_s(self):
        """Wall time from the exec to the tracing line."""
        return self.ready_at - self.t0

    def stderr(self):
        return [line for _, line in self.lines]

    def stop(self, timeout=120):
        """SIGINT, then wait: the summary is on stderr once it exits."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError("tcptrail did not exit within %d s of SIGINT" % timeout)
        self.thread.join(10)
        return parse_summary(self.stderr())

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# --- The kernel's accounting of BPF programs --------------------------------

def bpf_progs():
    """Every loaded BPF program, by id, as bpftool reports it."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"]: p for p in json.loads(out)}


class BpfStats:
    """Switches kernel.bpf_stats_enabled on for a with-block (run_time_ns and
    run_cnt are counted only then) and restores what it was."""

    PATH = "/proc/sys/kernel/bpf_stats_enabled"

    def __init__(self, on=True):
        self.on = on

    def __enter__(self):
        with open(self.PATH) as f:
            self.was = f.read().strip()
        with open(self.PATH, "w") as f:
            f.write("1" if self.on else "0")
        return self

    def __exit__(self, *exc):
        with open(self.PATH, "w") as f:
            f.write(self.was)


class ProgStats:
    """The programs a tool loaded (those not there before it started), read
    from the kernel while it runs. sample() adds a window; read() gives per
    program: runs, ns per run (mean), the median of the windows' ns per run,
    skipped runs (recursion_misses) and total run_time_ns."""

    def __init__(self):
        self.before = set(bpf_progs())
        self.at_start = {}
        self.samples = []

    def mark(self):
        self.at_start = {i: p for i, p in bpf_progs().items() if i not in self.before}
        self.samples = [self.at_start]

    def loaded(self):
        return bool(set(bpf_progs()) - self.before)

    def sample(self):
        now = bpf_progs()
        self.samples.append({i: now.get(i, p) for i, p in self.at_start.items()})

    def read(self):
        self.sample()
        now = self.samples[-1]
        rows = []
        for i, p in sorted(now.items()):
            s0 = self.at_start[i]

            def d(key, a=s0, b=p):
                return b.get(key, 0) - a.get(key, 0)
            runs, ns = d("run_cnt"), d("run_time_ns")
            windows = []
            for a, b in zip(self.samples, self.samples[1:]):
                r = b[i].get("run_cnt", 0) - a[i].get("run_cnt", 0)
                if r >= 1000:
                    windows.append((b[i].get("run_time_ns", 0) - a[i].get("run_time_ns", 0)) / r)
            windows.sort()
            mean = ns / runs if runs else 0.0
            rows.append({"name": p.get("name", "?"), "runs": runs, "ns": ns, "mean": mean,
                         "median": windows[len(windows) // 2] if windows else mean,
                         "misses": d("recursion_misses")})
        return rows


def wait_loaded(stats, timeout=30):
    """For tools that say nothing when ready: their programs are in the
    kernel and no more are being added."""
    end = time.time() + timeout
    n = -1
    while time.time() < end:
        cur = len(set(bpf_progs()) - stats.before)
        if cur and cur == n:
            time.sleep(0.3)	# attached after loading
            return True
        n = cur
        time.sleep(0.3)
    return False


# --- Output files -----------------------------------------------------------

BAD_LINES = []	# the first few lines that did not parse, for the report


def note_bad_line(path, n, line, err):
    if len(BAD_LINES) < 5:
        BAD_LINES.append("line %d of %s (%s): %r" % (n, os.path.basename(path), err, line[:300]))


def scan_ndjson(path, fn):
    """fn(rec) for every line of a JSON output file, without keeping them
    (millions of histories): returns (lines, lines that did not parse)."""
    bad = total = 0
    with open(path, "rb") as f:
        for line in f:
            total += 1
            try:
                rec = json.loads(line)
            except ValueError as err:
                bad += 1
                note_bad_line(path, total, line, err)
                continue
            fn(rec)
    return total, bad


def read_ndjson(path, keep):
    """Every line of a JSON output file parsed (a line that does not parse is
    counted, never skipped silently); keep(rec) selects what is returned."""
    kept = []
    total, bad = scan_ndjson(path, lambda rec: keep(rec) and kept.append(rec))
    return kept, bad, total


def repeated_state(h):
    """The state a history holds twice in a row, or None. That is never a
    transition (close() after shutdown() sets FIN_WAIT1/2 again, and the
    tracepoint fires). A truncated history keeps its latest state in the
    last slot, which may then repeat the one before it."""
    if "truncated" in (h.get("incomplete") or []):
        return None
    st = h.get("states") or []
    return next((a for a, b in zip(st, st[1:]) if a == b), None)


def history_check(hs, expected, lossy=lambda h: True):
    """Histories against what was made: written, missing, extra, and those
    marked incomplete for a cause that means something was lost."""
    incomplete = [h for h in hs if not h.get("complete")
                  and set(h.get("incomplete") or ["?"]) - NOT_A_LOSS]
    causes = {}
    for h in incomplete:
        for c in h.get("incomplete") or ["?"]:
            causes[c] = causes.get(c, 0) + 1
    roles = {}
    ids, dups, repeats = set(), 0, 0
    for h in hs:
        roles[h.get("role")] = roles.get(h.get("role"), 0) + 1
        dups += h.get("id") in ids
        ids.add(h.get("id"))
        repeats += repeated_state(h) is not None
    return {"written": len(hs), "expected": expected, "missing": max(0, expected - len(hs)),
            "extra": max(0, len(hs) - expected), "incomplete": len(incomplete),
            "incomplete_causes": causes, "roles": roles,
            "dups": dups, "repeats": repeats,	# one id twice; one state twice in a row
            # what the first two looked like, for whoever reads a failure
            "incomplete_examples": [(h.get("role"), h.get("states"), h.get("incomplete"))
                                    for h in incomplete[:2]]}


# --- The storm --------------------------------------------------------------

STORM_LINE = re.compile(r"connections (\d+) failed (\d+) seconds ([\d.]+) rate (\d+)")


def storm(port, seconds, threads, sample=None):
    """tests/bench/storm.c: (connections, failed, connections/s); sample()
    is called every half second while it runs."""
    proc = subprocess.Popen([STORM, str(port), str(seconds), str(threads)],
                            stdout=subprocess.PIPE, text=True)
    while sample and proc.poll() is None:
        time.sleep(0.5)
        sample()
    out = proc.communicate()[0]
    if proc.returncode:
        raise RuntimeError("storm exited %d" % proc.returncode)
    m = STORM_LINE.search(out)
    return int(m.group(1)), int(m.group(2)), float(m.group(4))


def traced_storm(binary, port, seconds, threads, out_path, args=("--no-states",), env=None,
                 settle=0.5):
    """One storm under one tcptrail writing JSON to out_path: everything the
    benchmark and the loss test read of it. The tracer's CPU is read from
    /proc/PID/stat when the storm starts and settle seconds after it ends;
    the kernel's accounting of its programs over the same span."""
    stats = ProgStats()
    tr = Tracer(binary, ["-v", "--json", "-o", out_path] + list(args), env=env)
    try:
        stats.mark()
        cpu0 = proc_cpu(tr.pid)
        conns, failed, rate = storm(port, seconds, threads, stats.sample)
        time.sleep(settle)
        cpu1 = proc_cpu(tr.pid)
        progs = stats.read()
        # A socket of the storm the kernel has not yet closed (a FIN lost
        # to a full backlog and retransmitted after its RTO) has no history
        # yet: wait for the kernel, and say what was still open at the stop.
        open_at_stop = kernel_open(port, 5.0)
        summary = tr.stop()
    finally:
        tr.kill()

    def mine(rec):
        return rec.get("type") in ("history", "lost") and (rec.get("lport") == port
                                                          or rec.get("rport") == port
                                                          or rec.get("type") == "lost")
    recs, bad, lines = read_ndjson(out_path, mine)
    os.unlink(out_path)
    hs = [r for r in recs if r["type"] == "history"]
    lost_lines = sum(r.get("count", 0) for r in recs if r["type"] == "lost")
    return {
        "conns": conns, "failed": failed, "rate": rate, "summary": summary,
        "lost": lost_total(summary), "lost_lines": lost_lines,
        "hist": history_check(hs, conns * HISTORIES_PER_CONN),
        "bad_lines": bad, "lines": lines, "progs": progs,
        "kernel_ns": sum(p["ns"] for p in progs),
        "misses": sum(p["misses"] for p in progs),
        "cpu": (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]),
        "startup_ms": summary["started_ms"], "startup_wall_s": tr.startup_s(),
        "open_at_stop": open_at_stop,
        "repeat_lines": [l for l in tr.stderr() if "transitions came twice" in l],
    }


def kernel_open(port, timeout):
    """The states of the sockets of port the kernel still holds, other than
    TIME_WAIT and LISTEN, once none is left or timeout seconds have passed
    (ss's own view, not the tracer's)."""
    end = time.time() + timeout
    while True:
        p = subprocess.run(["ss", "-Htan", "exclude", "time-wait", "exclude", "listening",
                            "( sport = :%d or dport = :%d )" % (port, port)],
                           capture_output=True, text=True)
        states = [l.split()[0] for l in p.stdout.splitlines() if l.strip()]
        if not states or time.time() >= end:
            return states
        time.sleep(0.1)


def idle_cpu(binary, seconds, args=("--no-states",)):
    """CPU seconds (user + system) a tracer spends with no traffic over
    seconds after its tracing line: its own periodic work."""
    tr = Tracer(binary, ["-v", "--json", "-o", os.devnull] + list(args))
    try:
        c0 = proc_cpu(tr.pid)
        time.sleep(seconds)
        c1 = proc_cpu(tr.pid)
        tr.stop()
    finally:
        tr.kill()
    return sum(c1) - sum(c0)


def median_of(xs):
    """The median (the mean of the middle two for an even count); nan for none."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
