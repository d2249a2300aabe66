"""Shared pieces of the integration tests: run the real tracer, read its JSON,
build network namespaces. Everything here talks to the real kernel."""
import json
import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading
import time

from programs import Table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE_DIR = os.path.dirname(os.path.abspath(__file__))
TCPTRAIL = os.environ.get("TCPTRAIL", os.path.join(ROOT, "build", "tcptrail"))
PEER = os.path.join(ROOT, "tests", "integration", "peer.py")


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def _unique_members(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate member in %s" % keys)
    return dict(pairs)


def _no_constant(name):
    raise ValueError("%s is not JSON" % name)


def _record(line, n, what):
    """Line n of tcptrail's JSON output, checked (see ndjson)."""
    try:
        rec = json.loads(line, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except ValueError as err:
        raise TestFailure("%s: line %d is not JSON (%s): %r" % (what, n, err, line[:300]))
    check(isinstance(rec, dict) and isinstance(rec.get("type"), str)
          and isinstance(rec.get("ts"), str),
          "%s: line %d is not a record with type and ts: %r" % (what, n, line[:300]))
    return rec


def ndjson(data, what="tcptrail's JSON output"):
    """The one reader of tcptrail's JSON output in the tests: data (bytes or
    text) must be whole lines, each one strict JSON (valid UTF-8, no
    duplicate members, no NaN or Infinity) making an object with "type" and
    "ts". Any other line fails the test, whatever the test was looking for.
    Returns the records."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise TestFailure("%s is not UTF-8 (%s): %r" % (what, err, data[:200]))
    check(data.endswith("\n") or not data, "%s ends mid-line: %r" % (what, data[-200:]))
    return [_record(line, n, what) for n, line in enumerate(data.split("\n")[:-1], 1)]


def ndjson_file(path, what=None):
    with open(path, "rb") as f:
        return ndjson(f.read(), what or path)


def ndjson_stream(path):
    """ndjson() of a file too large to hold parsed, one record at a time."""
    with open(path, "rb") as f:
        n = 0
        for n, raw in enumerate(f, 1):
            check(raw.endswith(b"\n"), "%s ends mid-line: %r" % (path, raw[-200:]))
            try:
                line = raw[:-1].decode("utf-8")
            except UnicodeDecodeError as err:
                raise TestFailure("%s: line %d is not UTF-8 (%s)" % (path, n, err))
            yield _record(line, n, path)


def wait_until(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise TestFailure("timed out waiting for " + what)


def sockets_alive(port):
    """The kernel's TCP sockets at port, on either end, that have not yet
    closed (listeners and TIME_WAIT left out): a scenario's last records are
    all in the ring once this is empty."""
    out = subprocess.run(["ss", "-Htan", "( sport = :%d or dport = :%d )" % (port, port)],
                         capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if l.split()[0] not in ("LISTEN", "TIME-WAIT")]


LIVE = []  # processes a test started; killed after it whatever happened


def kill_leftovers():
    while LIVE:
        proc = LIVE.pop()
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # stuck in the kernel: said, not waited on
                print("  pid %d did not die on SIGKILL" % proc.pid, flush=True)


class Tracer:
    """The real tcptrail, writing JSON to a file, started and stopped around
    a scenario. Readiness is its own "tracing" line on stderr."""

    def __init__(self, *args, json_out=True, env=None, wrap=None, out=None, binary=None):
        """wrap: a command that runs the tracer as its child (unshare ...);
        signals then go to the tracer itself. out: the -o file (default: a
        new temporary one). binary: another build of tcptrail."""
        if out:
            self.path = out
        else:
            fd, self.path = tempfile.mkstemp(prefix="tcptrail-", suffix=".out")
            os.close(fd)
        self.json_out = json_out
        cmd = (wrap or []) + [binary or TCPTRAIL, "-v", "-o", self.path] + \
            (["--json"] if json_out else []) + list(args)
        self.exec_at = time.monotonic()  # for the start-up time seen from outside
        self.ready_at = None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **(env or {})))
        LIVE.append(self.proc)
        self.stderr = []
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.stderr.append(line.rstrip("\n"))
                if line.startswith("tcptrail: tracing;"):
                    self.ready_at = time.monotonic()
                    ready.set()
            ready.set()

        self.thread = threading.Thread(target=pump, daemon=True)
        self.thread.start()
        if not ready.wait(20) or self.proc.poll() is not None:
            self.proc.kill()
            raise TestFailure("tracer did not start: " + " | ".join(self.stderr))
        self.signal_pid = self.proc.pid
        if wrap:
            self.signal_pid = int(run(["pgrep", "-P", str(self.proc.pid)]).stdout.split()[0])
        self.records = None
        self.text = None

    def live_records(self, rtype, **match):
        """Records written so far: the whole lines (the tracer flushes whole
        lines; a write may be under way past the last one), every one
        checked."""
        with open(self.path, "rb") as f:
            data = f.read()
        recs = ndjson(data[:data.rfind(b"\n") + 1], "live output")
        return [r for r in recs if r["type"] == rtype
                and all(r.get(k) == v for k, v in match.items())]

    def stop(self, sig=signal.SIGINT):
        if self.proc.poll() is None:
            os.kill(self.signal_pid, sig)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise TestFailure("tracer did not exit after signal")
        self.thread.join(5)
        check(rc == 0, "tracer exited %d: %s" % (rc, " | ".join(self.stderr)))
        # userspace drops a transition the kernel recorded twice: said, and a defect
        check(not [l for l in self.stderr if "transitions came twice" in l],
              "the kernel recorded transitions twice: %s"
              % [l for l in self.stderr if "came twice" in l])
        with open(self.path, "rb") as f:
            data = f.read()
        os.unlink(self.path)
        # JSON is checked here, whatever the test reads of it afterwards
        if self.json_out:
            self.records = ndjson(data, "the tracer's output")
            for r in self.records:
                if r["type"] == "history":
                    check_no_repeated_state(r)
                elif r["type"] == "state":
                    check(r["old"] != r["new"], "a state record that is no change: %s" % r)
        self.text = data.decode("utf-8")
        return self

    def parse_json(self):
        """The records, every line checked when the tracer stopped."""
        check(self.json_out, "the text view has no records")
        return self.records

    def histories(self, **match):
        return [r for r in self.parse_json() if r["type"] == "history"
                and all(r.get(k) == v for k, v in match.items())]

    def records_of(self, rtype, **match):
        return [r for r in self.parse_json() if r["type"] == rtype
                and all(r.get(k) == v for k, v in match.items())]


def program_table(stderr_lines):
    """What became of each BPF program, from the -v table: name -> (status,
    why). Every line must be one the table's format allows."""
    table = Table(stderr_lines)
    check(not table.errors, "; ".join(table.errors))
    check(table.programs, "no program table in: " + " | ".join(stderr_lines[-20:]))
    return table.programs


def one(items, what):
    check(len(items) == 1, "expected exactly one %s, got %d: %s" % (what, len(items), items))
    return items[0]


def check_no_repeated_state(h):
    """A history never holds one state twice in a row: that is not a
    transition (close() after shutdown() sets FIN_WAIT1/2 again, and the
    tracepoint fires). A truncated history keeps its latest state in the
    last slot, which may then repeat the one before it. (The benchmark's
    twin, benchlib.repeated_state, is not here: the kernel matrix's VMs
    carry tests/integration alone.)"""
    if "truncated" in (h.get("incomplete") or []):
        return
    st = h["states"]
    for a, b in zip(st, st[1:]):
        check(a != b, "a history has %s twice in a row: %s" % (a, h))


def expect_history(h, states, end, closed_by, role, tw_inferred=False, complete=True):
    check(h["states"] == states, "states %s, expected %s" % (h["states"], states))
    check(h["end"] == end, "end %s, expected %s" % (h["end"], end))
    check(h["closed_by"] == closed_by, "closed_by %s, expected %s" % (h["closed_by"], closed_by))
    check(h["role"] == role, "role %s, expected %s" % (h["role"], role))
    check(h["tw_inferred"] == tw_inferred, "tw_inferred %s" % h["tw_inferred"])
    check(h["complete"] == complete, "complete %s, expected %s (%s)"
          % (h["complete"], complete, h.get("incomplete")))
    check(len(h["durations_ns"]) == len(states), "durations do not match states")
    check(h["durations_ns"][-1] is None, "last state has a duration")
    check(all(isinstance(d, int) and d >= 0 for d in h["durations_ns"][:-1]),
          "bad durations %s" % h["durations_ns"])


def recv_all(sock, n):
    """Exactly n bytes from sock."""
    got = b""
    while len(got) < n:
        chunk = sock.recv(n - len(got))
        check(chunk, "peer closed early")
        got += chunk
    return got


def text_records(text):
    """The text view's records: a record's indented continuation lines
    (details past 160 characters) joined to it."""
    records = []
    for line in text.splitlines():
        if line.startswith(" " * 13) and records:
            records[-1] += " " + line.strip()
        else:
            records.append(line)
    return records


def kernel_at_least(major, minor):
    """The running kernel's version, from uname: what the test expects of
    the kernel is decided here, never from what tcptrail says of itself."""
    release = os.uname().release.split("-")[0].split(".")
    return (int(release[0]), int(release[1])) >= (major, minor)


# Tracing programs may read socket cookies from 5.12; before, tcptrail names
# sockets by per-run ids and must say so.
COOKIE_IDS = kernel_at_least(5, 12)
PER_RUN_IDS_WARNING = "ids are per-run socket ids"


def check_id_semantics(tracer):
    said = any(PER_RUN_IDS_WARNING in line for line in tracer.stderr)
    check(said != COOKIE_IDS, "kernel %s, yet tcptrail %s per-run ids"
          % (os.uname().release, "announced" if said else "did not announce"))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def netns_inode(name):
    return os.stat("/run/netns/" + name).st_ino


def ns_counters(ns, path, prefix):
    """One counter table (a header line and a value line) of a namespace's
    /proc/net file, read inside it."""
    text = run(["ip", "netns", "exec", ns, "cat", path]).stdout
    rows = [line.split() for line in text.splitlines() if line.startswith(prefix)]
    return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])}


def netstat(ns):
    """The TcpExt counters of a namespace."""
    return ns_counters(ns, "/proc/net/netstat", "TcpExt:")


class Netns:
    """Two namespaces joined by a veth pair; removed on exit."""

    def __init__(self, prefix, addr_a, addr_b):
        self.a, self.b = prefix + "a", prefix + "b"
        self.va, self.vb = prefix + "va", prefix + "vb"
        self.addr_a, self.addr_b = addr_a, addr_b
        self.cleanup()
        run(["ip", "netns", "add", self.a])
        run(["ip", "netns", "add", self.b])
        run(["ip", "link", "add", self.va, "netns", self.a, "type", "veth",
             "peer", "name", self.vb, "netns", self.b])
        for ns, dev, addr in ((self.a, self.va, addr_a), (self.b, self.vb, addr_b)):
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            if addr:
                run(["ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])

    def cleanup(self):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


class Peer:
    """peer.py running inside a namespace, driven line by line. A thread
    reads its output into a queue: select() on the pipe would miss lines
    already pulled into Python's buffer by an earlier readline()."""

    def __init__(self, ns, *args, wrap=None, comm=None):
        """comm: the process name the peer takes (str, or bytes: any but
        NUL)."""
        prefix = (["ip", "netns", "exec", ns] if ns else []) + (wrap or [])
        env = None
        if isinstance(comm, bytes):
            env = dict(os.environ, PEER_COMM_HEX=comm.hex())
        elif comm:
            env = dict(os.environ, PEER_COMM=comm)
        self.proc = subprocess.Popen(prefix + ["python3", PEER] + list(args),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        LIVE.append(self.proc)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def expect(self, word, timeout=10):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TestFailure("peer said nothing, waiting for " + word)
        check(line.startswith(word), "peer said %r, expected %r" % (line, word))
        return line

    def send(self, word):
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def remove_cgroups(top):
    """Kill what runs in the cgroup tree top and remove it, deepest first."""
    if not os.path.isdir(top):
        return
    for root, _, _ in os.walk(top, topdown=False):
        try:
            with open(os.path.join(root, "cgroup.procs")) as f:
                for pid in f.read().split():
                    subprocess.run(["kill", "-9", pid], capture_output=True)
        except OSError:
            pass
        for _ in range(50):
            try:
                os.rmdir(root)
                break
            except OSError:
                time.sleep(0.05)


def leaking_server(port, count, *extra, **peer_kw):
    """A loopback server that never closes what its count clients (made
    here, and closed at once) leave it: returns the peer and its "held"
    line (fd:client-port pairs)."""
    server = Peer(None, "leak-serve", "127.0.0.1", str(port), str(count), *extra, **peer_kw)
    server.expect("ready")
    for _ in range(count):
        socket.create_connection(("127.0.0.1", port)).close()
    return server, server.expect("held")


def listener(addr="127.0.0.1", family=socket.AF_INET, backlog=16):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 0))
    srv.listen(backlog)
    return srv, srv.getsockname()[1]


_GIVEN_PORTS = set()


def free_port():
    """A loopback port nothing listens on right now, and never one this run
    gave before: a test that picks a second port once its first server has
    closed must not get the first again (records of the two would mix)."""
    for _ in range(1000):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port
    raise RuntimeError("no loopback port this run has not used already")


def snmp_tcp(ns):
    """The Tcp: counters of a namespace (RetransSegs, PassiveOpens, ...)."""
    return ns_counters(ns, "/proc/net/snmp", "Tcp:")
