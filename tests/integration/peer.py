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
    else:
        sys.exit("unknown role " + role)


if __name__ == "__main__":
    main()
