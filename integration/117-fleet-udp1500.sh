#!/usr/bin/env bash
# 117-fleet-udp1500: every module of a fleet answers the vendor's setup protocols on the
# factory UDP port 1500 at its own address (no port collision between modules: each
# socket binds 127.117.0.k:1500). One search tool socket sends the FF search to each
# module's address and gets one reply per module, from that address, carrying that
# module's own MAC; m0ctl search --to ADDR lists each with its MAC and address. (On
# loopback a search to 127.255.255.255 reaches only sockets bound to the wildcard, not a
# module bound to its own address: the search goes to each address, docs/fleet.md.)
# With --net host the modules share 0.0.0.0:PORT and one broadcast search finds them all.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

N=3
fleet_start $N --no-tty --bind 127.117.0.1 --mac D8B04C011700
wait_event udp1500.listening $N
for k in $(seq 1 $N); do
  grep -qF "\"ev\":\"udp1500.listening\",\"dev\":\"m000$k\",\"bind\":\"127.117.0.$k:1500\"" "$EVENTS" ||
    fail "m000$k does not listen at 127.117.0.$k:1500: $(grep udp1500 "$EVENTS")"
done
[[ $(count_events udp1500.error) -eq 0 ]] || fail "udp1500.error: $(grep udp1500.error "$EVENTS")"

# One socket, one search datagram to every module's address: a reply from each.
net_py "$N" <<'PY'
import select, sys
from m0net import *
n = int(sys.argv[1])
u = Udp(0, "search tool")
for k in range(1, n + 1):
    u.sock.sendto(b"\xff\x01\x01\x02", (f"127.117.0.{k}", 1500))
got = {}
for _ in range(n):
    d, addr = u.recv("a search reply")
    got[addr] = d
want = {(f"127.117.0.{k}", 1500) for k in range(1, n + 1)}
if set(got) != want:
    raise Fail(f"replies from {sorted(got)}, want {sorted(want)}")
for k in range(1, n + 1):
    d = got[(f"127.117.0.{k}", 1500)]
    mac = bytes.fromhex(f"D8B04C0117{k - 1:02X}")
    if len(d) != 36 or mac not in d:
        raise Fail(f"127.117.0.{k}'s reply lacks its MAC {mac.hex()}: {d.hex()}")
    others = [bytes.fromhex(f"D8B04C0117{j - 1:02X}") for j in range(1, n + 1) if j != k]
    if any(m in d for m in others):
        raise Fail(f"127.117.0.{k}'s reply carries another module's MAC: {d.hex()}")
r, _, _ = select.select([u.sock], [], [], 0.3)
if r:
    raise Fail(f"a reply more than one per module: {u.sock.recvfrom(65536)}")
PY

for k in $(seq 1 $N); do
  out=$("$M0CTL" search --to "127.117.0.$k" --timeout 1) || fail "m0ctl search --to 127.117.0.$k failed"
  read -r name mac ip version mode <<<"$out"
  [[ $(printf '%s\n' "$out" | wc -l) -eq 1 && $mac == "D8B04C01170$((k - 1))" && $ip == "127.117.0.$k" &&
     $version == V4017 ]] || fail "search at 127.117.0.$k: $out"
done
for k in $(seq 1 $N); do
  grep -q "\"ev\":\"udp1500.accepted\",\"dev\":\"m000$k\",\"from\":\"127.0.0.1:[0-9]*\",\"proto\":\"ff\",\"cmd\":\"search\"" \
    "$EVENTS" || fail "m000$k: no accepted FF search tagged with its name"
done
m0_stop

# --net host: every module shares 0.0.0.0:PORT (SO_REUSEADDR), so one broadcast search
# (here to 127.255.255.255, which reaches sockets bound to the wildcard) gets a reply
# from each, each with its own MAC. TCPS: nothing dials out (--net host dials real
# addresses), so every packet stays on 127/8.
U=$(free_ports udp 1)
fleet_start $N --no-tty --net host --bind 127.117.1.1 --mac D8B04C011710 --udp1500-port "$U" \
  --set "SOCK=TCPS,127.0.0.1,9"
wait_event udp1500.listening $N
[[ $(count_events udp1500.error) -eq 0 ]] || fail "--net host: $(grep udp1500.error "$EVENTS")"
net_py "$N" "$U" <<'PY'
import select, socket, sys
from m0net import *
n, port = int(sys.argv[1]), int(sys.argv[2])
u = Udp(0, "search tool")
u.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
u.sock.sendto(b"\xff\x01\x01\x02", ("127.255.255.255", port))
got = []
for _ in range(n):
    d, addr = u.recv("a reply to the broadcast search")
    got.append(d)
want = sorted(bytes.fromhex(f"D8B04C0117{0x10 + k:02X}") for k in range(n))
macs = sorted(m for m in want for d in got if m in d)
if len(got) != n or macs != want:
    raise Fail(f"broadcast search: {[d.hex() for d in got]}")
r, _, _ = select.select([u.sock], [], [], 0.3)
if r:
    raise Fail(f"a reply more than one per module: {u.sock.recvfrom(65536)}")
PY
m0_stop
