"""--web-config on the real tracer: TLS, basic auth and client certificates
in the Prometheus exporters' web configuration format, checked with a real
Prometheus (its target up over TLS, through its query API), promtool (the
format and the page), openssl (certificates made here, nothing checked in),
htpasswd (bcrypt hashes by another implementation than the one that checks
them), and with abusive clients: slowloris, floods, oversized headers."""
import base64
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from lib import LIVE, ROOT, TCPTRAIL, TestFailure, Tracer, check, free_port, run, wait_until
from test_metrics import PROMTOOL, Prometheus, sample_value

PASSWORD = "s3cret pass"


class Pki:
    """A CA, a server certificate for 127.0.0.1 and localhost, a client
    certificate from the CA and one from a CA nobody trusts, in a new
    folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tcptrail-pki-")
        self.ca = self.path("ca.crt")
        self.make_ca("ca", "tcptrail test CA")
        self.make_ca("rogue", "rogue CA")
        self.issue("server", "ca", "localhost",
                   "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth")
        self.issue("client", "ca", "prometheus",
                   "subjectAltName=DNS:prometheus.example\nextendedKeyUsage=clientAuth")
        self.issue("stranger", "rogue", "prometheus",
                   "subjectAltName=DNS:prometheus.example\nextendedKeyUsage=clientAuth")

    def path(self, name):
        return os.path.join(self.dir, name)

    def openssl(self, *args, stdin=None):
        run(["openssl"] + list(args), cwd=self.dir, input=stdin)

    def make_ca(self, name, cn):
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
                     "-subj", "/CN=" + cn)

    def issue(self, name, ca, cn, ext, key="ec"):
        opts = ["-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else \
            ["-pkeyopt", "rsa_keygen_bits:2048"]
        self.openssl("req", "-newkey", key, *opts, "-nodes", "-keyout", name + ".key",
                     "-out", name + ".csr", "-subj", "/CN=" + cn)
        with open(self.path(name + ".ext"), "w") as f:
            f.write(ext + "\n")
        self.openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey",
                     ca + ".key", "-CAcreateserial", "-out", name + ".crt", "-days", "2",
                     "-extfile", name + ".ext")
        os.chmod(self.path(name + ".key"), 0o600)

    def write(self, name, text, mode=0o600):
        with open(self.path(name), "w") as f:
            f.write(text)
        os.chmod(self.path(name), mode)
        return self.path(name)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def bcrypt(password):
    """htpasswd's bcrypt (APR's, not the libcrypt tcptrail checks with)."""
    out = run(["htpasswd", "-niBC", "10", ""], input=password + "\n").stdout
    return out.strip().lstrip(":")


TLS_AUTH = """tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  prometheus: '%s'
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
"""

MTLS = """tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
"""


def context(pki, cert=None, version=None):
    ctx = ssl.create_default_context(cafile=pki.ca)
    if cert:
        ctx.load_cert_chain(pki.path(cert + ".crt"), pki.path(cert + ".key"))
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def get(port, path="/metrics", pki=None, user=None, password=None, cert=None, version=None,
        headers=None, src=None, timeout=5):
    """(status, headers, body) of one request on a new connection, over
    TLS when pki is given."""
    hdrs = dict(headers or {})
    if user is not None:
        hdrs["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()
    src_addr = (src, 0) if src else None
    if pki:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=context(pki, cert, version),
                                           source_address=src_addr)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                          source_address=src_addr)
    try:
        conn.request("GET", path, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode()
    finally:
        conn.close()


def refused(fn):
    """fn() must fail at the TLS or connection level: no HTTP answer."""
    try:
        status = fn()[0]
    except (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected, OSError) as err:
        return type(err).__name__
    raise TestFailure("answered HTTP %d where the connection should have failed" % status)


def health(port, pki=None, password=PASSWORD):
    """The endpoint's health metrics as a dict: (name, reason) -> value."""
    status, _, page = get(port, pki=pki, user="prometheus" if pki else None, password=password)
    check(status == 200, "scrape: HTTP %d" % status)
    out = {}
    for name, reasons in (("tcptrail_http_refused_total",
                           ("per_address", "evicted", "timeout", "too_large", "bad_request",
                            "unauthorized")),
                          ("tcptrail_http_tls_handshake_failures_total",
                           ("client_certificate", "other"))):
        for r in reasons:
            out[(name, r)] = sample_value(page, name, reason=r)
    out["open"] = sample_value(page, "tcptrail_http_connections")
    out["scrapes"] = sample_value(page, "tcptrail_scrape_duration_seconds_count")
    return out


def endpoint(pki, config, *extra):
    port = free_port()
    path = pki.write("web.yml", config) if config is not None else None
    args = ["--metrics", "127.0.0.1:%d" % port] + (["--web-config", path] if path else [])
    return port, Tracer(*args, *extra, json_out=False)


def test_prometheus_scrapes_over_tls_with_basic_auth():
    """A real Prometheus scrapes over TLS with basic_auth and the CA file:
    its target is up and it sees the endpoint's own health. Refused: a
    wrong password (401 with WWW-Authenticate), none (401), plain HTTP to
    the TLS port (no answer); each counted by reason. promtool accepts the
    web-config (the reference implementation of the format) and the
    page."""
    pki = Pki()
    config = TLS_AUTH % bcrypt(PASSWORD)
    try:
        check(subprocess.run([PROMTOOL, "check", "web-config", pki.write("check.yml", config)],
                             capture_output=True).returncode == 0, "promtool refuses the file")
        port, tracer = endpoint(pki, config)
        pki.write("password", PASSWORD)
        prom = Prometheus(port, job="    scheme: https\n    tls_config:\n      ca_file: ca.crt\n"
                          "    basic_auth:\n      username: prometheus\n"
                          "      password_file: password\n",
                          files={"ca.crt": open(pki.ca).read(), "password": PASSWORD})
        try:
            wait_until(lambda: prom.query('up{job="tcptrail"} == 1'), 20,
                       "Prometheus to find the target up over TLS")
            wait_until(lambda: prom.query("tcptrail_scrape_duration_seconds_count > 1"), 10,
                       "Prometheus to see its own scrapes counted")
            check(prom.value('tcptrail_http_refused_total{reason="unauthorized"}') == 0,
                  "Prometheus's scrapes were refused")
        finally:
            prom.stop()
        before = health(port, pki)
        status, hdrs, _ = get(port, pki=pki, user="prometheus", password="wrong")
        check(status == 401 and hdrs.get("WWW-Authenticate", "").startswith("Basic"),
              "wrong password: %d %s" % (status, hdrs))
        check(get(port, pki=pki)[0] == 401, "no password not 401")
        check(get(port, "/", pki=pki, user="nobody", password=PASSWORD)[0] == 401,
              "unknown user not 401")
        why = refused(lambda: get(port))
        status, hdrs, page = get(port, pki=pki, user="prometheus", password=PASSWORD)
        check(status == 200 and hdrs.get("X-Content-Type-Options") == "nosniff",
              "right password: %d %s" % (status, hdrs))
        after = health(port, pki)
        check(after[("tcptrail_http_refused_total", "unauthorized")] -
              before[("tcptrail_http_refused_total", "unauthorized")] == 3,
              "unauthorized counted %s -> %s" % (before, after))
        check(after[("tcptrail_http_tls_handshake_failures_total", "other")] -
              before[("tcptrail_http_tls_handshake_failures_total", "other")] == 1,
              "plain HTTP (%s) not counted as one TLS failure: %s" % (why, after))
        lint = subprocess.run([PROMTOOL, "check", "metrics"], input=page, text=True,
                              capture_output=True)
        check(lint.returncode == 0, "promtool: %s%s" % (lint.stdout, lint.stderr))
        tracer.stop()
    finally:
        pki.remove()


def test_mtls_needs_a_certificate_from_the_ca():
    """RequireAndVerifyClientCert: Prometheus with its client certificate
    scrapes (up); a client with no certificate, or one from another CA,
    fails in the handshake over TLS 1.2 and 1.3, each counted as a client
    certificate failure; the right certificate gets 200."""
    pki = Pki()
    try:
        port, tracer = endpoint(pki, MTLS)
        files = {n: open(pki.path(n)).read() for n in ("ca.crt", "client.crt", "client.key")}
        prom = Prometheus(port, job="    scheme: https\n    tls_config:\n      ca_file: ca.crt\n"
                          "      cert_file: client.crt\n      key_file: client.key\n",
                          files=files)
        try:
            wait_until(lambda: prom.query('up{job="tcptrail"} == 1'), 20,
                       "Prometheus to find the mTLS target up")
        finally:
            prom.stop()
        before = health_mtls(port, pki)
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            refused(lambda: get(port, pki=pki, version=version))
            refused(lambda: get(port, pki=pki, cert="stranger", version=version))
            check(get(port, pki=pki, cert="client", version=version)[0] == 200,
                  "the right certificate was refused")
        after = health_mtls(port, pki)
        key = ("tcptrail_http_tls_handshake_failures_total", "client_certificate")
        check(after[key] - before[key] == 4, "client certificate failures %s -> %s"
              % (before[key], after[key]))
        tracer.stop()
    finally:
        pki.remove()


def health_mtls(port, pki):
    status, _, page = get(port, pki=pki, cert="client")
    check(status == 200, "scrape with the client certificate: %d" % status)
    return {("tcptrail_http_tls_handshake_failures_total", r):
            sample_value(page, "tcptrail_http_tls_handshake_failures_total", reason=r)
            for r in ("client_certificate", "other")}


def start_fails(pki, config, *extra, mode=0o600):
    """tcptrail with this web-config: exit 1 and one line on stderr."""
    args = [TCPTRAIL, "-d", "2", "-o", "/dev/null", "--metrics", "127.0.0.1:%d" % free_port()]
    if config is not None:
        args += ["--web-config", pki.write("bad.yml", config, mode)]
    res = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=30)
    lines = res.stderr.strip().splitlines()
    check(res.returncode == 1 and len(lines) == 1, "%r: exit %d, %s" % (config, res.returncode,
                                                                     lines))
    return lines[0]


def test_web_config_refused_at_start_in_one_sentence():
    """Unknown keys, unsupported settings, a bad hash, a missing file, a
    folder, a key that does not fit the certificate: exit 1, one sentence
    naming what is wrong. A file others can read starts with one warning."""
    pki = Pki()
    try:
        cases = [
            ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
             "  cert_flie: x\n", "unknown key 'cert_flie' in tls_server_config (line 4)"),
            ("tls_server_confg: {}\n", "unknown key 'tls_server_confg'"),
            ("basic_auth_users:\n  alice: plain-text\n", "not a bcrypt hash"),
            ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
             "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n", "cipher_suites is not supported"),
            ("tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
             "are not a usable PEM pair"),
            ("tls_server_config:\n  cert_file: nowhere.crt\n  key_file: server.key\n",
             "cannot read cert_file"),
            ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
             "  client_ca_file: ca.crt\n", "client CAs are configured without a"),
            ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
             "  min_version: TLS14\n", "min_version must be one of"),
            ("http_server_config:\n  headers:\n    Server: x\n", "HTTP header 'Server' cannot"),
            ("tls_server_config: [\n", "not YAML"),
        ]
        for config, want in cases:
            line = start_fails(pki, config)
            check(line.startswith("tcptrail: --web-config") and want in line,
                  "%r: %s" % (config, line))
        line = start_fails(pki, None, "--web-config", pki.path("missing.yml"))
        check("cannot read" in line and "No such file" in line, line)
        line = start_fails(pki, None, "--web-config", pki.dir)
        check("not a regular file" in line, line)
        res = subprocess.run([TCPTRAIL, "--web-config", pki.path("x"), "-d", "1"],
                             capture_output=True, text=True)
        check(res.returncode == 2 and "give --metrics too" in res.stderr, res.stderr)
        # readable by others: one warning, then it serves
        port = free_port()
        path = pki.write("open.yml", TLS_AUTH % bcrypt(PASSWORD), 0o644)
        tracer = Tracer("--metrics", "127.0.0.1:%d" % port, "--web-config", path,
                        json_out=False)
        check(get(port, pki=pki, user="prometheus", password=PASSWORD)[0] == 200, "not served")
        os.kill(tracer.signal_pid, signal.SIGHUP)   # reread: not warned again
        time.sleep(1)
        tracer.stop()
        warned = [l for l in tracer.stderr if "can be read by any user" in l]
        check(len(warned) == 1, "warnings: %s" % tracer.stderr)
    finally:
        pki.remove()


def test_sighup_rereads_certificates_and_users():
    """SIGHUP rereads the web-config: a renewed certificate and a changed
    password apply to the next connection; a broken file is one warning and
    the settings in force stay."""
    pki = Pki()
    try:
        port, tracer = endpoint(pki, TLS_AUTH % bcrypt(PASSWORD))

        def serial():
            """The served certificate's serial; None when the connection
            fell in the moment the reload closes them all."""
            ctx = context(pki)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                        return tls.getpeercert()["serialNumber"]
            except (ssl.SSLError, ConnectionError):
                return None
        first = serial()
        pki.issue("server", "ca", "localhost",
                  "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
                  key="rsa")
        pki.write("web.yml", TLS_AUTH % bcrypt("new password"))
        os.kill(tracer.signal_pid, signal.SIGHUP)
        wait_until(lambda: serial() not in (first, None), 5, "the renewed certificate")
        check(get(port, pki=pki, user="prometheus", password=PASSWORD)[0] == 401,
              "the old password still works")
        check(get(port, pki=pki, user="prometheus", password="new password")[0] == 200,
              "the new password does not work")
        pki.write("web.yml", "tls_server_config:\n  nonsense: 1\n")
        os.kill(tracer.signal_pid, signal.SIGHUP)
        wait_until(lambda: any("settings in force stay" in l for l in tracer.stderr), 5,
                   "the warning about the broken file")
        check(get(port, pki=pki, user="prometheus", password="new password")[0] == 200,
              "a broken reload changed what is served")
        tracer.stop()
    finally:
        pki.remove()


class Slowloris:
    """n clients, each from its own loopback address, that connect and then
    send one byte every interval seconds, reconnecting when dropped."""

    def __init__(self, port, n, prefix, interval, payload):
        self.port, self.interval, self.payload = port, interval, payload
        self.addrs = ["%s.%d" % (prefix, 1 + i % 250) for i in range(n)]
        self.socks = [None] * n
        self.sent = [0] * n
        self.reconnects = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def connect(self, i):
        s = socket.socket()
        s.setblocking(False)
        s.bind((self.addrs[i], 0))
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        self.socks[i], self.sent[i] = s, 0

    def run(self):
        for i in range(len(self.socks)):
            self.connect(i)
        while not self.stop.is_set():
            start = time.time()
            for i, s in enumerate(self.socks):
                try:
                    s.send(self.payload[self.sent[i] % len(self.payload):][:1])
                    self.sent[i] += 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    s.close()
                    self.reconnects += 1
                    self.connect(i)
            self.stop.wait(max(0, self.interval - (time.time() - start)))
        for s in self.socks:
            s.close()

    def close(self):
        self.stop.set()
        self.thread.join(10)


def timed_scrapes(port, pki, seconds, every=0.25):
    """Scrape for this long; the slowest scrape's seconds."""
    worst = 0
    end = time.time() + seconds
    while time.time() < end:
        start = time.time()
        status = get(port, pki=pki, user="prometheus" if pki else None, password=PASSWORD,
                     timeout=3)[0]
        took = time.time() - start
        check(status == 200, "scrape answered %d" % status)
        worst = max(worst, took)
        time.sleep(every)
    return worst


def test_slowloris_does_not_hold_up_scrapes():
    """200 clients, each from its own address, trickling a byte every 2 s
    (into a TLS record, then into HTTP headers): every scrape meanwhile is
    answered within 1 s, the endpoint never holds more than its cap, and
    the tricklers are closed by the deadline or evicted."""
    pki = Pki()
    try:
        for tls in (True, False):
            config = TLS_AUTH % bcrypt(PASSWORD) if tls else ""
            port, tracer = endpoint(pki, config)
            payload = b"\x16\x03\x01\x3f\xff" + b"\x01" * 64 if tls else \
                b"GET /metrics HTTP/1.1\r\nX-Slow: " + b"a" * 64
            slow = Slowloris(port, 200, "127.0.1", 2.0, payload)
            try:
                worst = timed_scrapes(port, pki if tls else None, 12)
            finally:
                slow.close()
            h = health(port, pki if tls else None)
            tracer.stop()
            check(worst < 1.0, "tls=%s: the slowest scrape took %.3f s" % (tls, worst))
            dropped = h[("tcptrail_http_refused_total", "timeout")] + \
                h[("tcptrail_http_refused_total", "evicted")]
            check(dropped >= 200 and slow.reconnects >= 200,
                  "tls=%s: %d dropped, %d reconnects: %s" % (tls, dropped, slow.reconnects, h))
            # 64, and newcomers within their 20 ms of grace: 128 at most
            check(h["open"] <= 128, "tls=%s: %d open" % (tls, h["open"]))
            print("    tls=%s: slowest scrape %.3f s, %d tricklers dropped" % (tls, worst, dropped))
    finally:
        pki.remove()


def test_many_connections_at_once():
    """1000 connections opened at once from 250 addresses, held, while more
    keep coming: each scrape (TLS, basic auth) is answered within 1 s. 20
    connections from one address: 8 get in, 12 are refused at once and
    counted."""
    pki = Pki()
    try:
        port, tracer = endpoint(pki, TLS_AUTH % bcrypt(PASSWORD))
        get(port, pki=pki, user="prometheus", password=PASSWORD)    # bcrypt paid once
        held, stop = [], threading.Event()

        def flood():
            while not stop.is_set():
                batch = []
                for i in range(1000):
                    s = socket.socket()
                    s.setblocking(False)
                    s.bind(("127.0.2.%d" % (1 + i % 250), 0))
                    try:
                        s.connect(("127.0.0.1", port))
                    except BlockingIOError:
                        pass
                    batch.append(s)
                held.append(batch)
                stop.wait(1.0)
                if len(held) > 2:
                    for s in held.pop(0):
                        s.close()
        thread = threading.Thread(target=flood, daemon=True)
        thread.start()
        try:
            time.sleep(0.5)
            worst = timed_scrapes(port, pki, 6)
        finally:
            stop.set()
            thread.join(10)
            for batch in held:
                for s in batch:
                    s.close()
        check(worst < 1.0, "the slowest scrape took %.3f s" % worst)
        h = health(port, pki)
        check(h[("tcptrail_http_refused_total", "evicted")] >= 1000, "evicted: %s" % h)
        print("    slowest scrape %.3f s under floods; %d evicted" %
              (worst, h[("tcptrail_http_refused_total", "evicted")]))
        wait_until(lambda: health(port, pki)["open"] <= 1, 10, "the flood to be gone")
        before = health(port, pki)[("tcptrail_http_refused_total", "per_address")]
        one = []
        for _ in range(20):
            s = socket.socket()
            s.bind(("127.0.3.1", 0))
            s.connect(("127.0.0.1", port))
            one.append(s)
        wait_until(lambda: health(port, pki)[("tcptrail_http_refused_total", "per_address")]
                   - before == 12, 5, "12 refusals for one address")
        # the 8 of that address, and the scrape asking
        check(health(port, pki)["open"] == 8 + 1, "not 8 of one address open")
        for s in one:
            s.close()
        tracer.stop()
    finally:
        pki.remove()


def test_header_caps():
    """Headers past 8 KiB: 431, counted as too_large; below, served."""
    pki = Pki()
    try:
        port, tracer = endpoint(pki, None)
        check(get(port, headers={"X-Pad": "a" * 7000})[0] == 200, "7000 bytes refused")
        check(get(port, headers={"X-Pad": "a" * 9000})[0] == 431, "9000 bytes not 431")
        status = None
        try:
            status = get(port, headers={"X-Pad": "a" * 40000})[0]
        except (ConnectionError, http.client.RemoteDisconnected):
            pass
        check(status in (None, 431), "40000 bytes: %s" % status)
        h = health(port)
        check(h[("tcptrail_http_refused_total", "too_large")] >= 2, "too_large: %s" % h)
        tracer.stop()
    finally:
        pki.remove()


def docs_blocks():
    """The labelled code blocks of docs/metrics.md: ```lang label."""
    with open(os.path.join(ROOT, "docs", "metrics.md")) as f:
        text = f.read()
    return {m.group(1): m.group(2) for m in re.finditer(r"```\w+ ([\w-]+)\n(.*?)```", text, re.S)}


def test_docs_setups_work_as_written():
    """docs/metrics.md, run: its openssl commands make the certificates (for
    loopback instead of its example name and address), its htpasswd command
    a hash tcptrail takes, and each setup's web-config with its Prometheus
    scrape job (the target pointed at this tracer) has the target up. The
    complete example file starts tcptrail and passes promtool's check."""
    b = docs_blocks()
    d = tempfile.mkdtemp(prefix="tcptrail-docs-")
    try:
        pki = b["pki"].replace("name=tcptrail.example.net", "name=localhost") \
            .replace("addr=192.0.2.10", "addr=127.0.0.1")
        check(pki != b["pki"], "the docs' pki block lost its name and addr lines")
        run(["sh", "-e", "-c", pki + b["pki-client"]], cwd=d)
        made = run(["sh", "-c", b["hash"]], input="typed password\n").stdout
        check(made.startswith("$2y$10$") and len(made) == 60, "htpasswd printed %r" % made)
        files = {"tcptrail-ca.crt": open(os.path.join(d, "ca.crt")).read(),
                 "tcptrail.password": "example-password",
                 "prometheus.crt": open(os.path.join(d, "prometheus.crt")).read(),
                 "prometheus.key": open(os.path.join(d, "prometheus.key")).read()}
        for config, scrape in ((None, "scrape-loopback"), ("web-config-tls", "scrape-tls"),
                               ("web-config-mtls", "scrape-mtls"),
                               ("web-config-complete", "scrape-mtls")):
            port = free_port()
            args = ["--metrics", "127.0.0.1:%d" % port]
            if config:
                path = os.path.join(d, config + ".yml")
                with open(path, "w") as f:
                    f.write(b[config])
                os.chmod(path, 0o600)
                args += ["--web-config", path]
                lint = subprocess.run([PROMTOOL, "check", "web-config", path],
                                      capture_output=True, text=True)
                check(lint.returncode == 0 or config == "web-config-complete",
                      "promtool check web-config %s: %s" % (config, lint.stdout + lint.stderr))
            tracer = Tracer(*args, json_out=False)
            job = re.sub(r"'[\w.]+:9815'", "'127.0.0.1:%d'" % port, b[scrape])
            if config == "web-config-complete":     # it has users too
                job = job.replace("    scheme: https\n", "    scheme: https\n    basic_auth:\n"
                                  "      username: prometheus\n"
                                  "      password_file: tcptrail.password\n")
            check(job != b[scrape], "no target in " + scrape)
            prom = Prometheus(port, scrape=job, files=files)
            try:
                wait_until(lambda: prom.query('up{job="tcptrail"} == 1'), 20,
                           "%s with %s to be up" % (config, scrape))
            except TestFailure:
                targets = prom._get("/api/v1/targets")[1]
                raise TestFailure("%s with %s: not up; Prometheus says %s" % (
                    config, scrape, re.findall(r'"lastError":"[^"]*"', targets)))
            finally:
                prom.stop()
            tracer.stop()
            check(not [l for l in tracer.stderr if "warning" in l.lower()],
                  "%s: %s" % (config, tracer.stderr))
        # the man page carries the same complete example
        man = re.sub(r".\x08", "", run(["mandoc", "-T", "ascii",
                                        os.path.join(ROOT, "dist", "tcptrail.8")]).stdout)
        man_lines = {l.strip() for l in man.splitlines()}
        missing = [l for l in b["web-config-complete"].splitlines() if l.strip() not in man_lines]
        check(not missing, "the man page's example lacks %s" % missing)
        # the hash the docs' command made opens the endpoint
        path = os.path.join(d, "made.yml")
        with open(path, "w") as f:
            f.write("basic_auth_users:\n  prometheus: '%s'\n" % made)
        port = free_port()
        tracer = Tracer("--metrics", "127.0.0.1:%d" % port, "--web-config", path, json_out=False)
        check(get(port, user="prometheus", password="typed password")[0] == 200,
              "the htpasswd hash does not open the endpoint")
        tracer.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
