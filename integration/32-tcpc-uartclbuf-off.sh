#!/usr/bin/env bash
# 32-tcpc-uartclbuf-off: with UARTCLBUF=off (the default) bytes the host types while the
# TCP client is not connected are kept and reach the server first, right after it
# connects, followed by what comes later.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.refused")  # dialled, nobody listening
tty = Tty()
early = serial_safe(1500, 91)
tty.write(early)
# One more failed dial after the typing: the device has had the bytes while disconnected.
wait_event("net.refused", count("net.refused") + 1)

listener = tcp_listen(port)
server = accept(listener, "server")
wait_event("net.connected")
server.expect(early, "server: the bytes typed before the connection")
late = serial_safe(500, 92)
tty.write(late)
server.expect(late, "server: the bytes typed after the connection")
tty.close()
server.close()
PY
m0_stop
