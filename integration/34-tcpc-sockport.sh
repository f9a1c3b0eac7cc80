#!/usr/bin/env bash
# 34-tcpc-sockport: a TCP client dials from local port SOCKPORT (the server sees that
# source port), and from a random port with SOCKPORT=0.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

{ read -r P; read -r LOCAL; } < <(free_ports tcp 2)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P" "AT+SOCKPORT=$LOCAL"
net_py_bg "$P" "$LOCAL" <<'PY'
import sys
from m0net import *
port, local = int(sys.argv[1]), int(sys.argv[2])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
if server.peer_port != local:
    raise Fail(f"the device dialled from port {server.peer_port}, want SOCKPORT {local}")
server.close()
PY
m0_start
net_py_wait
m0_stop

flash_write "AT+SOCK=TCPC,127.0.0.1,$P" "AT+SOCKPORT=0"
net_py_bg "$P" "$LOCAL" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
if server.peer_port == 20108:
    raise Fail("SOCKPORT=0 dialled from the factory SOCKPORT 20108, not a random port")
server.close()
PY
m0_start
net_py_wait
m0_stop
