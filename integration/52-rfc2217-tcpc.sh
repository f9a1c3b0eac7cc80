#!/usr/bin/env bash
# 52-rfc2217-tcpc: similar-RFC2217 (RFCEN=on, the factory setting) on a TCP client. A
# packet `55 AA 55 baud(3) param sum` from the server changes the running UART settings
# at once (uart.config, cause rfc2217; the web status shows them) and is not passed to
# the host, while the data around it is, in order, also when the packet arrives in two
# pieces. The change is not saved: AT+UART answers the saved value, flash is untouched,
# and after AT+Z the device runs the saved settings again.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P"
m0_start
cp "$STATE/flash.conf" "$T/flash.before"
net_py "$P" "$WEB_PORT" <<'PY'
import sys
from m0net import *
port, web = int(sys.argv[1]), int(sys.argv[2])
listener = tcp_listen(port)
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
saved_before = count("flash.saved")

# The spec's published example for 9600 8N1, literally (and the encoder agrees).
pkt = bytes.fromhex("55AA55002580" "8328")
same(rfc2217_packet(9600), pkt, "the test's own encoder")
server.write(b"before;" + pkt[:3])
server.write(pkt[3:] + b";after")
tty.expect(b"before;;after", "tty: the data around the packet, without it")
ev = wait_event("uart.config", where={"cause": "rfc2217"})
want = {"baud": 9600, "data": 8, "stop": 1, "parity": "NONE", "cause": "rfc2217", "link": 0}
if {k: ev.get(k) for k in want} != want:
    raise Fail(f"uart.config: want {want}: {ev}")
status = web_status(web)
if status.get("uart") != "9600,8,1,NONE,NFC":
    raise Fail(f"/api/status uart {status.get('uart')!r}: want the running 9600,8,1,NONE,NFC")

# Another packet: 19200, 7 data bits, 2 stop bits, even parity.
server.write(b"x" + rfc2217_packet(19200, 7, 2, "EVEN") + b"y")
tty.expect(b"xy", "tty: the data around the second packet")
ev = wait_event("uart.config", 2, where={"cause": "rfc2217"})
want = {"baud": 19200, "data": 7, "stop": 2, "parity": "EVEN", "link": 0}
if {k: ev.get(k) for k in want} != want:
    raise Fail(f"uart.config: want {want}: {ev}")
if web_status(web).get("uart") != "19200,7,2,EVEN,NFC":
    raise Fail("/api/status: the running UART is not 19200,7,2,EVEN,NFC")

# Running, not saved.
tty.handshake()
tty.at("AT+UART", "\r\n+ok=115200,8,1,NONE,NFC\r\n")
if count("flash.saved") != saved_before:
    raise Fail("flash was written because of a similar-RFC2217 packet")
tty.at("AT+Z", "\r\n+ok\r\n")
wait_event("ready", 2)
ev = events("uart.config")[-1]
if (ev.get("cause"), ev.get("baud"), ev.get("data")) != ("restart", 115200, 8):
    raise Fail(f"after AT+Z: want the saved 115200 8 data bits (cause restart): {ev}")
if web_status(web).get("uart") != "115200,8,1,NONE,NFC":
    raise Fail("/api/status after AT+Z: the running UART is not the saved one")
tty.close()
server.close()
PY
cmp -s "$STATE/flash.conf" "$T/flash.before" || fail "flash.conf changed"
m0_stop
