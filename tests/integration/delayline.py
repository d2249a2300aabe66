#!/usr/bin/env python3
"""A wire with a fixed one-way delay between two network namespaces, for
the tests: netem is absent and so is the fq qdisc an earliest-departure-time
delay needs, so packets go through userspace instead. A tun device in each
namespace (addresses given); every packet read from A's is written to B's
delay_ms later, and B's to A's at once.

    delayline.py NS_A ADDR_A NS_B ADDR_B DELAY_MS

Says "ready" once both ends are up, runs until stdin closes."""
import collections
import ctypes
import fcntl
import os
import select
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454ca
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    fd = os.open("/run/netns/" + ns if ns else "/proc/1/ns/net", os.O_RDONLY)
    if LIBC.setns(fd, CLONE_NEWNET) != 0:
        sys.exit("setns %s: %s" % (ns, os.strerror(ctypes.get_errno())))
    os.close(fd)


def tun_in(ns, name, addr, peer):
    """Open tun device name in ns, addressed addr with peer at the far end."""
    enter(ns)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    for cmd in (["ip", "addr", "add", addr, "peer", peer, "dev", name],
                ["ip", "link", "set", name, "mtu", "1500", "up"]):
        subprocess.run(cmd, check=True)
    return fd


def main():
    ns_a, addr_a, ns_b, addr_b, delay_ms = sys.argv[1:6]
    delay = float(delay_ms) / 1000.0
    a = tun_in(ns_a, "tdl0", addr_a, addr_b)
    b = tun_in(ns_b, "tdl1", addr_b, addr_a)
    queue = collections.deque()	# (due, packet) from A to B, in order
    print("ready", flush=True)
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 1.0
        ready, _, _ = select.select([a, b, sys.stdin], [], [], timeout)
        if sys.stdin in ready and not sys.stdin.readline():
            return
        if a in ready:
            while True:
                try:
                    queue.append((time.monotonic() + delay, os.read(a, 65536)))
                except BlockingIOError:
                    break
        if b in ready:
            while True:
                try:
                    os.write(a, os.read(b, 65536))
                except BlockingIOError:
                    break
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            try:
                os.write(b, queue.popleft()[1])
            except BlockingIOError:
                pass	# the far end's queue is full: a drop, as a wire would


if __name__ == "__main__":
    main()
