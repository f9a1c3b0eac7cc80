#!/usr/bin/env bash
# 110-fleet-register: a fleet of 50 modules in one process, every one a TCP client of one
# server (the factory peer 192.168.0.201:8234, sent to the server's port by --peer). The
# server sees 50 connections from 50 distinct addresses, 127.110.0.1 to 127.110.0.50, and
# each connection's first 6 bytes (REGEN=mac) are the MAC that fleet.tsv and the
# module's AT+MAC give that module: module k is at the k-th address and has MAC base+k-1.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

N=50
P=$(free_ports tcp 1)
for k in $(seq 1 $N); do
  fleet_flash "$(printf 'm%04d' "$k")" "AT+REGEN=mac"
done
net_py_bg "$P" "$N" "$FLEET" <<'PY'
import sys
from m0net import *
port, n, fleet = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
listener = tcp_listen(port)
listener.listen(128)
ready()
seen, conns = {}, []
for i in range(n):
    c = accept(listener, f"server, connection {i + 1}")
    conns.append(c)
    addr = c.sock.getpeername()[0]
    if addr in seen:
        raise Fail(f"two connections from {addr}")
    seen[addr] = c.read_exact(6, f"the registration from {addr}").hex().upper()
rows = [line.rstrip("\n").split("\t") for line in open(f"{fleet}/fleet.tsv")]
if rows[0] != ["name", "addr", "mac", "tty", "web"]:
    raise Fail(f"fleet.tsv header: {rows[0]}")
rows = rows[1:]
if len(rows) != n:
    raise Fail(f"fleet.tsv: {len(rows)} modules, want {n}")
for k, (name, addr, mac, tty, web) in enumerate(rows, 1):
    if name != f"m{k:04d}" or addr != f"127.110.0.{k}":
        raise Fail(f"fleet.tsv row {k}: {name} {addr}")
    if seen.get(addr) != mac:
        raise Fail(f"{name} at {addr}: registration {seen.get(addr)}, fleet.tsv says {mac}")
    if tty != f"{fleet}/{name}/tty":
        raise Fail(f"{name}: tty {tty}")
base = int(rows[0][2], 16)
for k, row in enumerate(rows, 1):
    if int(row[2], 16) != base + k - 1:
        raise Fail(f"{row[0]}: MAC {row[2]} is not the base + {k - 1}")
# The events agree: each module's ready names its own address, every line names a module.
for e in events():
    if "dev" not in e:
        raise Fail(f"an event line without dev: {e}")
ready_addr = {e["dev"]: e["addr"] for e in events("ready")}
for name, addr, *_ in rows:
    if ready_addr.get(name) != addr:
        raise Fail(f"{name}: ready addr {ready_addr.get(name)}, want {addr}")
# And the module itself says so: AT+MAC on module 37's tty.
tty = Tty(f"{fleet}/m0037/tty")
tty.handshake()
tty.at("AT+MAC", f"\r\n+ok={rows[36][2]}\r\n")
tty.close()
PY
fleet_start $N --bind 127.110.0.1 --peer "192.168.0.201:8234=127.0.0.1:$P" --web-port "$(free_ports tcp 1)"
net_py_wait
m0_stop
for k in 1 25 50; do
  d=$FLEET/$(printf 'm%04d' "$k")
  [[ ! -e $d/tty && ! -e $d/lock && ! -e $d/tty.lock ]] || fail "$d: tty or locks left behind"
done
[[ ! -e $FLEET/fleet.lock ]] || fail "the fleet's lock left behind"
