#!/usr/bin/env bash
# 89-uart-tcpc-through-network-uart: a host on the UART's network servers moves exact
# bytes both ways in TCPC mode, through a local TCP server: every byte value (0xFF is
# Telnet's IAC, escaped on the RFC 2217 connection and not on the raw one), both
# directions at once. Fast timing: more than the servers and the socket buffers hold;
# real timing at 115200 baud: the core's pacing stops and resumes reading the socket.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+SOCKPORT=0" # any local port: 20108 may be taken
for run in "fast 200000" "real 20000"; do
  read -r timing size <<<"$run"
  m0_start --timing "$timing" --uart rfc2217:0 --uart tcp:0
  uart_py "$P" "$size" <<'PY'
import sys
from m0uart import *
from m0net import tcp_listen, accept, transfer, serial_safe, data
port, size = int(sys.argv[1]), int(sys.argv[2])
listener = tcp_listen(port)  # the device dials it, retrying every second
server = accept(listener, "server")
wait_event("net.connected")
for kind, seed in (("rfc2217", 1), ("tcp", 3)):
    host = Serial(uart_url(kind), name=kind)
    up = serial_safe(size, seed) + b"\xff" * 300
    down = data(size, seed + 1) + b"\xff" * 300
    got_server, got_host = transfer((host, up, server), (server, down, host))
    same(got_server, up, f"server: bulk from the {kind} host")
    same(got_host, down, f"{kind} host: bulk from the server")
    host.close()
    wait_event("uart.closed", where={"uart": kind})
server.close()
listener.close()
PY
  [[ $(count_events drop) -eq 0 ]] || fail "bytes were dropped ($timing): $(grep '"drop"' "$EVENTS")"
  m0_stop
done
