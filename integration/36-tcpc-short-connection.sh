#!/usr/bin/env bash
# 36-tcpc-short-connection: SOCKSL=on makes a TCP client that does not dial at restart,
# dials when the host sends data (which arrives), and closes on its own after SHORTO
# seconds without traffic; the next data dials again.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P" "AT+SOCKSL=on" "AT+SHORTO=2"
net_py_bg "$P" <<'PY'
import sys, time
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
wait_event("ready")
tty = Tty()
time.sleep(1.5)  # a minimum: longer than the 1 s between dials of a long connection
if count("net.connecting") != 0:
    raise Fail("a short-connection client dialled at restart, before any data")

first = serial_safe(300, 101)
tty.write(first)
server = accept(listener, "server")
server.expect(first, "server: the data that made the device dial")
answer = data(200, 102)
server.write(answer)
tty.expect(answer, "tty: the server's answer")
# Quiet both ways: the device closes (SHORTO, bounded wait only).
wait_event("net.closed", where={"reason": "local"})
server.expect_closed("waiting for the device to close the idle short connection")

again = serial_safe(100, 103)
tty.write(again)
server = accept(listener, "server, second connection")
server.expect(again, "server: the data after the close")
tty.close()
PY
m0_start
net_py_wait
m0_stop
