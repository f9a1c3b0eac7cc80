#!/usr/bin/env bash
# 46-reg-mac-tcpc: REGEN=mac, REGTCP=first (factory) on a TCP client. The first 6 bytes
# of every new connection are the module's MAC (AT+MAC's 12 hex digits as raw bytes),
# before anything else, also before serial data kept while the device was reconnecting;
# later frames go out without it.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+REGEN=mac"
net_py_bg "$P" <<'PY'
import re, sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
first6 = server.read_exact(6, "the registration")
tty = Tty()

tty.handshake()
tty.write(b"AT+MAC\r")
reply = tty.read_exact(len(b"AT+MAC\r\r\n+ok=") + 12 + 2, "tty: the reply to AT+MAC")
m = re.fullmatch(rb"AT\+MAC\r\r\n\+ok=([0-9A-F]{12})\r\n", reply)
if not m:
    raise Fail(f"AT+MAC: {reply!r}")
mac = bytes.fromhex(m.group(1).decode())
same(first6, mac, "server: the first 6 bytes of the connection (AT+MAC)")
tty.at("AT+ENTM", "\r\n+ok\r\n")
reg = wait_event("reg.sent", where={"link": 0})
if reg.get("bytes") != 6 or reg.get("when") != "first":
    raise Fail(f"reg.sent: want bytes 6, when first: {reg}")

one = serial_safe(100, 46)
tty.write(one)
server.expect(one, "server: a frame on the same connection, without registration")
two = serial_safe(50, 47)
tty.write(two)
server.expect(two, "server: the next frame, without registration")

# A new connection announces itself again, before the data kept while reconnecting.
server.close()
wait_event("net.closed")
kept = serial_safe(80, 48)
tty.write(kept)
server = accept(listener, "server, second connection")
server.expect(mac + kept, "server: registration, then the data kept while reconnecting")
wait_event("reg.sent", 2, where={"link": 0, "when": "first"})
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
