#!/usr/bin/env bash
# 37-tcpc-uartclbuf-limit: with UARTCLBUF=off a disconnected TCP client keeps at most
# 4 KiB of what the host types: beyond that the oldest bytes go (counted in a drop
# event), and the server receives exactly the newest 4096 bytes once connected.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.refused")
tty = Tty()
typed = serial_safe(10_000, 111)
tty.write(typed)
wait_event("net.refused", count("net.refused") + 1)  # the device took them, unconnected
wait_event("drop", where=lambda e: e.get("dir") == "to_net")

listener = tcp_listen(port)
server = accept(listener, "server")
server.expect(typed[-4096:], "server: the newest 4 KiB typed while disconnected")
late = serial_safe(100, 112)
tty.write(late)
server.expect(late, "server: the bytes typed after the connection")
tty.close()
server.close()
PY
m0_stop
