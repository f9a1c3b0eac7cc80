#!/usr/bin/env bash
# 20-tcpc: TCP client end to end. The device dials SOCK's peer at start (factory address
# 192.168.0.201, dialled as 127.0.0.1 with the same port under --net loopback), connects
# on the first attempt to a server that is already listening, and moves exact bytes both
# ways: serial frames to the server, server bytes to the host.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
dialled = wait_event("net.connecting")
if dialled["peer"] != f"192.168.0.201:{port}" or dialled["dial"] != f"127.0.0.1:{port}":
    raise Fail(f"net.connecting: want peer 192.168.0.201:{port} dialled as "
               f"127.0.0.1:{port}, got {dialled}")
wait_event("net.connected", where={"peer": f"192.168.0.201:{port}"})
tty = Tty()

up, down = serial_safe(3000, 1), data(3000, 2)
tty.write(up)
server.expect(up, "server: the host's bytes")
server.write(down)
tty.expect(down, "tty: the server's bytes")

# Both ways at once, more than one frame's worth and more than the pty holds.
up, down = serial_safe(300_000, 3), data(300_000, 4)
got_server, got_tty = transfer((tty, up, server), (server, down, tty))
same(got_server, up, "server: bulk from the host")
same(got_tty, down, "tty: bulk from the server")
tty.close()
server.close()
PY
m0_start
net_py_wait
[[ $(count_events net.refused) -eq 0 ]] || fail "the first dial did not connect"
m0_stop
