#!/usr/bin/env bash
# 111-fleet-side-by-side: two fleets in two processes, each in its own folder with its own
# address range (--bind) and MAC range (--mac), both TCP clients of one server. The server
# sees 2 x 10 connections from 20 distinct addresses, each registering with its own MAC;
# both processes keep the factory ports (SOCKPORT 20108, the same web port) on their own
# addresses without colliding.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

N=10
P=$(free_ports tcp 1)
WEB=$(free_ports tcp 1)
for k in $(seq 1 $N); do
  fleet_flash "$(printf 'm%04d' "$k")" "AT+REGEN=mac"
done
cp -r "$FLEET" "$T/second"
net_py_bg "$P" "$N" <<'PY'
import sys
from m0net import *
port, n = int(sys.argv[1]), int(sys.argv[2])
listener = tcp_listen(port)
listener.listen(64)
ready()
seen, conns = {}, []
for i in range(2 * n):
    c = accept(listener, f"server, connection {i + 1}")
    conns.append(c)
    host, sport = c.sock.getpeername()
    if host in seen:
        raise Fail(f"two connections from {host}")
    if sport != 20108:
        raise Fail(f"{host}: source port {sport}, want the factory SOCKPORT 20108")
    seen[host] = c.read_exact(6, f"the registration from {host}").hex().upper()
want = {}
for k in range(1, n + 1):
    want[f"127.111.0.{k}"] = f"D8B04C0100{k - 1:02X}"
    want[f"127.111.1.{k}"] = f"D8B04C0200{k - 1:02X}"
if seen != want:
    raise Fail(f"addresses and registrations: {sorted(seen.items())}")
PY
fleet_start $N --bind 127.111.0.1 --mac D8B04C010000 --peer "192.168.0.201=127.0.0.1:$P" \
  --web-port "$WEB"
FIRST_PID=$M0_PID
FIRST_EVENTS=$EVENTS
# The second process: its own folder, events file and ranges.
EVENTS=$T/events.second
"$M0EMU" --fleet "$T/second" --count $N --events "$EVENTS" --timing fast \
  --bind 127.111.1.1 --mac D8B04C020000 --peer "192.168.0.201=127.0.0.1:$P" \
  --web-port "$WEB" >"$T/stdout.second" 2>"$T/stderr.second" &
M0_PID=$!
wait_event ready $N
net_py_wait
# Both pages answer on the same port, each on its module's address.
for a in 127.111.0.3 127.111.1.3; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$a:$WEB/api/status") || true
  [[ $code == 401 || $code == 200 ]] || fail "the page of the module at $a: HTTP $code"
done
for f in "$FIRST_EVENTS" "$EVENTS"; do
  grep -q '"ev":"web.error"\|"ev":"net.refused"' "$f" && fail "a collision in $f"
done
m0_stop
M0_PID=$FIRST_PID
EVENTS=$FIRST_EVENTS
m0_stop
