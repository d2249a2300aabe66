"""The text view on the real kernel: payload bytes (what was sent, checked
against the kernel's own counters through ss -ti), lines of at most 160
characters, time that never runs backwards, and leak lines in the columns."""
import re
import socket
import struct
import subprocess
import threading
import time

from lib import (Tracer, check, free_port, leaking_server, listener, one, recv_all, run,
                 text_records)


def ss_bytes(lport, rport):
    """bytes_acked and bytes_received of the socket 127.0.0.1:lport ->
    :rport, as ss -ti prints them (absent counters are 0)."""
    out = run(["ss", "-tinH", "src", "127.0.0.1:%d" % lport, "dst",
               "127.0.0.1:%d" % rport]).stdout
    acked = re.search(r"bytes_acked:(\d+)", out)
    received = re.search(r"bytes_received:(\d+)", out)
    check(out.strip(), "ss shows no socket %d -> %d" % (lport, rport))
    return int(acked.group(1)) if acked else 0, int(received.group(1)) if received else 0


def exchange(up, down, ending):
    """One loopback connection: the client sends up bytes, the server down;
    ending is who closes first ('client', 'server') or 'reset' (the client
    aborts with SO_LINGER 0). Returns the ports and what ss -ti said of both
    ends once the data was acknowledged."""
    srv, port = listener()
    cli = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()
    if up:
        cli.sendall(b"u" * up)
        recv_all(conn, up)
    if down:
        conn.sendall(b"d" * down)
        recv_all(cli, down)
    time.sleep(0.05)  # the last data's ACKs
    cport = cli.getsockname()[1]
    seen = {"client": ss_bytes(cport, port), "server": ss_bytes(port, cport)}
    if ending == "reset":
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        cli.close()
        time.sleep(0.05)
        conn.close()
    else:
        first, second = (cli, conn) if ending == "client" else (conn, cli)
        first.close()
        check(second.recv(10) == b"", "no EOF")
        second.close()
    srv.close()
    return port, cport, seen


CASES = (  # up, down, ending
    (5, 3, "client"),
    (0, 7, "server"),
    (0, 0, "client"),
    (5, 3, "reset"),
    (100000, 1, "server"),
)


def test_payload_is_what_was_sent():
    """For each exchange, both roles, both views: the payload is the bytes
    sent. The kernel's counters, read with ss -ti before the close, count
    the active side's SYN and not the passive side's; the JSON's seq_*
    fields are those counters at close, the FIN one more where acked or
    received."""
    json_tracer = Tracer("--no-states")
    text_tracer = Tracer("--no-states", json_out=False)
    runs = [exchange(*case) for case in CASES]
    time.sleep(0.5)
    json_tracer.stop()
    text_tracer.stop()
    lines = text_records(text_tracer.text)
    for (up, down, ending), (port, cport, seen) in zip(CASES, runs):
        what = "%d up, %d down, %s" % (up, down, ending)
        client = one(json_tracer.histories(rport=port, lport=cport), "client history " + what)
        server = one(json_tracer.histories(lport=port, rport=cport), "server history " + what)
        # the kernel: an active open's SYN counts, a passive one's does not
        check(seen["client"] == (1 + up, down) and seen["server"] == (down, up),
              "%s: ss -ti said %s" % (what, seen))
        check((client["payload_acked"], client["payload_received"]) == (up, down) and
              (server["payload_acked"], server["payload_received"]) == (down, up),
              "%s: payload client %s/%s server %s/%s" % (
                  what, client["payload_acked"], client["payload_received"],
                  server["payload_acked"], server["payload_received"]))
        fin_c = ending != "reset"	# the client's FIN was sent and acked
        fin_s = ending != "reset"
        check(client["seq_acked"] == seen["client"][0] + fin_c and
              client["seq_received"] == seen["client"][1] + fin_s and
              server["seq_acked"] == seen["server"][0] + fin_s and
              server["seq_received"] == seen["server"][1] + fin_c,
              "%s: seq client %d/%d server %d/%d against ss %s" % (
                  what, client["seq_acked"], client["seq_received"], server["seq_acked"],
                  server["seq_received"], seen))
        for role, port_a, port_b, tx, rx in (("active", cport, port, up, down),
                                             ("passive", port, cport, down, up)):
            line = [l for l in lines if " history " in l and " %s " % role in l and
                    "127.0.0.1:%d " % port_a in l and "127.0.0.1:%d " % port_b in l]
            check(len(line) == 1, "%s %s: text lines %s" % (what, role, line))
            check(" tx=%d rx=%d " % (tx, rx) in line[0], "%s: %r" % (what, line[0]))
    # a refused connect sent nothing and received nothing
    port = free_port()
    tracer = Tracer("--no-states")
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError:
        pass
    time.sleep(0.2)
    tracer.stop()
    refused = one(tracer.histories(rport=port), "refused history")
    check(refused["end"] == "refused" and refused["payload_acked"] == 0 and
          refused["seq_acked"] == 0 and refused["payload_received"] == 0, "%s" % refused)


def test_lines_fit_and_time_never_runs_backwards():
    """A storm of short connections, each history printed a grace period
    after its close: every line is at most 160 characters, and the TIME of
    each record is no earlier than the one before it."""
    tracer = Tracer(json_out=False)
    srv, port = listener(backlog=256)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    for _ in range(300):
        c = socket.create_connection(("127.0.0.1", port))
        c.close()
        time.sleep(0.002)
    time.sleep(0.3)
    stop.set()
    srv.close()
    tracer.stop()
    raw = tracer.text.splitlines()
    check(all(len(l) <= 160 for l in raw), "over 160: %s" % [l for l in raw if len(l) > 160][:2])
    records = [l for l in raw[1:] if not l.startswith(" ")]
    hist = [l for l in records if " history " in l and ":%d " % port in l]
    check(len(hist) == 600, "%d histories of 600" % len(hist))
    stamps = [l.split()[0] for l in records]
    back = [(a, b) for a, b in zip(stamps, stamps[1:]) if b < a]
    check(not back, "time ran backwards %d times, e.g. %s" % (len(back), back[:3]))
    check(not any("(late:" in l for l in raw), "lines came late")


def test_leak_lines_in_the_columns():
    """A server that never closes what three clients closed: the leak line
    has the event, pid and command in their columns, the server's whole
    local end in LOCAL and a client's end in REMOTE."""
    port = free_port()
    tracer = Tracer("--no-states", "--no-histories", "--leak-after", "0.3", json_out=False)
    server, held = leaking_server(port, 3, comm="leakysrv")
    time.sleep(1.5)
    tracer.stop()
    header = tracer.text.splitlines()[0]
    leak = [l for l in text_records(tracer.text) if l[13:].startswith("leak ")]
    check(leak, "no leak line:\n" + tracer.text)
    clients = {int(x.split(":")[1]) for x in held.split()[1:]}
    total = 0
    for line in leak:
        fields = line.split()
        check(fields[1] == "leak" and fields[2] == str(server.proc.pid) and
              fields[3] == "leakysrv", "columns %r" % line)
        check(fields[4] == "127.0.0.1:%d" % port and
              line.index(fields[4]) == header.index("LOCAL"), "LOCAL %r" % line)
        rport = int(fields[5].split(":")[1])
        check(rport in clients and line.index(fields[5]) == header.index("REMOTE"),
              "REMOTE %r (clients %s)" % (line, clients))
        m = re.search(r"(\d+) sockets? in CLOSE_WAIT", line)
        check(m, "detail %r" % line)
        total += int(m.group(1))
    check(total == 3, "%d leaked sockets reported of 3: %s" % (total, leak))
    server.send("exit")
    server.close()


def test_state_lines_say_the_time_in_the_old_state():
    """A client holds its connection 300 ms, then closes: its state line
    ESTABLISHED -> FIN_WAIT1 says about 300 ms (tcpstates' MS), the very
    figure its history gives ESTABLISHED, and each of its state lines but
    the first (a life begins) says a time."""
    tracer = Tracer(json_out=False)
    srv, port = listener()
    cli = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn, _ = srv.accept()
    cport = cli.getsockname()[1]
    time.sleep(0.3)
    cli.close()
    conn.settimeout(5)
    check(conn.recv(10) == b"", "no EOF")
    conn.close()
    srv.close()
    time.sleep(0.5)
    tracer.stop()
    mine = [l for l in text_records(tracer.text) if l.split()[4:5] == ["127.0.0.1:%d" % cport]]
    states = [l for l in mine if l.split()[1] == "state"]
    hist = one([l for l in mine if l.split()[1] == "history"], "the client's history")
    closing = one([l for l in states if "ESTABLISHED -> FIN_WAIT1 " in l], "the close line")
    took = closing.split()[-1]
    m = re.fullmatch(r"([\d.]+)(ms|s)", took)
    check(m and 0.29 <= float(m.group(1)) / (1000 if m.group(2) == "ms" else 1) <= 0.5,
          "time in ESTABLISHED %r: %s" % (took, closing))
    check(" ESTABLISHED %s > FIN_WAIT1" % took in hist, "the history says otherwise: %s" % hist)
    untimed = [l for l in states if not re.search(r" (\d[\d.]*(ns|us|ms|s|m|h))$", l)]
    check(len(states) >= 4 and untimed == [s for s in states if " SYN_SENT -> " not in s and
                                            " -> SYN_SENT" in s],
          "state lines without a time: %s" % untimed)
