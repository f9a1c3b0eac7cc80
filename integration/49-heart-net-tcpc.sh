#!/usr/bin/env bash
# 49-heart-net-tcpc: heartbeat to the network (HEARTEN=on, HEARTTP=NET) on a TCP client.
# While nothing is sent, HEARTDT's bytes (decoded from hex) reach the server again and
# again, and nothing reaches the host; while the host keeps sending (frames closer
# together than HEARTTM) no heartbeat is sent: the server gets the frames alone, in
# order; when the host stops, the heartbeat comes back. Counts and order only: no
# duration is measured.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+HEARTEN=on" "AT+HEARTTP=NET" \
  "AT+HEARTTM=2" "AT+HEARTDT=C0FFEE"
net_py_bg "$P" <<'PY'
import sys, time
from m0net import *
port = int(sys.argv[1])
beat = b"\xc0\xff\xee"
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
tty = Tty()

server.expect(beat, "server: the first heartbeat (HEARTDT decoded)")
ev = wait_event("heart.sent", 1)
if ev.get("to") != "net" or ev.get("bytes") != len(beat):
    raise Fail(f"heart.sent: want to net, bytes {len(beat)}: {ev}")
server.expect(beat, "server: the second heartbeat, still idle")
wait_event("heart.sent", 2)

# Traffic: 12 frames, 0.4 s apart (a fifth of HEARTTM), i.e. longer than two periods.
before = count("heart.sent")
frames = [b"frame-%02d;" % i for i in range(12)]
for f in frames:
    tty.write(f)
    server.expect(f, "server: a frame, with no heartbeat before it")
    time.sleep(0.4)
if count("heart.sent") != before:
    raise Fail(f"heartbeats sent while the host kept sending: {events('heart.sent')[before:]}")

# Quiet again: the heartbeat is back, and it is the next thing the server gets.
server.expect(beat, "server: the heartbeat after the traffic stopped")
wait_event("heart.sent", before + 1, where={"to": "net"})
expect_nothing(tty, 0.2, "heartbeats went to the network (nothing for the host)")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
