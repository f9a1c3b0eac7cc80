#!/usr/bin/env bash
# 24-tcps-maxsk-keep: a TCP server with MAXSK clients connected and TCPSE=keep refuses
# the next one (accepts and closes it: net.refused, reason "full") and keeps serving the
# clients it has, both ways. A slot freed by a client leaving takes a newcomer again.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,127.0.0.1,$P" "AT+SOCKPORT=$P" "AT+MAXSK=2" "AT+TCPSE=keep"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.listening")
tty = Tty()

def connect(name, n):
    c = tcp_connect(port, name)
    wait_event("net.connected", where={"accepted": True, "peer": f"127.0.0.1:{c.port}"})
    if count("net.connected", {"accepted": True}) != n:
        raise Fail(f"{name}: want {n} accepted clients so far")
    return c

one = connect("client 1", 1)
two = connect("client 2", 2)

newcomer = tcp_connect(port, "newcomer")
wait_event("net.refused", where={"reason": "full", "peer": f"127.0.0.1:{newcomer.port}"})
newcomer.expect_closed("waiting for the refused newcomer's connection to close")
if count("net.connected", {"accepted": True}) != 2:
    raise Fail("the refused newcomer was reported connected")

# The two clients are still served: a frame reaches both, each one's bytes reach the host.
frame = serial_safe(200, 21)
tty.write(frame)
one.expect(frame, "client 1: the host's frame after the refusal")
two.expect(frame, "client 2: the host's frame after the refusal")
for client, seed in ((one, 22), (two, 23)):
    b = data(500, seed)
    client.write(b)
    tty.expect(b, f"tty: bytes from {client.name}")

# Client 1 leaves: its slot takes the next newcomer.
one.close()
wait_event("net.closed", where={"peer": f"127.0.0.1:{one.port}"})
three = connect("client 3", 3)
frame = serial_safe(200, 24)
tty.write(frame)
two.expect(frame, "client 2: the host's frame")
three.expect(frame, "client 3: the host's frame")
b = data(300, 25)
three.write(b)
tty.expect(b, "tty: bytes from client 3")
tty.close()
PY
m0_stop
