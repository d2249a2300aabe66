"""Listen queues per listener on the real kernel: a spoofed SYN flood and an
accept-queue overflow, each in its own pair of namespaces joined by a veth,
checked against the kernel's own counters of the server's namespace."""
import calendar
import os
import subprocess
import time

from lib import (HERE_DIR, Netns, Peer, Tracer, check, netns_inode, netstat, one, run,
                 wait_until)

SYNFLOOD = os.path.join(HERE_DIR, "synflood.py")
LISTEN_ONLY = ("--no-states", "--no-histories", "--leak-after", "0")


def ts_seconds(ts):
    """RFC 3339 with nanoseconds -> Unix seconds."""
    whole, frac = ts.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1e9


def sysctl(ns, name, value):
    run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", "%s=%s" % (name, value)])


def wait_record(tracer, rtype, timeout, what, **match):
    found = []

    def seen():
        found[:] = tracer.live_records(rtype, **match)
        return bool(found)
    wait_until(seen, timeout, what)
    return found


def test_syn_flood_flagged_and_cleared():
    """Spoofed SYNs from two /24s fill a backlog-64 listener's SYN queue; the
    SYN-ACKs go to a gateway that does not exist. The flood must be flagged
    within 2 s, its figures must match the namespace's counters, the heavier
    prefix must lead the sources, and the alert must clear once it stops."""
    with Netns("ttfl", "192.0.2.1", "192.0.2.2") as ns:
        # replies to the spoofed prefixes go to a dead MAC, on this veth only
        run(["ip", "-n", ns.b, "neigh", "add", "192.0.2.254", "lladdr", "02:00:00:00:00:fe",
             "dev", ns.vb, "nud", "permanent"])
        for prefix in ("198.51.100.0/24", "203.0.113.0/24"):
            run(["ip", "-n", ns.b, "route", "add", prefix, "via", "192.0.2.254"])
        # unanswered requests expire after ~3 s, so the queue drains quickly
        sysctl(ns.b, "net.ipv4.tcp_synack_retries", 1)
        server = Peer(ns.b, "listen-only", "192.0.2.2", "7201", "64")
        server.expect("ready")
        inum = netns_inode(ns.b)
        tracer = Tracer(*LISTEN_ONLY)
        wait_record(tracer, "netns", 5, "a namespace baseline", netns=inum)
        before = netstat(ns.b)
        start = time.time()
        flood = subprocess.run(["ip", "netns", "exec", ns.a, "python3", SYNFLOOD, "192.0.2.2",
                                "7201", "3", "400", "198.51.100.0:3", "203.0.113.0:1"],
                               capture_output=True, text=True, timeout=30)
        check(flood.returncode == 0, "flood failed: " + flood.stderr)
        starts = wait_record(tracer, "alert", 5, "a syn_flood alert", alert="syn_flood",
                             state="start", lport=7201)
        wait_record(tracer, "alert", 20, "the syn_flood alert to clear", alert="syn_flood",
                    state="clear", lport=7201)
        time.sleep(1.2)  # one more sample: the last deltas
        tracer.stop()
        after = netstat(ns.b)

        check(not [l for l in tracer.stderr if "iterators unavailable" in l],
              "the BPF iterators did not load: %s" % tracer.stderr)
        alert = one(starts, "syn_flood start")
        delay = ts_seconds(alert["ts"]) - start
        check(delay <= 2.0, "flagged %.2f s after the flood began" % delay)
        check(alert["netns"] == inum and alert["laddr"] == "192.0.2.2", "alert %s" % alert)
        check(alert["comm"] == "python3" and alert["pid"] > 0, "owner %s" % alert)
        check(alert["sysctl"]["tcp_synack_retries"] == 1,
              "sysctls not read in the server's namespace: %s" % alert["sysctl"])
        check(set(alert["causes"]) & {"synq_near_full", "syncookies"}, "causes %s" % alert)

        recs = tracer.records_of("listener", lport=7201, netns=inum)
        nsrecs = tracer.records_of("netns", netns=inum)
        check(recs and nsrecs, "no listener or namespace records")
        check(all(r["synq_max"] == 64 and r["acceptq_max"] == 64 for r in recs),
              "limits %s" % {(r["synq_max"], r["acceptq_max"]) for r in recs})
        peak = max(r["synq_len"] for r in recs)
        check(48 <= peak <= 65, "SYN queue peaked at %d of 64" % peak)
        # every SYN-ACK retransmit of the namespace was this listener's
        kernel = {k: after[k] - before[k] for k in
                  ("TCPSynRetrans", "SyncookiesSent", "ListenDrops", "TCPReqQFullDoCookies")}
        rtx = sum(r["synack_retrans_delta"] for r in recs)
        check(kernel["TCPSynRetrans"] > 0, "the kernel retransmitted no SYN-ACK")
        check(rtx == kernel["TCPSynRetrans"] == recs[-1]["synack_retrans"],
              "SYN-ACK retransmits: listener %d (cumulative %d), kernel %d"
              % (rtx, recs[-1]["synack_retrans"], kernel["TCPSynRetrans"]))
        for name in kernel:
            total = sum(n["counters"][name] for n in nsrecs if n["counters"])
            check(total == kernel[name], "%s: namespace records %d, kernel %d"
                  % (name, total, kernel[name]))
        check(kernel["SyncookiesSent"] > 0, "the queue overflowed into no cookies")
        check(any(r["syncookies"] for r in recs), "no listener record saw SYN cookies")
        check(sum(r["drops_delta"] for r in recs) == kernel["ListenDrops"],
              "drops differ from ListenDrops")
        flooded = [r for r in recs if "top_prefixes" in r]
        check(flooded, "no half-open sources reported")
        top = flooded[0]["top_prefixes"]
        check(top[0]["addr"] == "198.51.100.0" and top[0]["prefix_len"] == 24,
              "top prefix %s" % top)
        check(len(top) == 2 and top[0]["half_open"] > top[1]["half_open"],
              "prefix counts %s" % top)
        check(sum(p["half_open"] for p in top) == flooded[0]["synq_len"],
              "sources %s do not add up to the SYN queue %d" % (top, flooded[0]["synq_len"]))
        check(recs[-1]["alerts"] == [] and recs[-1]["synq_len"] == 0,
              "not calm at the end: %s" % recs[-1])
        server.send("exit")
        server.close()
