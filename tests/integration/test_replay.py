"""--record and replay: offline reconstruction must equal the live one."""
import os
import socket
import struct
import subprocess
import tempfile
import time

from lib import TCPTRAIL, Tracer, check, free_port, leaking_server, listener, ndjson


def scenario():
    srv, port = listener()
    for linger in (False, True, False):
        cli = socket.create_connection(("127.0.0.1", port))
        conn, _ = srv.accept()
        cli.sendall(b"x" * 100)
        conn.recv(100)
        if linger:
            cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        cli.close()
        try:
            conn.recv(10)
        except ConnectionResetError:
            pass
        conn.close()
    srv.close()
    refused = socket.socket()
    try:
        refused.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        pass
    refused.close()


def replay(path, *args):
    p = subprocess.run([TCPTRAIL, "replay", path] + list(args), capture_output=True,
                       timeout=60)
    return p


def test_replay_equals_live():
    rec = tempfile.mktemp(suffix=".rec")
    for json_out in (True, False):
        tracer = Tracer("--record", rec, "--leak-after", "1", json_out=json_out)
        port = free_port()
        leaky, _ = leaking_server(port, 3)
        scenario()
        time.sleep(1.6)
        tracer.stop()
        leaky.send("exit")
        leaky.close()
        live = tracer.text
        check(("close_wait_leak" if json_out else " leak ") in live, "no leak in the live run")
        check("history" in live, "no history in the live run")
        p = replay(rec, *(["--json"] if json_out else []))
        check(p.returncode == 0, "replay exited %d: %s" % (p.returncode, p.stderr))
        out = p.stdout.decode()
        if json_out:
            ndjson(p.stdout, "replay --json")
            # listener samples are live only: the recording holds connections
            sampled = ('"type":"listener"', '"type":"netns"', '"type":"alert"')
            check('"type":"listener"' in live, "no listener samples in the live run")
            live = "".join(l for l in live.splitlines(True)
                           if not l.startswith(tuple("{" + t for t in sampled)))
            check(out == live, "replayed JSON differs from live:\n%s\n---\n%s"
                  % (live[:2000], out[:2000]))
        else:
            # the live text view prints its header before the first record
            check(out == live, "replayed text differs from live")
        summary = [l for l in p.stderr.decode().splitlines() if "histories" in l]
        check(summary, "no summary from replay")
        os.unlink(rec)	# a recording is always a new file


def test_replay_rejects_bad_files():
    good = tempfile.mktemp(suffix=".rec")
    tracer = Tracer("--record", good)
    scenario()
    time.sleep(0.2)
    tracer.stop()
    data = open(good, "rb").read()
    cases = {
        "missing": (None, "cannot open recording"),
        "garbage": (b"hello, this is not a recording at all" * 3, "not a tcptrail recording"),
        "empty": (b"", "not a tcptrail recording"),
        "truncated": (data[:len(data) - 50], "ends inside a frame"),
        "future": (data[:8] + struct.pack("<I", 99) + data[12:], "version 99"),
    }
    for name, (content, needle) in cases.items():
        path = tempfile.mktemp(suffix=".rec")
        if content is not None:
            with open(path, "wb") as f:
                f.write(content)
        p = replay(path)
        err = p.stderr.decode()
        check(p.returncode == 1, "%s: exit %d" % (name, p.returncode))
        check(needle in err and len(err.splitlines()) == 1, "%s: stderr %r" % (name, err))
        if content is not None:
            os.unlink(path)
    os.unlink(good)


GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden")


def test_old_recording_replays_byte_for_byte():
    """tests/golden/v5.rec: a format-5 recording of real traffic (IPv4 and
    IPv6, data, a reset, a half-close, an accept wait, a CLOSE_WAIT leak,
    a refused connect, snapshots) made by the tracer at commit b073926,
    with its replay output beside it: as that version printed it, but for
    the deliberate changes of issue 33 (the text view in time order, wrapped
    at 160 characters, with payload bytes and leak lines in the columns;
    JSON's byte counters named seq_acked and seq_received, beside the
    payload), for the delivery keys histories gained (all null: a
    format-5 recording holds no delivery facts), and for the close() after
    a shutdown(), which that version took for a FIN_WAIT2 -> FIN_WAIT2
    transition (a state record, and FIN_WAIT2 twice in the history).
    Every later version must replay it to the same bytes, in both views."""
    rec = os.path.join(GOLDEN, "v5.rec")
    for view, args in (("json", ["--json"]), ("text", [])):
        p = subprocess.run([TCPTRAIL, "replay", rec] + args, capture_output=True, timeout=60,
                           env=dict(os.environ, TZ="UTC"))
        check(p.returncode == 0, "replay of %s exited %d: %s" % (rec, p.returncode, p.stderr))
        want = open(os.path.join(GOLDEN, "v5." + view), "rb").read()
        if view == "json":
            ndjson(p.stdout, "replay --json of the golden recording")
        check(len(want) > 5000, "golden %s output is too small to prove anything" % view)
        check(p.stdout == want, "%s replay differs from the recorded version's:\n%s"
              % (view, "".join(l for l in __import__("difflib").unified_diff(
                  want.decode().splitlines(True), p.stdout.decode().splitlines(True), n=0))[:3000]))
