"""Ephemeral-port exhaustion per destination, on the real kernel: a client
namespace with 100 local ports, joined by veth to a server namespace (not
loopback, where tcp_tw_reuse 2 would reuse TIME_WAIT ports)."""
import calendar
import subprocess
import time

from lib import (TCPTRAIL, Netns, Peer, Tracer, check, free_port, netns_inode, run,
                 wait_until)
from test_metrics import sample_value, scrape

CLIENT, SERVER = "192.0.2.1", "192.0.2.2"


def wall(ts):
    """An RFC 3339 record time as seconds since the epoch."""
    whole, frac = ts.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + frac)


def churn(prefix, port, mode, tracer_args=()):
    ns = Netns(prefix, CLIENT, SERVER)
    run(["ip", "netns", "exec", ns.a, "sysctl", "-qw",
         "net.ipv4.ip_local_port_range=40000 40099"])
    tracer = Tracer("--interval", "0.2", "--no-states", *tracer_args)
    server = Peer(ns.b, "drain-serve" if mode == "client-first" else "accept-all", SERVER,
                  str(port), *(() if mode == "client-first" else ("256",)))
    server.expect("ready")
    client = Peer(ns.a, "churn", SERVER, str(port), "150", "25", mode, comm="churner")
    line = client.expect("done", timeout=30)
    fields = dict(kv.split("=") for kv in line.split()[1:])
    return ns, tracer, server, client, fields


def finish(ns, tracer, server, client):
    client.close()
    server.send("exit")
    server.close()
    tracer.stop()
    ns.cleanup()


def test_exhaustion_is_foreseen_and_attributed():
    """150 client-first connections to one server port through 100 ports:
    the alert comes before the first EADDRNOTAVAIL and names the
    destination; TIME_WAIT climbs to 100; the failures counted match the
    client's own count, under its pid; when the TIME_WAITs expire (60 s),
    the count falls and the alert clears."""
    mport = free_port()
    ns, tracer, server, client, got = churn("ttpx", 7501, "client-first",
                                            ("--metrics", "127.0.0.1:%d" % mport))
    try:
        failed = int(got["failed"])
        check(failed >= 40 and int(got["ok"]) + failed == 150, "client said %r" % got)
        time.sleep(0.6)  # the intervals that report the last failures
        records = tracer.live_records("ports", rport=7501)
        alerts = tracer.live_records("alert", alert="ephemeral_ports", rport=7501)
        starts = [a for a in alerts if a["state"] == "start"]
        check(starts, "no ephemeral_ports alert")
        a = starts[0]
        check(a["netns"] == netns_inode(ns.a) and a["laddr"] == CLIENT and a["raddr"] == SERVER,
              "alert names %r" % a)
        check(a["range"] == 100 and a["tw_reuse"] == 2 and a["tw_reusable"] is False,
              "range %r tw_reuse %r reusable %r" % (a["range"], a["tw_reuse"],
                                                   a["tw_reusable"]))
        check(a["cause"] == "ports_used", "the alert started from %r" % a["cause"])
        check(wall(a["ts"]) < float(got["first_fail"]),
              "alert at %s, first failure at %s" % (a["ts"], got["first_fail"]))
        peak = max(r["time_wait"] for r in records)
        check(95 <= peak <= 100, "time_wait peaked at %d" % peak)
        counted = sum(r["connect_failures_delta"] for r in records)
        check(counted == failed, "tcptrail counted %d failures, the client %d"
              % (counted, failed))
        pids = {p["pid"] for r in records for p in r["top_processes"]}
        comms = {p["comm"] for r in records for p in r["top_processes"]}
        check(pids == {client.proc.pid} and comms == {"churner"},
              "failures attributed to %s %s" % (pids, comms))
        _, _, body = scrape(mport)
        ratio = sample_value(body, "tcptrail_ephemeral_ports_used_ratio",
                             netns=str(netns_inode(ns.a)), raddr=SERVER, rport="7501")
        check(ratio is not None and ratio >= 0.95, "the gauge says %r" % ratio)
        # a tracer started now knows the TIME_WAITs only from the kernel's
        # timewait sockets and the time each has left
        top = subprocess.run([TCPTRAIL, "top", "-d", "1.5", "-o", "-"], capture_output=True,
                             text=True, timeout=30)
        rows = [l.split() for l in top.stdout.splitlines()
                if "%s:7501" % SERVER in l and "PORTS-LOW" in l]
        check(rows, "top shows no destination:\n" + top.stdout)
        # NETNS FROM TO IN-USE TIME-WAIT RANGE USED FAILED STATE; the
        # namespace by the name ip netns gave it
        check(rows[-1][0] == ns.a and rows[-1][1] == CLIENT and
              95 <= int(rows[-1][4]) <= 100 and rows[-1][5] == "100",
              "top's destination row %r" % rows[-1])
        # the clear: TIME_WAIT falls when the kernel frees the sockets
        wait_until(lambda: any(x["state"] == "clear" for x in tracer.live_records(
            "alert", alert="ephemeral_ports", rport=7501)), 90, "the alert to clear")
        clear = [x for x in tracer.live_records("alert", alert="ephemeral_ports", rport=7501)
                 if x["state"] == "clear"][0]
        check(clear["time_wait"] < 50 and clear["connect_failures_delta"] == 0,
              "cleared at %r" % clear)
        check(clear["duration_ms"] >= 55000, "cleared after %d ms" % clear["duration_ms"])
    finally:
        finish(ns, tracer, server, client)


def test_server_closing_first_raises_nothing():
    """The same 150 connections, the server closing first: the TIME_WAITs
    are the server's, the client's 100 ports are enough, and no alert."""
    ns, tracer, server, client, got = churn("ttpy", 7502, "server-first")
    try:
        check(got["failed"] == "0" and got["ok"] == "150", "client said %r" % got)
        time.sleep(0.5)
        alerts = tracer.live_records("alert", alert="ephemeral_ports")
        check(not alerts, "alerts: %r" % alerts)
        check(not tracer.live_records("ports", rport=7502),
              "a destination reported as hot: %r" % tracer.live_records("ports"))
    finally:
        finish(ns, tracer, server, client)


PATHS = (("kernel", {}), ("userspace", {"TCPTRAIL_HISTORIES": "userspace"}))


def test_squeeze_in_a_new_namespace_alerts_on_the_range():
    """A namespace made just now, with 100 local ports, and a job that
    opens 120 connections to one destination as fast as it can and holds
    them: the range is full before the first interval ends, and 20 connects
    fail. The alert (default 1 s interval) must start on the range, its
    limits read in the same interval that first sees the destination:
    cause ports_used, range 100, in_use 100, not a range unknown and a
    cause of connect_failures. Each failed connect has a history that says
    so: end no_local_port, no local port, closed by nobody."""
    ns = Netns("ttpn", CLIENT, SERVER)
    try:
        run(["ip", "netns", "exec", ns.a, "sysctl", "-qw",
             "net.ipv4.ip_local_port_range=40000 40099"])
        tracers = [(name, Tracer("--no-states", env=env)) for name, env in PATHS]
        server = Peer(ns.b, "listen-only", SERVER, "7503", "256")
        server.expect("ready")
        client = Peer(ns.a, "hold-many", SERVER, "7503", "120", comm="squeezer")
        got = dict(kv.split("=") for kv in client.expect("done", timeout=30).split()[1:])
        time.sleep(2.5)  # two intervals
        client.send("exit")
        client.close()
        server.send("exit")
        server.close()
        time.sleep(0.3)
        for _, t in tracers:
            t.stop()
    finally:
        ns.cleanup()
    check(got["ok"] == "100" and got["failed"] == "20", "the client said %r" % got)
    for name, t in tracers:
        starts = [a for a in t.records_of("alert", alert="ephemeral_ports", rport=7503)
                  if a["state"] == "start"]
        check(len(starts) == 1, "%s: %d alert starts" % (name, len(starts)))
        a = starts[0]
        check(a["cause"] == "ports_used" and a["range"] == 100 and a["in_use"] == 100,
              "%s: the alert started on %r, range %r, in_use %r" % (name, a["cause"],
                                                                  a["range"], a["in_use"]))
        failed = t.histories(rport=7503, end="no_local_port")
        check(len(failed) == 20, "%s: %d no_local_port histories, the client failed 20 times"
              % (name, len(failed)))
        for h in failed:
            check(h["lport"] == 0 and h["role"] == "active" and h["closed_by"] is None and
                  h["states"] == ["SYN_SENT", "CLOSE"] and h["comm"] == "squeezer",
                  "%s: a failed connect's history: %r" % (name, h))
        check(not t.histories(rport=7503, end="closed"), "%s: connects ended 'closed'" % name)


def test_a_deleted_namespace_takes_its_destinations_with_it():
    """A squeezed namespace's destination is alerted; then both namespaces
    are deleted, and a new one made at once, which the kernel gives the
    freed inode number. At the next interval the alert clears as gone
    (netns_gone) and the destination is no longer reported: never with the
    new namespace's default range (28232), never past the clear."""
    ns = Netns("ttpg", CLIENT, SERVER)
    fresh = "ttpgnew"
    subprocess.run(["ip", "netns", "del", fresh], capture_output=True)
    tracers = []
    try:
        run(["ip", "netns", "exec", ns.a, "sysctl", "-qw",
             "net.ipv4.ip_local_port_range=40000 40099"])
        tracers = [(name, Tracer("--no-states", "--interval", "0.2", env=env))
                   for name, env in PATHS]
        server = Peer(ns.b, "drain-serve", SERVER, "7504")
        server.expect("ready")
        client = Peer(ns.a, "churn", SERVER, "7504", "95", "100", "client-first")
        client.expect("done", timeout=30)
        client.close()
        inum = netns_inode(ns.a)
        wait_until(lambda: all(t.live_records("alert", alert="ephemeral_ports", rport=7504)
                               for _, t in tracers), 5, "the alerts")
        server.send("exit")
        server.close()
        gone_at = time.time()
        ns.cleanup()
        reused = False
        for _ in range(50):  # the freed number is given out once the old netns is freed
            run(["ip", "netns", "add", fresh])
            if netns_inode(fresh) == inum:
                reused = True
                break
            # not reused this time: gone again (it was read after the last try)
            run(["ip", "netns", "del", fresh])
            time.sleep(0.1)
        time.sleep(2)
        for _, t in tracers:
            t.stop()
    finally:
        ns.cleanup()
        subprocess.run(["ip", "netns", "del", fresh], capture_output=True)
    for name, t in tracers:
        alerts = t.records_of("alert", alert="ephemeral_ports", rport=7504)
        clears = [a for a in alerts if a["state"] == "clear"]
        check(len(clears) == 1 and clears[0].get("netns_gone") is True,
              "%s: clears %r (the number %s reused)" % (name, clears, reused))
        cleared = wall(clears[0]["ts"])
        check(cleared - gone_at < 1.5, "%s: cleared %.1f s after the namespace went"
              % (name, cleared - gone_at))
        later = [r for r in t.records_of("ports", rport=7504) if wall(r["ts"]) > cleared]
        check(not later, "%s: reported after its namespace went: %r" % (name, later[:1]))
        wrong = [r for r in t.records_of("ports", rport=7504) + alerts if r["range"] != 100]
        check(not wrong, "%s: a record with range %r" % (name, wrong[:1]))
