"""tcptrail as root among hostile paths and files: planted links and FIFOs,
two names for one file, a full disk, recordings from strangers, and the
capabilities it keeps while tracing."""
import os
import random
import re
import resource
import shutil
import socket
import stat
import struct
import subprocess
import tempfile
import time

from lib import ROOT, TCPTRAIL, Tracer, check, listener, ndjson, run, wait_until

NOBODY = 65534


def tcptrail(*args, timeout=30, **kw):
    return subprocess.run([TCPTRAIL] + list(args), capture_output=True, text=True,
                          timeout=timeout, **kw)


def one_sentence(p, needle, what):
    lines = p.stderr.strip().splitlines()
    check(p.returncode != 0, "%s: exit 0" % what)
    check(len(lines) == 1 and needle in lines[0], "%s: stderr %r" % (what, p.stderr))


class WorldWritable:
    """A sticky world-writable directory, like /tmp, where a plain user
    plants things for root to trip over."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="tcptrail-hostile-")
        os.chmod(self.path, 0o1777)
        return self

    def plant(self, name, fn):
        """Have nobody create name with fn(path) in a child process."""
        path = os.path.join(self.path, name)
        pid = os.fork()
        if pid == 0:
            try:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                fn(path)
                os._exit(0)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        check(os.waitstatus_to_exitcode(status) == 0, "could not plant %s" % name)
        return path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def test_planted_link_or_fifo_is_never_written():
    secret = tempfile.mkstemp(prefix="tcptrail-secret-")[1]
    with open(secret, "w") as f:
        f.write("root only\n")
    os.chmod(secret, 0o600)
    try:
        with WorldWritable() as d:
            link = d.plant("out", lambda p: os.symlink(secret, p))
            for args in (["-o", link], ["--record", link, "-o", os.devnull]):
                p = tcptrail(*args, "-d", "0.2")
                one_sentence(p, "symbolic link", " ".join(args))
            fifo = d.plant("fifo", lambda p: os.mkfifo(p, 0o666))
            start = time.time()
            p = tcptrail("-o", fifo, "-d", "0.2", timeout=10)
            one_sentence(p, "FIFO", "-o fifo")
            check(time.time() - start < 5, "blocked on the FIFO")
            planted = d.plant("rec", lambda p: open(p, "w").close())
            p = tcptrail("--record", planted, "-d", "0.2")
            one_sentence(p, "already exists", "--record over a planted file")
        with open(secret) as f:
            check(f.read() == "root only\n", "the root-only file was written")
    finally:
        os.unlink(secret)


def test_recording_is_new_and_private():
    d = tempfile.mkdtemp(prefix="tcptrail-rec-")
    try:
        rec = os.path.join(d, "r.rec")
        tracer = Tracer("--record", rec)
        tracer.stop()
        mode = stat.S_IMODE(os.stat(rec).st_mode)
        check(mode == 0o600, "recording mode %o" % mode)
    finally:
        shutil.rmtree(d)


def test_two_names_for_one_file_are_refused():
    d = tempfile.mkdtemp(prefix="tcptrail-names-")
    try:
        f = os.path.join(d, "f")
        p = tcptrail("--record", f, "-o", os.path.join(d, ".", "f"), "-d", "0.2")
        one_sentence(p, "same file", "--record f -o ./f")
        os.unlink(f)
        tracer = Tracer("--record", f)
        tracer.stop()
        size = os.path.getsize(f)
        p = tcptrail("replay", f, "--json", "-o", os.path.join(d, "..", os.path.basename(d), "f"))
        one_sentence(p, "also the output", "replay F -o F")
        check(os.path.getsize(f) == size, "the recording grew")
    finally:
        shutil.rmtree(d)


def test_full_disk_leaves_whole_lines():
    d = tempfile.mkdtemp(prefix="tcptrail-full-")
    run(["mount", "-t", "tmpfs", "-o", "size=256k", "tcptrail-full", d])
    try:
        out = os.path.join(d, "out.json")
        proc = subprocess.Popen([TCPTRAIL, "--json", "-o", out, "-d", "20"],
                                stderr=subprocess.PIPE, text=True)
        srv, port = listener(backlog=1024)
        deadline = time.time() + 20
        while proc.poll() is None and time.time() < deadline:
            for _ in range(50):
                c = socket.create_connection(("127.0.0.1", port))
                a, _ = srv.accept()
                c.close()
                a.close()
        srv.close()
        err = proc.communicate(timeout=20)[1]
        check(proc.returncode == 1, "exit %s with a full disk" % proc.returncode)
        lines = [l for l in err.strip().splitlines() if not l.startswith("tcptrail: 0 ")]
        check(any("failed to write output" in l and "No space left" in l for l in lines),
              "stderr %r" % err)
        data = open(out, "rb").read()
        check(data and data.endswith(b"\n"), "the file ends mid-line: %r" % data[-80:])
        ndjson(data, "the output on a full disk")
    finally:
        run(["umount", d])
        os.rmdir(d)


def readme_capabilities():
    """The capabilities README.md says a tracing tcptrail keeps."""
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text.split("## Privileges", 1)[1].split("\n## ", 1)[0]
    return sorted(set(re.findall(r"`(CAP_[A-Z_]+)`", section.split("Kept:", 1)[1]
                                 .split("\n\n", 1)[0])))


CAP_NUMBERS = {"CAP_DAC_READ_SEARCH": 2, "CAP_SYS_PTRACE": 19, "CAP_SYS_ADMIN": 21,
               "CAP_PERFMON": 38, "CAP_BPF": 39}


def test_only_listed_capabilities_while_tracing():
    listed = readme_capabilities()
    check(listed, "README lists no capabilities")
    want = sum(1 << CAP_NUMBERS[c] for c in listed)
    for args in ([], ["top", "-o", os.devnull]):
        tracer = Tracer(*args) if not args else None
        if tracer is None:
            proc = subprocess.Popen([TCPTRAIL] + args, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(2)
            pid = proc.pid
        else:
            pid = tracer.proc.pid
        status = open("/proc/%d/status" % pid).read()
        fields = dict(l.split(":\t", 1) for l in status.splitlines() if ":\t" in l)
        for key in ("CapEff", "CapPrm", "CapBnd"):
            check(int(fields[key], 16) == want, "%s %s %s, README lists %s"
                  % (args or "trace", key, fields[key].strip(), listed))
        check(fields["CapInh"].strip("0\n") == "" and fields["NoNewPrivs"].strip() == "1",
              "inheritable %s, no_new_privs %s" % (fields["CapInh"], fields["NoNewPrivs"]))
        if tracer:
            tracer.stop()
        else:
            proc.terminate()
            proc.wait(10)


def make_recording():
    path = tempfile.mktemp(suffix=".rec")
    tracer = Tracer("--record", path)
    srv, port = listener()
    for _ in range(5):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = srv.accept()
        c.close()
        a.close()
    srv.close()
    time.sleep(0.2)
    tracer.stop()
    return path


def replay_limited(path):
    """Replay under a 1 GiB address-space limit: memory must stay bounded."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    return subprocess.run([TCPTRAIL, "replay", path, "--json", "-o", os.devnull],
                          capture_output=True, text=True, timeout=60, preexec_fn=limit)


def test_hostile_recordings_get_one_sentence():
    good = make_recording()
    data = open(good, "rb").read()
    header = 56
    p = replay_limited(good)
    check(p.returncode == 0, "the good recording: %s" % p.stderr)
    frames = []
    off = header
    while off < len(data):
        ftype, flen = struct.unpack_from("<II", data, off)
        frames.append(off)
        off += 8 + flen
    first_event = next(f for f in frames if struct.unpack_from("<I", data, f)[0] == 1)
    rnd = random.Random(1)

    def patched(offset, fmt, value):
        d = bytearray(data)
        struct.pack_into(fmt, d, offset, value)
        return bytes(d)
    cases = {
        "cut mid-frame": data[:frames[len(frames) // 2] + 5],
        "cut at a frame boundary": data[:frames[len(frames) // 2]],
        "huge frame length": patched(frames[1] + 4, "<I", 1600000000),
        "huge table": patched(32, "<I", 0xffffffff),
        "clock far in the past": patched(24, "<q", -(1 << 62)),
        "clock far in the future": patched(24, "<q", (1 << 63) - 1),
        "event in the year 2200": patched(first_event + 8, "<Q", 1 << 63),
    }
    for i in range(20):
        d = bytearray(data)
        pos = rnd.randrange(header, len(d))
        d[pos] ^= 1 << rnd.randrange(8)
        cases["bit flip %d at %d" % (i, pos)] = bytes(d)
    for name, content in cases.items():
        path = tempfile.mktemp(suffix=".rec")
        with open(path, "wb") as f:
            f.write(content)
        p = replay_limited(path)
        os.unlink(path)
        err = [l for l in p.stderr.strip().splitlines()
               if not re.match(r"tcptrail: (\d+ records|replayed)", l)]
        check(p.returncode == 1 and len(err) == 1, "%s: exit %d, stderr %r"
              % (name, p.returncode, p.stderr))
        if name == "cut at a frame boundary":
            check("did not exit cleanly" in err[0], "%s: %r" % (name, err))
    os.unlink(good)
