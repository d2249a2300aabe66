"""Floods by rate, on the real kernel: hping3 from one namespace at a
listener in another, with the sender's own kernel answering each SYN-ACK
with a reset (so every request dies at once: no SYN queue, no SYN-ACK
retransmits, no cookies). The listener's sk_drops is checked against the
namespace's EmbryonicRsts and ListenDrops, and against what `ss -ltnm` says;
the alert must come within 3 s in JSON and in top, clear once, and stay
quiet through SYN-ACK retransmit waves after an attack."""
import os
import re
import subprocess
import time

from lib import (LIVE, TCPTRAIL, Netns, Peer, Tracer, check, netns_inode,
                 netstat, one, run, text_records, wait_until)
from test_listen import LISTEN_ONLY, SYNFLOOD, sysctl, ts_seconds, wait_record

PORT = 7301


def hping_flood(ns, seconds):
    """hping3 -S --flood from ns.a at ns.b's listener, for seconds."""
    proc = subprocess.Popen(["ip", "netns", "exec", ns.a, "timeout", str(seconds), "hping3",
                             "-S", "-p", str(PORT), "--flood", "192.0.2.2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    LIVE.append(proc)
    return proc


def ss_drops(ns):
    """The listener's d... as `ss -ltnm` prints it (sk_drops)."""
    out = run(["ip", "netns", "exec", ns.b, "ss", "-Hltnm", "sport = :%d" % PORT]).stdout
    m = re.search(r"\bd(\d+)\)", out)
    check(m, "ss -ltnm shows no drops for :%d: %r" % (PORT, out))
    return int(m.group(1))


def test_answering_flood_alert_in_json():
    """The flood raises syn_flood with cause syn_rate within 3 s; the SYN
    rate is in the tens of thousands; the listener's sk_drops grew exactly
    as the namespace's EmbryonicRsts did while ListenDrops did not move, and
    ends where ss -ltnm says; the alert clears once and only once."""
    with Netns("ttsr", "192.0.2.1", "192.0.2.2") as ns:
        server = Peer(ns.b, "listen-only", "192.0.2.2", str(PORT), "128")
        server.expect("ready")
        inum = netns_inode(ns.b)
        tracer = Tracer(*LISTEN_ONLY)
        wait_record(tracer, "netns", 5, "a namespace baseline", netns=inum)
        before, drops_before = netstat(ns.b), ss_drops(ns)
        start = time.time()
        flood = hping_flood(ns, 4)
        starts = wait_record(tracer, "alert", 5, "a syn_flood alert", alert="syn_flood",
                             state="start", lport=PORT)
        flood.wait(10)
        after, drops_after = netstat(ns.b), ss_drops(ns)
        wait_record(tracer, "alert", 15, "the alert to clear", alert="syn_flood",
                    state="clear", lport=PORT)
        time.sleep(3)  # a clear followed by a new start would be a flap
        tracer.stop()
        alert = one(starts, "syn_flood start")
        delay = ts_seconds(alert["ts"]) - start
        check(delay <= 3.0, "flagged %.2f s after the flood began" % delay)
        check("syn_rate" in alert["causes"] and alert["evidence"] == "syn_rate",
              "causes %s evidence %s" % (alert["causes"], alert.get("evidence")))
        check(alert["syn_rate"] >= alert["syn_rate_threshold"] >= 1000, "rate %s" % alert)
        check(alert["handshakes_delta"] == 0 and alert["synack_retrans_delta"] == 0,
              "the sender's resets should end every request at once: %s" % alert)
        recs = tracer.records_of("listener", lport=PORT, netns=inum)
        peak = max(r["syn_rate"] or 0 for r in recs)
        check(peak >= 10000, "peak SYN rate %d" % peak)
        kernel = {k: after[k] - before[k] for k in ("EmbryonicRsts", "ListenDrops",
                                                    "SyncookiesSent", "TCPSynRetrans")}
        check(kernel["EmbryonicRsts"] > 20000 and kernel["ListenDrops"] == 0 and
              kernel["SyncookiesSent"] == 0 and kernel["TCPSynRetrans"] == 0,
              "not the flood this test means: %s" % kernel)
        # sk_drops is the listener's own count of what the resets ended
        check(drops_after - drops_before == kernel["EmbryonicRsts"],
              "ss -ltnm d%d..d%d, EmbryonicRsts +%d" % (drops_before, drops_after,
                                                       kernel["EmbryonicRsts"]))
        check(recs[-1]["sk_drops"] == drops_after, "sk_drops %d, ss says d%d"
              % (recs[-1]["sk_drops"], drops_after))
        nsrecs = tracer.records_of("netns", netns=inum)
        for name in ("EmbryonicRsts", "ListenDrops"):
            total = sum(n["counters"][name] for n in nsrecs if n["counters"])
            check(total == kernel[name], "%s: records %d, kernel %d" % (name, total,
                                                                       kernel[name]))
        check(len(tracer.records_of("alert", alert="syn_flood", lport=PORT)) == 2,
              "syn_flood flapped: %s" % tracer.records_of("alert", lport=PORT))
        print("  flagged after %.2f s; peak %d SYN/s; EmbryonicRsts +%d = sk_drops d%d..d%d; "
              "ListenDrops +%d" % (delay, peak, kernel["EmbryonicRsts"], drops_before,
                                   drops_after, kernel["ListenDrops"]), flush=True)
        check(recs[0]["sk_drops_delta"] is None and recs[0]["syn_rate"] is None,
              "a first record has no interval, yet figures for one: %s" % recs[0])
        server.send("exit")
        server.close()


def top_frames(text):
    """The frames of a non-terminal top run, each a list of lines."""
    return [f.splitlines() for f in re.split(r"\n(?=tcptrail top )", text) if f.strip()]


def test_answering_flood_in_top():
    """tcptrail top, its output not a terminal (so 100 columns): the flooded
    listener reads SYN-FLOOD with its SYN rate within 3 s, its namespace by
    the name ip netns gave it, no line over 100 characters, and the counter
    and sysctl tables under headers of their own."""
    with Netns("ttst", "192.0.2.1", "192.0.2.2") as ns:
        server = Peer(ns.b, "listen-only", "192.0.2.2", str(PORT), "128")
        server.expect("ready")
        out = "/tmp/tcptrail-top-%d.txt" % os.getpid()
        if os.path.exists(out):
            os.unlink(out)
        top = subprocess.Popen([TCPTRAIL, "top", "-o", out, "--interval", "0.5", "-d", "9"],
                               stderr=subprocess.PIPE, text=True)
        LIVE.append(top)
        wait_until(lambda: os.path.exists(out) and "ttstb" in open(out).read(), 10,
                   "a frame naming the namespace")
        start = time.time()
        flood = hping_flood(ns, 4)
        found = {}

        def flagged():
            for frame in top_frames(open(out).read()):
                for line in frame:
                    if "192.0.2.2:%d" % PORT in line and "SYN-FLOOD" in line:
                        found.setdefault("when", time.time())
                        found["frame"] = frame
                        return True
            return False
        wait_until(flagged, 5, "SYN-FLOOD in a frame")
        flood.wait(10)
        check(found["when"] - start <= 3.0, "shown %.2f s after the flood began"
              % (found["when"] - start))
        print("  top showed SYN-FLOOD after %.2f s" % (found["when"] - start), flush=True)
        top.wait(20)
        text = open(out).read()
        os.unlink(out)
        check(top.returncode == 0, "top exited %d: %s" % (top.returncode, top.stderr.read()))
        frame = found["frame"]
        header = next(l for l in frame if l.startswith("NETNS"))
        cols = header.split()
        check(cols[:2] == ["NETNS", "LISTEN"] and "SYN/s" in cols and "STATE" in cols,
              "header %r" % header)
        row = next(l for l in frame if "192.0.2.2:%d" % PORT in l and l.startswith("ttstb"))
        rate = int(row.split()[cols.index("SYN/s")])
        check(rate >= 1000, "SYN/s %d in %r" % (rate, row))
        long_lines = [l for l in text.splitlines() if len(l) > 100]
        check(not long_lines, "lines over 100 columns: %s" % long_lines[:3])
        check(any(l.startswith("NAMESPACE COUNTERS") for l in frame) and
              any(l.startswith("NAMESPACE SYSCTLS") for l in frame), "tables:\n" +
              "\n".join(frame))
        check(not any("synack_rt" in l for l in frame), "the old, confusable header")
        server.send("exit")
        server.close()


def test_retransmit_waves_after_an_attack_do_not_flap():
    """30 spoofed SYNs at once: their SYN-ACKs are retried together at +1,
    +3 and +7 s (tcp_synack_retries 3), each wave 30 retransmits a second,
    above the onset of 20. The first wave starts syn_flood; it clears in the
    calm after +3; the +7 wave must not start it again."""
    with Netns("ttsw", "192.0.2.1", "192.0.2.2") as ns:
        run(["ip", "-n", ns.b, "neigh", "add", "192.0.2.254", "lladdr", "02:00:00:00:00:fe",
             "dev", ns.vb, "nud", "permanent"])
        run(["ip", "-n", ns.b, "route", "add", "198.51.100.0/24", "via", "192.0.2.254"])
        sysctl(ns.b, "net.ipv4.tcp_synack_retries", 3)
        server = Peer(ns.b, "listen-only", "192.0.2.2", str(PORT), "128")
        server.expect("ready")
        inum = netns_inode(ns.b)
        tracer = Tracer(*LISTEN_ONLY, "--interval", "0.5")
        wait_record(tracer, "netns", 5, "a namespace baseline", netns=inum)
        before = netstat(ns.b)
        burst = subprocess.run(["ip", "netns", "exec", ns.a, "python3", SYNFLOOD, "192.0.2.2",
                                str(PORT), "0.1", "300", "198.51.100.0:1"],
                               capture_output=True, text=True, timeout=30)
        check(burst.returncode == 0, "burst failed: " + burst.stderr)
        sent = int(burst.stdout.split()[1])
        time.sleep(16)  # the waves, and the requests' expiry at +15 s
        tracer.stop()
        after = netstat(ns.b)
        recs = tracer.records_of("listener", lport=PORT, netns=inum)
        waves = [r for r in recs if (r["synack_retrans_delta"] or 0) >= 10]
        check(len(waves) >= 3, "expected three waves of SYN-ACK retransmits, saw %s"
              % [(r["ts"][11:23], r["synack_retrans_delta"]) for r in recs])
        rtx = sum(r["synack_retrans_delta"] or 0 for r in recs)
        check(rtx == after["TCPSynRetrans"] - before["TCPSynRetrans"] == 3 * sent,
              "retransmits: records %d, kernel %d, SYNs sent %d"
              % (rtx, after["TCPSynRetrans"] - before["TCPSynRetrans"], sent))
        alerts = tracer.records_of("alert", alert="syn_flood", lport=PORT)
        check([a["state"] for a in alerts] == ["start", "clear"],
              "syn_flood flapped: %s" % [(a["ts"][11:23], a["state"], a["causes"])
                                         for a in alerts])
        check(alerts[0]["causes"] == ["synack_retransmits"], "causes %s" % alerts[0])
        last_wave = ts_seconds(waves[-1]["ts"])
        check(ts_seconds(alerts[1]["ts"]) < last_wave,
              "it cleared only after the last wave: the test proved nothing")
        server.send("exit")
        server.close()


def test_unknown_is_shown_as_unknown_on_sock_diag():
    """TCPTRAIL_SNAPSHOT=diag: sock_diag has neither SYN queue lengths nor
    SYN cookie stamps. JSON says null and top says ? (the text view's alert
    lines: the next test), while what it does know (the accept queue,
    sk_drops) is there."""
    with Netns("ttsd", "192.0.2.1", "192.0.2.2") as ns:
        server = Peer(ns.b, "listen-only", "192.0.2.2", str(PORT), "16")
        server.expect("ready")
        inum = netns_inode(ns.b)
        env = {"TCPTRAIL_SNAPSHOT": "diag"}
        tracer = Tracer(*LISTEN_ONLY, env=env)
        wait_until(lambda: len(tracer.live_records("listener", lport=PORT)) >= 2, 5,
                   "two listener records")
        tracer.stop()
        recs = tracer.records_of("listener", lport=PORT, netns=inum)
        for r in recs:
            check(r["synq_len"] is None and r["syncookies"] is None and
                  r["acceptq_max"] == 16 and isinstance(r["sk_drops"], int),
                  "on sock_diag: %s" % r)
        out = "/tmp/tcptrail-topdiag-%d.txt" % os.getpid()
        top = subprocess.run([TCPTRAIL, "top", "-o", out, "-d", "2.5"], capture_output=True,
                             text=True, env=dict(os.environ, **env), timeout=30)
        text = open(out).read()
        os.unlink(out)
        check(top.returncode == 0, "top: %s" % top.stderr)
        frame = top_frames(text)[-1]
        header = next(l for l in frame if l.startswith("NETNS"))
        row = next(l for l in frame if "192.0.2.2:%d" % PORT in l)
        cols, cells = header.split(), row.split()
        check(cells[cols.index("SYNQ")] == "?/16", "SYNQ on sock_diag: %r" % row)
        if "COOKIES" in cols:
            check(cells[cols.index("COOKIES")] == "?", "COOKIES on sock_diag: %r" % row)
        server.send("exit")
        server.close()


def test_spoofed_flood_on_sock_diag_names_its_sources():
    """The sock_diag path (TCPTRAIL_SNAPSHOT=diag) under spoofed SYNs from two
    /24s whose SYN-ACKs go nowhere: the alert names the flood's sources, the
    heavier /24 first (sock_diag lists the half-open requests), while what
    sock_diag cannot tell (the SYN queue's length, cookies) is null in JSON
    and ? in the text view's alert line, and the clear's peak SYN queue is
    no zero either."""
    with Netns("ttsq", "192.0.2.1", "192.0.2.2") as ns:
        run(["ip", "-n", ns.b, "neigh", "add", "192.0.2.254", "lladdr", "02:00:00:00:00:fe",
             "dev", ns.vb, "nud", "permanent"], timeout=30)
        for prefix in ("198.51.100.0/24", "203.0.113.0/24"):
            run(["ip", "-n", ns.b, "route", "add", prefix, "via", "192.0.2.254"], timeout=30)
        sysctl(ns.b, "net.ipv4.tcp_synack_retries", 1)
        server = Peer(ns.b, "listen-only", "192.0.2.2", str(PORT), "64")
        server.expect("ready")
        inum = netns_inode(ns.b)
        env = {"TCPTRAIL_SNAPSHOT": "diag"}
        tracer = Tracer(*LISTEN_ONLY, env=env)
        text = Tracer(*LISTEN_ONLY, json_out=False, env=env)
        wait_record(tracer, "netns", 5, "a namespace baseline", netns=inum)
        flood = subprocess.run(["ip", "netns", "exec", ns.a, "python3", SYNFLOOD, "192.0.2.2",
                                str(PORT), "3", "400", "198.51.100.0:3", "203.0.113.0:1"],
                               capture_output=True, text=True, timeout=30)
        check(flood.returncode == 0, "flood failed: " + flood.stderr)
        wait_record(tracer, "alert", 20, "the syn_flood alert to clear", alert="syn_flood",
                    state="clear", lport=PORT)
        # the text tracer samples on its own clock: its clear may come later
        wait_until(lambda: " flood-over " in open(text.path).read(), 10,
                   "the text view's flood-over line")
        tracer.stop()
        text.stop()
        start = one(tracer.records_of("alert", alert="syn_flood", state="start", lport=PORT),
                    "syn_flood start")
        clear = one(tracer.records_of("alert", alert="syn_flood", state="clear", lport=PORT),
                    "syn_flood clear")
        check(start["synq_len"] is None and start["syncookies"] is None and
              clear["peak_synq"] is None, "unknowns on sock_diag: %s / %s" % (start, clear))
        prefixes = start.get("top_prefixes") or []
        check(prefixes and prefixes[0]["addr"] == "198.51.100.0" and
              prefixes[0]["prefix_len"] == 24, "the alert's sources: %s" % start)
        check(all(s["addr"].startswith(("198.51.100.", "203.0.113."))
                  for s in start["top_sources"]), "sources %s" % start["top_sources"])
        lines = [l for l in text_records(text.text) if " syn-flood " in l and
                 "192.0.2.2:%d" % PORT in l]
        check(lines and "synq=?/" in lines[0] and "syncookies=?" in lines[0] and
              "top-prefix=198.51.100.0/24(" in lines[0], "the text view's alert: %s" % lines)
        over = [l for l in text_records(text.text) if " flood-over " in l]
        check(over and "peak synq ?" in over[0], "the clear: %s" % over)
        print("  sources %s" % ", ".join("%s/%d(%d)" % (p["addr"], p["prefix_len"],
                                                          p["half_open"]) for p in prefixes),
              flush=True)
        server.send("exit")
        server.close()
