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
import re
import subprocess
import time

from lib import LIVE, Netns, Peer, Tracer, check, netns_inode, one, run

SERVER, CLIENT = "192.0.2.2", "192.0.2.1"
# the delay line's ends (a /32 each, point to point)
D_SERVER, D_CLIENT = "198.51.100.2", "198.51.100.1"
PORT = 7501
DELAYLINE = __file__.rsplit("/", 1)[0] + "/delayline.py"


def snmp_tcp(ns):
    """The Tcp: counters of a namespace (RetransSegs is there)."""
    text = run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"]).stdout
    rows = [line.split() for line in text.splitlines() if line.startswith("Tcp:")]
    return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])}


SS_FIELDS = {
    "rtt": r"\brtt:([\d.]+)/([\d.]+)",
    "minrtt": r"\bminrtt:([\d.]+)",
    "retrans": r"\bretrans:\d+/(\d+)",
    "bytes_retrans": r"\bbytes_retrans:(\d+)",
    "busy": r"\bbusy:(\d+)ms",
    "rwnd_limited": r"\brwnd_limited:(\d+)ms",
    "sndbuf_limited": r"\bsndbuf_limited:(\d+)ms",
    "data_segs_out": r"\bdata_segs_out:(\d+)",
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
                check(r["state"] in ("ESTABLISHED", "FIN_WAIT1", "CLOSING", "LAST_ACK"),
                      "retransmit in state %r" % r["state"])
                check(r["ca_state"] in ("open", "disorder", "cwr", "recovery", "loss"),
                      "ca_state %r" % r["ca_state"])
                check(r["lport"] == port and r["rport"] == PORT, "tuple %r" % r)
                check(r["retransmits"] <= h["retrans_segs"], "live total past the history's")
        for h in tracer.histories(netns=netns_inode(ns.a)):
            total += h["retrans_segs"] or 0
        check(total == after - before,
              "histories of the namespace retransmitted %d segments, TcpRetransSegs rose %d"
              % (total, after - before))


def test_slow_reader_is_receiver_limited():
    """A reader with a 4 KB receive buffer taking 4 KB every 20 ms: the
    writer spends most of its sending time limited by the peer's window."""
    with Netns("ttrw", CLIENT, SERVER) as ns:
        tracer = Tracer()
        port, info, text = flow(ns.a, ns.b, SERVER, 300000, rcvbuf=4096, chunk=4096, pause=0.02)
        time.sleep(1.0)
        tracer.stop()
        h = writer_history(tracer, ns.a, port)
        check(info["rwnd_limited"] >= 500, "ss saw too little rwnd limit: %s" % text)
        within(h["rwnd_limited_ns"] / 1e6, info["rwnd_limited"], 0.10, "rwnd_limited (ms)")
        within(h["busy_ns"] / 1e6, info["busy"], 0.10, "busy (ms)")
        check(h["limited_by"] == "receiver", "limited_by %r (%s)" % (h["limited_by"], text))


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
