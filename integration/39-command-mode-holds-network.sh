#!/usr/bin/env bash
# 39-command-mode-holds-network: while the host is in command mode, bytes from the network
# are held (AT replies come out clean) and delivered right after AT+ENTM's reply; what the
# host types in command mode is a command, never network data.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
tty.handshake()
wait_event("mode.command")

held = data(3000, 121)
server.write(held)
# The device has the bytes once they left the server's socket; a command's reply is
# still exact, with nothing of them in between.
tty.at("AT+VER", "\r\n+ok=V4017\r\n")
tty.at("AT+SOCKLK", "\r\n+ok=connect\r\n")
tty.write(b"AT+ENTM\r")
tty.expect(b"AT+ENTM\r\r\n+ok\r\n" + held, "tty: AT+ENTM's reply, then the held bytes")

# Back in transparent mode: the server's first bytes are what the host types now (the
# commands above never reached it).
up = serial_safe(200, 122)
tty.write(up)
server.expect(up, "server: the first bytes it gets")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
