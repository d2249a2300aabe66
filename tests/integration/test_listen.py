"""Listen queues per listener on the real kernel: a spoofed SYN flood and an
accept-queue overflow, each in its own pair of namespaces joined by a veth,
checked against the kernel's own counters of the server's namespace."""
import calendar
import os
import re
import subprocess
import tempfile
import time

from lib import (HERE_DIR, LIVE, TCPTRAIL, Netns, Peer, TestFailure, Tracer, check,
                 netns_inode, netstat, one, run, snmp_tcp, wait_until)

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


def watch_listener(ns, port, backlog):
    """A never-accepting listener in ns.b, and the tracer watching it: returns
    them, the namespace's inode and its counters once the tracer has its
    baseline (so every later change is in both)."""
    server = Peer(ns.b, "listen-only", "192.0.2.2", str(port), str(backlog))
    server.expect("ready")
    inum = netns_inode(ns.b)
    tracer = Tracer(*LISTEN_ONLY)
    wait_record(tracer, "netns", 5, "a namespace baseline", netns=inum)
    return server, tracer, inum, netstat(ns.b)


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
        server, tracer, inum, before = watch_listener(ns, 7201, 64)
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
        # spoofed peers complete nothing: the evidence says why it is a flood
        check(alert["evidence"] in ("namespace_cookies", "listener_requests") and
              alert["handshakes_delta"] == 0, "evidence %s" % alert)
        check(not tracer.records_of("alert", alert="syn_backlog_overflow", lport=7201),
              "the flood was also called a backlog overflow")
        check(alert.get("top_prefixes") and alert["top_prefixes"][0]["addr"] == "198.51.100.0",
              "the alert does not name the flood's sources: %s" % alert)

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
        rtx = sum(r["synack_retrans_delta"] or 0 for r in recs)
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
        check(sum(r["sk_drops_delta"] or 0 for r in recs) == kernel["ListenDrops"],
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


def test_burst_of_real_clients_is_backlog_overflow_not_flood():
    """Real clients, every handshake completing, against a backlog-8 listener
    that accepts as fast as it can: the SYN queue overflows into cookies,
    which come back. That is too small a backlog, not an attack."""
    with Netns("ttbu", "192.0.2.1", "192.0.2.2") as ns:
        server = Peer(ns.b, "accept-all", "192.0.2.2", "7205", "8")
        server.expect("ready")
        inum = netns_inode(ns.b)
        tracer = Tracer(*LISTEN_ONLY)
        wait_record(tracer, "netns", 5, "a namespace baseline", netns=inum)
        opened = snmp_tcp(ns.b)["PassiveOpens"]
        clients = Peer(ns.a, "connect-many", "192.0.2.2", "7205", "600")
        clients.expect("started")
        starts = wait_record(tracer, "alert", 8, "a syn_backlog_overflow alert",
                             alert="syn_backlog_overflow", state="start", lport=7205)
        clients.send("close")
        clients.expect("closed")
        time.sleep(1.2)
        tracer.stop()
        alert = one(starts, "syn_backlog_overflow start")
        check(alert["handshakes_delta"] > 0, "no handshake completed: %s" % alert)
        check(alert["evidence"] in ("namespace_cookies", "listener_requests"), "%s" % alert)
        if alert["evidence"] == "namespace_cookies":
            check(alert["cookies_recv_delta"] * 2 >= alert["cookies_sent_delta"] > 0,
                  "cookies %s" % alert)
        floods = tracer.records_of("alert", alert="syn_flood", lport=7205)
        check(not floods, "a burst of real clients was called a SYN flood: %s" % floods)
        # the SYN-rate rule saw the burst and let it be. How many SYNs one
        # interval holds besides handshakes depends on how fast the server
        # drains its queue on a busy machine (each SYN dropped is sent
        # again), so the burst is checked whole, against the kernel: its
        # handshakes are the namespace's passive opens, each counted once
        # (the last interval, after the final sample, may miss a few)
        passive = snmp_tcp(ns.b)["PassiveOpens"] - opened
        recs = tracer.records_of("listener", lport=7205)
        shakes = sum(r["handshakes_delta"] or 0 for r in recs)
        syns = sum(r["syns_delta"] or 0 for r in recs)
        check(passive >= 100 and passive * 0.9 <= shakes <= passive and syns >= 100,
              "the burst: %d passive opens in the kernel, %d handshakes and %d SYNs "
              "counted: %s" % (passive, shakes, syns,
                               [(r["syns_delta"], r["handshakes_delta"]) for r in recs]))
        server.send("exit")
        server.close()


def test_new_listener_named_while_another_stays_unowned():
    """The tracer runs in a PID namespace of its own, so a listener held by a
    process outside it has no owner it can see. A listener started later by
    a process it does see is named in its first or second record."""
    hidden = Peer(None, "listen-only", "127.0.0.1", "7206", "8")
    hidden.expect("ready")
    tracer = Tracer(*LISTEN_ONLY, wrap=["unshare", "--pid", "--fork", "--mount-proc"])
    wait_until(lambda: tracer.live_records("listener", lport=7206), 5,
               "a record of the hidden listener")
    # a process in the tracer's PID namespace (entered through the tracer)
    seen = Peer(None, "listen-only", "127.0.0.1", "7207", "8",
                wrap=["nsenter", "--target", str(tracer.signal_pid), "--pid", "--"])
    seen.expect("ready")
    wait_until(lambda: len(tracer.live_records("listener", lport=7207)) >= 2, 5,
               "two records of the new listener")
    tracer.stop()
    recs = tracer.records_of("listener", lport=7207)
    check(any(r.get("comm") == "python3" for r in recs[:2]),
          "the new listener was not named in its first two records: %s" % recs[:2])
    hid = tracer.records_of("listener", lport=7206)
    check(all("pid" not in r for r in hid) and hid[-1].get("owner") == "not_visible",
          "the hidden listener: %s" % hid[-1])
    seen.close()	# gone with the tracer's PID namespace
    hidden.send("exit")
    hidden.close()


def test_accept_queue_overflow_matches_listen_drops():
    """A backlog-4 listener that never accepts, and 40 clients at once: the
    accept queue fills, SYNs and third ACKs are dropped. The listener's drops
    must equal the namespace's ListenDrops, and the alert must clear once
    the clients give up."""
    with Netns("ttaq", "192.0.2.1", "192.0.2.2") as ns:
        sysctl(ns.b, "net.ipv4.tcp_synack_retries", 1)
        server, tracer, inum, before = watch_listener(ns, 7202, 4)
        clients = Peer(ns.a, "connect-many", "192.0.2.2", "7202", "40")
        clients.expect("started")
        starts = wait_record(tracer, "alert", 5, "an accept_queue_full alert",
                             alert="accept_queue_full", state="start", lport=7202)
        time.sleep(2)
        clients.send("close")
        clients.expect("closed")
        wait_record(tracer, "alert", 20, "the accept_queue_full alert to clear",
                    alert="accept_queue_full", state="clear", lport=7202)
        time.sleep(1.2)
        tracer.stop()
        after = netstat(ns.b)

        alert = one(starts, "accept_queue_full start")
        check(alert["acceptq_len"] >= alert["acceptq_max"] == 4, "alert %s" % alert)
        check(alert["causes"] == ["acceptq_at_limit"], "causes %s" % alert["causes"])
        recs = tracer.records_of("listener", lport=7202, netns=inum)
        drops = sum(r["sk_drops_delta"] or 0 for r in recs)
        kernel = after["ListenDrops"] - before["ListenDrops"]
        check(kernel > 0, "the kernel dropped nothing")
        check(drops == kernel == recs[-1]["sk_drops"] - recs[0]["sk_drops"],
              "listener drops %d (cumulative %d..%d), ListenDrops %d"
              % (drops, recs[0]["sk_drops"], recs[-1]["sk_drops"], kernel))
        nsdrops = sum(n["counters"]["ListenDrops"]
                      for n in tracer.records_of("netns", netns=inum) if n["counters"])
        check(nsdrops == kernel, "namespace records %d, kernel %d" % (nsdrops, kernel))
        check(max(r["acceptq_len"] for r in recs) >= 4, "the accept queue never filled")
        check(recs[-1]["alerts"] == [], "still alerting at the end: %s" % recs[-1])
        server.send("exit")
        server.close()


def tmux(*args):
    return run(["tmux"] + list(args)).stdout


def test_top_view_renders_in_place():
    """tcptrail top in a real terminal of 100 columns (tmux): the flooded
    listener leads, with its queues, alert and sources, its namespace named
    as ip netns named it, and the namespace counters; the least important
    columns made way, no line is wider than the terminal; later frames
    replace earlier ones instead of scrolling; q quits."""
    session = "tcptrail-top-test"
    with Netns("tttp", "192.0.2.1", "192.0.2.2") as ns:
        run(["ip", "-n", ns.b, "neigh", "add", "192.0.2.254", "lladdr", "02:00:00:00:00:fe",
             "dev", ns.vb, "nud", "permanent"])
        run(["ip", "-n", ns.b, "route", "add", "198.51.100.0/24", "via", "192.0.2.254"])
        server = Peer(ns.b, "listen-only", "192.0.2.2", "7203", "32")
        server.expect("ready")
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "40",
             "%s top --interval 0.5; echo EXIT=$?; sleep 30" % TCPTRAIL)
        try:
            wait_until(lambda: "NAMESPACE" in tmux("capture-pane", "-p", "-t", session), 10,
                       "the first frame")
            flood = subprocess.Popen(["ip", "netns", "exec", ns.a, "python3", SYNFLOOD,
                                      "192.0.2.2", "7203", "3", "300", "198.51.100.0:1"],
                                     stdout=subprocess.DEVNULL)
            LIVE.append(flood)
            screen = []

            def flood_shown():
                screen[:] = tmux("capture-pane", "-p", "-t", session).splitlines()
                return any("SYN-FLOOD" in l for l in screen) and \
                    any("half-open by prefix" in l for l in screen)
            try:
                wait_until(flood_shown, 5, "the flood on screen")
            except TestFailure as err:  # the screen as it was when the wait ended
                raise TestFailure("%s:\n%s" % (err, "\n".join(screen)))
            flood.wait(10)
            text = "\n".join(screen)
            check(screen[0].startswith("tcptrail top") and "(q quits)" in screen[0],
                  "title %r" % screen[0])
            check(sum(l.startswith("tcptrail top") for l in screen) == 1,
                  "frames scrolled instead of redrawing:\n" + text)
            check(all(len(l) <= 100 for l in screen), "a line wider than the terminal:\n" + text)
            header = next(l for l in screen if l.startswith("NETNS"))
            cols = header.split()
            for name in ("NETNS", "LISTEN", "ACCEPTQ", "SYNQ", "SYN/s", "SK_DROPS/s", "STATE"):
                check(name in cols, "%s gave way before less important columns: %r"
                      % (name, header))
            check("CONTAINER" not in cols, "100 columns kept the least important: %r" % header)
            row = screen[screen.index(header) + 1]
            check(row.split()[0] == ns.b and "192.0.2.2:7203" in row and "SYN-FLOOD" in row
                  and "/32" in row, "first listener row %r" % row)
            check(re.search(r"198\.51\.100\.0/24 \d+", text), "no /24 source line:\n" + text)
            check(any(l.startswith(ns.b) for l in screen[screen.index(header) + 2:]),
                  "no counters row for the namespace:\n" + text)
            check(re.search(r"syn_flood +START 192\.0\.2\.2:7203", text),
                  "no alert line:\n" + text)
            first_title = screen[0]
            wait_until(lambda: tmux("capture-pane", "-p", "-t", session).splitlines()[0]
                       != first_title, 5, "a new frame")
            tmux("send-keys", "-t", session, "q")
            wait_until(lambda: "EXIT=" in tmux("capture-pane", "-p", "-t", session), 10,
                       "top to quit on q")
            check("EXIT=0" in tmux("capture-pane", "-p", "-t", session), "top failed:\n"
                  + tmux("capture-pane", "-p", "-t", session))
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        server.send("exit")
        server.close()


def test_top_wide_keeps_every_column():
    """top -w, its output a file: every column, whatever the width."""
    fd, path = tempfile.mkstemp(prefix="tcptrail-top-")
    os.close(fd)
    try:
        out = subprocess.run([TCPTRAIL, "top", "-w", "-d", "1.5", "-o", path],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 0, "top -w: %s" % out.stderr)
        text = open(path).read()
    finally:
        os.unlink(path)
    header = next((l for l in text.splitlines() if l.startswith("NETNS")), None)
    check(header is not None, "no header:\n" + text[:2000])
    check(header.split() == ["NETNS", "CONTAINER", "LISTEN", "PROCESS", "ACCEPTQ", "SYNQ",
                             "SYN/s", "SK_DROPS/s", "SYNACK-RTX/s", "OVERFLOW/s", "ACCEPT-P99",
                             "COOKIES", "STATE"], "wide header %r" % header)
