#!/usr/bin/env bash
# 21-tcps: TCP server end to end. The device listens on SOCKPORT at --bind (127.0.0.1),
# a client connects, and exact bytes move both ways: serial frames to the client, client
# bytes to the host. The client's close is seen as net.closed. SOCKPORT=0 listens on
# SOCK's port.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,192.168.0.201,8234" "AT+SOCKPORT=$P"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listening = wait_event("net.listening")
if listening["bind"] != f"127.0.0.1:{port}":
    raise Fail(f"net.listening: want bind 127.0.0.1:{port}, got {listening}")
tty = Tty()
client = tcp_connect(port)
wait_event("net.connected", where={"accepted": True, "peer": f"127.0.0.1:{client.port}"})

up, down = serial_safe(3000, 5), data(3000, 6)
tty.write(up)
client.expect(up, "client: the host's bytes")
client.write(down)
tty.expect(down, "tty: the client's bytes")

up, down = serial_safe(300_000, 7), data(300_000, 8)
got_client, got_tty = transfer((tty, up, client), (client, down, tty))
same(got_client, up, "client: bulk from the host")
same(got_tty, down, "tty: bulk from the client")

client.close()
wait_event("net.closed", where={"peer": f"127.0.0.1:{client.port}", "reason": "closed"})
tty.close()
PY
m0_stop

flash_write "AT+SOCK=TCPS,192.168.0.201,$P" "AT+SOCKPORT=0"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listening = wait_event("net.listening")
if listening["bind"] != f"127.0.0.1:{port}":
    raise Fail(f"SOCKPORT=0: want a listener on SOCK's port {port}, got {listening}")
tty = Tty()
client = tcp_connect(port)
b = data(100, 9)
client.write(b)
tty.expect(b, "tty: the client's bytes")
tty.close()
client.close()
PY
m0_stop
