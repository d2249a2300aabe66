"""Why a connection was slow, on the real kernel: each history's delivery
facts against what `ss -ti` showed for the same socket just before it
closed, and against the namespace's own retransmit counter. The scenarios
make the limit happen (a dropping firewall rule, a slow reader with a 4 KB
receive buffer, a 4 KB send buffer over a 20 ms path); the expected figures
are ss's and the kernel's, never ones tcptrail computes.

The 20 ms path is delayline.py: netem and the fq qdisc (which an
earliest-departure-time delay needs) are both absent from the kernels the
suite runs on, so packets cross a userspace wire between two tun devices.
"""
import json
import os
import re
import subprocess
import tempfile
import time

from lib import (LIVE, TCPTRAIL, Netns, Peer, Tracer, check, netns_inode, one, program_table,
                 run, snmp_tcp, wait_until)

SERVER, CLIENT = "192.0.2.2", "192.0.2.1"
# the delay line's ends (a /32 each, point to point)
D_SERVER, D_CLIENT = "198.51.100.2", "198.51.100.1"
PORT = 7501
DELAYLINE = __file__.rsplit("/", 1)[0] + "/delayline.py"
WHY_SLOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                        "why-slow.md")


def doc_blocks(lang=""):
    """The fenced blocks of docs/why-slow.md of one language ("" for plain
    ones), fence by fence."""
    blocks, cur, kind = [], None, None
    for line in open(WHY_SLOW).read().splitlines():
        if line.startswith("```"):
            if cur is None:
                cur, kind = [], line[3:].strip()
            else:
                if kind == lang:
                    blocks.append("\n".join(cur) + "\n")
                cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


SS_FIELDS = {
    "rtt": r"\brtt:([\d.]+)/([\d.]+)",
    "minrtt": r"\bminrtt:([\d.]+)",
    "retrans": r"\bretrans:\d+/(\d+)",
    "bytes_retrans": r"\bbytes_retrans:(\d+)",
    "busy": r"\bbusy:(\d+)ms",
    "rwnd_limited": r"\brwnd_limited:(\d+)ms",
    "sndbuf_limited": r"\bsndbuf_limited:(\d+)ms",
    "data_segs_out": r"\bdata_segs_out:(\d+)",
    "delivery_rate": r"\bdelivery_rate (\d+)bps",
}


def ss_info(ns, port):
    """What ss -ti says of the one established socket with local port
    port in ns; fields it leaves out (they are zero) read 0."""
    out = run(["ip", "netns", "exec", ns, "ss", "-tinH", "state", "established",
               "( sport = :%d )" % port]).stdout
    check(out.count("\n") == 2, "ss: not one socket: %r" % out)
    info = {}
    for key, pattern in SS_FIELDS.items():
        m = re.search(pattern, out)
        info[key] = tuple(float(g) for g in m.groups()) if m and len(m.groups()) > 1 \
            else float(m.group(1)) if m else 0.0
    check(info["rtt"] and info["minrtt"], "ss without an RTT: %r" % out)
    return info, out


def flow(ns_a, ns_b, server, nbytes, rcvbuf=0, chunk=65536, pause=0.0, sndbuf=0, cc=None):
    """One connection from ns_a to server:PORT in ns_b: nbytes written as
    fast as the writer's socket takes them, read in chunk-sized reads with
    pause after each. Once the reader has everything, ss reads the writer's
    socket, then the writer closes (it closes first). Returns its local port
    and ss's figures."""
    reader = Peer(ns_b, "bulk-read", server, str(PORT), str(nbytes), str(rcvbuf), str(chunk),
                  str(pause))
    reader.expect("ready")
    writer = Peer(ns_a, "bulk-send", server, str(PORT), str(nbytes), str(sndbuf),
                  *([cc] if cc else []))
    said = writer.expect("drained", timeout=120).split()
    check(said[2] == "k", "the reader did not answer: %r" % said)
    port = int(said[1])
    info, text = ss_info(ns_a, port)
    writer.send("close")
    writer.expect("closed")
    writer.close()
    reader.expect("done", timeout=30)
    reader.close()
    return port, info, text


def writer_history(tracer, ns, port):
    return one(tracer.histories(role="active", lport=port, netns=netns_inode(ns)),
               "history of the writer on port %d" % port)


def within(value, want, share, what, floor=0.0):
    check(value is not None and abs(value - want) <= max(want * share, floor),
          "%s: %s, ss says %s (+-%d%%)" % (what, value, want, share * 100))


class DelayLine:
    """Two namespaces joined by delayline.py: DELAY_MS from A to B."""

    def __init__(self, prefix, delay_ms=20):
        self.ns = Netns(prefix, None, None)
        self.a, self.b = self.ns.a, self.ns.b
        self.proc = subprocess.Popen(["python3", DELAYLINE, self.a, D_CLIENT, self.b, D_SERVER,
                                      str(delay_ms)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        LIVE.append(self.proc)
        check(self.proc.stdout.readline().strip() == "ready", "the delay line did not start")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(10)
        self.ns.cleanup()


def segments_one_per_packet(ns, dev):
    """The writer's veth sends every segment as a packet of its own: with
    TSO a 64 KiB burst is one packet to nftables, and a rule that drops 5%
    of packets dropped 3 or so of a 4 MB flow's 60, sometimes none."""
    run(["ip", "-n", ns, "link", "set", "dev", dev, "gso_max_segs", "1"])


def test_retransmits_match_ss_and_the_namespace():
    """5% of the writer's segments dropped by nftables on the way in: each
    history's retransmits are ss's total before close (the FIN exchange
    may add a few), and all histories of the namespace sum to its
    TcpRetransSegs delta. Live retransmit records name the writer's id."""
    with Netns("ttrx", CLIENT, SERVER) as ns:
        for rule in ("add table inet ttrx",
                     "add chain inet ttrx in { type filter hook input priority 0 ; }",
                     "add rule inet ttrx in tcp dport %d numgen random mod 100 < 5 drop" % PORT):
            run(["ip", "netns", "exec", ns.b, "nft"] + rule.split())
        segments_one_per_packet(ns.a, ns.va)
        before = snmp_tcp(ns.a)["RetransSegs"]
        tracer = Tracer()
        flows = [flow(ns.a, ns.b, SERVER, 4000000) for _ in range(3)]
        time.sleep(1.0)	# the last close's history
        after = snmp_tcp(ns.a)["RetransSegs"]
        tracer.stop()
        total = 0
        for port, info, text in flows:
            h = writer_history(tracer, ns.a, port)
            check(info["retrans"] >= 10, "the rule dropped too little to test: %s" % text)
            check(info["retrans"] <= h["retrans_segs"] <= info["retrans"] + 3,
                  "retrans_segs %s, ss said %d before close" % (h["retrans_segs"],
                                                                info["retrans"]))
            check(h["retrans_bytes"] >= info["bytes_retrans"],
                  "retrans_bytes %s < ss's %d" % (h["retrans_bytes"], info["bytes_retrans"]))
            check(h["retransmits"] == h["retrans_segs"], "two retransmit counts disagree")
            live = tracer.records_of("retransmit", id=h["id"])
            check(live, "no live retransmit record for connection %s" % h["id"])
            for r in live:
                # the rule drops SYNs too: a SYN sent again is a retransmit
                # in SYN_SENT, counted in the same total
                check(r["state"] in ("SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "CLOSING",
                                     "LAST_ACK"), "retransmit in state %r" % r["state"])
                check(r["ca_state"] in ("open", "disorder", "cwr", "recovery", "loss"),
                      "ca_state %r" % r["ca_state"])
                check(r["lport"] == port and r["rport"] == PORT, "tuple %r" % r)
                check(r["retransmits"] <= h["retrans_segs"], "live total past the history's")
        for h in tracer.histories(netns=netns_inode(ns.a)):
            total += h["retrans_segs"] or 0
        # the doc's JSON example is a real history's delivery part: the same
        # keys, in the order the writer puts them
        doc = json.loads(doc_blocks("json")[0])
        keys = [k for k in h if k in DELIVERY_KEYS]
        check(list(doc) == keys == list(DELIVERY_KEYS),
              "docs/why-slow.md's keys %s, a history's %s" % (list(doc), keys))
        check(total == after - before,
              "histories of the namespace retransmitted %d segments, TcpRetransSegs rose %d"
              % (total, after - before))


DELIVERY_KEYS = ("rtt_us", "rttvar_us", "rtt_min_us", "retrans_segs", "retrans_bytes",
                 "dsack_dups", "reord_seen", "ooo_packets", "zero_window_probes", "busy_ns",
                 "rwnd_limited_ns", "sndbuf_limited_ns", "cwnd", "rcvbuf", "sndbuf",
                 "data_segs_in", "data_segs_out", "delivery_rate_bps", "limited_by")


def test_slow_reader_is_receiver_limited():
    """A reader with a 4 KB receive buffer taking 4 KB every 20 ms: the
    writer spends most of its sending time limited by the peer's window.
    Where the kernel cannot keep lives (5.10: state_keep not loaded), the
    history has no delivery facts: every key is null, none is made up.
    (Part of the kernel matrix.)"""
    with Netns("ttrw", CLIENT, SERVER) as ns:
        tracer = Tracer()
        port, info, text = flow(ns.a, ns.b, SERVER, 300000, rcvbuf=4096, chunk=4096, pause=0.02)
        time.sleep(1.0)
        tracer.stop()
        h = writer_history(tracer, ns.a, port)
        check(info["rwnd_limited"] >= 500, "ss saw too little rwnd limit: %s" % text)
        if program_table(tracer.stderr).get("state_keep", ("",))[0] != "loaded":
            check(all(h[k] is None for k in DELIVERY_KEYS),
                  "delivery facts without a kept life: %r" % h)
            return
        within(h["rwnd_limited_ns"] / 1e6, info["rwnd_limited"], 0.10, "rwnd_limited (ms)")
        within(h["busy_ns"] / 1e6, info["busy"], 0.10, "busy (ms)")
        check(h["limited_by"] == "receiver", "limited_by %r (%s)" % (h["limited_by"], text))
        within(h["rtt_us"], info["rtt"][0] * 1000, 0.20, "rtt_us")


def test_small_send_buffer_is_sender_limited():
    """SO_SNDBUF 4 KB over a 20 ms path: the writer waits for room in its own
    buffer for the largest part of the time it sends. Its congestion control
    is BBR: Linux counts send-buffer-limited time only when the write queue
    drains while the writer waits for room, which pacing makes happen; under
    cubic, unpaced, ss shows no sndbuf_limited at all here. BBR's paced
    spans count as busy: ss shows about 45% limited by the buffer."""
    with DelayLine("ttsb") as dl:
        tracer = Tracer()
        port, info, text = flow(dl.a, dl.b, D_SERVER, 4000000, sndbuf=4096, cc="bbr")
        time.sleep(1.0)
        tracer.stop()
        h = writer_history(tracer, dl.a, port)
        check(info["sndbuf_limited"] >= 500, "ss saw too little sndbuf limit: %s" % text)
        within(h["sndbuf_limited_ns"] / 1e6, info["sndbuf_limited"], 0.10, "sndbuf_limited (ms)")
        check(h["limited_by"] == "sender_buffer", "limited_by %r (%s)" % (h["limited_by"], text))
        check(h["sndbuf"] is not None and h["sndbuf"] <= 16384, "sndbuf %r" % h["sndbuf"])


def rtt_agrees(h, info, floor_us):
    """The history's RTT figures against ss's (ms, 3 decimals) within 20%
    (and floor_us, for the few-microsecond RTTs of a veth pair)."""
    within(h["rtt_us"], info["rtt"][0] * 1000, 0.20, "rtt_us", floor_us)
    within(h["rtt_min_us"], info["minrtt"] * 1000, 0.20, "rtt_min_us", floor_us)
    # the last rate sample of the data (the FIN's ACK samples too): ss's
    # figure, from the same sample, to its rounding
    within(h["delivery_rate_bps"], info["delivery_rate"], 0.01, "delivery_rate_bps")


def test_rtt_matches_ss():
    """RTT and minimum RTT as ss -ti showed them before close, over a veth
    pair and over a 20 ms path."""
    with Netns("ttrt", CLIENT, SERVER) as ns:
        tracer = Tracer()
        port, info, text = flow(ns.a, ns.b, SERVER, 2000000)
        time.sleep(1.0)
        tracer.stop()
        rtt_agrees(writer_history(tracer, ns.a, port), info, 20)
    with DelayLine("ttrd") as dl:
        tracer = Tracer()
        port, info, text = flow(dl.a, dl.b, D_SERVER, 2000000)
        time.sleep(1.0)
        tracer.stop()
        h = writer_history(tracer, dl.a, port)
        check(info["minrtt"] >= 20, "the delay line did not delay: %s" % text)
        rtt_agrees(h, info, 0)
        check(h["rttvar_us"] is not None and h["cwnd"] and h["data_segs_out"] >=
              info["data_segs_out"], "rttvar/cwnd/data_segs_out %r" % h)


def top_rows(path, port):
    """The rows of tcptrail top's most-limited list for the connection from
    local port port, and the retransmit heading lines, from a top that
    wrote its frames to path."""
    lines = open(path, errors="replace").read().splitlines()
    rows = [l.split() for l in lines if re.match(r"\S+:%d > " % port, l)]
    heads = [l for l in lines if l.startswith("Retransmits ")]
    return rows, heads


def test_top_lists_the_most_limited():
    """tcptrail top, beside a slow reader and a flow losing 30% of its
    segments: the slow reader's writer is listed as limited by the
    receiver, the lossy one by loss with ss's retransmit count, and the
    heading counts retransmits."""
    with Netns("ttto", CLIENT, SERVER) as ns:
        fd, path = tempfile.mkstemp(prefix="tcptrail-top-")
        os.close(fd)
        top = subprocess.Popen([TCPTRAIL, "top", "--interval", "0.5", "-d", "30", "-o", path],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        LIVE.append(top)
        try:
            wait_until(lambda: "NAMESPACE" in open(path).read(), 15, "top's first frame")
            slow, _, slow_text = flow(ns.a, ns.b, SERVER, 300000, rcvbuf=4096, chunk=4096,
                                      pause=0.02)
            for rule in ("add table inet ttto",
                         "add chain inet ttto in { type filter hook input priority 0 ; }",
                         "add rule inet ttto in tcp dport %d numgen random mod 100 < 30 drop"
                         % PORT):
                run(["ip", "netns", "exec", ns.b, "nft"] + rule.split())
            segments_one_per_packet(ns.a, ns.va)
            lossy, info, text = flow(ns.a, ns.b, SERVER, 1000000)
            wait_until(lambda: top_rows(path, lossy)[0] and top_rows(path, slow)[0], 10,
                       "both connections listed by top")
        finally:
            top.terminate()
            top.wait(10)
        rows, heads = top_rows(path, slow)
        # CONNECTION(3 words) PROCESS LIFE RTT RETR LIMITED-BY HELD SHARE
        check(rows[-1][7] == "receiver", "the slow reader's row %r (%s)" % (rows[-1], slow_text))
        rows, heads = top_rows(path, lossy)
        # loss, by the documented rule on ss's own figures: a tenth of the
        # data segments retransmitted
        check(info["retrans"] * 10 >= info["data_segs_out"] and info["retrans"] >= 3,
              "the rule dropped too little to test: %s" % text)
        check(rows[-1][7] == "loss" and
              info["retrans"] <= int(rows[-1][6]) <= info["retrans"] + 3,
              "the lossy row %r, ss said %d retransmits before close" % (rows[-1],
                                                                         info["retrans"]))
        header = [l for l in open(path).read().splitlines() if l.startswith("CONNECTION (")]
        doc = [l for b in doc_blocks() for l in b.splitlines() if l.startswith("CONNECTION (")]
        check(header and doc == header[-1:], "top's header %r, the doc's %r" % (header[-1:], doc))
        rates = [re.match(r"Retransmits (\d+)/s", h) for h in heads]
        check(any(m and int(m.group(1)) > 0 for m in rates),
              "no retransmit rate in the headings: %r" % heads[-5:])
        os.unlink(path)
