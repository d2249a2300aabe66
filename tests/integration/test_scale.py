"""At scale: 50,000 real established loopback connections (100,000
sockets) held by a fleet of processes, as make bench-scale builds a
million. The tracer started among them must invent nothing while they idle,
name the owner of every CLOSE_WAIT socket, and give every connection's two
ends whole histories when they all close at once, losing nothing."""
import os
import sys

from lib import ROOT, TCPTRAIL, check

sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))

N = 50000


def test_fifty_thousand_connections_idle_leaks_mass_close():
    import scale
    res = scale.run(N, TCPTRAIL, idle=15.0, with_top=False, log=lambda s: None)
    s = res["summary"]
    check(s["summary"], "no exit summary")
    check(res["idle_hist_mine"] == 0, "%d histories written for open connections while idle"
          % res["idle_hist_mine"])
    check(res["idle_lost"] == 0, "%d records reported lost while idle" % res["idle_lost"])
    check(not res["vanished_lines"], "said at start: %s" % res["vanished_lines"])
    check(not res["repeat_lines"], "the kernel recorded transitions twice: %s"
          % res["repeat_lines"])
    check(res["hist_dups"] == 0 and res["hist_repeats"] == 0,
          "%d histories of an id seen before, %d with a state twice in a row"
          % (res["hist_dups"], res["hist_repeats"]))
    check(not res["warnings_repeated"], "a warning said more than once: %s" % res["warnings"])
    check(res["tracked"] is not None and res["tracked"] >= 2 * N,
          "metrics track %s sockets, %d open" % (res["tracked"], 2 * N))
    lk = res["leaks"]
    check(lk["rc"] == 0 and not lk["bad_lines"], "leaks exited %d, %d lines not JSON: %s"
          % (lk["rc"], lk["bad_lines"], lk["stderr"]))
    check(lk["found"] == lk["expected"] == N // 10, "leaks found %d of %d CLOSE_WAIT sockets"
          % (lk["found"], lk["expected"]))
    check(not lk["wrong"], "%d leaks without their holder's pid, e.g. %s"
          % (lk["wrong"], lk["first_wrong"]))
    lost = scale.benchlib.lost_total(s)
    # The one loss tcptrail does not cause: a state change this kernel makes
    # without running the tracepoint's programs (no run, no recursion miss;
    # docs/schema.md, unseen_change). Measured: a FIN_WAIT1 -> FIN_WAIT2
    # nobody saw, in 3 of 20 runs here before and after the catcher's ring;
    # counted, each touching at most one history. Any other loss fails.
    unseen = s["by_cause"].get("unseen_change", 0)
    check(lost is not None and lost - unseen == 0 and unseen <= 5,
          "lost %s (%s), %d in lost records"
          % (lost, scale.benchlib.fmt_causes(s), res["lost_lines"]))
    check(s["counts"].get("vanished") == 0, "vanished: %s" % s["summary"])
    check(res["bad"] + res["idle_bad"] == 0, "%d lines not JSON" % (res["bad"] + res["idle_bad"]))
    check(res["hist_mine"] <= 2 * N and 2 * N - res["whole"] <= unseen,
          "%d histories for %d sockets, %d whole, %d unseen changes; not whole: %s"
          % (res["hist_mine"], 2 * N, res["whole"], unseen, res["causes"]))


# A process here may hold 20,000 descriptors: 56 of them at 19,000 make a
# walk of more than a million descriptors that are not sockets.
SILENT_PER_PROC = 19000
SILENT_PROCS = 56
HOG = ("import os, resource, sys\n"
       "resource.setrlimit(resource.RLIMIT_NOFILE, (%d, %d))\n"
       "fd = os.open('/dev/null', os.O_RDONLY)\n"
       "for _ in range(%d):\n"
       "    os.dup(fd)\n"
       "print('ready', flush=True)\n"
       "sys.stdin.read()\n" % (SILENT_PER_PROC + 64, SILENT_PER_PROC + 64, SILENT_PER_PROC))


CLOSE_WAIT_HOLDER = ("import socket, sys\n"
                     "ls = socket.socket()\n"
                     "ls.bind(('127.0.0.1', 0))\n"
                     "ls.listen(1)\n"
                     "cl = socket.create_connection(ls.getsockname())\n"
                     "srv, _ = ls.accept()\n"
                     "cl.shutdown(socket.SHUT_WR)\n"
                     "print(ls.getsockname()[1], flush=True)\n"
                     "sys.stdin.read()\n")


def test_leaks_owner_past_a_million_silent_descriptors():
    """The kernel gives up a read() of an iterator that visited a million
    objects without output (bpf_seq_read(), MAX_ITER_OBJECTS) with EAGAIN,
    keeping its place. The owner walk of tcptrail leaks reads every
    descriptor of every process, in pid order, and writes only the
    CLOSE_WAIT sockets: past a million others that come first it must go
    on, not fail. Found by make bench-scale at a million connections, where
    the start-up walk of CLOSE_WAIT and TIME_WAIT sockets failed so."""
    import subprocess
    procs = []
    try:
        # the silent descriptors first, the CLOSE_WAIT socket's holder after
        # them (a larger pid): the walk meets a million silent ones before
        # any output
        for _ in range(SILENT_PROCS):
            procs.append(subprocess.Popen([sys.executable, "-c", HOG], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True))
        for h in procs:
            check(h.stdout.readline().strip() == "ready", "a descriptor holder did not start")
        holder = subprocess.Popen([sys.executable, "-c", CLOSE_WAIT_HOLDER],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(holder)
        port = int(holder.stdout.readline())
        check(holder.pid > max(h.pid for h in procs[:-1]), "pids wrapped; run again")
        p = subprocess.run([TCPTRAIL, "leaks", "--json"], capture_output=True, text=True,
                           timeout=300)
    finally:
        for h in procs:
            h.kill()
            h.wait()
    check(p.returncode == 0 and "failed" not in p.stderr,
          "leaks exited %d: %s" % (p.returncode, p.stderr.strip()))
    from lib import ndjson
    mine = [r for r in ndjson(p.stdout) if r.get("type") == "close_wait_leak"
            and r.get("lport") == port]
    check(len(mine) == 1, "%d leak records of port %d: %s" % (len(mine), port, p.stdout[-500:]))
    check(mine[0].get("pid") == holder.pid,
          "the leak's owner is %s, not its holder (%d); stderr: %s"
          % (mine[0].get("pid"), holder.pid, p.stderr.strip()))
