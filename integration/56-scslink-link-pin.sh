#!/usr/bin/env bash
# 56-scslink-link-pin: the module's link pin, in net.socket events and the web status.
# SCSLINK=off (factory): the pin shows the Ethernet link, up whether or not the TCP
# client is connected. SCSLINK=on (set with AT, used after AT+Z): the pin follows the
# socket: down while the client is not connected, up once it is, down again when the
# server closes.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P"
m0_start
net_py "$P" "$WEB_PORT" <<'PY'
import sys
from m0net import *
port, web = int(sys.argv[1]), int(sys.argv[2])


def pin(want_connected, want_pin, what):
    s = web_status(web)
    got = (s.get("socket_connected"), s.get("link_pin"))
    if got != (want_connected, want_pin):
        raise Fail(f"/api/status {what}: socket_connected, link_pin = {got}, "
                   f"want {(want_connected, want_pin)}")


def socket_event(n, connected, link_pin, what):
    ev = wait_event("net.socket", n)
    if (ev.get("connected"), ev.get("link_pin")) != (connected, link_pin):
        raise Fail(f"net.socket #{n} {what}: {ev}, want connected {connected}, "
                   f"link_pin {link_pin}")


# SCSLINK=off: the pin is up all along.
wait_event("net.refused")
pin(False, True, "SCSLINK=off, not connected")
if web_status(web).get("scslink") is not False:
    raise Fail("/api/status: scslink is not false")
listener = tcp_listen(port)
server = accept(listener, "server")
socket_event(1, True, True, "SCSLINK=off, connected")
pin(True, True, "SCSLINK=off, connected")
listener.close()  # no reconnection while the pin is checked
server.close()
socket_event(2, False, True, "SCSLINK=off, the server closed")
pin(False, True, "SCSLINK=off, closed")

# SCSLINK=on: the pin follows the socket.
tty = Tty()
tty.handshake()
tty.at("AT+SCSLINK=on", "\r\n+ok\r\n")
tty.at("AT+Z", "\r\n+ok\r\n")
wait_event("ready", 2)
n = count("net.socket")
wait_event("net.refused", count("net.refused") + 1)
pin(False, False, "SCSLINK=on, not connected")
if web_status(web).get("scslink") is not True:
    raise Fail("/api/status: scslink is not true")
listener = tcp_listen(port)
server = accept(listener, "server, after AT+Z")
socket_event(n + 1, True, True, "SCSLINK=on, connected")
pin(True, True, "SCSLINK=on, connected")
listener.close()
server.close()
socket_event(n + 2, False, False, "SCSLINK=on, the server closed")
pin(False, False, "SCSLINK=on, closed")
tty.close()
PY
m0_stop
