#!/usr/bin/env bash
# 33-tcpc-uartclbuf-on: with UARTCLBUF=on bytes the host types while the TCP client is
# not connected are discarded: the server's first bytes are those typed after connecting.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P" "AT+UARTCLBUF=on"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.refused")
tty = Tty()
tty.write(serial_safe(1500, 93))
wait_event("net.refused", count("net.refused") + 1)  # the device took them, unconnected

listener = tcp_listen(port)
server = accept(listener, "server")
wait_event("net.connected")
late = b"typed after connecting"
tty.write(late)
server.expect(late, "server: its first bytes (the early ones must be gone)")
tty.close()
server.close()
PY
m0_stop
