"""The periodic reconcile with the kernel's sockets (every 60 s), on the real
kernel: it must take nothing for a new connection and count nothing twice,
whichever way the sockets are read (iter/tcp, or sock_diag with
TCPTRAIL_SNAPSHOT=diag) and wherever lives are kept (the kernel, or
userspace with TCPTRAIL_HISTORIES=userspace). Four tracers, one of each,
watch the same traffic through their first periodic reconcile."""
import socket
import subprocess
import time

from lib import Netns, Peer, Tracer, check, free_port, run, wait_until

CLIENT, SERVER = "192.0.2.1", "192.0.2.2"
VARIANTS = (
    ("diag,userspace", {"TCPTRAIL_SNAPSHOT": "diag", "TCPTRAIL_HISTORIES": "userspace"}),
    ("diag,kernel", {"TCPTRAIL_SNAPSHOT": "diag"}),
    ("iter,userspace", {"TCPTRAIL_HISTORIES": "userspace"}),
    ("iter,kernel", {}),
)
PERIOD = 60  # RECONCILE_PERIOD_NS


def reconciles(tracer):
    """Reconciles done so far: each says "snapshot: N sockets" (-v)."""
    return sum("tcptrail: snapshot:" in line for line in list(tracer.stderr))


def ss_count(state, filt, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ss", "-Htan", "state", state, filt]
    return len(run(cmd).stdout.splitlines())


def test_periodic_reconcile_takes_nothing_twice():
    """Two things a reconcile once got wrong, seen by all four tracers.

    Timewait sockets in FIN_WAIT2: ten clients close on a server that
    leaks their connections in CLOSE_WAIT, five before the tracers start
    and five 30 s after. Each client's end is handed to a timewait socket
    that waits 60 s for the server's FIN, and sock_diag reports it by that
    substate, FIN_WAIT2 (inet_twsk_diag_fill()). Neither the start-up
    snapshot (the first five) nor the reconcile (the later five) may take
    one for a connection: the later five have exactly one history each,
    and nothing else at that port has one.

    TIME_WAIT of histories waiting out their grace period: with a 10 s
    grace, a client namespace makes 60 client-first connections (of a
    100-port range) in the seconds before the reconcile. Its recount from
    the kernel has their TIME_WAITs already when their histories come, so
    these must add nothing: the destination never shows more TIME_WAIT
    than the kernel holds (60), and no alert starts."""
    lport = free_port()
    leaker = Peer(None, "leak-serve", "127.0.0.1", str(lport), "10")
    leaker.expect("ready")
    for _ in range(5):
        socket.create_connection(("127.0.0.1", lport)).close()
    ns = Netns("ttrc", CLIENT, SERVER)
    tracers = []
    try:
        run(["ip", "netns", "exec", ns.a, "sysctl", "-qw",
             "net.ipv4.ip_local_port_range=40000 40099"])
        server = Peer(ns.b, "drain-serve", SERVER, "7520")
        server.expect("ready")
        start = time.time()
        for name, env in VARIANTS:
            tracers.append((name, Tracer("--close-grace-ms", "10000", env=env)))
        # the later five outlive every tracer's reconcile (their timewait
        # sockets last 60 s); the first five are gone by then
        time.sleep(max(0, start + PERIOD / 2 - time.time()))
        for _ in range(5):
            socket.create_connection(("127.0.0.1", lport)).close()
        leaker.expect("held")
        wait_until(lambda: ss_count("fin-wait-2", "( dport = :%d )" % lport) == 10, 5,
                   "ten FIN_WAIT2 timewait sockets")
        # the first tracer's reconcile comes PERIOD s after it started
        time.sleep(max(0, start + PERIOD - 5 - time.time()))
        client = Peer(ns.a, "churn", SERVER, "7520", "60", "30", "client-first")
        got = client.expect("done", timeout=30)
        check("ok=60 failed=0" in got, "the churn said %r" % got)
        client.close()
        # the kernel's count now, when all 60 are young: measured at the end
        # only, it once read 59 (a TIME_WAIT lasts 60 s, and a slow
        # reconcile can bring the end that close)
        try:
            wait_until(lambda: ss_count("time-wait", "( dport = :7520 )", ns.a) == 60, 10,
                       "60 TIME_WAITs")
        except Exception:
            pass
        kernel_tw = ss_count("time-wait", "( dport = :7520 )", ns.a)
        kernel_fw2 = ss_count("fin-wait-2", "( dport = :7520 )", ns.a)
        churned = time.time()
        for name, t in tracers:
            wait_until(lambda: reconciles(t) >= 2, PERIOD + 20, "%s's reconcile" % name)
        time.sleep(11.5)  # every grace period over, and an interval more
        check(time.time() - churned < 55, "the reconciles took until %.0f s after the churn: "
              "its TIME_WAITs begin to expire" % (time.time() - churned))
        still_fw2 = ss_count("fin-wait-2", "( dport = :%d )" % lport)
        for _, t in tracers:
            t.stop()
    finally:
        leaker.send("exit")
        leaker.close()
        ns.cleanup()
    check(kernel_tw == 60, "the kernel holds %d TIME_WAITs, not 60 (and %d in FIN_WAIT2)"
          % (kernel_tw, kernel_fw2))
    check(still_fw2 >= 5, "only %d FIN_WAIT2 timewait sockets left at the end" % still_fw2)
    wrong = []
    for name, t in tracers:
        mine = t.histories(rport=lport)
        if len(mine) != 5 or any(h["role"] != "active" or not h["complete"] for h in mine):
            wrong.append("%s: %d client histories: %s" % (
                name, len(mine), [(h["role"], h["states"], h.get("incomplete")) for h in mine
                                  if h["role"] != "active"][:3]))
        ports = t.records_of("ports", rport=7520)
        peak = max((r["time_wait"] for r in ports), default=None)
        if peak is None or peak > kernel_tw:
            wrong.append("%s: TIME_WAIT peaked at %s, the kernel holds %d" % (name, peak,
                                                                            kernel_tw))
        alerts = t.records_of("alert", alert="ephemeral_ports", rport=7520)
        if alerts:
            wrong.append("%s: an alert: %s" % (name, alerts[0]))
    check(not wrong, "; ".join(wrong))
