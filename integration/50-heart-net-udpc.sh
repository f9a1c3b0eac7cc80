#!/usr/bin/env bash
# 50-heart-net-udpc: heartbeat to the network on a UDP client: while the host sends
# nothing, each heartbeat is one datagram of HEARTDT's bytes to SOCK's peer, from
# SOCKPORT; a frame from the host is its own datagram, never merged with a heartbeat.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

{ read -r DEV; read -r PEER; } < <(free_ports udp 2)
flash_write "AT+SOCK=UDPC,127.0.0.1,$PEER" "AT+SOCKPORT=$DEV" "AT+HEARTEN=on" \
  "AT+HEARTTM=1" "AT+HEARTDT=4842"
m0_start
net_py "$DEV" "$PEER" <<'PY'
import sys
from m0net import *
dev, peer_port = int(sys.argv[1]), int(sys.argv[2])
peer = Udp(peer_port, "peer")
wait_event("net.listening", where={"udp": True})
tty = Tty()
for i in range(2):
    d, addr = peer.recv(f"heartbeat {i + 1}")
    if addr != (LO, dev):
        raise Fail(f"a heartbeat came from {addr}, not from SOCKPORT {dev}")
    same(d, b"HB", f"peer: heartbeat {i + 1}")
wait_event("heart.sent", 2, where={"to": "net", "bytes": 2})
tty.write(b"data")
while True:
    d, _ = peer.recv("the host's frame")
    if d != b"HB":
        same(d, b"data", "peer: the host's frame, a datagram of its own")
        break
tty.close()
PY
m0_stop
