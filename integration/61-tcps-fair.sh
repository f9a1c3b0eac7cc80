#!/usr/bin/env bash
# 61-tcps-fair: a TCP server with MAXSK=8 (set by AT) serves its clients in turn. Five
# clients send continuously, each its own byte value, while the host reads the tty as
# fast as it can (--timing fast): over a 4 s window each client's share of what the host
# got is within 0.5/N..1.5/N (0.1..0.3). The bound is loose on purpose (CPU noise on a
# shared machine must not fail it); the policy itself is exact on the virtual clock
# (tests/unit/test_fair.c). Before the fix one client took most of the UART and two got
# nothing. Nothing is lost: every byte the host reads is one of the five values.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,127.0.0.1,$P" "AT+SOCKPORT=$P"
m0_start
net_py "$P" <<'PY'
import sys, threading, time
from m0net import *
port = int(sys.argv[1])
N, WARM, WINDOW = 5, 1.0, 4.0
wait_event("net.listening")
tty = Tty()
tty.handshake()
tty.at("AT+MAXSK=8", "\r\n+ok\r\n")
tty.at("AT+Z", "\r\n+ok\r\n")
wait_event("ready", 2)
wait_event("net.listening", 2)

clients = [tcp_connect(port, f"client {i + 1}") for i in range(N)]
wait_event("net.connected", N, where={"accepted": True})
values = [0x41 + i for i in range(N)]  # client i sends only values[i]
stop = threading.Event()
errors = []

def sender(c, v):
    chunk = bytes([v]) * 65536
    c.sock.setblocking(True)
    c.sock.settimeout(0.5)
    try:
        while not stop.is_set():
            try:
                c.sock.send(chunk)
            except socket.timeout:
                pass
    except BaseException as e:
        if not stop.is_set():
            errors.append(e)

threads = [threading.Thread(target=sender, args=(c, v), daemon=True)
           for c, v in zip(clients, values)]
for t in threads:
    t.start()

counts = {v: 0 for v in values}
total = 0
start = time.monotonic()
measuring = False
while True:
    now = time.monotonic()
    if not measuring and now >= start + WARM:
        measuring, counts, total = True, {v: 0 for v in values}, 0
    if now >= start + WARM + WINDOW:
        break
    b = tty.read_some(what="the host reading the clients' bytes")
    if not b:
        raise Fail("tty: end of stream")
    got = {v: b.count(bytes([v])) for v in values}
    if sum(got.values()) != len(b):
        raise Fail(f"tty: bytes no client sent: {show(b)}")
    for v in values:
        counts[v] += got[v]
    total += len(b)
stop.set()
if errors:
    raise errors[0]
shares = [counts[v] / total for v in values]
log(f"window {WINDOW:g} s: {total} bytes ({total / WINDOW / 1e6:.1f} MB/s), shares "
    + " ".join(f"{s:.3f}" for s in shares))
if total < 1_000_000:
    raise Fail(f"only {total} bytes in {WINDOW:g} s: too few for shares to mean anything")
for i, s in enumerate(shares):
    if not 0.5 / N <= s <= 1.5 / N:
        raise Fail(f"client {i + 1} got {s:.3f} of the UART, want {0.5 / N:.2f}..{1.5 / N:.2f}"
                   f" (shares {[round(x, 3) for x in shares]})")
for t in threads:
    t.join(5)
for c in clients:
    c.close()
tty.close()
PY
m0_stop
