#!/usr/bin/env bash
# 35-tcps-indexen: INDEXEN=on on a TCP server (the family's "extend" format, spec §6.3):
# the host learns connects (CNM) and disconnects (DNM) with the client's number N and
# the count M still connected, a refused newcomer (FF); client bytes arrive as IN<data>;
# a frame ON<data> goes to client N alone, any other frame to every client.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,127.0.0.1,$P" "AT+SOCKPORT=$P" "AT+MAXSK=2" "AT+INDEXEN=on"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.listening")
tty = Tty()

one = tcp_connect(port, "client 1")
tty.expect(b"C11", "tty: client 1 connects, 1 connected")
two = tcp_connect(port, "client 2")
tty.expect(b"C22", "tty: client 2 connects, 2 connected")

one.write(b"hello")
tty.expect(b"I1hello", "tty: bytes from client 1")
two.write(b"world")
tty.expect(b"I2world", "tty: bytes from client 2")

tty.write(b"O2for two only")
two.expect(b"for two only", "client 2: a frame addressed to it")
tty.write(b"for everyone")
# Client 1's first bytes: had the addressed frame reached it too, it would come first.
one.expect(b"for everyone", "client 1: a frame for all")
two.expect(b"for everyone", "client 2: a frame for all")

newcomer = tcp_connect(port, "newcomer")
tty.expect(b"FF", "tty: a newcomer refused (MAXSK=2, keep)")
newcomer.expect_closed()

one.close()
tty.expect(b"D11", "tty: client 1 leaves, 1 still connected")
two.close()
tty.expect(b"D20", "tty: client 2 leaves, none connected")
tty.close()
PY
m0_stop
