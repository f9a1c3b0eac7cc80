#!/usr/bin/env bash
# 55-rfc2217-off-htpc: where a similar-RFC2217 packet is plain data. RFCEN=off: a good
# packet from a TCP server reaches the host as its 8 bytes, the UART is untouched. HTTP
# client mode (spec §6.8: every work mode except HTPC): a response body holding a good
# packet reaches the host unchanged (HTPCHD=on), the UART is untouched.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+RFCEN=off"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
pkt = rfc2217_packet(9600)
server.write(b"1" + pkt + b"2")
tty.expect(b"1" + pkt + b"2", "tty: RFCEN=off, the packet is data")
if count("uart.config", {"cause": "rfc2217"}):
    raise Fail(f"RFCEN=off, yet the UART changed: {events('uart.config')}")
tty.close()
server.close()
PY
m0_stop

flash_write "AT+SOCK=HTPC,192.168.0.201,$P" "AT+HTPCHD=on"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
pkt = rfc2217_packet(9600)
body = b"<" + pkt + b">"
answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
server = HttpPeer(port, answers=[answer])
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()
tty.write(b"get=1")
tty.expect(body, "tty: HTPC, the body with the packet in it, unchanged")
wait_event("http.response")
if count("uart.config", {"cause": "rfc2217"}):
    raise Fail(f"HTPC, yet the UART changed: {events('uart.config')}")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
