#!/usr/bin/env bash
# 25-tcps-maxsk-kick: a TCP server with MAXSK clients connected and TCPSE=kick closes the
# oldest connection when one more arrives, and serves the newcomer (both ways) along with
# the clients it kept.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,127.0.0.1,$P" "AT+SOCKPORT=$P" "AT+MAXSK=2" "AT+TCPSE=kick"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.listening")
tty = Tty()

def connect(name):
    c = tcp_connect(port, name)
    wait_event("net.connected", where={"accepted": True, "peer": f"127.0.0.1:{c.port}"})
    return c

oldest = connect("client 1 (oldest)")
kept = connect("client 2")
newcomer = connect("client 3 (newcomer)")
wait_event("net.closed", where={"peer": f"127.0.0.1:{oldest.port}"})
oldest.expect_closed("waiting for the oldest client to be kicked")
if count("net.refused") != 0:
    raise Fail("a client was refused under TCPSE=kick")
if count("net.closed", {"peer": f"127.0.0.1:{kept.port}"}) != 0:
    raise Fail("client 2 was closed instead of (or besides) the oldest")

frame = serial_safe(200, 31)
tty.write(frame)
newcomer.expect(frame, "newcomer: the host's frame")
kept.expect(frame, "client 2: the host's frame")
for client, seed in ((newcomer, 32), (kept, 33)):
    b = data(500, seed)
    client.write(b)
    tty.expect(b, f"tty: bytes from {client.name}")

# And again: the next newcomer kicks client 2, now the oldest.
fourth = connect("client 4")
wait_event("net.closed", where={"peer": f"127.0.0.1:{kept.port}"})
kept.expect_closed("waiting for client 2 to be kicked")
frame = serial_safe(100, 34)
tty.write(frame)
newcomer.expect(frame, "client 3: the host's frame")
fourth.expect(frame, "client 4: the host's frame")
tty.close()
PY
m0_stop
