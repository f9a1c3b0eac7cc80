#!/usr/bin/env bash
# 28-tcp-10mb-fast: 10 MB each way at once through a TCP client in --timing fast, byte
# for byte (sha256 compared, first difference named on a mismatch).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P"
net_py_bg "$P" <<'PY'
import hashlib, sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
size = 10 * 1000 * 1000
up, down = serial_safe(size, 51), data(size, 52)
got_server, got_tty = transfer((tty, up, server), (server, down, tty))
for what, got, want in (("host to server", got_server, up), ("server to host", got_tty, down)):
    g, w = hashlib.sha256(got).hexdigest(), hashlib.sha256(want).hexdigest()
    log(f"{what}: {len(got)} bytes, sha256 {g} (want {w})")
    if g != w:
        same(got, want, what)
        raise Fail(f"{what}: sha256 differs")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
