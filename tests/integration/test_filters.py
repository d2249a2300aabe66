"""Filters on the real kernel: -p keeps one process's connections (and
leaks), and a filter that names what does not exist says so in one sentence
at start and, when nothing was shown, once more at the end."""
import os
import subprocess
import sys
import time

from lib import LIVE, TCPTRAIL, Tracer, check, free_port, leaking_server, listener, run

# A client that connects when told, sends, closes, and says so.
CLIENT = """import socket, sys
port = int(sys.argv[1])
sys.stdin.readline()
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"hello")
s.close()
print("done", flush=True)
"""


def clients(port, n):
    procs = [subprocess.Popen([sys.executable, "-c", CLIENT, str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(n)]
    LIVE.extend(procs)
    return procs


def test_pid_keeps_one_process():
    """Two processes connect; -p names one: only its connection is shown
    (the server's end belongs to another process, the other client's too)."""
    srv, port = listener()
    srv.settimeout(5)
    a, b = clients(port, 2)
    tracer = Tracer("--no-states", "-p", str(a.pid))
    try:
        for c in (a, b):
            c.stdin.write("go\n")
            c.stdin.flush()
            check(c.stdout.readline().strip() == "done", "a client failed")
            srv.accept()[0].close()
        time.sleep(0.5)
    finally:
        for c in (a, b):
            c.stdin.close()
            c.wait(10)
        srv.close()
    tracer.stop()
    tracer.parse_json()
    hist = [h for h in tracer.histories() if port in (h["lport"], h["rport"])]
    check(len(hist) == 1 and hist[0]["pid"] == a.pid and hist[0]["rport"] == port and
          hist[0]["role"] == "active" and hist[0]["payload_acked"] == 5,
          "histories at :%d with -p %d (the other client %d): %s" % (port, a.pid, b.pid, hist))
    check(not any(r.get("pid") not in (None, a.pid) for r in tracer.records),
          "a record of another process: %s" % [r for r in tracer.records
                                               if r.get("pid") not in (None, a.pid)][:3])


def test_pid_picks_the_leaking_process():
    """tcptrail leaks -p lists the sockets of that process only."""
    p1, p2 = free_port(), free_port()
    one, _ = leaking_server(p1, 2, comm="leakone")
    two, _ = leaking_server(p2, 3, comm="leaktwo")
    try:
        time.sleep(0.2)
        out = run([TCPTRAIL, "leaks", "-p", str(two.proc.pid)], timeout=60).stdout
    finally:
        for s in (one, two):
            s.send("exit")
            s.close()
    rows = [l for l in out.splitlines() if "leakone" in l or "leaktwo" in l]
    check(rows and all("leaktwo" in l for l in rows) and rows[0].split()[3] == "3",
          "leaks -p %d:\n%s" % (two.proc.pid, out))


def warned(args, sentence):
    """Run tcptrail args; it must exit 0 and say sentence on stderr (and,
    tracing, that nothing matched)."""
    res = subprocess.run([TCPTRAIL] + args, capture_output=True, text=True, timeout=60)
    check(res.returncode == 0, "%s exited %d: %s" % (args, res.returncode, res.stderr))
    check(("tcptrail: warning: " + sentence) in res.stderr, "%s: stderr %r" % (args, res.stderr))
    check(res.stderr.count(sentence) == 1, "%s: said more than once: %r" % (args, res.stderr))
    if args[0] != "leaks":
        last = res.stderr.strip().splitlines()[-1]
        check("the filters matched nothing" in last, "%s: the last line %r" % (args, last))
    return res


def test_filters_naming_nothing_say_so():
    """--netns, --container, -p and -c naming nothing that exists: a warning
    each, exit 0; the same filters naming what exists: none."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    warned(["--netns", "12", "-d", "0.5"], "--netns 12: no network namespace has that inode")
    warned(["--container", "ABCD", "-d", "0.5"],
           "--container abcd: no cgroup names that container now")
    warned(["-p", str(gone.pid), "-d", "0.5"], "--pid %d: no such process now" % gone.pid)
    warned(["-c", "no-such-comm", "-d", "0.5"], "--comm no-such-comm: no process has that name")
    warned(["leaks", "--netns", "12"], "--netns 12: no network namespace has that inode")
    own = os.stat("/proc/self/ns/net").st_ino
    res = subprocess.run([TCPTRAIL, "--netns", str(own), "-p", str(os.getpid()), "-c",
                          open("/proc/self/comm").read().strip(), "-d", "0.5"],
                         capture_output=True, text=True, timeout=60)
    check(res.returncode == 0 and "warning: --" not in res.stderr,
          "filters naming what exists warned: %r" % res.stderr)
