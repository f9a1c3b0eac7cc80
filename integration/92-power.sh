#!/usr/bin/env bash
# 92-power: a power cut and power back, seen from a TCP server and the host. While the
# power is off the server meets silence (no FIN, no reset, none of the host's bytes) and
# the host meets silence (none of the server's bytes, no reply to +++); at power on the
# old connection is reset (the server's read fails with ECONNRESET), the device boots
# and dials again, and bytes flow on the new connection.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

export M0_CONTROL=$T/ctl
P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+SOCKPORT=0"
net_py_bg "$P" <<'PY'
import socket, sys
from m0net import *
from ctl import CONTROL, Control
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
tty.write(b"before")
server.expect(b"before")
c = Control()
c.ok("subscribe")
c.ok("power", state="off")
c.wait_event("power", state="off")
if c.ok("status")["mode"] != "off":
    raise Fail("status does not say off")
tty.write(b"lost on the way")
server.write(b"lost too")
expect_nothing(server, 1.0, "the power is off: no FIN, no reset, no bytes")
expect_nothing(tty, 0.5, "the power is off: the UART is silent")
tty.write(b"+++")
expect_nothing(tty, 0.5, "the power is off: no 'a' after +++")
c.ok("power", state="on")
c.wait_event("power", state="on")
server.sock.setblocking(True)
server.sock.settimeout(TIMEOUT)
try:
    b = server.sock.recv(100)
    raise Fail(f"server: got {b!r} where the old connection should be reset")
except ConnectionResetError:
    pass
c.wait_event("ready")
server2 = accept(listener, "server after power on")
c.wait_event("net.connected")
tty.write(b"after")
server2.expect(b"after")
server2.write(b"back")
tty.expect(b"back")
PY
m0_start --control "$M0_CONTROL"
net_py_wait
grep -q '"ev":"net.closed","link":0,.*"reason":"abort"' "$EVENTS" || fail "no net.closed reason abort at power on"
m0_stop
