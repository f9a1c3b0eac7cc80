#!/usr/bin/env bash
# 54-rfc2217-bad-checksum: a packet whose checksum does not check out is ordinary data:
# all 8 bytes reach the host in place, the running UART stays as it was (no uart.config
# with cause rfc2217), and a good packet right after it still works.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P"
m0_start
net_py "$P" "$WEB_PORT" <<'PY'
import sys
from m0net import *
port, web = int(sys.argv[1]), int(sys.argv[2])
listener = tcp_listen(port)
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
bad = bytes.fromhex("55AA55002580" "8329")  # the 9600 8N1 example, checksum + 1
same(rfc2217_packet(9600, checksum_delta=1), bad, "the test's own encoder")
server.write(b"a" + bad + b"b")
tty.expect(b"a" + bad + b"b", "tty: a bad packet is data, in place")
server.write(b"c" + rfc2217_packet(2400) + b"d")
tty.expect(b"cd", "tty: a good packet after the bad one is taken")
ev = wait_event("uart.config", where={"cause": "rfc2217"})
if ev.get("baud") != 2400:
    raise Fail(f"uart.config: want baud 2400 (the good packet), not the bad one's: {ev}")
if count("uart.config", {"cause": "rfc2217"}) != 1:
    raise Fail(f"want one uart.config from the network: {events('uart.config')}")
if web_status(web).get("uart") != "2400,8,1,NONE,NFC":
    raise Fail("/api/status: the running UART is not 2400,8,1,NONE,NFC")
tty.close()
server.close()
PY
m0_stop
