#!/usr/bin/env python3
"""One end of a test connection, run inside a network namespace with
`ip netns exec`. Talks to the test driver line by line on stdin/stdout."""
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


def main():
    role, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if role == "serve":
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((addr, port))
        srv.listen(4)
        say("ready")
        conn, _ = srv.accept()
        say("accepted")
        wait_for("shutdown")
        conn.shutdown(socket.SHUT_WR)
        say("shut")
        drain_and_close(conn)
        srv.close()
        say("done")
    elif role == "connect":
        sock = socket.create_connection((addr, port), timeout=10)
        say("connected")
        wait_for("shutdown")
        sock.shutdown(socket.SHUT_WR)
        say("shut")
        drain_and_close(sock)
        say("done")
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
        # backlog-2 listener; two more were admitted at SYN time, wait long
        # enough for a SYN-ACK retransmit, then send into the full queue.
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
        time.sleep(1.5)
        for c in late:
            c.send(b"y")
        time.sleep(0.3)
        for c in first + late:
            c.close()
        srv.close()
        say("done")
    else:
        sys.exit("unknown role " + role)


if __name__ == "__main__":
    main()
