#!/usr/bin/env bash
# 23-udps: UDP server end to end. The device binds SOCKPORT; serial data goes first to
# SOCK's address and port, a client's datagrams reach the host unchanged, and the host's
# answer goes back to that client.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

{ read -r DEV; read -r FIRST; } < <(free_ports udp 2)
flash_write "AT+SOCK=UDPS,127.0.0.1,$FIRST" "AT+SOCKPORT=$DEV"
m0_start
net_py "$DEV" "$FIRST" <<'PY'
import sys
from m0net import *
dev, first_port = int(sys.argv[1]), int(sys.argv[2])
first = Udp(first_port, "SOCK's peer")
client = Udp(0, "client")
wait_event("net.listening", where={"udp": True, "bind": f"127.0.0.1:{dev}"})
tty = Tty()

hello = serial_safe(300, 11)
tty.write(hello)
got = first.recv_bytes(len(hello), "the host's bytes before anyone wrote")
if any(addr != (LO, dev) for _, addr in got):
    raise Fail(f"datagrams came from {[a for _, a in got]}, not from SOCKPORT {dev}")
same(b"".join(d for d, _ in got), hello, "SOCK's peer: the host's bytes")

question = data(700, 12)
client.send(question, dev)
tty.expect(question, "tty: the client's datagram")
answer = serial_safe(350, 13)
tty.write(answer)
got = client.recv_bytes(len(answer), "the host's answer")
if any(addr != (LO, dev) for _, addr in got):
    raise Fail(f"the answer came from {[a for _, a in got]}, not from SOCKPORT {dev}")
same(b"".join(d for d, _ in got), answer, "client: the host's answer")
tty.close()
PY
m0_stop
