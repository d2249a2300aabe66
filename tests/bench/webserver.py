"""A real server under a real load generator for make bench: Debian's nginx
(2 workers, loopback, a small static file) run from a private prefix in a
temporary folder, never as a system service, and driven by wrk until the
CPUs are saturated, with `Connection: close` and with keep-alive. Each
configuration (untraced, tcptrail writing JSON histories to a file, the
peer tools) runs in every round, in an order that rotates between rounds,
and is compared with the untraced run of its own round."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import benchlib

CONF = """worker_processes 2;
user www-data;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{ listen 127.0.0.1:{port} backlog=4096; root {d}/www; }}
}}
"""
# wrk's connections: enough to keep both workers busy.
WRK_CONNS = 64
FILE_BYTES = 1024


class Nginx:
    """nginx from a private prefix; stopped (and its folder removed) on exit
    of the with-block, whatever happened."""

    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="tcptrail-nginx-")
        os.chmod(self.dir, 0o755)	# the workers run as www-data
        os.mkdir(os.path.join(self.dir, "www"))
        with open(os.path.join(self.dir, "www", "index.html"), "w") as f:
            f.write(("tcptrail bench " * 100)[:FILE_BYTES])
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(d=self.dir, port=port))
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-e",
                                      os.path.join(self.dir, "error.log"), "-c", conf, "-g",
                                      "daemon off;"], stdin=subprocess.DEVNULL)
        end = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > end:
                    self.close()
                    raise RuntimeError("nginx did not start: %s" % self.errors())
                time.sleep(0.1)

    def url(self):
        return "http://127.0.0.1:%d/index.html" % self.port

    def errors(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()	# nginx's fast shutdown, workers included
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def cpu_busy():
    """(busy, total) jiffies of all CPUs so far, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def wrk(url, seconds, close):
    """One wrk run: requests/s, requests, socket errors and the share of the
    CPUs that were busy meanwhile."""
    cmd = ["wrk", "-t", str(os.cpu_count()), "-c", str(WRK_CONNS), "-d", "%gs" % seconds]
    if close:
        cmd += ["-H", "Connection: close"]
    b0 = cpu_busy()
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    b1 = cpu_busy()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "requests": reqs,
            "errors": sum(map(int, errs.groups())) if errs else 0,
            "busy": (b1[0] - b0[0]) / max(1, b1[1] - b0[1])}


def traced_round(cfg, nginx, seconds, close, tmp):
    """wrk against nginx under one configuration: its row."""
    path = os.path.join(tmp, "out")
    stats = benchlib.ProgStats()
    tr = proc = None
    try:
        if cfg["kind"] == "tcptrail":
            tr = benchlib.Tracer(cfg["binary"], ["-v", "--json", "--no-states", "-o", path])
        elif cfg["kind"] == "peer":
            with open(path, "w") as out:
                proc = subprocess.Popen([cfg["binary"]], stdout=out, stderr=subprocess.DEVNULL)
            if not benchlib.wait_loaded(stats):
                raise RuntimeError("%s loaded no program" % cfg["binary"])
        w = wrk(nginx.url(), seconds, close)
        if tr:
            time.sleep(0.5)	# the last histories
            summary = tr.stop()
            hs, bad, _ = benchlib.read_ndjson(
                path, lambda r: r.get("type") == "history" and nginx.port in
                (r.get("lport"), r.get("rport")))
            passive = sum(1 for h in hs if h.get("lport") == nginx.port)
            active = len(hs) - passive
            chk = benchlib.history_check(hs, 2 * max(passive, active))
            w["lost"] = benchlib.lost_total(summary)
            w["causes"] = benchlib.fmt_causes(summary)
            w["incomplete"] = chk["incomplete"]
            w["histories"] = "%d passive, %d active" % (passive, active)
            w["missing"] = chk["missing"]
            w["bad_lines"] = bad
        return w
    finally:
        if tr:
            tr.kill()
        if proc:
            proc.send_signal(2)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if os.path.exists(path):
            os.unlink(path)


def run(configs, port, seconds, rounds, tmp, log):
    """Every configuration in every round, both modes. Returns
    {mode: {config name: [row per round]}}; ratios against the untraced run
    of the same round are added to each row. log(str) prints as it goes."""
    result = {}
    with benchlib.BpfStats(on=False), Nginx(port) as nginx:
        for mode, close in (("Connection: close", True), ("keep-alive", False)):
            rows = {c["name"]: [] for c in configs}
            for rnd in range(rounds):
                order = configs[rnd % len(configs):] + configs[:rnd % len(configs)]
                got = {}
                for cfg in order:
                    got[cfg["name"]] = traced_round(cfg, nginx, seconds, close, tmp)
                base = got["untraced"]["rps"]
                for name, w in got.items():
                    w["ratio"] = w["rps"] / base if base else float("nan")
                    rows[name].append(w)
                    log(round_line(mode, rnd + 1, name, w))
            result[mode] = rows
    return result


def round_line(mode, rnd, name, w):
    s = "  %s, round %d, %s: %.0f requests/s (%.2f of untraced), CPUs %.0f%% busy" % (
        mode, rnd, name, w["rps"], w["ratio"], 100 * w["busy"])
    if "lost" in w:
        s += "; lost %s (%s), histories %s, %d incomplete, %d missing, %d not JSON" % (
            "?" if w["lost"] is None else w["lost"], w["causes"], w["histories"],
            w["incomplete"], w["missing"], w["bad_lines"])
    return s


def table(result):
    """The throughput ratios against untraced, each round and the median."""
    lines = []
    for mode, rows in result.items():
        n = len(next(iter(rows.values())))
        lines.append("")
        lines.append("nginx, 2 workers, wrk %d connections, %s:" % (WRK_CONNS, mode))
        lines.append("")
        lines.append("| configuration | requests/s (median) | " +
                     " | ".join("round %d" % (i + 1) for i in range(n)) + " | median vs untraced |")
        lines.append("|---|---|" + "---|" * n + "---|")
        for name, ws in rows.items():
            lines.append("| %s | %.0f | %s | %.2f |" % (
                name, benchlib.median_of([w["rps"] for w in ws]),
                " | ".join("%.2f" % w["ratio"] for w in ws), benchlib.median_of([w["ratio"] for w in ws])))
    return lines
