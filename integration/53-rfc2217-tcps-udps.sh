#!/usr/bin/env bash
# 53-rfc2217-tcps-udps: similar-RFC2217 works in the other work modes too: a TCP server's
# client (uart.config names that client's link) and a UDP server's peer (a packet inside
# a datagram, between data) change the running UART; the data around each packet
# reaches the host, the packet does not.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,192.168.0.201,$P" "AT+SOCKPORT=$P"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.listening")
client = tcp_connect(port)
link = wait_event("net.connected")["link"]
tty = Tty()
client.write(b"<" + rfc2217_packet(57600, 8, 1, "ODD") + b">")
tty.expect(b"<>", "tty: the client's data around the packet")
ev = wait_event("uart.config", where={"cause": "rfc2217"})
want = {"baud": 57600, "data": 8, "stop": 1, "parity": "ODD", "link": link}
if {k: ev.get(k) for k in want} != want:
    raise Fail(f"uart.config: want {want}: {ev}")
tty.close()
client.close()
PY
m0_stop

{ read -r DEV; read -r PEER; } < <(free_ports udp 2)
flash_write "AT+SOCK=UDPS,127.0.0.1,$PEER" "AT+SOCKPORT=$DEV"
m0_start
net_py "$DEV" <<'PY'
import sys
from m0net import *
dev = int(sys.argv[1])
wait_event("net.listening", where={"udp": True})
peer = Udp(0, "peer")
tty = Tty()
peer.send(b"[" + rfc2217_packet(4800, 6, 2, "SPACE") + b"]", dev)
tty.expect(b"[]", "tty: the datagram's data around the packet")
ev = wait_event("uart.config", where={"cause": "rfc2217"})
want = {"baud": 4800, "data": 6, "stop": 2, "parity": "SPACE", "link": 0}
if {k: ev.get(k) for k in want} != want:
    raise Fail(f"uart.config: want {want}: {ev}")
peer.send(rfc2217_packet(38400, 8, 1, "MASK"), dev)
ev = wait_event("uart.config", 2, where={"cause": "rfc2217"})
if (ev.get("baud"), ev.get("parity")) != (38400, "MASK"):
    raise Fail(f"uart.config: want 38400 MASK from a datagram that is only the packet: {ev}")
peer.send(b"still here", dev)
tty.expect(b"still here", "tty: data after a datagram that was only a packet")
tty.close()
PY
m0_stop
