#!/usr/bin/env bash
# 22-udpc: UDP client end to end. The device binds SOCKPORT and sends each serial frame
# as one datagram (at most 400 bytes) to SOCK's address and port; the peer's datagrams
# reach the host unchanged.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

{ read -r DEV; read -r PEER; } < <(free_ports udp 2)
flash_write "AT+SOCK=UDPC,127.0.0.1,$PEER" "AT+SOCKPORT=$DEV"
m0_start
net_py "$DEV" "$PEER" <<'PY'
import sys
from m0net import *
dev, peer_port = int(sys.argv[1]), int(sys.argv[2])
peer = Udp(peer_port, "peer")
wait_event("net.listening", where={"udp": True, "bind": f"127.0.0.1:{dev}"})
tty = Tty()

up = serial_safe(2000, 9)
tty.write(up)
dgrams = peer.recv_bytes(len(up), "the host's bytes")
for d, addr in dgrams:
    if addr != (LO, dev):
        raise Fail(f"a datagram came from {addr}, not from SOCKPORT {dev}")
    if len(d) > 400:
        raise Fail(f"a datagram of {len(d)} bytes: frames are at most 400")
same(b"".join(d for d, _ in dgrams), up, "peer: the host's bytes")

for i, size in enumerate((1, 57, 400, 1000, 1472)):
    d = data(size, 100 + i)
    peer.send(d, dev)
    tty.expect(d, f"tty: a {size}-byte datagram")
tty.close()
PY
m0_stop
