"""Debian's chromium, headless, driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: no port, no websocket library). It records every
request the page makes, every console message and exception, and takes
screenshots; pixels are read back by a small PNG decoder, no imaging
library needed."""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

CHROMIUM = "/usr/bin/chromium"
# what this machine needs (closed network, root, no GPU): see the man page
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio"]


class BrowserError(Exception):
    pass


class Browser:
    def __init__(self):
        if not os.path.exists(CHROMIUM):
            raise BrowserError("%s is missing: make test installs Debian's chromium" % CHROMIUM)
        self.profile = tempfile.mkdtemp(prefix="tcptrail-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        # the browser reads commands on fd 3 and answers on fd 4
        def fds():
            # through spare numbers: a pipe end may already be 3 or 4, and
            # dup2() onto itself would leave it close-on-exec
            os.dup2(to_browser_r, 100)
            os.dup2(from_browser_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)
            os.close(100)
            os.close(101)
        self.proc = subprocess.Popen(
            [CHROMIUM] + FLAGS + ["--remote-debugging-pipe", "--user-data-dir=" + self.profile,
                                  "about:blank"],
            # dup2() leaves the copies open across exec; every other pipe
            # end is close-on-exec
            preexec_fn=fds, close_fds=False,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        if not page:
            page = [{"targetId": self.call("Target.createTarget", url="about:blank")["targetId"]}]
        self.session = self.call("Target.attachToTarget", targetId=page[0]["targetId"],
                                 flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(domain + ".enable", session=True)

    def _read(self, timeout):
        end = time.time() + timeout
        while b"\0" not in self.buf:
            if time.time() > end:
                raise BrowserError("chromium said nothing for %d s" % timeout)
            import select
            ready, _, _ = select.select([self.from_browser], [], [], 0.5)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed its pipe (exit %s)" % self.proc.poll())
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=False, timeout=60, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError("%s: %s" % (method, reply["error"]))
                return reply["result"]
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method, timeout=30):
        for i, ev in enumerate(self.events):
            if ev["method"] == method:
                return self.events.pop(i)
        end = time.time() + timeout
        while time.time() < end:
            ev = self._read(end - time.time())
            if ev.get("method") == method:
                return ev
            if "method" in ev:
                self.events.append(ev)
        raise BrowserError("no %s within %d s" % (method, timeout))

    def load(self, path):
        """Open a file:// page and wait until it is loaded and two frames
        have been drawn. Returns the milliseconds from the start of the
        navigation to that point, as the page's own clock measured it."""
        self.events = []
        self.call("Page.navigate", session=True, url="file://" + os.path.abspath(path))
        self.wait_event("Page.loadEventFired", 60)
        return self.eval("new Promise(r => requestAnimationFrame(() => "
                         "requestAnimationFrame(() => r(performance.now()))))")

    def eval(self, expr):
        res = self.call("Runtime.evaluate", session=True, expression=expr, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            raise BrowserError("page script failed: %s" % res["exceptionDetails"])
        return res["result"].get("value")

    def requests(self):
        return [ev["params"]["request"]["url"] for ev in self.events
                if ev["method"] == "Network.requestWillBeSent"]

    def console_errors(self):
        errs = []
        for ev in self.events:
            p = ev["params"]
            if ev["method"] == "Runtime.exceptionThrown":
                errs.append(str(p["exceptionDetails"]))
            elif ev["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                errs.append(str(p["args"]))
            elif ev["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                errs.append(p["entry"]["text"])
        return errs

    def screenshot(self, path, width=1280, height=None):
        """A PNG of the page at width CSS pixels, height (None: all of it)."""
        if height is None:
            height = int(self.eval("document.documentElement.scrollHeight"))
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width,
                  height=height, deviceScaleFactor=1, mobile=False)
        # what came into view (content-visibility) is drawn in the next frames
        self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        data = self.call("Page.captureScreenshot", session=True, format="png",
                         captureBeyondViewport=False)["data"]
        import base64
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except BrowserError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise BrowserError("%s is not a PNG" % path)
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise BrowserError("unexpected PNG layout %d/%d/%d" % (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return width, height, rows
