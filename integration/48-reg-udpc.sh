#!/usr/bin/env bash
# 48-reg-udpc: registration on a UDP client. REGTCP=first: nothing at boot; REGUSR's bytes
# go as a datagram of their own right before the first data datagram after a restart,
# and never again until the next restart. REGTCP=every: every datagram is the
# registration followed by the frame (one datagram, not two).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

{ read -r DEV; read -r PEER; } < <(free_ports udp 2)
flash_write "AT+SOCK=UDPC,127.0.0.1,$PEER" "AT+SOCKPORT=$DEV" "AT+REGEN=usr" \
  "AT+REGUSR=52454721"
m0_start
net_py "$DEV" "$PEER" <<'PY'
import socket, sys
from m0net import *
dev, peer_port = int(sys.argv[1]), int(sys.argv[2])
reg = b"REG!"
peer = Udp(peer_port, "peer")


def nothing(seconds, what):
    peer.sock.settimeout(seconds)
    try:
        d, _ = peer.sock.recvfrom(65536)
        raise Fail(f"peer: a datagram {show(d)} while {what}")
    except socket.timeout:
        pass
    finally:
        peer.sock.settimeout(TIMEOUT)


def datagram(want, what):
    d, addr = peer.recv(what)
    if addr != (LO, dev):
        raise Fail(f"peer: {what} came from {addr}, not from SOCKPORT {dev}")
    same(d, want, f"peer: {what}")


wait_event("net.listening", where={"udp": True})
tty = Tty()
nothing(0.5, "the device is up but the host sent nothing (no registration at boot)")
tty.write(b"one")
datagram(reg, "the registration, a datagram of its own")
datagram(b"one", "the first frame")
ev = wait_event("reg.sent", where={"link": 0})
if ev.get("when") != "first" or ev.get("bytes") != len(reg):
    raise Fail(f"reg.sent: want when first, bytes {len(reg)}: {ev}")
tty.write(b"two")
datagram(b"two", "the second frame, without registration")
tty.write(b"three")
datagram(b"three", "the third frame, without registration")

# After a restart: the registration again, once.
tty.handshake()
tty.at("AT+Z", "\r\n+ok\r\n")
wait_event("net.listening", 2, where={"udp": True})
tty.write(b"four")
datagram(reg, "the registration after AT+Z")
datagram(b"four", "the first frame after AT+Z")
tty.write(b"five")
datagram(b"five", "the next frame, without registration")
if count("reg.sent") != 2:
    raise Fail(f"want 2 reg.sent: {events('reg.sent')}")

# REGTCP=every: the prefix inside each datagram.
tty.handshake()
tty.at("AT+REGTCP=every", "\r\n+ok\r\n")
tty.at("AT+Z", "\r\n+ok\r\n")
wait_event("net.listening", 3, where={"udp": True})
for frame in (b"six", b"seven", b"eight"):
    tty.write(frame)
    datagram(reg + frame, "a frame behind its registration, in one datagram")
ev = wait_event("reg.sent", where={"link": 0, "when": "every"})
if ev.get("bytes") != len(reg) or count("reg.sent", {"when": "every"}) != 1:
    raise Fail(f"reg.sent: want one (per boot), when every: {events('reg.sent')}")
nothing(0.3, "after the last frame (nothing else is due)")
tty.close()
PY
m0_stop
