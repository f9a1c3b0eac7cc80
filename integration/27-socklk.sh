#!/usr/bin/env bash
# 27-socklk: AT+SOCKLK reports the link: for a TCP client, disconnect while the server is
# absent, connect once the device has connected, disconnect again after the server
# closed (command mode does not stop the device from connecting); for a TCP server,
# connect while at least one client is connected.
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
tty.handshake()
wait_event("mode.command")
tty.at("AT+SOCKLK", "\r\n+ok=disconnect\r\n")

listener = tcp_listen(port)
server = accept(listener, "server")
wait_event("net.connected")
tty.at("AT+SOCKLK", "\r\n+ok=connect\r\n")
tty.at("AT+SOCKLK?", "\r\n+ok=connect\r\n")

server.close()
listener.close()
wait_event("net.closed")
tty.at("AT+SOCKLK", "\r\n+ok=disconnect\r\n")
tty.at("AT+ENTM", "\r\n+ok\r\n")
wait_event("mode.transparent")
tty.close()
PY
m0_stop

flash_write "AT+SOCK=TCPS,127.0.0.1,$P" "AT+SOCKPORT=$P"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.listening")
tty = Tty()
tty.handshake()
tty.at("AT+SOCKLK", "\r\n+ok=disconnect\r\n")
one = tcp_connect(port, "client 1")
wait_event("net.connected", 1)
two = tcp_connect(port, "client 2")
wait_event("net.connected", 2)
tty.at("AT+SOCKLK", "\r\n+ok=connect\r\n")
one.close()
wait_event("net.closed", 1)
tty.at("AT+SOCKLK", "\r\n+ok=connect\r\n")
two.close()
wait_event("net.closed", 2)
tty.at("AT+SOCKLK", "\r\n+ok=disconnect\r\n")
tty.close()
PY
m0_stop
