"""Containers on the real kernel: cgroups made under the cgroup2 mount the
way container runtimes name them (a docker scope, a kubepods pod with a
containerd scope), real servers and clients moved into them, and what the
tracer, its filters and the leak report say about each connection."""
import os
import socket
import subprocess
import time

from lib import (TCPTRAIL, Peer, Tracer, check, free_port, leaking_server, ndjson, one,
                 remove_cgroups, wait_until)

ID_A = "a1" * 32
ID_B = "b2" * 32
POD = "0b1c2d3e-1111-2222-3333-444455556666"


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.startswith("cgroup2 "):
                return left.split()[4]
    return None


class Cgroups:
    """The test's cgroups; processes left in them are killed, the cgroups
    removed, on exit."""

    def __init__(self):
        self.mount = cgroup2_mount()
        check(self.mount, "no cgroup2 mount")
        self.a = "/tttest.slice/docker-%s.scope" % ID_A
        self.b = ("/tttest.slice/kubepods.slice/kubepods-besteffort.slice/"
                  "kubepods-besteffort-pod%s.slice/cri-containerd-%s.scope"
                  % (POD.replace("-", "_"), ID_B))
        self.cleanup()
        for path in (self.a, self.b):
            os.makedirs(self.mount + path)

    def wrap(self, path):
        """A command prefix that runs the rest inside cgroup path."""
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.mount + path]

    def cleanup(self):
        remove_cgroups(os.path.join(self.mount, "tttest.slice"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


def in_root_cgroup(mount, cmd):
    """Run cmd from the root cgroup."""
    return subprocess.run(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', mount] + cmd,
                          capture_output=True, text=True, timeout=20)


def test_connections_leaks_and_listeners_name_their_container():
    """A server in a docker scope and a client in a kubepods pod: both ends'
    histories name their cgroup, container and pod; the server's softirq
    transitions (no process named) name its container; a CLOSE_WAIT leak and
    tcptrail leaks --json name it; a full listener and its alert name it;
    --container and --cgroup keep exactly those sockets; a connection from
    the root cgroup has cgroup "/" and no container_id."""
    with Cgroups() as cg:
        mport = free_port()
        everything = Tracer("--states", "--leak-after", "1", "--interval", "0.3", "--metrics",
                            "127.0.0.1:%d" % mport)
        only_a = Tracer("--container", ID_A[:12], "--leak-after", "1", "--interval", "0.3")
        only_pod = Tracer("--cgroup", "/tttest.slice/kubepods.slice", "--leak-after", "1",
                          "--interval", "0.3")
        port = free_port()
        server = Peer(None, "serve", "127.0.0.1", str(port), wrap=cg.wrap(cg.a))
        server.expect("ready")
        client = Peer(None, "connect", "127.0.0.1", str(port), wrap=cg.wrap(cg.b))
        client.expect("connected")
        server.expect("accepted")
        client.send("shutdown")
        client.expect("shut")
        server.send("shutdown")
        server.expect("shut")
        client.expect("done")
        server.expect("done")
        # a leaking server in A, its clients in the root cgroup
        lport = free_port()
        leaker = Peer(None, "leak-serve", "127.0.0.1", str(lport), "2", wrap=cg.wrap(cg.a))
        leaker.expect("ready")
        res = in_root_cgroup(cg.mount, ["python3", "-c",
                                        "import socket\nfor _ in range(2): "
                                        "socket.create_connection(('127.0.0.1', %d)).close()"
                                        % lport])
        check(res.returncode == 0, "root-cgroup clients: %s" % res.stderr)
        leaker.expect("held")
        # a backlog-2 listener in A that never accepts, and 12 clients
        qport = free_port()
        full = Peer(None, "listen-only", "127.0.0.1", str(qport), "2", wrap=cg.wrap(cg.a))
        full.expect("ready")
        crowd = Peer(None, "connect-many", "127.0.0.1", str(qport), "12")
        crowd.expect("started")
        wait_until(lambda: everything.live_records("alert", lport=qport), 6,
                   "an accept-queue alert")
        wait_until(lambda: everything.live_records("close_wait_leak", lport=lport), 6,
                   "the leak report")
        report = subprocess.run([TCPTRAIL, "leaks", "--json"], capture_output=True,
                                text=True, timeout=30)
        check(report.returncode == 0, "leaks: %s" % report.stderr)
        leaks_a = subprocess.run([TCPTRAIL, "leaks", "--json", "--container", ID_A[:6]],
                                 capture_output=True, text=True, timeout=30)
        crowd.send("close")
        crowd.expect("closed")
        for peer in (leaker, full):
            peer.send("exit")
            peer.close()
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", mport), timeout=5) as conn:
            conn.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            page = conn.makefile().read()
        for t in (everything, only_a, only_pod):
            t.stop()

    def ours(r):
        return port in (r.get("lport"), r.get("rport"))

    hist = [h for h in everything.histories() if ours(h)]
    srv = one([h for h in hist if h["lport"] == port], "server history")
    cli = one([h for h in hist if h["rport"] == port], "client history")
    check(srv["cgroup"] == cg.a and srv["container_id"] == ID_A and "pod_uid" not in srv,
          "server history: %s" % srv)
    check(cli["cgroup"] == cg.b and cli["container_id"] == ID_B and cli["pod_uid"] == POD,
          "client history: %s" % cli)
    # by tuple as well as id: per-run ids (before 5.12) are reused once a
    # socket is freed
    softirq = [r for r in everything.records_of("state", id=srv["id"], lport=port,
                                                 rport=cli["lport"]) if "pid" not in r]
    check(softirq, "no server transition without a process")
    for r in softirq:
        check(r.get("container_id") == ID_A, "softirq transition: %s" % r)
    # the leak, live and one-shot
    for r in everything.records_of("close_wait_leak", lport=lport):
        check(r.get("container_id") == ID_A and r["cgroup"] == cg.a, "leak: %s" % r)
    recs = ndjson(report.stdout, "leaks --json")
    mine = [r for r in recs if r["type"] == "close_wait_leak" and r["lport"] == lport]
    check(len(mine) == 2 and all(r.get("container_id") == ID_A for r in mine),
          "leaks --json: %s" % mine)
    procs = [r for r in recs if r["type"] == "leak_process" and r.get("container_id") == ID_A]
    check(len(procs) == 1 and procs[0]["sockets"] == 2, "leak_process: %s" % procs)
    a_recs = ndjson(leaks_a.stdout, "leaks --json --container")
    check(a_recs and all(r.get("container_id") == ID_A for r in a_recs),
          "leaks --container: %s" % a_recs)
    # the listener and its alert
    lrec = everything.records_of("listener", lport=qport)
    check(lrec and all(r.get("container_id") == ID_A for r in lrec), "listener: %s" % lrec[:1])
    alerts = everything.records_of("alert", lport=qport)
    check(alerts and all(r.get("container_id") == ID_A for r in alerts), "alert: %s" % alerts)
    # the root cgroup
    root = everything.histories(rport=lport)
    check(len(root) == 2 and all(h["cgroup"] == "/" and "container_id" not in h for h in root),
          "root-cgroup clients: %s" % root)
    # filters keep exactly what they name
    for tracer, want in ((only_a, lambda r: r.get("container_id") == ID_A),
                         (only_pod, lambda r: r.get("pod_uid") == POD)):
        # by tuple: per-run ids differ between tracers
        kept = {(h["lport"], h["rport"]) for h in tracer.histories()}
        expected = {(h["lport"], h["rport"]) for h in everything.histories() if want(h)}
        check(kept and kept == expected, "filter kept %d, expected %d (%s)"
              % (len(kept), len(expected), sorted(kept ^ expected)[:5]))
        for r in tracer.parse_json():
            if "cgroup" in r or "cgroup_id" in r:
                check(want(r), "filtered output has %s" % r)
    check(not only_pod.records_of("listener", lport=qport), "--cgroup kept A's listener")
    check(only_a.records_of("alert", lport=qport), "--container lost A's alert")
    # metrics: connection and listener series name the container
    check('end="orderly",container="%s"}' % ID_A[:12] in page,
          "no closed_total series for container A")
    check('end="orderly",container="%s"}' % ID_B[:12] in page,
          "no closed_total series for container B")
    check('lport="%d",container="%s"}' % (qport, ID_A[:12]) in page,
          "no listener series for container A")


def v1_hierarchy():
    """A cgroup v1 hierarchy mounted here (name=systemd on hybrid hosts)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.startswith("cgroup ") and "name=systemd" in right:
                return left.split()[4]
    return None


def test_v1_only_host_attributes_by_owner():
    """Where sockets carry no cgroup v2 id (TCPTRAIL_CGROUP=v1 makes this
    host look so), a client in a v1 /docker/<id> cgroup is named through its
    process: its history and a leaking server's records and leaks --json
    name the container, and tcptrail says once that attribution is
    partial."""
    v1 = v1_hierarchy()
    check(v1, "no cgroup v1 name=systemd hierarchy on this host")
    ident = "c3" * 32
    path = os.path.join(v1, "docker", ident)
    os.makedirs(path, exist_ok=True)
    wrap = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', path]
    env = {"TCPTRAIL_CGROUP": "v1"}
    try:
        tracer = Tracer("--leak-after", "1", env=env)
        port = free_port()
        server = Peer(None, "accept-all", "127.0.0.1", str(port), "8")
        server.expect("ready")
        # a client that outlives its connection: its owner is read while it
        # lives (an exited process shows the root cgroups)
        client = subprocess.run(wrap + ["python3", "-c", (
            "import socket, time\n"
            "s = socket.create_connection(('127.0.0.1', %d))\n"
            "time.sleep(0.3)\ns.close()\ntime.sleep(1)" % port)],
            capture_output=True, text=True, timeout=20)
        check(client.returncode == 0, "client: %s" % client.stderr)
        server.send("exit")
        server.close()
        lport = free_port()
        leaker, _ = leaking_server(lport, 2, wrap=wrap)
        wait_until(lambda: len(tracer.live_records("close_wait_leak", lport=lport)) == 2, 6,
                   "the leak reports")
        report = subprocess.run([TCPTRAIL, "leaks", "--json"], capture_output=True, text=True,
                                timeout=30, env=dict(os.environ, **env))
        leaker.send("exit")
        leaker.close()
        tracer.stop()
    finally:
        for _ in range(50):
            try:
                os.rmdir(path)
                os.rmdir(os.path.dirname(path))
                break
            except OSError:
                time.sleep(0.05)
    said = [l for l in tracer.stderr if "no cgroup2 hierarchy" in l]
    check(len(said) == 1 and "partial" in said[0], "the partial attribution said %d times"
          % len(said))
    cli = one(tracer.histories(rport=port), "client history")
    check(cli.get("container_id") == ident and cli["cgroup"] == "/docker/" + ident,
          "client history: %s" % cli)
    srv = one(tracer.histories(lport=port), "server history")
    check("container_id" not in srv, "server history: %s" % srv)
    for r in tracer.records_of("close_wait_leak", lport=lport):
        check(r.get("container_id") == ident, "leak: %s" % r)
    mine = ndjson(report.stdout, "leaks --json")
    mine = [r for r in mine if r.get("lport") == lport]
    check(len(mine) == 2 and all(r.get("container_id") == ident for r in mine),
          "leaks --json: %s" % mine)
