"""Numbers and names at their extremes on the real kernel, through the tracer
built with ASan and UBSan (make SANITIZE=1): a connection held 5 s and a
CLOSE_WAIT aged 5 s (figures between 2^32 and 10^10, the range digits()
once sized from their low 32 bits), and one CLOSE_WAIT socket held by 64
processes named by 15 control characters in a cgroup named by 600 hostile
bytes. Every record must parse (lib.ndjson), read back what the kernel and
the processes hold, and the sanitizers must stay silent."""
import os
import socket
import subprocess
import time

from lib import (ROOT, Peer, Tracer, check, free_port, leaking_server, listener, ndjson, one,
                 remove_cgroups, sockets_alive, wait_until)

SAN_OUT = os.path.join(ROOT, "build-san")
# stop at the first report of either sanitizer, with its stack
SAN_ENV = {"ASAN_OPTIONS": "halt_on_error=1:abort_on_error=0",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
# the range digits() once got wrong: 2^32 to 10^10 (low 32 bits under 10^9)
LOW, HIGH = 4.29e9, 5.29e9


def san_binary():
    """build-san/tcptrail, built now if it is not (make is a no-op when it is
    up to date); TCPTRAIL_SAN names another."""
    if os.environ.get("TCPTRAIL_SAN"):
        return os.environ["TCPTRAIL_SAN"]
    # OUT is named outright: the suite exports OUT=build, and the Makefile's
    # "OUT ?=" would otherwise take it and know no build-san/ target.
    p = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "SANITIZE=1",
                        "OUT=build-san", "build-san/tcptrail"],
                       capture_output=True, text=True, timeout=900)
    check(p.returncode == 0, "make SANITIZE=1 failed: %s" % p.stderr[-2000:])
    return os.path.join(SAN_OUT, "tcptrail")


def san_silent(what, stderr):
    bad = [l for l in stderr if "Sanitizer" in l or "runtime error" in l]
    check(not bad, "%s: sanitizer reports: %s" % (what, " | ".join(stderr)[-3000:]))


def san_run(binary, *args):
    p = subprocess.run([binary] + list(args), capture_output=True, timeout=120,
                       env=dict(os.environ, **SAN_ENV))
    err = p.stderr.decode("utf-8", "replace").splitlines()
    san_silent(" ".join(args), err)
    check(p.returncode == 0, "%s exited %d: %s" % (args, p.returncode, err))
    return p.stdout


def stop(tracer):
    tracer.stop()
    san_silent("the tracer", tracer.stderr)
    return tracer


def in_range(v, what):
    check(isinstance(v, int) and LOW <= v <= HIGH, "%s %s, expected %.2e to %.2e"
          % (what, v, LOW, HIGH))


def test_five_second_connection_history():
    """A loopback connection held 4.8 s: both histories say so in
    duration_ns and in the ESTABLISHED span, as valid JSON."""
    binary = san_binary()
    srv, port = listener()
    tracer = Tracer("--no-states", binary=binary, env=SAN_ENV)
    cli = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()
    time.sleep(4.8)
    cli.close()
    conn.recv(1)
    conn.close()
    srv.close()
    wait_until(lambda: not sockets_alive(port), 10, "the connection to close")
    time.sleep(0.3)
    stop(tracer)
    for role, key in (("active", "rport"), ("passive", "lport")):
        h = one(tracer.histories(role=role, **{key: port}), role + " history")
        in_range(h["duration_ns"], role + " duration_ns")
        in_range(h["durations_ns"][h["states"].index("ESTABLISHED")],
                 role + " time ESTABLISHED")


def test_five_second_close_wait():
    """A CLOSE_WAIT socket 5 s old: the live leak record (--leak-after 4.5)
    and tcptrail leaks --json both give its age, as valid JSON."""
    binary = san_binary()
    port = free_port()
    tracer = Tracer("--leak-after", "4.5", binary=binary, env=SAN_ENV)
    server, _ = leaking_server(port, 1)
    closed = time.time()
    time.sleep(max(0, closed + 4.6 - time.time()))
    report = ndjson(san_run(binary, "leaks", "--json"), "leaks --json")
    wait_until(lambda: tracer.live_records("close_wait_leak", lport=port), 10,
               "the live leak record")
    stop(tracer)
    server.send("exit")
    server.close()
    live = one(tracer.records_of("close_wait_leak", lport=port), "live leak record")
    in_range(live["close_wait_ns"], "live close_wait_ns")
    check(live["pid"] == server.proc.pid, "live leak owner %s" % live.get("pid"))
    leak = one([r for r in report if r["type"] == "close_wait_leak" and r["lport"] == port],
               "leaks --json record")
    in_range(leak["close_wait_ns"], "leaks --json close_wait_ns")
    proc = one([r for r in report if r["type"] == "leak_process"
                and r["pid"] == server.proc.pid], "leak_process record")
    in_range(proc["oldest_ns_min"], "leak_process oldest_ns_min")


def tcptrail_text(raw):
    """What tcptrail's JSON makes of bytes, as Python reads it back: valid
    UTF-8 sequences as their characters, any other byte as \\u00XX (the
    character of that number)."""
    out, i = [], 0
    while i < len(raw):
        for n in (1, 2, 3, 4):
            try:
                out.append(raw[i:i + n].decode("utf-8"))
                i += n
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append(chr(raw[i]))
            i += 1
    return "".join(out)


def hostile_name(start, length):
    """A cgroup directory name of every byte but NUL, '/' and newline (which
    cgroup_mkdir() refuses): control characters, quotes, backslashes, bytes
    that are not UTF-8."""
    allowed = [b for b in range(1, 256) if b not in (0x0a, 0x2f)]
    return bytes(allowed[(start + i) % len(allowed)] for i in range(length))


class HostileCgroup:
    """/tttest-hostile/<200 hostile bytes>/<200>/<200> under the cgroup2
    mount; whatever runs in it is killed and it is removed on exit."""

    def __init__(self):
        from test_containers import cgroup2_mount
        self.mount = cgroup2_mount()
        check(self.mount, "no cgroup2 mount")
        self.top = os.path.join(self.mount, "tttest-hostile")
        self.cleanup()
        self.rel = b"/tttest-hostile/" + b"/".join(hostile_name(k * 200, 200) for k in range(3))
        os.makedirs(self.mount.encode() + self.rel)

    def wrap(self):
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"',
                self.mount.encode() + self.rel]

    def cleanup(self):
        remove_cgroups(self.top)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


COMM = bytes(range(1, 16))	# 15 control characters: each escapes to \u00XX
HOLDERS = 64


def check_hostile_leak(r, pids, cgroup, what):
    comm = COMM.decode()
    check(r["comm"] == comm and r["pid"] in pids, "%s: first holder %r %s"
          % (what, r.get("comm"), r.get("pid")))
    check(len(r["owners"]) == HOLDERS and "owners_truncated" not in r,
          "%s: %d owners listed, %s cut" % (what, len(r["owners"]), r.get("owners_truncated")))
    check(sorted(o["pid"] for o in r["owners"]) == sorted(pids),
          "%s: owners %s, holders %s" % (what, [o["pid"] for o in r["owners"]], pids))
    check(all(o["comm"] == comm for o in r["owners"]), "%s: owners' comms" % what)
    want = tcptrail_text(cgroup[:512])
    check(r.get("cgroup") == want and r.get("cgroup_truncated") is True,
          "%s: cgroup %r (truncated %s), expected the first 512 bytes of the path"
          % (what, r.get("cgroup", "")[:80], r.get("cgroup_truncated")))


def test_sixty_four_hostile_owners():
    """One CLOSE_WAIT socket held by 64 processes each named by 15 control
    characters, in a cgroup named by 600 hostile bytes: the live leak
    record, tcptrail leaks --json and both text views, under ASan and
    UBSan."""
    binary = san_binary()
    port = free_port()
    with HostileCgroup() as cg:
        tracer = Tracer("--leak-after", "1", "--no-states", binary=binary, env=SAN_ENV)
        text = Tracer("--leak-after", "1", "--no-states", binary=binary, env=SAN_ENV,
                      json_out=False)
        server = Peer(None, "hold-shared", "127.0.0.1", str(port), str(HOLDERS),
                      wrap=cg.wrap(), comm=COMM)
        try:
            server.expect("ready")
            cli = socket.create_connection(("127.0.0.1", port))
            held = server.expect("held", timeout=30).split()
            pids = [int(p) for p in held[2:]]
            check(len(pids) == HOLDERS, "holders %s" % held)
            cli.close()
            time.sleep(2.5)
            report = ndjson(san_run(binary, "leaks", "--json"), "leaks --json")
            report_text = san_run(binary, "leaks", "--all")
        finally:
            server.send("exit")
            server.close()
        stop(tracer)
        stop(text)
    live = one(tracer.records_of("close_wait_leak", lport=port), "live leak record")
    check_hostile_leak(live, pids, cg.rel, "live")
    check_hostile_leak(one([r for r in report if r["type"] == "close_wait_leak"
                            and r["lport"] == port], "leaks --json record"),
                       pids, cg.rel, "leaks --json")
    escaped = "".join("\\x%02x" % b for b in COMM)
    for what, out in (("tcptrail leaks", report_text), ("text view", text.text.encode())):
        check(all(0x20 <= b < 0x7f or b == 0x0a for b in out),
              "%s: unescaped bytes in %r" % (what, out[:300]))
        check(escaped.encode() in out, "%s: the comm is not escaped as %s" % (what, escaped))
    check(b"and %d more" % (HOLDERS - 8) in report_text,
          "tcptrail leaks does not count the holders past the 8th: %r" % report_text[-600:])
