#!/usr/bin/env python3
"""seeds.py: writes the seed corpora of fuzz_at and fuzz_link (tests/fuzz/corpus/).

The inputs of those targets are small programs (a header, then operations: see the
comments at the top of fuzz_at.c and fuzz_link.c); a seed that already reaches command
mode, a connection, a listener with clients or an HTTP exchange saves the fuzzer from
finding those by chance. Run it after changing either target's input format:
    tests/fuzz/seeds.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


# ---- fuzz_at: header h (bit0 fast, bit1 field dialect, bit2 line faults, bit3 ignore
# the budget, bits 4-6 speed index of 600/1200/9600/115200/460800, bit7 echo off), the
# timer's lateness, then operations.

def gap(k, nudge=2):  # 2 = exact
    return [k, nudge]


MS1, MS50, MS300, MS300P1, S1, S3, S3P1, C3, C4, C5 = 5, 6, 7, 8, 9, 10, 11, 2, 3, 4


def rx(text, k=MS1, nudge=2):
    out = []
    b = text.encode("latin-1")
    while b:
        piece, b = b[:16], b[16:]
        out += [((len(piece) - 1) << 4) | 0, *piece, *gap(k, nudge)]
    return out


def line(index, end=0):  # end 0 CR, 1 CR LF, 2 LF
    return [0x0F | (end << 4), index, *gap(MS1)]


HANDSHAKE = [14, *gap(S1), *gap(MS1), *gap(MS1), *gap(MS1)]

write("at", "handshake-commands",
      [0x30, 0] + HANDSHAKE + line(1) + line(9, 1) + line(10) + line(6) + line(3, 1)
      + rx("after entm") + [6, *gap(S1)])
write("at", "plus-edges",
      [0x30, 1] + [6, *gap(S1)] + rx("+", MS300) + rx("+", MS300P1) + [6, *gap(S1)]
      + rx("+", MS300, 1) + rx("+", MS300, 3) + rx("+", S3) + rx("a", S3P1)
      + rx("x+++a", C3) + [6, *gap(S1)])
BOOTED = [6, *gap(S1)]

write("at", "frame-gaps",
      [0x20, 0] + BOOTED + rx("frame one", C3) + rx("more", C4) + rx("edge", C5)
      + [5, 200, 200] + list(range(256)) + list(range(144)) + [*gap(C4)])
write("at", "fast-field-faults",
      [0x37, 2] + BOOTED + [9, 2] + rx("x") + HANDSHAKE + line(0) + line(7, 2) + line(11)
      + [7, 7] + HANDSHAKE + line(4) + [6, *gap(S3)])
write("at", "slow-pty-restart",
      [0x00, 0] + [8 | 0x20, 0, 3] + HANDSHAKE + line(6) + [8 | 0x10, 0] + line(4)
      + [13 | 0x10] + line(5) + [12] + [6, *gap(S3)])

# ---- fuzz_link: header h (bit0 fast, bit1 ignore the budget, bits 2-3 timer lateness,
# bit5 no host), four settings bytes a b d e (see configure() in fuzz_link.c), then
# operations of two bytes (op, sel) and their operands.

UP, DOWN, ACCEPT, DRAIN, SCALE, OPENRES, HOST, WAIT, READS, ATTACH, CMD, MISC = (
    4, 5, 6, 7, 8, 9, 10, 13, 15, 16, 17, 18)


def peer_raw(text, sel=0):
    b = text.encode("latin-1")
    return [0, sel, len(b), *b]


def op(kind, variant=0):
    return kind + 20 * variant


def peer_rfc(x=2, before=1, after=1, keep=7, sel=0, broken=False):
    op = 20 * (2 if broken else 1)
    out = [op, sel, x, before, after]
    if x & 0x80:
        out += [0x04, 0xB0]
    if broken:
        out += [3]
    return out + [keep]


def peer_http(index, start=0, length=0, sel=0):
    return [op(0, 3), sel, index, start, length]


def peer_big(n, sel=0):
    return [op(0, 4), sel, 7, n >> 8, n & 0xFF]


def host(text, sel_extra=0):
    b = text.encode("latin-1")
    return [HOST, len(b), *b, 5]  # gap index 5: 999 ms - 1 ns


def host_index(client, text):
    b = text.encode("latin-1")
    return [op(HOST, 1), len(b) * 10 + client, *b, 1 + 12]  # 1 ms exactly


def wait(k):
    return [WAIT, 0, k]


BASE_E = 0x20  # 115200

write("link", "tcpc-rfc",
      [0, 0, 0x02, 0, BASE_E, UP, 0] + peer_raw("hello") + peer_rfc() + peer_rfc(keep=3)
      + wait(3 + 12) + peer_rfc(broken=True) + host("to server") + [DOWN, 0] + wait(6 + 12)
      + [UP, 0] + host("again"))
write("link", "tcpc-short-reg-heart",
      [0, 0, 0x40, 0x1A, BASE_E, UP, 0] + host("open it") + [UP, 0] + peer_raw("reply")
      + wait(8 + 12) + host("x") + [UP, 0] + wait(10 + 12))
write("link", "tcps-indexen-kick",
      [0, 1, 0x01 | 0x04 | (1 << 3), 0, BASE_E, UP, 0, ACCEPT, 1, ACCEPT, 2, ACCEPT, 3]
      + peer_raw("from one", 0) + host_index(1, "to one") + host_index(9, "nobody")
      + [DOWN, 1] + peer_big(60000, 0) + peer_big(60000, 1) + [op(READS, 1), 0] + wait(1 + 12))
write("link", "udpc-stranger-heart",
      [0, 2, 0x02, 0x10, BASE_E, UP, 0] + peer_raw("from peer", 0x00) + peer_raw("stranger", 0x20)
      + peer_rfc(sel=0x10) + host("datagram") + wait(7 + 12) + wait(7 + 12))
write("link", "udps-last-sender",
      [0, 3 + 5, 0, 0, BASE_E, UP, 0] + peer_raw("hi", 0x20) + host("back") + peer_big(65000, 0)
      + [DOWN, 0] + wait(7 + 12) + [UP, 0])
write("link", "htpc-exchange",
      [0, 4, 0, 0x80, BASE_E | 1] + host("q=1") + [UP, 0] + peer_http(0) + host("q=2")
      + host("q=3") + [UP, 0] + peer_http(1, 0, 30) + peer_http(1, 30) + [UP, 0]
      + peer_http(2) + [DOWN, 0] + wait(10 + 12) + host("q=4") + [UP, 0] + peer_http(5))
write("link", "slow-peer-command-mode",
      [0, 0, 0, 0, BASE_E, UP, 0, SCALE, 3] + host("x" * 30) + [DRAIN, 0] + [CMD, 0]
      + peer_big(50000) + peer_big(50000) + [CMD, 2, CMD, 1] + [op(READS, 1), 0] + wait(6 + 12))
