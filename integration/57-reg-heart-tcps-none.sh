#!/usr/bin/env bash
# 57-reg-heart-tcps-none: registration and the network heartbeat apply to the clients
# (TCPC, UDPC) only (spec §6.6, §6.7). A TCP server with REGEN=usr and a NET heartbeat
# every second sends its clients neither: a client gets nothing while the host is quiet
# (for longer than two HEARTTM), then the host's frames alone, without any prefix.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,192.168.0.201,$P" "AT+SOCKPORT=$P" "AT+REGEN=usr" \
  "AT+REGTCP=every" "AT+HEARTEN=on" "AT+HEARTTP=NET" "AT+HEARTTM=1"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
wait_event("net.listening")
client = tcp_connect(port)
wait_event("net.connected")
tty = Tty()
expect_nothing(client, 2.5, "the host is quiet (no registration, no heartbeat)")
tty.write(b"plain frame")
client.expect(b"plain frame", "client: the frame without a registration prefix")
if count("reg.sent") or count("heart.sent"):
    raise Fail(f"TCPS sent registration or heartbeat: {events('reg.sent')} "
               f"{events('heart.sent')}")
tty.close()
client.close()
PY
m0_stop
