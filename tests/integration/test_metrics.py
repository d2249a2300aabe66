"""The --metrics endpoint on the real kernel, scraped by a real Prometheus
server (a private configuration and storage, loopback only) every second,
and checked through Prometheus's own query API against the tracer's JSON
and the kernel's counters."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse

from lib import (LIVE, ROOT, TCPTRAIL, Netns, Peer, TestFailure, Tracer, check, free_port,
                 leaking_server,
                 netns_inode, netstat, run, wait_until)

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def scrape(port, path="/metrics"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), body


def sample_value(text, name, **labels):
    """The value of the one series of name with exactly these labels in a
    scrape, or None."""
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        sname, _, rest = series.partition("{")
        if sname != name:
            continue
        got = ",".join(sorted(p for p in rest.rstrip("}").split(",") if p))
        if got == want:
            return float(value)
    return None


def readme_promql():
    """The queries of the README's promql block."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = text.split("```promql\n", 1)[1].split("```", 1)[0]
    return [l for l in block.splitlines() if l.strip() and not l.startswith("#")]


class Prometheus:
    """A real Prometheus server scraping one target every second. One
    keep-alive connection carries every query, so the queries add no TCP
    connections (and no histories) of their own."""

    def __init__(self, target_port, job="", files=None, scrape=None):
        """job: more of the scrape job's settings (YAML at its indent:
        scheme, tls_config, basic_auth); files: {name: text} written beside
        the configuration, which names them relative to it; scrape: a whole
        scrape_configs section instead."""
        self.dir = tempfile.mkdtemp(prefix="tcptrail-prom-")
        self.port = free_port()
        for name, text in (files or {}).items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n")
            f.write(scrape or "scrape_configs:\n  - job_name: tcptrail\n" + job +
                    "    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % target_port)
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        LIVE.append(self.proc)
        self.conn = None

        def ready():
            try:
                return self._get("/-/ready")[0] == 200
            except OSError:
                self.conn = None
                return False
        wait_until(ready, 30, "Prometheus to start")

    def _get(self, path):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        return resp.status, resp.read().decode()

    def query(self, expr):
        """An instant query: [(labels, value)]."""
        status, body = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        check(status == 200, "query %s: HTTP %d %s" % (expr, status, body[:200]))
        data = json.loads(body)["data"]["result"]
        return [(r["metric"], float(r["value"][1])) for r in data]

    def value(self, expr):
        res = self.query(expr)
        check(len(res) == 1, "%s: %d results %s" % (expr, len(res), res))
        return res[0][1]

    def stop(self):
        if self.conn:
            self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_prometheus_scrapes_match_records_and_kernel():
    """Connections, a CLOSE_WAIT leak and an accept-queue overflow, scraped
    by Prometheus: its sum of closed connections equals the history records
    in the tracer's JSON, the leak gauge names the leaking process, the
    overflow's alert was 1 while it lasted and 0 after, and the listener's
    drops rose by the namespace's ListenDrops."""
    mport = free_port()
    tracer = Tracer("--metrics", "127.0.0.1:%d" % mport, "--leak-after", "1",
                    "--interval", "0.5")
    prom = Prometheus(mport)
    try:
        with Netns("ttpm", "192.0.2.1", "192.0.2.2") as ns:
            run(["ip", "netns", "exec", ns.b, "sysctl", "-q", "-w",
                 "net.ipv4.tcp_synack_retries=1"])
            # 30 loopback connections: 60 histories, both ends
            port = free_port()
            server = Peer(None, "accept-all", "127.0.0.1", str(port), "64")
            server.expect("ready")
            for _ in range(30):
                socket.create_connection(("127.0.0.1", port)).close()
            server.send("exit")
            server.close()
            # a process named ttleakd leaking 3 CLOSE_WAIT sockets
            lport = free_port()
            leaker, _ = leaking_server(lport, 3, comm="ttleakd")
            # a backlog-4 listener that never accepts, and 40 clients
            full = Peer(ns.b, "listen-only", "192.0.2.2", "7302", "4")
            full.expect("ready")
            inum = netns_inode(ns.b)
            labels = 'netns="%d",lport="7302"' % inum
            wait_until(lambda: prom.query("tcptrail_listener_drops_total{%s}" % labels), 10,
                       "Prometheus to have the listener's series")
            before = netstat(ns.b)["ListenDrops"]
            clients = Peer(ns.a, "connect-many", "192.0.2.2", "7302", "40")
            clients.expect("started")
            alert = 'tcptrail_listener_alert{%s,alert="accept_queue_full"}' % labels
            wait_until(lambda: prom.query("%s == 1" % alert), 10, "the alert at 1 in Prometheus")
            time.sleep(1.5)
            clients.send("close")
            clients.expect("closed")
            wait_until(lambda: prom.query("%s == 0" % alert), 20, "the alert back at 0")
            drops = netstat(ns.b)["ListenDrops"] - before
            check(drops > 0, "the kernel dropped nothing")
            wait_until(lambda: prom.query("tcptrail_listener_drops_total{%s} == %d"
                                          % (labels, drops)), 10,
                       "tcptrail_listener_drops_total to rise by ListenDrops (%d)" % drops)
            check(prom.value("max_over_time(%s[5m])" % alert) == 1, "the alert never was 1")
            rose = prom.value("max_over_time(tcptrail_listener_drops_total{%s}[5m]) - "
                              "min_over_time(tcptrail_listener_drops_total{%s}[5m])"
                              % (labels, labels))
            check(rose == drops, "drops rose by %g in Prometheus, ListenDrops by %d"
                  % (rose, drops))
            check(prom.value('tcptrail_close_wait_leaked_sockets{comm="ttleakd"}') == 3,
                  "leak gauge: %s" % prom.query("tcptrail_close_wait_leaked_sockets"))
            # the README's PromQL, each valid; the leak one finds ttleakd
            examples = readme_promql()
            check(len(examples) >= 6, "README PromQL examples: %s" % examples)
            for expr in examples:
                res = prom.query(expr)
                if "leaked" in expr:
                    check(any(m.get("comm") == "ttleakd" and v == 3 for m, v in res),
                          "%s: %s" % (expr, res))
                if "accept_queue_full" in expr:
                    check(any(m.get("lport") == "7302" for m, v in res), "%s: %s" % (expr, res))

            # Closed histories: the same count in Prometheus and in the
            # JSON once nothing is in flight (the machine may open other
            # connections meanwhile, so wait for a quiet moment).
            seen = {}

            def agree():
                recs = tracer.live_records("history")
                seen["json"] = len(recs)
                seen["mine"] = len([r for r in recs if port in (r["lport"], r["rport"])])
                seen["prom"] = prom.value("sum(tcptrail_connections_closed_total)")
                return seen["prom"] == seen["json"]
            try:
                wait_until(agree, 20, "Prometheus and the JSON to agree")
            except TestFailure:
                raise TestFailure("sum(tcptrail_connections_closed_total) %g, history records "
                                  "%d" % (seen["prom"], seen["json"]))
            check(seen["mine"] == 60, "%d histories of the 30 connections" % seen["mine"])
            status, ctype, page = scrape(mport)
            check(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
                  "scrape: %d %s" % (status, ctype))
            lint = subprocess.run([PROMTOOL, "check", "metrics"], input=page, text=True,
                                  capture_output=True)
            check(lint.returncode == 0, "promtool: %s%s" % (lint.stdout, lint.stderr))
            leaker.send("exit")
            leaker.close()
            full.send("exit")
            full.close()
    finally:
        prom.stop()
    tracer.stop()


def test_endpoint_paths_series_linger_and_bind_failure():
    """Unknown paths get 404, other methods 405; a closed listener's series
    go after --metrics-linger; a taken port is one sentence and exit 1; the
    endpoint also serves tcptrail top."""
    mport = free_port()
    tracer = Tracer("--metrics", "127.0.0.1:%d" % mport, "--metrics-linger", "1.5",
                    "--interval", "0.2")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    lport = srv.getsockname()[1]
    series = 'tcptrail_listener_accept_queue_limit'
    wait_until(lambda: sample_value(scrape(mport)[2], series, netns=str(os.stat(
        "/proc/self/ns/net").st_ino), laddr="127.0.0.1", lport=str(lport), container="") == 8,
        5, "the listener's series")
    check(scrape(mport, "/nope")[0] == 404, "unknown path not 404")
    check(scrape(mport, "/metrics/../etc/passwd")[0] == 404, "odd path not 404")
    conn = http.client.HTTPConnection("127.0.0.1", mport, timeout=5)
    conn.request("POST", "/metrics", body="x" * 10000)
    check(conn.getresponse().status == 405, "POST not 405")
    conn.close()
    srv.close()
    closed = time.time()
    wait_until(lambda: ('lport="%d"' % lport) not in scrape(mport)[2], 5,
               "the closed listener's series to go")
    check(time.time() - closed >= 1.2, "series gone before the linger")
    # the port is taken: one sentence, exit 1
    second = subprocess.run([TCPTRAIL, "--metrics", "127.0.0.1:%d" % mport, "-d", "1"],
                            capture_output=True, text=True, timeout=30)
    err = second.stderr.strip().splitlines()
    check(second.returncode == 1 and len(err) == 1 and "Address already in use" in err[0]
          and str(mport) in err[0], "second tracer: %d %s" % (second.returncode, err))
    tracer.stop()
    # tcptrail top serves the same metrics
    tport = free_port()
    top = subprocess.Popen([TCPTRAIL, "top", "--metrics", "127.0.0.1:%d" % tport, "-d", "4",
                            "-o", "/dev/null"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    LIVE.append(top)
    peer_port = free_port()
    server = Peer(None, "accept-all", "127.0.0.1", str(peer_port), "16")
    server.expect("ready")

    def counted():
        try:
            page = scrape(tport)[2]
        except OSError:
            return False
        socket.create_connection(("127.0.0.1", peer_port)).close()
        return (sample_value(page, "tcptrail_connections_closed_total", role="active",
                             end="orderly", container="") or 0) >= 1
    wait_until(counted, 4, "tcptrail top's endpoint to count connections")
    server.send("exit")
    server.close()
    check(top.wait(10) == 0, "top: %s" % top.stderr.read())
