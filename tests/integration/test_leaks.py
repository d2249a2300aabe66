"""CLOSE_WAIT leak diagnosis on the real kernel with real processes: the
tracer must name the process and descriptor holding each leaked socket."""
import os
import re
import socket
import subprocess
import time

from lib import (TCPTRAIL, Netns, Peer, Tracer, check, free_port, listener, ndjson, netns_inode,
                 one, text_records)


def held_map(line):
    """peer.py's "held fd:port ..." line -> {client port: fd}"""
    return {int(p): int(f) for f, p in (x.split(":") for x in line.split()[1:])}


def connect_and_close(port, count):
    for _ in range(count):
        socket.create_connection(("127.0.0.1", port)).close()


def check_leaks(records, held, pid, netns=None):
    check(len(records) == len(held), "%d leak records for %d leaked sockets"
          % (len(records), len(held)))
    for r in records:
        check(r["pid"] == pid, "owner pid %s, expected %d" % (r.get("pid"), pid))
        check(r["fd"] == held.get(r["rport"]), "fd %s for client port %d, the server holds %s"
              % (r.get("fd"), r["rport"], held.get(r["rport"])))
        check(r["owners"] == [{"pid": pid, "comm": r["comm"], "fd": r["fd"]}],
              "owners %s" % r["owners"])
        if netns is not None:
            check(r["netns"] == netns, "netns %d, expected %d" % (r["netns"], netns))


def leaks_report(port):
    """tcptrail leaks --json: its leak records for port, and its records."""
    report = subprocess.run([TCPTRAIL, "leaks", "--json"], capture_output=True, text=True,
                            timeout=120)
    check(report.returncode == 0, "leaks exited %d: %s" % (report.returncode, report.stderr))
    recs = ndjson(report.stdout, "leaks --json")
    return [r for r in recs if r["type"] == "close_wait_leak" and r["lport"] == port], recs


def test_leaky_server_named_with_fds():
    port = free_port()
    tracer = Tracer("--leak-after", "1")
    server = Peer(None, "leak-serve", "127.0.0.1", str(port), "20")
    server.expect("ready")
    connect_and_close(port, 20)
    held = held_map(server.expect("held"))
    time.sleep(2.2)
    tracer.stop()
    leaks = tracer.records_of("close_wait_leak", lport=port)
    check_leaks(leaks, held, server.proc.pid)
    for r in leaks:
        check(not r["age_lower_bound"] and r["close_wait_ns"] >= 1e9,
              "age %s (bound %s)" % (r["close_wait_ns"], r["age_lower_bound"]))
    counts = sorted(r["process_leaks"] for r in leaks)
    check(counts == list(range(1, 21)), "per-process counts %s" % counts)
    check(not tracer.records_of("close_wait_resolved", lport=port), "resolved while held")
    # the one-shot report names the same owner and descriptors
    mine, _ = leaks_report(port)
    check_leaks(mine, held, server.proc.pid)
    server.send("exit")
    server.close()


def test_late_close_is_resolved():
    port = free_port()
    tracer = Tracer("--leak-after", "1")
    server = Peer(None, "leak-serve", "127.0.0.1", str(port), "3", "2.5")
    server.expect("ready")
    connect_and_close(port, 3)
    held = held_map(server.expect("held"))
    server.expect("closed", timeout=10)
    time.sleep(0.3)
    tracer.stop()
    leaks = tracer.records_of("close_wait_leak", lport=port)
    check_leaks(leaks, held, server.proc.pid)
    resolved = tracer.records_of("close_wait_resolved", lport=port)
    check(sorted(r["id"] for r in resolved) == sorted(r["id"] for r in leaks),
          "resolved %s, leaked %s" % (resolved, leaks))
    for r in resolved:
        check(r["to"] == "LAST_ACK" and r["close_wait_ns"] >= 2.4e9, "resolved %s" % r)
        check(r["pid"] == server.proc.pid, "closed by %s" % r.get("pid"))
    for h in tracer.histories(lport=port):
        check(h["states"][2:] == ["CLOSE_WAIT", "LAST_ACK", "CLOSE"], "history %s" % h)
    server.send("exit")
    server.close()


def leak_found_by_snapshot(env=None):
    port = free_port()
    server = Peer(None, "leak-serve", "127.0.0.1", str(port), "4")
    server.expect("ready")
    connect_and_close(port, 4)
    held = held_map(server.expect("held"))
    time.sleep(1.5)
    tracer = Tracer("--leak-after", "1", env=env)
    time.sleep(1.0)
    tracer.stop()
    leaks = tracer.records_of("close_wait_leak", lport=port)
    check_leaks(leaks, held, server.proc.pid)
    for r in leaks:
        # the age is a lower bound: time since the peer's last ACK
        check(r["age_lower_bound"] and 1.4e9 <= r["close_wait_ns"] < 30e9,
              "age %s bound %s" % (r["close_wait_ns"], r["age_lower_bound"]))
    server.send("exit")
    server.close()
    return tracer


def test_leak_found_by_snapshot():
    leak_found_by_snapshot()


def test_leak_found_without_bpf_iterators():
    """Sockets through sock_diag (the age from tcp_info) and owners through
    /proc/PID/fd, as on kernels without iter/tcp and iter/task_file."""
    tracer = leak_found_by_snapshot({"TCPTRAIL_SNAPSHOT": "diag", "TCPTRAIL_OWNERS": "proc"})
    check(any("sock_diag" in l and "/proc" in l for l in tracer.stderr),
          "fallbacks not used: %s" % tracer.stderr)


def test_prompt_close_under_load_is_no_leak():
    import threading
    srv, port = listener(backlog=1024)
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            while conn.recv(100):
                pass
            conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    tracer = Tracer("--leak-after", "0.3", "--no-states")
    made = 0
    end = time.time() + 3
    try:
        while time.time() < end:
            cli = socket.create_connection(("127.0.0.1", port))
            cli.sendall(b"ping")
            cli.close()
            made += 1
    finally:
        stop.set()
        thread.join()
        srv.close()
    time.sleep(0.8)
    tracer.stop()
    check(made > 500, "only %d connections made" % made)
    leaks = tracer.records_of("close_wait_leak", lport=port)
    check(not leaks, "%d leak records for a server that closes promptly: %s"
          % (len(leaks), leaks[:2]))
    passed_cw = [h for h in tracer.histories(lport=port) if "CLOSE_WAIT" in h["states"]]
    check(len(passed_cw) > 500, "only %d server histories through CLOSE_WAIT" % len(passed_cw))


def test_leak_in_other_namespace():
    with Netns("ttlk", None, None) as ns:
        tracer = Tracer("--leak-after", "1")
        server = Peer(ns.a, "leak-self", "127.0.0.1", "7201", "5")
        server.expect("ready")
        held = held_map(server.expect("held"))
        time.sleep(2.2)
        tracer.stop()
        leaks = tracer.records_of("close_wait_leak", lport=7201)
        check_leaks(leaks, held, server.proc.pid, netns_inode(ns.a))
        server.send("exit")
        server.close()


def test_ten_thousand_leaks():
    """One process leaks 10 000 sockets: the live tracer reports all, the text
    view says so in a few lines, and the one-shot report groups them."""
    port = free_port()
    json_tracer = Tracer("--leak-after", "1", "--no-states", "--no-histories")
    text_tracer = Tracer("--leak-after", "1", "--no-states", "--no-histories",
                         json_out=False)
    server = Peer(None, "leak-self", "127.0.0.1", str(port), "10000")
    server.expect("ready")
    held = held_map(server.expect("held", timeout=120))
    pid = server.proc.pid
    check(len(held) == 10000, "peer holds %d" % len(held))
    time.sleep(2.5)
    json_tracer.stop()
    text_tracer.stop()
    check_leaks(json_tracer.records_of("close_wait_leak", lport=port), held, pid)
    lines = [l for l in text_records(text_tracer.text)
             if l.split()[1:3] == ["leak", str(pid)]]
    reported = sum(int(re.search(r" (\d+) sockets? in CLOSE_WAIT", l).group(1)) for l in lines)
    check(reported == 10000, "text view reported %d of 10000: %s" % (reported, lines[:3]))
    check(len(lines) <= 20, "text view flooded: %d lines" % len(lines))

    mine, recs = leaks_report(port)
    check_leaks(mine, held, pid)
    summary = one([r for r in recs if r["type"] == "leak_process" and r["pid"] == pid],
                  "process summary")
    check(summary["sockets"] >= 10000, "summary %s" % summary)

    text = subprocess.run([TCPTRAIL, "leaks"], capture_output=True, text=True, timeout=120)
    # CONTAINER PID COMM SOCKETS ...
    rows = [l for l in text.stdout.splitlines() if re.match(r"\S+\s+%d\s" % pid, l)]
    check(len(rows) == 1, "no single row for pid %d: %s" % (pid, text.stdout[:500]))
    fields = rows[0].split()
    check(fields[3] == "10000", "row %r" % rows[0])
    check("... 9990 more" in text.stdout, "sockets beyond the limit not summarised")
    server.send("exit")
    server.close()
