#!/usr/bin/env python3
"""One end of a test connection, run inside a network namespace with
`ip netns exec`. Talks to the test driver line by line on stdin/stdout."""
import os
import socket
import sys


def say(msg):
    print(msg, flush=True)


def wait_for(word):
    for line in sys.stdin:
        if line.strip() == word:
            return
    sys.exit(1)


def drain_and_close(sock):
    while sock.recv(4096):
        pass
    sock.close()


def listening(addr, port, backlog):
    """A listener; an IPv6 address makes a dual-stack one ("::" takes IPv4
    clients too, as v4-mapped addresses)."""
    if ":" in addr:
        srv = socket.socket(socket.AF_INET6)
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    else:
        srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(backlog)
    return srv


def accept_in_background(srv, handle):
    """Accept on srv in a thread until it is closed, handing each
    connection to handle."""
    import threading

    def accept_loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            handle(conn)
    threading.Thread(target=accept_loop, daemon=True).start()


def set_comm(name):
    """Take another process name (what the kernel calls comm): a str, or
    bytes (any but NUL)."""
    import ctypes
    PR_SET_NAME = 15
    raw = name if isinstance(name, bytes) else name.encode()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, ctypes.c_char_p(raw), 0, 0, 0)


def main():
    role, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if os.environ.get("PEER_COMM"):
        set_comm(os.environ["PEER_COMM"])
    if os.environ.get("PEER_COMM_HEX"):
        set_comm(bytes.fromhex(os.environ["PEER_COMM_HEX"]))
    if role == "serve":
        srv = listening(addr, port, 4)
        say("ready")
        conn, _ = srv.accept()
        say("accepted")
        wait_for("shutdown")
        conn.shutdown(socket.SHUT_WR)
        say("shut")
        drain_and_close(conn)
        srv.close()
        say("done")
    elif role in ("connect", "shut-close"):
        # shut-close: close() after shutdown() without waiting for the peer
        # sets the FIN_WAIT state the socket is in, and the tracepoint fires
        sock = socket.create_connection((addr, port), timeout=10)
        say("connected")
        wait_for("shutdown")
        sock.shutdown(socket.SHUT_WR)
        say("shut")
        if role == "connect":
            drain_and_close(sock)
            say("done")
        else:
            wait_for("close")
            sock.close()
            say("closed")
    elif role == "connect-silent":
        sock = socket.socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
        try:
            sock.connect((addr, port))
            say("connected")
        except OSError as err:
            say("error %d" % err.errno)
        sock.close()
    elif role == "defer-overflow":
        # TCP_DEFER_ACCEPT ignores bare handshake ACKs: a client's first data
        # does the third-ACK step. Two clients fill the accept queue of a
        # backlog-2 listener (it admits one more); two more were admitted at
        # SYN time, then send into it: the first still fits, the second's
        # data is dropped at ACK time, once. It is reset before its data is
        # retransmitted (RTO_MIN is 200 ms), and nothing sends a SYN after
        # the queue filled: every overflow counted is an ACK-time one.
        import struct
        import time
        srv = socket.socket()
        srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 5)
        srv.bind((addr, port))
        srv.listen(2)
        first = []
        for _ in range(2):
            c = socket.create_connection((addr, port), timeout=5)
            c.send(b"x")
            first.append(c)
        late = [socket.create_connection((addr, port), timeout=5) for _ in range(2)]
        time.sleep(0.2)
        for c in late:
            c.send(b"y")
        time.sleep(0.1)
        for c in first + late:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
        srv.close()
        say("done")
    elif role in ("leak-serve", "leak-self"):
        # A server that accepts and never closes after its peers close.
        # leak-serve: the test's clients connect from outside; leak-self: this
        # process connects and closes its own clients (one namespace, no
        # driver traffic). Optional 5th argument: close everything after that
        # many seconds.
        import resource
        import time
        count = int(sys.argv[4])
        close_after = float(sys.argv[5]) if len(sys.argv) > 5 else 0
        resource.setrlimit(resource.RLIMIT_NOFILE, (count + 1024, count + 1024))
        srv = listening(addr, port, 4096)
        say("ready")
        held = []
        for _ in range(count):
            if role == "leak-self":
                cli = socket.create_connection((addr, port))
            conn, peer = srv.accept()
            if role == "leak-self":
                cli.close()
            held.append((conn, peer[1]))
        say("held " + " ".join("%d:%d" % (c.fileno(), p) for c, p in held))
        if close_after:
            time.sleep(close_after)
            for c, _ in held:
                c.close()
            say("closed")
        wait_for("exit")
    elif role == "hold-shared":
        # One accepted socket held by count processes: this one and its
        # forks, which keep its name (the kernel copies comm at fork). Says
        # "held FD PID..." once every holder is up; the test's client then
        # closes, and the socket sits in CLOSE_WAIT with count holders.
        import signal
        count = int(sys.argv[4])
        srv = listening(addr, port, 4)
        say("ready")
        conn, _ = srv.accept()
        srv.close()
        up_r, up_w = os.pipe()
        kids = []
        for _ in range(count - 1):
            pid = os.fork()
            if pid == 0:
                os.close(up_r)
                os.write(up_w, b"x")
                signal.pause()
                os._exit(0)
            kids.append(pid)
        os.close(up_w)
        got = 0
        while got < count - 1:
            got += len(os.read(up_r, count))
        say("held %d %s" % (conn.fileno(), " ".join(map(str, [os.getpid()] + kids))))
        wait_for("exit")
        for pid in kids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        say("done")
    elif role == "listen-only":
        # A listener that never accepts: its queues fill and stay full.
        srv = listening(addr, port, int(sys.argv[4]))
        say("ready")
        wait_for("exit")
        srv.close()
    elif role == "accept-all":
        # A small-backlog server that accepts everything, as fast as it can.
        srv = listening(addr, port, int(sys.argv[4]))
        accept_in_background(srv, lambda conn: conn.close())
        say("ready")
        wait_for("exit")
        srv.close()
    elif role == "connect-many":
        # count clients connecting at once, without waiting for any; they
        # keep retrying their SYNs until told to close.
        count = int(sys.argv[4])
        socks = []
        for _ in range(count):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((addr, port))
            socks.append(s)
        say("started")
        wait_for("close")
        for s in socks:
            s.close()
        say("closed")
    elif role == "slow-accept":
        # Accept count connections, sleeping delay seconds before each
        # accept(), counted from when the first one is queued: each waits
        # in the accept queue meanwhile.
        import select
        import time
        count, delay = int(sys.argv[4]), float(sys.argv[5])
        srv = listening(addr, port, 16)
        say("ready")
        select.select([srv], [], [])
        for _ in range(count):
            time.sleep(delay)
            conn, _ = srv.accept()
            drain_and_close(conn)
        say("done")
        wait_for("exit")
        srv.close()
    elif role == "connect-n":
        # count clients at once; each waits for the server's close, then
        # closes (the server closes first: the driver watches the server).
        import threading
        count = int(sys.argv[4])
        socks = [socket.create_connection((addr, port), timeout=15) for _ in range(count)]
        say("connected")
        for s in socks:
            s.shutdown(socket.SHUT_WR)
        for s in socks:
            drain_and_close(s)
        say("done")
    elif role == "connect-close":
        # One client that connects and closes at once, before any accept:
        # with "rst" by an abortive close (SO_LINGER 0), with "fin" normally.
        import struct
        import time
        sock = socket.create_connection((addr, port), timeout=10)
        time.sleep(0.1)
        if sys.argv[4] == "rst":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        say("closed")
    elif role == "stream-serve":
        # Accept one client, read to its EOF, then send for seconds (a
        # chunk every 50 ms) and close: the client's half-closed span.
        import time
        secs = float(sys.argv[4])
        srv = listening(addr, port, 4)
        say("ready")
        for _ in range(int(sys.argv[5]) if len(sys.argv) > 5 else 1):
            conn, _ = srv.accept()
            while conn.recv(4096):
                pass
            end = time.time() + secs
            try:
                while time.time() < end:
                    conn.send(b"y" * 100)
                    time.sleep(0.05)
            except OSError:
                pass  # a client that closed without reading
            conn.close()
        say("done")
        wait_for("exit")
        srv.close()
    elif role == "half-close":
        # shutdown(SHUT_WR), read until the server's FIN, then close; with
        # "close", close at once after the request instead.
        sock = socket.create_connection((addr, port), timeout=10)
        sock.send(b"request")
        if sys.argv[4] == "shutdown":
            sock.shutdown(socket.SHUT_WR)
            drain_and_close(sock)
        else:
            sock.close()
        say("done")
    elif role == "idle-client":
        # A connected client whose peer is about to vanish. "keepalive":
        # SO_KEEPALIVE with 1 s idle, 1 s interval, 2 probes; "user": 2 s
        # TCP_USER_TIMEOUT, and data sent once the driver says "send".
        import errno
        import time
        mode = sys.argv[4]
        sock = socket.socket()
        if mode == "keepalive":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)
        else:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 2000)
        sock.connect((addr, port))
        say("connected")
        if mode != "keepalive":
            wait_for("send")
            sock.send(b"z" * 1000)
        start = time.time()
        sock.settimeout(30)
        try:
            sock.recv(100)
            say("error none")
        except OSError as err:
            say("error %d %.3f" % (err.errno or errno.ETIMEDOUT, time.time() - start))
        sock.close()
    elif role == "drain-serve":
        # Accept everything; read each connection to its EOF, then close:
        # the client closes first.
        import threading
        srv = listening(addr, port, 256)

        def serve(conn):
            try:
                drain_and_close(conn)
            except OSError:
                conn.close()
        accept_in_background(
            srv, lambda conn: threading.Thread(target=serve, args=(conn,), daemon=True).start())
        say("ready")
        wait_for("exit")
        srv.close()
    elif role == "bulk-read":
        # Accept one connection (SO_RCVBUF rcvbuf on the listener when not
        # 0: the child inherits it), read nbytes in chunk-sized reads with
        # a pause after each, answer "k", then close at the writer's EOF.
        import time
        nbytes, rcvbuf, chunk, pause = (int(sys.argv[4]), int(sys.argv[5]),
                                        int(sys.argv[6]), float(sys.argv[7]))
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        srv.bind((addr, port))
        srv.listen(4)
        say("ready")
        conn, _ = srv.accept()
        got = 0
        while got < nbytes:
            data = conn.recv(min(chunk, nbytes - got))
            if not data:
                break
            got += len(data)
            if pause:
                time.sleep(pause)
        conn.sendall(b"k")
        drain_and_close(conn)
        srv.close()
        say("done %d" % got)
    elif role == "bulk-send":
        # Connect (SO_SNDBUF sndbuf first when not 0, and the congestion
        # control named, if any), send nbytes as fast as the socket takes
        # them, wait for the reader's "k", say "drained <local port>", and
        # close when the driver says "close".
        nbytes, sndbuf = int(sys.argv[4]), int(sys.argv[5])
        sock = socket.socket()
        if sndbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        if len(sys.argv) > 6:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[6].encode())
        sock.connect((addr, port))
        block = b"x" * 65536
        left = nbytes
        while left > 0:
            left -= sock.send(block[:min(left, len(block))])
        sock.settimeout(60)
        check = sock.recv(1)
        say("drained %d %s" % (sock.getsockname()[1], check.decode() or "eof"))
        wait_for("close")
        sock.close()
        say("closed")
    elif role == "churn":
        # count short connections at rate per second, one at a time;
        # "client-first": connect and close; "server-first": connect, wait
        # for the server's close, then close. Counts connects that fail
        # with EADDRNOTAVAIL and says when the first one did (wall clock).
        import errno
        import time
        count, rate, mode = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
        ok = failed = 0
        first = None
        for _ in range(count):
            start = time.time()
            sock = socket.socket()
            try:
                sock.connect((addr, port))
                ok += 1
                if mode == "server-first":
                    sock.settimeout(5)
                    while sock.recv(100):
                        pass
            except OSError as err:
                if err.errno != errno.EADDRNOTAVAIL:
                    raise
                failed += 1
                if first is None:
                    first = start
            sock.close()
            time.sleep(max(0, 1.0 / rate - (time.time() - start)))
        say("done ok=%d failed=%d first_fail=%s" % (ok, failed,
                                                   "%.6f" % first if first else "none"))
    elif role == "leak-first":
        # Hold the first connection open forever (it sits in CLOSE_WAIT once
        # its client closes); read the second to its EOF and close it.
        srv = listening(addr, port, 16)
        say("ready")
        held, _ = srv.accept()
        say("held")
        conn, _ = srv.accept()
        drain_and_close(conn)
        say("done")
        wait_for("exit")
        held.close()
        srv.close()
    elif role == "reuse-port":
        # Two connections from the namespace's one local port: the first
        # closed at once (the server holds its end), the second made once
        # the first's own end is gone, then closed in order.
        import time
        first = socket.create_connection((addr, port), timeout=10)
        lport1 = first.getsockname()[1]
        first.close()
        time.sleep(float(sys.argv[4]))
        start = time.time()
        second = socket.create_connection((addr, port), timeout=10)
        took = time.time() - start
        lport2 = second.getsockname()[1]
        second.shutdown(socket.SHUT_WR)
        drain_and_close(second)
        say("done %d %d %.3f" % (lport1, lport2, took))
    elif role == "hold-many":
        # count connects as fast as they go, each held open; those that
        # find no local port (EADDRNOTAVAIL) are counted. Closed on "exit".
        import errno
        import time
        count = int(sys.argv[4])
        held, failed, first = [], 0, None
        for _ in range(count):
            sock = socket.socket()
            try:
                sock.connect((addr, port))
                held.append(sock)
            except OSError as err:
                if err.errno != errno.EADDRNOTAVAIL:
                    raise
                failed += 1
                first = first or time.time()
                sock.close()
        say("done ok=%d failed=%d first_fail=%s" % (len(held), failed,
                                                   "%.6f" % first if first else "none"))
        wait_for("exit")
        for sock in held:
            sock.close()
    else:
        sys.exit("unknown role " + role)


if __name__ == "__main__":
    main()
