#!/usr/bin/env bash
# 30-udpc-stranger: a UDP client takes datagrams only from SOCK's peer: a stranger's
# datagram (another port on 127.0.0.1, the only address tests use) never reaches the host,
# while the peer's datagrams before and after it do, in order.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

{ read -r DEV; read -r PEER; } < <(free_ports udp 2)
flash_write "AT+SOCK=UDPC,127.0.0.1,$PEER" "AT+SOCKPORT=$DEV"
m0_start
net_py "$DEV" "$PEER" <<'PY'
import sys
from m0net import *
dev, peer_port = int(sys.argv[1]), int(sys.argv[2])
peer = Udp(peer_port, "peer")
stranger = Udp(0, "stranger")
wait_event("net.listening", where={"udp": True})
tty = Tty()

first = b"from the peer, first"
peer.send(first, dev)
tty.expect(first, "tty: the peer's first datagram")
stranger.send(b"STRANGER: must not reach the host", dev)
stranger.send(b"STRANGER again", dev)
# Sent after the stranger's, so it queues behind them in the device's socket: if either
# got through, the host would see it first.
last = b"from the peer, last"
peer.send(last, dev)
tty.expect(last, "tty: the peer's datagram after the stranger's")

# The stranger gets nothing of the host's data either: it goes to the peer.
up = serial_safe(100, 71)
tty.write(up)
got = peer.recv_bytes(len(up))
same(b"".join(d for d, _ in got), up, "peer: the host's bytes")
tty.close()
PY
m0_stop
