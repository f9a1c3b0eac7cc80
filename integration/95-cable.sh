#!/usr/bin/env bash
# 95-cable: the Ethernet cable pulled and plugged back, end to end. TCP: while out the
# server meets silence (no FIN, no reset, none of the host's bytes) and the host none of
# the server's; the host's bytes typed meanwhile reach the server at re-plug, and the
# server's reach the host; status shows the link pin down and the bytes held. A pull
# longer than reset_after_s: at re-plug the old connection is reset and the device dials
# a new one. UDP: datagrams both ways are lost while out (drop events count them), and
# flow again after an unplug that ends by itself (for_s).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

export M0_CONTROL=$T/ctl
P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+SOCKPORT=0"
net_py_bg "$P" <<'PY'
import socket, sys
from m0net import *
from ctl import CONTROL, Control
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
tty.write(b"hello")
server.expect(b"hello")
c = Control()
c.ok("subscribe")

c.ok("cable", state="unplugged")
c.wait_event("cable", state="unplugged")
st = c.ok("status")
if st["link_pin"] is not False or st["faults"]["cable"]["plugged"] is not False:
    raise Fail(f"status while unplugged: {st}")
tty.write(b"typed while the cable is out")
server.write(b"sent while the cable is out")
expect_nothing(server, 1.0, "the cable is out: no FIN, no reset, no bytes")
expect_nothing(tty, 0.5, "the cable is out: nothing from the network")
if c.ok("status")["faults"]["held_bytes"] != 28:
    raise Fail("the host's bytes are not held")
c.ok("cable", state="plugged")
c.wait_event("cable", state="plugged", reset=False)
server.expect(b"typed while the cable is out", "server: the bytes held across the unplug")
tty.expect(b"sent while the cable is out", "tty: the server's bytes after re-plug")

# Longer than reset_after_s: the connection is reset at re-plug, a new one is dialled.
c.ok("cable", state="unplugged", reset_after_s=0.5)
time.sleep(0.7)
c.ok("cable", state="plugged")
c.wait_event("cable", state="plugged", reset=True)
c.wait_event("net.reset", links=1, cause="cable")
server.sock.setblocking(True)
server.sock.settimeout(TIMEOUT)
try:
    b = server.sock.recv(100)
    raise Fail(f"server: got {b!r} where the connection should be reset")
except ConnectionResetError:
    pass
server2 = accept(listener, "server after the reset")
c.wait_event("net.connected")
tty.write(b"again")
server2.expect(b"again")
PY
m0_start --control "$M0_CONTROL"
net_py_wait
m0_stop

# UDP: lost both ways while out.
P2=$(free_ports udp 2)
PEER=$(sed -n 1p <<<"$P2") LOCAL=$(sed -n 2p <<<"$P2")
flash_write "AT+SOCK=UDPC,192.168.0.201,$PEER" "AT+SOCKPORT=$LOCAL"
net_py_bg "$PEER" "$LOCAL" <<'PY'
import sys, time
from m0net import *
from ctl import CONTROL, Control
peer_port, local = int(sys.argv[1]), int(sys.argv[2])
peer = Udp(peer_port, "peer")
ready()
wait_event("net.listening")
tty = Tty()
c = Control()
c.ok("subscribe")
c.ok("cable", state="unplugged", for_s=1.5)
tty.write(b"up while out")
peer.send(b"down while out", local)
# Both ways, in whichever order the device met them.
dirs = set()
while dirs != {"to_net", "from_net"}:
    dirs.add(c.wait_event("drop", reason="cable")["dir"])
expect_nothing(tty, 0.3, "a datagram while the cable is out")
c.wait_event("cable", state="plugged")
peer.send(b"down after", local)
tty.expect(b"down after", "tty: the datagram after re-plug")
time.sleep(0.1)
tty.write(b"up after")
got, _ = peer.recv("the datagram after re-plug")
if got != b"up after":
    raise Fail(f"peer got {got!r}: a datagram from while the cable was out?")
PY
m0_start --control "$M0_CONTROL"
net_py_wait
m0_stop
