#!/usr/bin/env bash
# 114-no-tty: a module without a pty (--no-tty) still boots, connects, registers and
# sends heartbeats; it creates no tty link and no tty lock. The same for a fleet: each
# module registers with its own MAC, and its folder holds no tty.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+REGEN=mac" "AT+HEARTEN=on" \
  "AT+HEARTTP=NET" "AT+HEARTTM=1" "AT+HEARTDT=C0FFEE"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
listener = tcp_listen(int(sys.argv[1]))
ready()
server = accept(listener, "server")
server.expect(bytes.fromhex("D8B04C00BEEF"), "server: the registration (--mac)")
server.expect(b"\xc0\xff\xee" * 2, "server: two heartbeats")
if count("tty.attach") or count("tty.detach"):
    raise Fail("tty events from a module without a pty")
PY
m0_start --no-tty --mac D8B04C00BEEF --bind 127.114.0.1
net_py_wait
[[ ! -e $TTY && ! -L $TTY && ! -e $TTY.lock ]] || fail "--no-tty made a tty link or lock"
grep -q 'tty:     none (--no-tty)' "$T/stdout.$M0_RUN" || fail "the banner: $(cat "$T/stdout.$M0_RUN")"
m0_stop

N=5
for k in $(seq 1 $N); do
  fleet_flash "$(printf 'm%04d' "$k")" "AT+REGEN=mac"
done
net_py_bg "$P" "$N" <<'PY'
import sys
from m0net import *
port, n = int(sys.argv[1]), int(sys.argv[2])
listener = tcp_listen(port)
ready()
got, conns = {}, []
for i in range(n):
    c = accept(listener, f"server, connection {i + 1}")
    conns.append(c)
    got[c.sock.getpeername()[0]] = c.read_exact(6, "a registration").hex().upper()
want = {f"127.114.1.{k}": f"D8B04C0001{k - 1:02X}" for k in range(1, n + 1)}
if got != want:
    raise Fail(f"registrations: {sorted(got.items())}")
PY
fleet_start $N --no-tty --bind 127.114.1.1 --mac D8B04C000100 --peer "192.168.0.201=127.0.0.1:$P"
net_py_wait
for k in $(seq 1 $N); do
  d=$FLEET/$(printf 'm%04d' "$k")
  [[ ! -e $d/tty && ! -L $d/tty && ! -e $d/tty.lock && ! -e $d/lock ]] || fail "$d: $(ls -a "$d")"
done
[[ $(head -1 "$FLEET/fleet.lock") == "$M0_PID" ]] || fail "the fleet's lock: $(cat "$FLEET/fleet.lock")"
grep -q $'\t-\t' "$FLEET/fleet.tsv" || fail "fleet.tsv does not say there is no tty"
m0_stop
