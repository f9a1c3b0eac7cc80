#!/usr/bin/env bash
# 58-heart-net-no-host: the network heartbeat of a TCP client leaves when it is due, also
# while no host has the tty open and nothing else happens: each beat reaches the server
# before the next one is even due (heart.sent #n, then the bytes, then heart.sent #n+1),
# beat after beat. An order, not a duration.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+HEARTEN=on" "AT+HEARTTP=NET" \
  "AT+HEARTTM=1" "AT+HEARTDT=C0FFEE"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
beat = b"\xc0\xff\xee"
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
for n in range(1, 5):
    server.expect(beat, f"server: heartbeat {n}")
    wait_event("heart.sent", n, where={"to": "net"})
    if count("heart.sent") != n:
        raise Fail(f"heartbeat {n} reached the server only once heartbeat "
                   f"{count('heart.sent')} was sent: it was held back")
server.close()
PY
m0_start
net_py_wait
m0_stop
