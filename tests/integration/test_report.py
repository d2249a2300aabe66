"""tcptrail report in a real browser (Debian's chromium, headless): the page
loads from file:// with no request and no console error, its figures equal
what the JSON says (expectations computed here from the JSON), hostile
strings stay text, a real SYN flood and a real leak become alert spans and
leak owners, and a 10-million-record input still gives a small page that
renders quickly."""
import calendar
import gzip
import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time

from browser import Browser, png_pixels
from lib import (ROOT, TCPTRAIL, Netns, Peer, Tracer, check, free_port, leaking_server,
                 listener, netns_inode)
from test_listen import SYNFLOOD, sysctl, wait_record
from test_replay import scenario as replay_scenario

GOLDEN = os.path.join(ROOT, "tests", "golden", "v5.rec")
SCREENSHOT = os.path.join(ROOT, "docs", "report.png")
# a comm as a real process can have it (15 bytes), and strings from a log
HOSTILE_COMM = "<script>leaky"
HOSTILE = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">"


def ts_ns(ts):
    """RFC 3339 with nanoseconds -> ns since 1970, exactly."""
    whole, frac = ts.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) * 10**9 + \
        int(frac.ljust(9, "0"))


def report(*args, expect_rc=0, cwd=None):
    p = subprocess.run([TCPTRAIL, "report"] + list(args), capture_output=True, text=True,
                       timeout=600, cwd=cwd)
    check(p.returncode == expect_rc, "report exited %d (wanted %d): %s"
          % (p.returncode, expect_rc, p.stderr))
    return p


def replay_json(rec):
    p = subprocess.run([TCPTRAIL, "replay", rec, "--json"], capture_output=True, timeout=120)
    check(p.returncode == 0, "replay failed: %s" % p.stderr)
    return [json.loads(l) for l in p.stdout.decode().splitlines()]


def load_checked(b, page):
    """Load page; no request but the page itself, no console error."""
    ms = b.load(page)
    urls = b.requests()
    check(urls == ["file://" + os.path.abspath(page)], "requests made: %s" % urls)
    errors = b.console_errors()
    check(not errors, "console errors: %s" % errors)
    check(b.eval("document.querySelectorAll('script').length") == 0, "a script element")
    check(b.eval("typeof window.pwned") == "undefined", "hostile markup ran")
    return ms


def dom_counts(b, table):
    return b.eval("Object.fromEntries([...document.querySelectorAll('#%s tr[data-type]')]"
                  ".map(r => [r.dataset.type, +r.querySelector('[data-n]').dataset.n]))" % table)


def check_counts(b, records, bad):
    want = {}
    for r in records:
        want[r["type"]] = want.get(r["type"], 0) + 1
    got = dom_counts(b, "counts")
    for t, n in want.items():
        check(got.get(t) == n, "%s: page says %s, the JSON has %d" % (t, got.get(t), n))
    check(all(n == 0 or t in want for t, n in got.items()), "counts %s, JSON %s" % (got, want))
    check(b.eval("+document.getElementById('bad-count').dataset.n") == bad,
          "bad lines: page %s, wanted %d" % (b.eval("document.getElementById('bad-count')"
                                                    ".dataset.n"), bad))
    ends = {}
    for r in records:
        if r["type"] == "history":
            ends[r["end"]] = ends.get(r["end"], 0) + 1
    got = b.eval("Object.fromEntries([...document.querySelectorAll('#ends tr[data-end]')]"
                 ".map(r => [r.dataset.end, +r.querySelector('[data-n]').dataset.n]))")
    check(got == ends, "ends: page %s, JSON %s" % (got, ends))
    hist = [r for r in records if r["type"] == "history"]
    if hist:
        longest = max(r["duration_ns"] for r in hist)
        first = b.eval("+document.querySelector('#slowest-table tr[data-id]').dataset.duration")
        check(first == longest, "slowest: page %s, JSON %d" % (first, longest))


def check_screenshot(path, min_charts_area=0.05):
    w, h, rows = png_pixels(path)
    colours, inked = set(), 0
    for row in rows[::4]:
        for px in row[::4]:
            colours.add(px)
            if px not in ((255, 255, 255), (245, 246, 248)):
                inked += 1
    share = inked / ((h // 4 + 1) * (w // 4 + 1))
    check(len(colours) > 50 and share > min_charts_area,
          "screenshot looks blank: %d colours, %.1f%% inked" % (len(colours), 100 * share))
    # the charts' blue (accept queue, first series) is drawn somewhere
    check(any(abs(px[0] - 0x3f) < 12 and abs(px[1] - 0x6f) < 12 and abs(px[2] - 0xd1) < 12
              for row in rows for px in row[::2]), "no chart colour in the screenshot")


def hostile_lines():
    """Records as a forged or odd log may hold them, and lines that are not
    records; returns (lines, how many are bad)."""
    good = [
        {"type": "listener", "ts": "2026-11-22T07:30:30.100000000Z", "listener_id": 77,
         "family": "ipv4", "laddr": "10.9.9.9", "lport": 8443, "netns": 1, "pid": 42,
         "comm": HOSTILE, "cgroup": "/" + HOSTILE, "acceptq_len": 3, "acceptq_max": 128,
         "synq_len": 18446744073709551615, "synq_max": 4294967296, "drops_delta": 1,
         "synack_retrans_delta": 0, "alerts": []},
        {"type": "from_a_newer_tcptrail", "ts": "2026-11-22T07:30:30.200000000Z", "x": [1]},
        {"type": "close_wait_leak", "ts": "2026-11-22T07:30:31.000000000Z", "id": 99,
         "laddr": "10.9.9.9", "lport": 8443, "raddr": "10.9.9.8", "rport": 1, "netns": 1,
         "close_wait_ns": 5000000000, "age_lower_bound": False, "pid": 43,
         "comm": HOSTILE[:15], "fd": 7, "owners": [{"pid": 43, "comm": HOSTILE[:15], "fd": 7}],
         "process_leaks": 1},
    ]
    lines = [json.dumps(r, separators=(",", ":")) for r in good]
    bad = [b"this is not json", b'{"type":"state","ts":"2026-11-22T07:30:30Z"', b'{"ts":1}',
           b'{"type":"state","ts":"2026-11-22T07:30:30Z","comm":"\xff\xfe"}',
           b'{"type":"state","ts":"not a time"}', b"[1,2,3]",
           b'{"type":"x","ts":"2026-11-22T07:30:30Z","s":"\\ud800"}']
    return [l.encode() for l in lines] + bad, len(bad), good


def test_report_known_input_in_browser():
    """The golden recording's JSON (a real run) cut into three rotated
    pieces, the middle one compressed, given out of order, with forged and
    broken lines, and the recording itself: every figure the page shows
    equals the count in the JSON."""
    work = tempfile.mkdtemp(prefix="tcptrail-report-")
    try:
        records = replay_json(GOLDEN)
        lines = [json.dumps(r, separators=(",", ":")).encode() for r in records]
        extra, nbad, forged = hostile_lines()
        third = len(lines) // 3
        pieces = [lines[:third] + extra, lines[third:2 * third], lines[2 * third:]]
        paths = [os.path.join(work, "tcptrail.json.2"), os.path.join(work, "tcptrail.json.1.gz"),
                 os.path.join(work, "tcptrail.json")]
        with open(paths[0], "wb") as f:
            f.write(b"\n".join(pieces[0]) + b"\n")
        with gzip.open(paths[1], "wb") as f:
            f.write(b"\n".join(pieces[1]) + b"\n")
        with open(paths[2], "wb") as f:
            f.write(b"\n".join(pieces[2]))	# the live piece: its last line unfinished
        page = os.path.join(work, "report.html")
        report(paths[2], paths[1], paths[0], GOLDEN, "-o", page)
        # what the JSON says: the pieces, the forged records, and the
        # recording replayed (the same records again)
        want = records + forged + records
        with Browser() as b:
            load_checked(b, page)
            check_counts(b, want, nbad)
            # hostile strings are there, as text
            texts = b.eval("[...document.querySelectorAll('h3.listener, #leak-procs td.comm')]"
                           ".map(e => e.textContent)")
            check(any(HOSTILE in t for t in texts), "listener owner not shown as text: %s"
                  % texts)
            check(any(HOSTILE[:15] in t for t in texts), "leak owner not shown as text")
            rows = b.eval("[...document.querySelectorAll('#inputs tr')].length")
            check(rows == 5, "inputs table has %d rows" % rows)
            ratio = b.eval("document.querySelector('#inputs').textContent")
            check("gzip" in ratio and "recording" in ratio, "inputs: %s" % ratio)
            shot = b.screenshot(os.path.join(work, "known.png"), height=2000)
            check_screenshot(shot)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def leak_owner_rows(b):
    return b.eval("[...document.querySelectorAll('#oldest tr[data-id]')].map(r => ({id: "
                  "r.dataset.id, pid: +r.dataset.pid, owner: r.querySelector('.owner')"
                  ".textContent, fds: r.querySelector('.fds').textContent}))")


def check_leak_rows(rows, leaks):
    """Each leak record's socket is listed with its owner and descriptors."""
    by_id = {str(r["id"]): r for r in leaks}
    check(len(rows) == min(20, len(by_id)), "%d oldest rows for %d leaks" % (len(rows), len(by_id)))
    for row in rows:
        rec = by_id.get(row["id"])
        check(rec is not None, "a leak row %s that no record names" % row["id"])
        check(row["pid"] == rec["pid"] and rec["comm"] in row["owner"]
              and str(rec["pid"]) in row["owner"], "owner %s, record %s" % (row, rec))
        want = ", ".join("%d:%d" % (o["pid"], o["fd"]) for o in rec["owners"][:4])
        check(row["fds"].startswith(want), "descriptors %r, record %s" % (row["fds"], want))


def traffic(count):
    """count connections to a loopback server, each a small exchange after a
    short wait: histories with handshakes, accept waits and durations."""
    srv, port = listener(backlog=128)
    for i in range(count):
        cli = socket.create_connection(("127.0.0.1", port))
        time.sleep(0.001 * (i % 7))
        conn, _ = srv.accept()
        cli.sendall(b"x" * (100 + i))
        conn.recv(4096)
        time.sleep(0.002 * (i % 5))
        (cli if i % 3 else conn).close()
        (conn if i % 3 else cli).close()
    srv.close()


def test_report_of_syn_flood_and_leak():
    """One live run: the suite's spoofed SYN flood against a backlog-64
    listener in a namespace, a server that leaks five sockets (its comm
    "<script>leaky"), and the replay scenario's resets and refusal. The
    JSON log becomes a report whose alert spans are the alert records' and
    whose leak owners are the leak records'; the recording becomes one whose
    leak owners match too. The page of the JSON log is README's screenshot."""
    work = tempfile.mkdtemp(prefix="tcptrail-report-")
    rec = os.path.join(work, "run.rec")
    log = os.path.join(work, "run.json")
    try:
        with Netns("ttrp", "192.0.2.1", "192.0.2.2") as ns:
            run_ip = ["ip", "-n", ns.b]
            subprocess.run(run_ip + ["neigh", "add", "192.0.2.254", "lladdr",
                                     "02:00:00:00:00:fe", "dev", ns.vb, "nud", "permanent"],
                           check=True)
            subprocess.run(run_ip + ["route", "add", "198.51.100.0/24", "via", "192.0.2.254"],
                           check=True)
            sysctl(ns.b, "net.ipv4.tcp_synack_retries", 1)
            server = Peer(ns.b, "listen-only", "192.0.2.2", "7211", "64")
            server.expect("ready")
            inum = netns_inode(ns.b)
            tracer = Tracer("--leak-after", "1", "--record", rec, out=log)
            wait_record(tracer, "netns", 5, "a namespace baseline", netns=inum)
            port = free_port()
            leaky, _ = leaking_server(port, 5, comm=HOSTILE_COMM)
            replay_scenario()
            traffic(60)
            flood = subprocess.run(["ip", "netns", "exec", ns.a, "python3", SYNFLOOD,
                                    "192.0.2.2", "7211", "3", "400", "198.51.100.0:1"],
                                   capture_output=True, text=True, timeout=30)
            check(flood.returncode == 0, "flood failed: " + flood.stderr)
            wait_record(tracer, "alert", 20, "the syn_flood alert to clear",
                        alert="syn_flood", state="clear", lport=7211)
            time.sleep(1.2)
            tracer.stop()
            with open(log, "w") as f:	# Tracer.stop() removed it: keep it for report
                f.write(tracer.text)
            leaky.send("exit")
            leaky.close()
            server.send("exit")
            server.close()
        records = tracer.parse_json()
        alerts = [r for r in records if r["type"] == "alert" and r.get("lport") == 7211]
        leaks = [r for r in records if r["type"] == "close_wait_leak" and r["lport"] == port]
        check(len(leaks) == 5 and all(r["comm"] == HOSTILE_COMM for r in leaks),
              "leak records %s" % leaks)
        check(alerts, "no alert records for the flooded listener")

        page = os.path.join(work, "report.html")
        # relative names: the page shows the command as README quotes it
        said = report("run.json", "-o", "report.html", cwd=work).stderr
        check(re.fullmatch(r"tcptrail: report of %d records \(0 bad lines\) from 1 inputs in "
                           r"[0-9.]+ s, page [0-9.]+ KiB in [0-9.]+ s; peak memory \d+ MiB\n"
                           % len(records), said), "report said %r" % said)
        with Browser() as b:
            load_checked(b, page)
            check_counts(b, records, 0)
            spans = b.eval("[...document.querySelectorAll('#alerts tr[data-alert]')]"
                           ".filter(r => r.querySelector('.where').textContent"
                           ".endsWith(':7211')).map(r => "
                           "[r.dataset.alert, r.dataset.start, r.dataset.end])")
            starts = [r for r in alerts if r["state"] == "start"]
            clears = [r for r in alerts if r["state"] == "clear"]
            want = [[s["alert"], str(ts_ns(s["ts"])), str(ts_ns(c["ts"]))]
                    for s, c in zip(starts, clears)]
            check(len(starts) == len(clears) and sorted(spans) == sorted(want),
                  "alert spans on the page %s, in the records %s" % (spans, want))
            shaded = b.eval("[...document.querySelectorAll('svg rect.span')]"
                            ".map(r => r.dataset.alert)")
            check("syn_flood" in shaded, "no shaded syn_flood span: %s" % shaded)
            heads = b.eval("[...document.querySelectorAll('h3.listener')].map(h => "
                           "h.dataset.addr)")
            check("192.0.2.2:7211" in heads, "flooded listener not drawn: %s" % heads)
            rows = leak_owner_rows(b)
            check_leak_rows(rows, [r for r in records if r["type"] == "close_wait_leak"])
            check({str(r["id"]) for r in leaks} <= {r["id"] for r in rows},
                  "the leaked sockets are not all listed: %s" % rows)
            ms = load_checked(b, page)
            os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
            b.screenshot(SCREENSHOT, width=1280, height=3000)
            check_screenshot(SCREENSHOT)

        # the recording: connections only, the same records replay prints
        rpage = os.path.join(work, "rec.html")
        report(rec, "-o", rpage)
        replayed = replay_json(rec)
        rleaks = [r for r in replayed if r["type"] == "close_wait_leak" and r["lport"] == port]
        check(sorted(r["id"] for r in rleaks) == sorted(r["id"] for r in leaks),
              "the recording's leaks differ from the live ones")
        with Browser() as b:
            load_checked(b, rpage)
            check_counts(b, replayed, 0)
            rows = leak_owner_rows(b)
            check_leak_rows(rows, [r for r in replayed if r["type"] == "close_wait_leak"])
            check({str(r["id"]) for r in rleaks} <= {r["id"] for r in rows},
                  "the recording's leaked sockets are not all listed: %s" % rows)
        print("    report of the live run rendered in %.0f ms" % ms)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fullest_log(path, n_listeners=300, n_dests=300, n_procs=300, seconds=3600):
    """A JSON log made to fill every table and every bin of the page: more
    listeners, destinations and leaking processes than it keeps, samples in
    every interval, alerts starting and clearing, the longest names."""
    base = 1795257600
    longname = "x" * 15
    with open(path, "w") as f:
        for s in range(0, seconds, 15):
            ts = "%s.000000000Z" % time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + s))
            for i in range(n_listeners):
                f.write(json.dumps({
                    "type": "listener", "ts": ts, "listener_id": i + 1, "family": "ipv6",
                    "laddr": "2001:db8:ffff:ffff:ffff:ffff:ffff:%x" % i, "lport": 1 + i,
                    "netns": 4026531840 + i, "pid": 100000 + i, "comm": longname,
                    "acceptq_len": (s + i) % 4097, "acceptq_max": 4096, "synq_len": s % 65536,
                    "synq_max": 65536, "drops_delta": i, "synack_retrans_delta": s,
                    "alerts": []}) + "\n")
                if s % 120 == 0:
                    f.write(json.dumps({
                        "type": "alert", "ts": ts, "alert": "syn_flood",
                        "state": "start" if s % 240 == 0 else "clear", "listener_id": i + 1,
                        "laddr": "2001:db8::1", "lport": 1 + i, "netns": 4026531840 + i,
                        "duration_ms": 120000}) + "\n")
            for i in range(n_dests if s % 60 == 0 else 0):
                f.write(json.dumps({
                    "type": "ports", "ts": ts, "family": "ipv4", "netns": 1,
                    "laddr": "10.0.%d.%d" % (i // 250, i % 250), "raddr": "10.1.0.1",
                    "rport": 443, "in_use": 20000 + s, "time_wait": 8000, "range": 28231,
                    "tw_reusable": False, "connect_failures_delta": i % 7}) + "\n")
            for i in range(n_procs if s % 60 == 0 else 0):
                f.write(json.dumps({
                    "type": "close_wait_leak", "ts": ts, "id": s * 1000 + i, "laddr": "10.0.0.1",
                    "lport": 80, "raddr": "10.0.0.2", "rport": 1000 + i, "netns": 1,
                    "close_wait_ns": 30000000000, "age_lower_bound": False, "pid": 200000 + i,
                    "comm": longname, "fd": 1000 + s,
                    "owners": [{"pid": 200000 + i, "comm": longname, "fd": 1000 + s}] * 64,
                    "owners_not_listed": 100000, "process_leaks": s // 60}) + "\n")
            for i in range(40):
                f.write(json.dumps({
                    "type": "history", "ts": ts, "id": s * 100 + i, "family": "ipv6",
                    "laddr": "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", "lport": 65535,
                    "raddr": "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "rport": 65535,
                    "role": ["active", "passive"][i % 2],
                    "states": ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSING",
                               "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "SYN_RECV", "CLOSE"],
                    "durations_ns": [10**(i % 12)] * 9 + [None],
                    "start": ts, "duration_ns": 10**(i % 12) * 9 + s,
                    "end": ["orderly", "refused", "rst_received", "keepalive_timeout"][i % 4],
                    "handshake_ns": 10**(i % 13), "accept_wait_ns": 10**(i % 11),
                    "half_close_ns": 1000, "pid": 1, "comm": longname}) + "\n")


def test_report_scale():
    """Size and rendering time at scale: a recording of 10.2 million records
    (gen_journal: 1.7 million connections, five transitions and a history
    each) and a log made to fill every table and bin of the page. Each page
    must stay under 5 MB and render in under 2 s."""
    gen = os.path.join(os.path.dirname(TCPTRAIL), "gen_journal")
    check(os.path.exists(gen), "%s is missing (make test builds it)" % gen)
    work = tempfile.mkdtemp(prefix="tcptrail-report-")
    try:
        rec = os.path.join(work, "big.rec")
        subprocess.run([gen, "1700000", rec], check=True, timeout=300)
        full = os.path.join(work, "full.json")
        fullest_log(full)
        figures = []
        with Browser() as b:
            for name, inputs in (("10.2 M-record recording", [rec]), ("fullest log", [full])):
                page = os.path.join(work, "page.html")
                start = time.time()
                p = report(*inputs, "-o", page)
                took = time.time() - start
                size = os.path.getsize(page)
                mem = re.search(r"peak memory (\d+) MiB", p.stderr).group(1)
                times = [load_checked(b, page) for _ in range(3)]
                ms = sorted(times)[1]
                records = int(re.search(r"report of (\d+) records", p.stderr).group(1))
                figures.append("%s: %d records in %.1f s (peak %s MiB), page %.0f KiB, "
                               "rendered in %.0f ms (median of 3)"
                               % (name, records, took, mem, size / 1024, ms))
                print("    " + figures[-1], flush=True)
                check(size < 5 * 1024 * 1024, "page of %d bytes" % size)
                check(ms < 2000, "rendering took %.0f ms" % ms)
                charts = b.eval("document.querySelectorAll('svg.chart').length")
                check(charts >= 3, "only %d charts" % charts)
                if name == "fullest log":
                    check(b.eval("document.querySelectorAll('h3.listener').length") == 8,
                          "listeners drawn beyond the top 8")
                    # RM_MAX_SPANS records kept: about half as many spans,
                    # 500 listed
                    check(b.eval("document.querySelectorAll('#alerts tr').length") == 501
                          and b.eval("!!document.getElementById('alerts-not-listed')"),
                          "the alerts table is not at its limit")
                else:
                    check(records >= 10000000, "only %d records" % records)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_report_hostile_files():
    """Damage inside a file is shown on the page, never fatal; what cannot
    be read at all, and outputs that are not plain files, get one
    sentence."""
    work = tempfile.mkdtemp(prefix="tcptrail-report-")
    try:
        data = open(GOLDEN, "rb").read()
        cut = os.path.join(work, "cut.rec")
        open(cut, "wb").write(data[:len(data) // 2])
        broken_gz = os.path.join(work, "broken.json.gz")
        packed = gzip.compress(b'{"type":"lost","ts":"2026-11-22T07:30:30Z","count":1,'
                               b'"total":1,"cause":"ring_full"}\n' * 5000)
        open(broken_gz, "wb").write(packed[:len(packed) // 2])
        garbage = os.path.join(work, "garbage")
        # random bytes, but always the same: never by chance gzip's magic
        open(garbage, "wb").write(b"\0" + random.Random(7).randbytes(100000))
        page = os.path.join(work, "r.html")
        report(cut, broken_gz, garbage, "-o", page)
        with Browser() as b:
            load_checked(b, page)
            notes = b.eval("document.querySelector('#inputs').textContent")
            check(notes.count("ends early") == 2, "damage not shown: %s" % notes)
            bad = b.eval("+document.getElementById('bad-count').dataset.n")
            check(bad > 0, "garbage gave no bad lines")
            lost = b.eval("+document.querySelector('#lost tr[data-type=ring_full] [data-n]')"
                          ".dataset.n")
            check(0 < lost < 5000, "lost records read from the broken piece: %s" % lost)
        fifo = os.path.join(work, "fifo")
        os.mkfifo(fifo)
        link = os.path.join(work, "link.html")
        os.symlink(os.path.join(work, "victim"), link)
        for args, needle in (([os.path.join(work, "missing")], "cannot open input"),
                             ([fifo], "not a regular file"),
                             ([garbage, "-o", link], "symbolic link"),
                             ([garbage, "--since", "yesterday"], "RFC 3339"),
                             ([garbage, "--listener", "host:80"], "ADDR:PORT"),
                             ([], "at least one input")):
            p = subprocess.run([TCPTRAIL, "report"] + args + (["-o", page] if "-o" not in args
                                                               else []),
                               capture_output=True, text=True, timeout=30)
            check(p.returncode in (1, 2) and needle in p.stderr and
                  len(p.stderr.strip().splitlines()) <= 2, "%s: %d %r" % (args, p.returncode,
                                                                          p.stderr))
        check(not os.path.exists(os.path.join(work, "victim")), "wrote through a link")
        # the window: only records at or after --since
        records = replay_json(GOLDEN)
        times = sorted(ts_ns(r["ts"]) for r in records)
        mid = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(times[len(times) // 2] // 10**9))
        since_ns = calendar.timegm(time.strptime(mid, "%Y-%m-%dT%H:%M:%S")) * 10**9
        report(GOLDEN, "--since", mid + "Z", "-o", page)
        with Browser() as b:
            load_checked(b, page)
            check_counts(b, [r for r in records if ts_ns(r["ts"]) >= since_ns], 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
