#!/usr/bin/env bash
# 51-heart-com: heartbeat to the serial side (HEARTTP=COM), here in TCP server mode: every
# HEARTTM seconds the host gets HEARTDT's bytes, only in transparent mode: none while in
# command mode (the AT replies come alone), back after AT+ENTM. Nothing goes to the
# network's client.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,192.168.0.201,$P" "AT+SOCKPORT=$P" "AT+HEARTEN=on" \
  "AT+HEARTTP=COM" "AT+HEARTTM=2" "AT+HEARTDT=3F3F0D0A"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
beat = b"??\r\n"
wait_event("net.listening")
client = tcp_connect(port)
wait_event("net.connected")
tty = Tty()
for i in range(2):
    tty.expect(beat, f"tty: heartbeat {i + 1} (HEARTDT decoded)")
ev = wait_event("heart.sent", 2)
if ev.get("to") != "uart" or ev.get("bytes") != len(beat):
    raise Fail(f"heart.sent: want to uart, bytes {len(beat)}: {ev}")

# Command mode, entered right after a beat (the handshake's bytes must not interleave).
tty.expect(beat, "tty: a heartbeat before +++")
tty.handshake()
wait_event("mode.command")
before = count("heart.sent")
tty.at("AT+HEARTTP", "\r\n+ok=COM\r\n")
expect_nothing(tty, 5, "in command mode (longer than two HEARTTM)")
if count("heart.sent") != before:
    raise Fail(f"heartbeats in command mode: {events('heart.sent')[before:]}")
tty.at("AT+ENTM", "\r\n+ok\r\n")
tty.expect(beat, "tty: the heartbeat back in transparent mode")
wait_event("heart.sent", before + 1)
expect_nothing(client, 0.2, "the heartbeat went to the UART only")
tty.close()
client.close()
PY
m0_stop
