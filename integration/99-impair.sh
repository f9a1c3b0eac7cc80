#!/usr/bin/env bash
# 99-impair: an impaired network, end to end with real sockets. UDP: 30% loss drops about
# that share of 300 datagrams each way (6 sigma), and the same seed drops the same ones
# (from the network, where each datagram is one draw whatever the timing); a delay of 0.3 s makes each datagram arrive at least that late, both ways;
# a rate of 20000 bytes/s from the network spreads 60 KB over at least 2.5 s (a lower
# bound: the emulator cannot be early; upper bounds are only the generous timeouts).
# TCP: a reset now meets the server as ECONNRESET and the device dials again.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

export M0_CONTROL=$T/ctl
PORTS=$(free_ports udp 2)
PEER=$(sed -n 1p <<<"$PORTS") LOCAL=$(sed -n 2p <<<"$PORTS")
flash_write "AT+SOCK=UDPC,192.168.0.201,$PEER" "AT+SOCKPORT=$LOCAL"
net_py_bg "$PEER" "$LOCAL" <<'PY'
import socket, sys, time
from m0net import *
from ctl import CONTROL, Control
peer_port, local = int(sys.argv[1]), int(sys.argv[2])
peer = Udp(peer_port, "peer")
ready()
wait_event("net.listening")
tty = Tty()
c = Control()
c.ok("subscribe")

def send_numbered(n):
    """n datagrams from the host, one per frame (fast timing: a write is a frame)."""
    for i in range(n):
        tty.write(b"%04d" % i)
        time.sleep(0.003)

def received(timeout=1.0):
    got = []
    peer.sock.settimeout(timeout)
    try:
        while True:
            d, _ = peer.sock.recvfrom(65536)
            got.append(d)
    except socket.timeout:
        pass
    peer.sock.settimeout(TIMEOUT)
    return got

# Loss toward the network: about that share.
c.ok("net.fault", dir="to_net", loss=0.3, seed=21)
send_numbered(300)
got = received()
c.ok("net.fault", dir="to_net")
expect, sigma = 300 * 0.7, (300 * 0.3 * 0.7) ** 0.5
log(f"loss 30% to the network: {len(got)} of 300 datagrams arrived (expected {expect:.0f} +- {sigma:.1f})")
if abs(len(got) - expect) > 6 * sigma:
    raise Fail(f"{len(got)} datagrams arrived, expected about {expect:.0f}")
if sorted(got) != got:
    raise Fail("datagrams out of order")

# Loss from the network, seeded: twice the same datagrams lost (each datagram is one
# draw, however the host reads them).
runs = []
for run in range(2):
    base = c.ok("status")["counters"]["net_rx"]
    c.ok("net.fault", dir="from_net", loss=0.3, seed=21)
    for i in range(300):
        peer.send(b"%04d" % i, local)
        time.sleep(0.001)  # the kernel's receive buffer must not drop any
    deadline = time.monotonic() + TIMEOUT  # every datagram in (counted before the loss)
    while c.ok("status")["counters"]["net_rx"] < base + 1200:
        if time.monotonic() > deadline:
            raise Fail("the device did not receive the 300 datagrams")
        time.sleep(0.02)
    c.ok("net.fault", dir="from_net", loss=0.0)
    peer.send(b"#END", local)
    buf = b""
    while not buf.endswith(b"#END"):
        buf += tty.read_some(what="the datagrams that came through")
    runs.append([buf[i:i + 4] for i in range(0, len(buf) - 4, 4)])
kept = len(runs[0])
log(f"loss 30% from the network: {kept} of 300 datagrams reached the host")
if abs(kept - expect) > 6 * sigma:
    raise Fail(f"{kept} datagrams reached the host, expected about {expect:.0f}")
if runs[0] != runs[1]:
    raise Fail("the same seed did not lose the same datagrams")
st = c.ok("status")["faults"]
if st["net"]["from_net"] is not None:
    raise Fail(f"the fault was cleared: {st['net']}")

# Delay both ways.
c.ok("net.fault", dir="both", delay_s=0.3)
t = time.monotonic()
tty.write(b"late up")
d, _ = peer.recv("the delayed datagram")
up = time.monotonic() - t
t = time.monotonic()
peer.send(b"late down", local)
tty.expect(b"late down", "tty: the delayed datagram")
down = time.monotonic() - t
log(f"delay 0.3 s: up {up:.3f} s, down {down:.3f} s")
if d != b"late up" or up < 0.29 or down < 0.29:
    raise Fail(f"delay not applied: {d!r} up {up:.3f} down {down:.3f}")
c.ok("clear", fault="net")

# Rate from the network: 60 datagrams of 1000 bytes at 20000 bytes/s.
c.ok("net.fault", dir="from_net", rate=20000)
t = time.monotonic()
for i in range(60):
    peer.send(bytes([65 + i % 26]) * 1000, local)
    time.sleep(0.001)
got = tty.read_exact(60_000, "the rate-limited datagrams")
took = time.monotonic() - t
log(f"rate 20000 B/s: 60000 bytes in {took:.2f} s")
if took < 2.5:
    raise Fail(f"60000 bytes at 20000 bytes/s came in {took:.2f} s")
c.ok("clear")
PY
m0_start --control "$M0_CONTROL"
net_py_wait
m0_stop

# TCP: a reset now.
P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+SOCKPORT=0"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
from ctl import CONTROL, Control
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
wait_event("net.connected")
c = Control()
if c.ok("net.reset") != {"reset": 1}:
    raise Fail("net.reset did not reset one connection")
server.sock.setblocking(True)
server.sock.settimeout(TIMEOUT)
try:
    b = server.sock.recv(100)
    raise Fail(f"server: got {b!r} where the connection should be reset")
except ConnectionResetError:
    pass
accept(listener, "server after the reset")
wait_event("net.connected", 2)
PY
m0_start --control "$M0_CONTROL"
net_py_wait
m0_stop
