"""Every example in docs/*.md and in the man page's EXAMPLES is run here, as
written, and must print what the text around it says. An example without a
scenario below fails the suite, so none can be added untested."""
import glob
import gzip
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from lib import (LIVE, ROOT, TCPTRAIL, Netns, Peer, TestFailure, check, free_port,
                 kill_leftovers, leaking_server, listener, ndjson, ndjson_file, run, text_records,
                 wait_until)
from test_listen import ts_seconds
from test_metrics_tls import PASSWORD, Pki, bcrypt, get

# Every command a scenario runs ends within this, or fails it.
CMD_TIMEOUT = 60


def sh(cmd, **kw):
    return run(cmd, timeout=CMD_TIMEOUT, **kw)

PROMPT = re.compile(r"^[#$] (.+)$")


def example_of(cmd):
    """A command as the scenarios name it: the README's and docs' "sudo
    build/tcptrail ..." is the built binary run as root, as here."""
    if cmd.startswith("sudo "):
        cmd = cmd[5:]
    return "tcptrail" + cmd[len("build/tcptrail"):] if cmd.startswith("build/tcptrail") else cmd


def doc_examples():
    """{command: file} for every example: a line '# command' or '$ command'
    in a fenced block of docs/*.md; a .Dl line of the man page's EXAMPLES."""
    found = {}
    for path in [os.path.join(ROOT, "README.md")] + \
            sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        fenced, lang = False, ""
        for line in open(path):
            line = line.rstrip("\n")
            if line.startswith("```"):
                fenced, lang = not fenced, line[3:].strip()
            # a shell session's prompts; a query language's comments are not
            elif fenced and lang in ("", "sh", "console") and PROMPT.match(line):
                found.setdefault(example_of(PROMPT.match(line).group(1)),
                                 os.path.basename(path))
    man = open(os.path.join(ROOT, "dist", "tcptrail.8")).read()
    examples = man.split(".Sh EXAMPLES", 1)[1].split("\n.Sh ", 1)[0]
    cont = ""
    for line in examples.splitlines():
        if line.startswith(".Dl "):
            # a line ending in \e goes on in the next .Dl, indented by "\ "
            cmd = cont + line[4:].replace("\\ ", " ").strip()
            if cmd.endswith("\\e"):
                cont = cmd[:-2].rstrip() + " "
                continue
            cont = ""
            m = PROMPT.match(cmd)
            found.setdefault(m.group(1) if m else cmd, "tcptrail.8")
    return found


def argv(cmd):
    words = shlex.split(cmd)
    return [TCPTRAIL] + words[1:] if words[0] == "tcptrail" else words


class Running:
    """An example command running until stopped as its user would stop it
    (Ctrl-C), its standard output and error collected by threads (so that
    neither pipe fills)."""

    def __init__(self, cmd, cwd=None, settle=2.0):
        self.proc = subprocess.Popen(argv(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, cwd=cwd)
        LIVE.append(self.proc)
        self.out, self.err = [], []
        self.pumps = [threading.Thread(target=self._pump, args=(f, v), daemon=True)
                      for f, v in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self.pumps:
            t.start()
        time.sleep(settle)  # attached, and past the first sample
        if self.proc.poll() is not None:
            raise TestFailure("%s exited: %s" % (cmd, "".join(self.err)))

    @staticmethod
    def _pump(f, lines):
        for line in f:
            lines.append(line)

    def wait_for(self, text, timeout):
        """Until a line of its output holds text."""
        wait_until(lambda: any(text in l for l in list(self.out)), timeout,
                   "%r in the output" % text)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            raise TestFailure("did not stop on SIGINT")
        for t in self.pumps:
            t.join(5)
        out, err = "".join(self.out), "".join(self.err)
        check(self.proc.returncode == 0, "exit %d: %s" % (self.proc.returncode, err))
        return out, err


def talk(ns_client, addr, port, up=b"", comm=None):
    """One connection from a namespace (None: here) to addr:port, sending up."""
    code = ("import socket,sys\n"
            "s=socket.create_connection((%r,%d),timeout=5)\n"
            "s.sendall(%r)\ns.close()\n" % (addr, port, up))
    env = dict(os.environ)
    prefix = ["ip", "netns", "exec", ns_client] if ns_client else []
    if comm:
        code = ("import ctypes\nctypes.CDLL(None).prctl(15, %r, 0, 0, 0)\n" % comm.encode()) + code
    sh(prefix + ["python3", "-c", code], env=env)


def traced(cmd, servers, talks):
    """Run the example cmd while servers ((ns, addr, port) each) take the
    connections talks make ((ns, addr, port, data, comm) each); returns its
    standard output."""
    peers = [Peer(ns, "accept-all", addr, str(port), "8") for ns, addr, port in servers]
    for p in peers:
        p.expect("ready")
    tracer = Running(cmd)
    for ns, addr, port, data, comm in talks:
        talk(ns, addr, port, data, comm)
    time.sleep(0.8)
    out, _ = tracer.stop()
    for p in peers:
        p.send("exit")
        p.close()
    return out


def scenario_port_443():
    """--port 443: the connection to 443 shows from both ends (the client's
    remote port and the server's local port); one to 80 does not."""
    with Netns("ttdp", "192.0.2.1", "192.0.2.2") as ns:
        out = traced("tcptrail --port 443", [(ns.b, "192.0.2.2", 443), (ns.b, "192.0.2.2", 80)],
                     [(ns.a, "192.0.2.2", 443, b"", None), (ns.a, "192.0.2.2", 80, b"", None)])
    lines = text_records(out)
    hist = [l for l in lines if " history " in l]
    check(any(" active " in l and "192.0.2.2:443 " in l for l in hist) and
          any(" passive " in l and l.split()[4] == "192.0.2.2:443" for l in hist),
          "both ends of the :443 connection: %s" % hist)
    check(not any(":80 " in l for l in lines), "port 80 shown:\n" + out)


def scenario_json_metrics_and_promql():
    """JSON histories only, to tcptrail.json, metrics on 9815; a real
    Prometheus scrapes them and the man page's two queries answer: the
    leaking process by name, the listener dropping connections."""
    work = tempfile.mkdtemp(prefix="tcptrail-doc-")
    tracer = Running("tcptrail --json --no-states -o tcptrail.json --metrics 127.0.0.1:9815",
                     cwd=work)
    prom_port = free_port()
    conf = os.path.join(work, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "scrape_configs:\n  - job_name: tcptrail\n"
                "    static_configs: [{targets: ['127.0.0.1:9815']}]\n")
    prom = subprocess.Popen(["prometheus", "--config.file=" + conf,
                             "--storage.tsdb.path=" + os.path.join(work, "data"),
                             "--web.listen-address=127.0.0.1:%d" % prom_port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    LIVE.append(prom)
    port = free_port()
    leaker, _ = leaking_server(port, 3, comm="docleaker")
    full_port = free_port()
    full = Peer(None, "listen-only", "127.0.0.1", str(full_port), "1")
    full.expect("ready")
    clients = [socket.socket() for _ in range(8)]
    for c in clients:
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", full_port))

    def query(expr):
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (prom_port, urllib.parse.quote(expr))
        try:
            return json.load(urllib.request.urlopen(url, timeout=2))["data"]["result"]
        except OSError:
            return []
    leaked = 'sum by (comm) (tcptrail_close_wait_leaked_sockets) > 0'
    dropping = 'rate(tcptrail_listener_drops_total[5m]) > 0'
    got = {}

    def answered():
        got["leaked"], got["dropping"] = query(leaked), query(dropping)
        return got["leaked"] and got["dropping"]
    try:
        wait_until(answered, 60, "both queries to answer")
    except TestFailure as err:  # what they answered, once the wait is over
        raise TestFailure("%s: %s" % (err, got))
    finally:
        prom.terminate()
        prom.wait(10)
        for c in clients:
            c.close()
    out, _ = tracer.stop()
    recs = ndjson_file(os.path.join(work, "tcptrail.json"))
    shutil.rmtree(work, ignore_errors=True)
    check(any(r["metric"].get("comm") == "docleaker" and float(r["value"][1]) == 3
              for r in got["leaked"]), "leaked by comm: %s" % got["leaked"])
    check(any(r["metric"].get("lport") == str(full_port) for r in got["dropping"]),
          "dropping listeners: %s" % got["dropping"])
    check(any(r["type"] == "history" for r in recs) and
          not any(r["type"] == "state" for r in recs), "the JSON file's record types")
    leaker.send("exit")
    leaker.close()
    full.send("exit")
    full.close()


def scenario_metrics_tls():
    """--metrics 9815 with a web configuration as WEB CONFIGURATION shows it
    (TLS, a bcrypt user): the endpoint listens on every address and answers
    the user over TLS, and nobody without the password."""
    work = tempfile.mkdtemp(prefix="tcptrail-doc-")
    pki = Pki()
    got = {}

    def answered():
        try:
            got["user"] = get(9815, pki=pki, user="prometheus", password=PASSWORD)[:3:2]
            got["nobody"] = get(9815, pki=pki)[0]
        except OSError as err:
            got["error"] = repr(err)
            return False
        return True
    try:
        path = os.path.join(work, "web-config.yml")
        with open(path, "w") as f:
            f.write("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                    "basic_auth_users:\n  prometheus: '%s'\n"
                    % (pki.path("server.crt"), pki.path("server.key"), bcrypt(PASSWORD)))
        os.chmod(path, 0o600)
        tracer = Running("tcptrail --json -o tcptrail.json --metrics 9815 "
                         "--web-config web-config.yml", cwd=work)
        bound = sh(["ss", "-Hltn", "sport = :9815"]).stdout.split()
        try:
            wait_until(answered, 10, "the endpoint to answer over TLS")
        except TestFailure as err:
            raise TestFailure("%s: %s" % (err, got))
        tracer.stop()
        ndjson_file(os.path.join(work, "tcptrail.json"))
    finally:
        pki.remove()
        shutil.rmtree(work, ignore_errors=True)
    check(len(bound) >= 4 and bound[3] in ("0.0.0.0:9815", "*:9815", "[::]:9815"),
          "not on every address: %s" % bound)
    status, page = got["user"]
    check(status == 200 and "# TYPE tcptrail_" in page, "the user's scrape: %d" % status)
    check(got["nobody"] == 401, "without the password: HTTP %s" % got["nobody"])


def scenario_report():
    """A week's rotated JSON logs (one of them gzipped) and the recording of
    another run make one page, which lists the four inputs and counts every
    history they hold: the logs' and the recording's as replay gives them."""
    work = tempfile.mkdtemp(prefix="tcptrail-doc-")
    try:
        for cmd in ("tcptrail --json --no-states -o week.json", "tcptrail --record incident.ttr"):
            tracer = Running(cmd, cwd=work)
            srv, port = listener()
            srv.settimeout(5)
            for _ in range(4):
                talk(None, "127.0.0.1", port, b"hello")
                srv.accept()[0].close()
            time.sleep(0.8)
            tracer.stop()
            srv.close()
        lines = open(os.path.join(work, "week.json")).read().splitlines(True)
        third = len(lines) // 3
        with open(os.path.join(work, "tcptrail.json.2"), "w") as f:
            f.writelines(lines[:third])
        with gzip.open(os.path.join(work, "tcptrail.json.1.gz"), "wt") as f:
            f.writelines(lines[third:2 * third])
        with open(os.path.join(work, "tcptrail.json"), "w") as f:
            f.writelines(lines[2 * third:])
        res = subprocess.run(argv("tcptrail report tcptrail.json tcptrail.json.1.gz "
                                  "tcptrail.json.2 incident.ttr -o report.html"), cwd=work,
                             capture_output=True, text=True, timeout=CMD_TIMEOUT)
        check(res.returncode == 0, "report: %s" % res.stderr)
        replayed = subprocess.run(argv("tcptrail replay incident.ttr --json"), cwd=work,
                                  capture_output=True, text=True, timeout=CMD_TIMEOUT)
        check(replayed.returncode == 0, "replay: %s" % replayed.stderr)
        page = open(os.path.join(work, "report.html")).read()
        logged = ndjson("".join(lines), "the week's JSON log")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    want = sum(r["type"] == "history" for r in logged + ndjson(replayed.stdout))
    shown = re.search(r'id="card-histories" data-n="(\d+)"', page)
    check(shown and int(shown.group(1)) == want and want >= 16,
          "histories: page %s, inputs %d" % (shown and shown.group(1), want))
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", page.split('id="inputs"')[1].split("</table>")[0])
    check(sorted(rows) == [("incident.ttr", "recording"), ("tcptrail.json", "JSON lines"),
                           ("tcptrail.json.1.gz", "JSON lines, gzip"),
                           ("tcptrail.json.2", "JSON lines")], "inputs: %s" % rows)
    check("<script" not in page and "src=\"http" not in page, "the page is not self-contained")


def scenario_leaks():
    """tcptrail leaks lists the process holding CLOSE_WAIT sockets."""
    port = free_port()
    server, _ = leaking_server(port, 4, comm="docleaks")
    time.sleep(0.2)
    out = sh(argv("tcptrail leaks")).stdout
    rows = [l for l in out.splitlines() if "docleaks" in l]
    check(rows and str(server.proc.pid) in rows[0] and rows[0].split()[3] == "4",
          "leaks report:\n" + out)
    server.send("exit")
    server.close()


def scenario_leak_watch():
    """--leak-after 1 in the text view: one leak line for a process's 40
    CLOSE_WAIT sockets (not 40 lines), and a leak-end when it closes them."""
    port = free_port()
    server = Peer(None, "leak-serve", "127.0.0.1", str(port), "40", "4", comm="docleakw")
    server.expect("ready")
    watch = Running("tcptrail --leak-after 1 --no-states --no-histories", settle=1.5)
    for _ in range(40):
        socket.create_connection(("127.0.0.1", port)).close()
    server.expect("held")
    server.expect("closed", timeout=15)
    watch.wait_for("leak-end", 10)
    out, _ = watch.stop()
    server.send("exit")
    server.close()
    leaks = [l for l in out.splitlines() if " leak " in l and "docleakw" in l]
    ends = [l for l in out.splitlines() if " leak-end " in l and "docleakw" in l]
    check(len(leaks) == 1 and "40 sockets in CLOSE_WAIT" in leaks[0] and
          str(server.proc.pid) in leaks[0], "leak lines:\n" + out)
    check(len(ends) == 1 and "40 leaked sockets left CLOSE_WAIT" in ends[0],
          "leak-end lines:\n" + out)


def scenario_top(wide):
    """top shows a listener; -w every column."""
    srv, port = listener()
    cmd = "tcptrail top -w" if wide else "tcptrail top"
    top = Running(cmd, settle=2.5)
    out, _ = top.stop()
    srv.close()
    frame = out.split("\ntcptrail top ")[-1].splitlines()
    header = next((l for l in frame if l.startswith("NETNS")), None)
    check(header is not None, "no header:\n" + out)
    check(any("127.0.0.1:%d" % port in l for l in frame), "listener not shown:\n" + out)
    if wide:
        check("CONTAINER" in header and "OVERFLOW/s" in header, "wide header %r" % header)
    else:
        check(all(len(l) <= 100 for l in out.splitlines()), "not fitted to 100 columns")


def scenario_record_replay():
    """Record, then replay the recording: its histories come back as JSON."""
    work = tempfile.mkdtemp(prefix="tcptrail-doc-")
    rec = Running("tcptrail --record incident.ttr -d 60", cwd=work)
    srv, port = listener()
    srv.settimeout(5)
    for _ in range(3):
        talk(None, "127.0.0.1", port, b"hello")
        conn, _ = srv.accept()
        conn.close()
    time.sleep(0.5)
    rec.stop()
    srv.close()
    out = subprocess.run(argv("tcptrail replay incident.ttr --json"), cwd=work,
                         capture_output=True, text=True, timeout=60)
    shutil.rmtree(work, ignore_errors=True)
    check(out.returncode == 0, "replay: %s" % out.stderr)
    recs = ndjson(out.stdout, "the replay's JSON")
    hist = [r for r in recs if r["type"] == "history" and r["rport"] == port]
    check(len(hist) == 3 and all(h["payload_acked"] == 5 for h in hist),
          "replayed client histories: %s" % hist)


def scenario_comm_and_rport():
    """-c psql -D 5432: psql's connections to 5432 only."""
    with Netns("ttdc", "192.0.2.1", "192.0.2.2") as ns:
        out = traced("tcptrail --json --no-states -c psql -D 5432",
                     [(ns.b, "192.0.2.2", 5432), (ns.b, "192.0.2.2", 5433)],
                     [(ns.a, "192.0.2.2", 5432, b"q", "psql"), (ns.a, "192.0.2.2", 5432, b"q", "other"),
                      (ns.a, "192.0.2.2", 5433, b"q", "psql")])
    hist = [r for r in ndjson(out) if r["type"] == "history"]
    check(len(hist) == 1 and hist[0]["comm"] == "psql" and hist[0]["rport"] == 5432 and
          hist[0]["role"] == "active", "histories: %s" % hist)


def scenario_addr():
    """--addr 198.51.100.0/24: connections of that subnet, not others."""
    with Netns("ttda", "198.51.100.1", "198.51.100.2") as a, \
            Netns("ttdb", "192.0.2.1", "192.0.2.2") as b:
        out = traced("tcptrail --addr 198.51.100.0/24",
                     [(a.b, "198.51.100.2", 7400), (b.b, "192.0.2.2", 7400)],
                     [(a.a, "198.51.100.2", 7400, b"", None), (b.a, "192.0.2.2", 7400, b"", None)])
    lines = text_records(out)[1:]
    check(any(" history " in l and "198.51.100.2:7400" in l for l in lines),
          "the subnet's connection is missing:\n" + out)
    check(not any("192.0.2." in l for l in lines), "another subnet shown:\n" + out)


def scenario_no_such_cgroup():
    """--cgroup /no/such warns, and says nothing matched."""
    res = subprocess.run(argv("tcptrail --cgroup /no/such -d 1"), capture_output=True,
                         text=True, timeout=30)
    check(res.returncode == 0, "exit %d: %s" % (res.returncode, res.stderr))
    # docs/options.md shows it where cgroup2 is mounted at /sys/fs/cgroup
    mount = sh(["findmnt", "-nt", "cgroup2", "-o", "TARGET"]).stdout.split()[0]
    check("tcptrail: warning: --cgroup /no/such: no such cgroup under %s; "
          "nothing matches until it exists" % mount in res.stderr, "stderr %r" % res.stderr)
    check("the filters matched nothing" in res.stderr.splitlines()[-1], "last line %r"
          % res.stderr.splitlines()[-1])
    check(res.stdout.splitlines() == [res.stdout.splitlines()[0]], "records shown")


def eighteen_then_twenty_four(srv, port, pause=0.0):
    """One connection to srv: the client sends 18 bytes, the server answers
    24, the client closes first, then the server (after pause)."""
    srv.settimeout(5)
    cli = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn, _ = srv.accept()
    cli.sendall(b"x" * 18)
    conn.settimeout(5)
    conn.recv(100)
    conn.sendall(b"y" * 24)
    cli.recv(100)
    cli.close()
    conn.recv(100)
    time.sleep(pause)
    conn.close()


def scenario_text(cmd):
    """--no-states: histories only, with the payload sent; -w: one line each."""
    srv, port = listener()
    tracer = Running(cmd)
    eighteen_then_twenty_four(srv, port)
    time.sleep(0.8)
    out, _ = tracer.stop()
    srv.close()
    raw = out.splitlines()
    if cmd == "tcptrail -w":
        check(any(" state " in l for l in raw), "no state lines with -w")
        hist = [l for l in raw if " history " in l and ":%d " % port in l]
        check(len(hist) == 2 and all(len(l) > 160 for l in hist), "one line each: %s" % hist)
        return
    check(not any(l[13:].startswith("state ") for l in raw), "state lines shown")
    client = [i for i, l in enumerate(raw) if " history " in l and " active " in l and
              "127.0.0.1:%d " % port in l]
    check(len(client) == 1, "client history:\n" + out)
    first, second = raw[client[0]], raw[client[0] + 1]
    # the shape docs/text.md shows: how it ended, then payload and states
    check(first.endswith("ms") and second.startswith(" " * 13 + "tx=18 rx=") and
          "SYN_SENT" in second, "history lines %r %r" % (first, second))


def three_endings(srv, port, closed_port):
    """The README's run: a client that sends 18 bytes, gets 24 and closes
    first; a client aborted with SO_LINGER 0; a connect to a closed port."""
    eighteen_then_twenty_four(srv, port, pause=0.01)
    cli = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn, _ = srv.accept()
    cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    cli.close()
    time.sleep(0.01)
    conn.close()
    try:
        socket.create_connection(("127.0.0.1", closed_port), timeout=5)
    except ConnectionRefusedError:
        pass


def run_three_endings(cmd):
    """cmd's output over three_endings(), with the listener's and the
    closed port's numbers."""
    srv, port = listener()
    closed = free_port()
    tracer = Running(cmd, settle=1.5)
    three_endings(srv, port, closed)
    time.sleep(0.8)
    out, _ = tracer.stop()
    srv.close()
    return out, port, closed


def scenario_what_it_shows():
    """The README's text view: transitions, resets and the five histories
    with their endings, in close order."""
    out, port, closed = run_three_endings("tcptrail")
    lines = out.splitlines()
    mine = [l for l in lines if ":%d " % port in l or ":%d " % closed in l]
    want = ("active orderly", "passive orderly", "active rst_sent", "passive rst_received",
            "active refused")
    for w in want:
        check(sum(" history " in l and w in l for l in mine) == 1, "%s:\n%s" % (w, out))
    check(any(" rst-sent " in l and "reason=TCP_STATE" in l for l in mine) and
          any(" rst-recv " in l for l in mine), "resets:\n" + out)
    check(any("CLOSE -> SYN_SENT" in l for l in mine), "transitions:\n" + out)
    check(all(len(l) <= 160 for l in mine), "a line past 160 columns:\n" + out)


def scenario_what_it_shows_json():
    """The README's JSON: the client's history with its payload counts."""
    out, port, _ = run_three_endings("tcptrail --json --no-states")
    hist = [r for r in ndjson(out, "tcptrail --json") if r["type"] == "history" and
            r["rport"] == port and r["role"] == "active" and r["end"] == "orderly"]
    check(len(hist) == 1 and hist[0]["payload_acked"] == 18 and
          hist[0]["payload_received"] == 24 and hist[0]["closed_by"] == "local",
          "client history: %s" % hist)


def scenario_hping_flood():
    """The listeners.md example: hping3 with an answering sender; the
    tracer's alert within 3 s; ss -ltnm's d equals TcpExtEmbryonicRsts and
    TcpExtListenDrops is 0."""
    with NamedPair():
        server = Peer("server", "listen-only", "192.0.2.2", "8080", "128")
        server.expect("ready")
        tracer = Running("tcptrail --json --no-states --no-histories --port 8080")
        tracer.wait_for('"type":"listener"', 30)  # sampling: the baseline is taken
        start = time.time()
        flood = subprocess.Popen(["timeout", "3"] +
                                 argv("ip netns exec client hping3 -S -p 8080 --flood 192.0.2.2"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        LIVE.append(flood)
        flood.wait(10)
        time.sleep(1.5)
        out, _ = tracer.stop()
        alerts = [r for r in ndjson(out) if r["type"] == "alert"]
        starts = [a for a in alerts if a["alert"] == "syn_flood" and a["state"] == "start"]
        check(starts and "syn_rate" in starts[0]["causes"], "alerts %s" % alerts)
        delay = ts_seconds(starts[0]["ts"]) - start
        check(delay <= 3.0, "alert %.2f s after the flood began" % delay)
        ss = sh(argv("ip netns exec server ss -ltnm sport = :8080")).stdout
        nstat = sh(argv("ip netns exec server nstat -az TcpExtEmbryonicRsts "
                        "TcpExtListenDrops")).stdout
        d = int(re.search(r"\bd(\d+)\)", ss).group(1))
        counters = dict(re.findall(r"(TcpExt\w+)\s+(\d+)", nstat))
        check(d > 10000 and d == int(counters["TcpExtEmbryonicRsts"]) and
              counters["TcpExtListenDrops"] == "0", "ss %r nstat %r" % (ss, nstat))
        server.send("exit")
        server.close()


class NamedPair:
    """The namespaces `client` and `server` the listeners.md example names,
    joined by a veth pair."""

    def __enter__(self):
        self.cleanup()
        sh(["ip", "netns", "add", "client"])
        sh(["ip", "netns", "add", "server"])
        sh(["ip", "link", "add", "ttdocc", "netns", "client", "type", "veth", "peer", "name",
             "ttdocs", "netns", "server"])
        for ns, dev, addr in (("client", "ttdocc", "192.0.2.1"), ("server", "ttdocs", "192.0.2.2")):
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
            sh(["ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev])
            sh(["ip", "-n", ns, "link", "set", dev, "up"])
        return self

    def cleanup(self):
        for ns in ("client", "server"):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=CMD_TIMEOUT)

    def __exit__(self, *exc):
        self.cleanup()


SCENARIOS = [
    ({"tcptrail --port 443"}, scenario_port_443),
    ({"tcptrail --json --no-states -o tcptrail.json --metrics 127.0.0.1:9815",
      "sum by (comm) (tcptrail_close_wait_leaked_sockets) > 0",
      "rate(tcptrail_listener_drops_total[5m]) > 0"}, scenario_json_metrics_and_promql),
    ({"tcptrail --json -o tcptrail.json --metrics 9815 --web-config web-config.yml"},
     scenario_metrics_tls),
    ({"tcptrail report tcptrail.json tcptrail.json.1.gz tcptrail.json.2 incident.ttr "
      "-o report.html"}, scenario_report),
    ({"tcptrail leaks"}, scenario_leaks),
    ({"tcptrail"}, scenario_what_it_shows),
    ({"tcptrail --json --no-states"}, scenario_what_it_shows_json),
    ({"tcptrail --leak-after 1 --no-states --no-histories"}, scenario_leak_watch),
    ({"tcptrail top"}, lambda: scenario_top(False)),
    ({"tcptrail top -w"}, lambda: scenario_top(True)),
    ({"tcptrail --record incident.ttr -d 60", "tcptrail replay incident.ttr --json"},
     scenario_record_replay),
    ({"tcptrail --json --no-states -c psql -D 5432"}, scenario_comm_and_rport),
    ({"tcptrail --addr 198.51.100.0/24"}, scenario_addr),
    ({"tcptrail --cgroup /no/such -d 1"}, scenario_no_such_cgroup),
    ({"tcptrail --no-states"}, lambda: scenario_text("tcptrail --no-states")),
    ({"tcptrail -w"}, lambda: scenario_text("tcptrail -w")),
    ({"ip netns exec client hping3 -S -p 8080 --flood 192.0.2.2",
      "tcptrail --json --no-states --no-histories --port 8080",
      "ip netns exec server ss -ltnm sport = :8080",
      "ip netns exec server nstat -az TcpExtEmbryonicRsts TcpExtListenDrops"},
     scenario_hping_flood),
]


def test_every_example_has_a_scenario():
    found = doc_examples()
    covered = set().union(*(cmds for cmds, _ in SCENARIOS))
    missing = {c: f for c, f in found.items() if c not in covered}
    check(not missing, "examples no test runs: %s" % missing)
    stale = covered - set(found)
    check(not stale, "scenarios for examples no longer in the docs: %s" % stale)


def test_examples_print_what_they_claim():
    failures = []
    for cmds, fn in SCENARIOS:
        start = time.time()
        try:
            fn()
        except Exception as err:  # every scenario runs; all failures are said
            failures.append("%s: %s" % (sorted(cmds)[0], err))
        finally:
            kill_leftovers()  # what a failed scenario left running
        print("  docs example %r: %.1fs" % (sorted(cmds)[0], time.time() - start), flush=True)
    check(not failures, "; ".join(failures))
