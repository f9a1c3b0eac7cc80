#!/usr/bin/env bash
# 26-tcpc-reconnect: a TCP client whose server goes away keeps dialling (refused while
# nobody listens) and connects again once the server is back; bytes both ways after the
# reconnect arrive exactly.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "first server")
wait_event("net.connected", 1)
tty = Tty()
up, down = serial_safe(1000, 41), data(1000, 42)
tty.write(up)
server.expect(up, "first server: the host's bytes")
server.write(down)
tty.expect(down, "tty: the first server's bytes")

# The server goes away (connection and listener) ...
server.close()
listener.close()
wait_event("net.closed", 1)
refused_before = count("net.refused")
wait_event("net.refused", refused_before + 1)  # a dial while nobody listens

# ... and comes back on the same port.
listener = tcp_listen(port)
server = accept(listener, "second server")
wait_event("net.connected", 2)
up, down = serial_safe(5000, 43), data(5000, 44)
tty.write(up)
server.expect(up, "second server: the host's bytes after the reconnect")
server.write(down)
tty.expect(down, "tty: the second server's bytes after the reconnect")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
