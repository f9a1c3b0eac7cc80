#!/usr/bin/env bash
# 116-fleet-control: one control channel for a whole fleet of modules without a pty.
# `list` names every module with its own address and no tty; a per-device command without
# "dev" is device-required, with a name not in the fleet unknown-device. Each module's
# UART is reached through the channel only (--no-tty): m0ctl --dev NAME uart chat enters
# command mode and AT+MAC answers that module's own MAC (consecutive from --mac). Power,
# restart and a cable fault go to the named module alone (the others stay connected and
# untouched), and subscribe with dev gets that module's events only. Each module's
# status.json (in its folder) names it and its address, and --set (every module's
# factory settings) sent every module to the one server. Bytes written through the
# channel in transparent mode reach the server, even with a standard input holding
# unread bytes (fd 0 is not a module's pty).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

export M0_CONTROL=$T/ctl
export M0CTL_CONTROL=$M0_CONTROL
N=3
P=$(free_ports tcp 1)
net_py_bg "$P" "$N" "$T/server.ok" <<'PY'
import sys, time
from m0net import *
port, n, ok = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
listener = tcp_listen(port)
ready()
conns = [accept(listener, f"server, connection {i + 1}") for i in range(n)]
got = sorted(c.sock.getpeername()[0] for c in conns)
want = sorted(f"127.116.0.{k}" for k in range(1, n + 1))
if got != want:
    raise Fail(f"connected from {got}, want {want}")
open(ok, "w").write("ok\n")
first = [c for c in conns if c.sock.getpeername()[0] == "127.116.0.1"][0]
first.expect(b"from the channel", "m0001's bytes written through the control channel")
open(ok + "2", "w").write("ok\n")
time.sleep(300)  # the modules' server until the scenario ends (its redials wait in the backlog)
PY
# Its standard input a file with bytes unread: nothing of a module without a pty may
# take fd 0 for its pty (a pending count there held every frame back).
head -c 1000 /dev/zero >"$T/stdin.bin"
M0_RUN=$((M0_RUN + 1)) # as fleet_start, with that standard input (`&` alone gives
# /dev/null) and real timing (fast timing ends a frame at each read, pending or not)
"$M0EMU" --fleet "$FLEET" --count $N --events "$EVENTS" --timing real --no-tty \
  --bind 127.116.0.1 --mac D8B04C011600 --control "$M0_CONTROL" --udp1500-port 0 \
  --set "SOCK=TCPC,192.168.0.201,$P" <"$T/stdin.bin" >"$T/stdout.$M0_RUN" 2>"$T/stderr.$M0_RUN" &
M0_PID=$!
wait_event ready $N
wait_event net.connected $N
deadline=$((SECONDS + M0_TIMEOUT))
until [[ -e $T/server.ok ]]; do
  kill -0 "$NET_PY_PID" 2>/dev/null || net_py_wait
  ((SECONDS < deadline)) || fail "the server did not see every module from its own address"
  sleep 0.05
done

ctl() { "$M0CTL" "$@"; }

# list: every module, its address, no tty.
ctl list >"$T/list" || fail "m0ctl list failed"
python3 - "$T/list" "$N" <<'PY' || fail "list: $(cat "$T/list")"
import json, sys
d = json.load(open(sys.argv[1]))["devices"]
n = int(sys.argv[2])
assert [x["dev"] for x in d] == [f"m{k:04d}" for k in range(1, n + 1)], d
assert [x["addr"] for x in d] == [f"127.116.0.{k}" for k in range(1, n + 1)], d
assert all(x["tty"] is None and x["mode"] == "transparent" for x in d), d
PY

# Each module's status.json in its own folder says which module it is.
for k in 1 2 3; do
  python3 - "$FLEET/m000$k/status.json" "$k" <<'PY' || fail "m000$k's status.json: $(cat "$FLEET/m000$k/status.json")"
import json, sys
s, k = json.load(open(sys.argv[1])), sys.argv[2]
assert s["dev"] == f"m000{k}" and s["addr"] == f"127.116.0.{k}", s
assert s["tty"] is None and s["pts"] is None and s["mode"] == "transparent", s
PY
done

# A per-device command needs dev, and a dev that is there.
out=$(ctl status 2>&1) && fail "status without --dev in a fleet succeeded: $out"
grep -q device-required <<<"$out" || fail "status without --dev: $out"
out=$(ctl --dev m0009 status 2>&1) && fail "status of m0009 succeeded: $out"
grep -q unknown-device <<<"$out" || fail "status --dev m0009: $out"
grep -q '"m0003"' <<<"$out" || fail "unknown-device does not list the modules: $out"

# Each module's UART through the channel: its own MAC.
for k in 1 2 3; do
  export M0CTL_DEV=m000$k
  [[ $(ctl uart chat '+++' --until a --timeout 5) == a ]] || fail "m000$k: no 'a'"
  [[ $(ctl uart chat 'a' --until +ok --timeout 5) == +ok ]] || fail "m000$k: no +ok"
  got=$(ctl uart chat 'AT+MAC\r' --until "D8B04C01160$((k - 1))"'\r\n' --timeout 5) ||
    fail "m000$k: AT+MAC did not answer its own MAC: $(printf '%q' "$got")"
  [[ $got == *"+ok=D8B04C01160$((k - 1))"* ]] || fail "m000$k: AT+MAC: $(printf '%q' "$got")"
  ctl uart write 'AT+ENTM\r' >/dev/null || fail "m000$k: AT+ENTM"
done
unset M0CTL_DEV

# Transparent mode: bytes written through the channel reach the server as one frame.
ctl --dev m0001 uart write 'from the channel' >/dev/null || fail "m0001: uart write"
deadline=$((SECONDS + M0_TIMEOUT))
until [[ -e $T/server.ok2 ]]; do
  kill -0 "$NET_PY_PID" 2>/dev/null || net_py_wait
  ((SECONDS < deadline)) || fail "the server did not get m0001's bytes from the channel"
  sleep 0.05
done

# Power, restart and a cable fault go to the named module alone; subscribe with dev
# sees that module's events only.
net_py <<'PY'
from m0net import *
from ctl import Control
one = Control(name="m0002's subscriber")
one.ok("subscribe", dev="m0002")
every = Control(name="control")
every.ok("subscribe")
every.ok("power", dev="m0002", state="off")
ev = every.wait_event("power", state="off")
if ev.get("dev") != "m0002":
    raise Fail(f"power off: {ev}")
s = {d["dev"]: d for d in every.ok("list")["devices"]}
if s["m0002"]["mode"] != "off" or s["m0001"]["mode"] != "transparent" \
        or s["m0003"]["mode"] != "transparent":
    raise Fail(f"after m0002's power off: {s}")
if not s["m0001"]["socket_connected"] or not s["m0003"]["socket_connected"]:
    raise Fail(f"a neighbour lost its connection: {s}")
every.ok("power", dev="m0002", state="on")
every.wait_event("ready", dev="m0002")
every.ok("restart", dev="m0003")
ev = every.wait_event("restart", dev="m0003")
if ev.get("cause") != "control":
    raise Fail(f"restart: {ev}")
every.wait_event("ready", dev="m0003")
every.ok("cable", dev="m0001", state="unplugged")
st = every.ok("status", dev="m0001")
if st["faults"]["cable"]["plugged"] or st["addr"] != "127.116.0.1" or st["tty"] is not None:
    raise Fail(f"m0001's status (cable out, its address, no tty): {st}")
if every.ok("status", dev="m0001")["faults"]["cable"]["plugged"]:
    raise Fail("m0001's cable is not out")
if not every.ok("status", dev="m0002")["faults"]["cable"]["plugged"]:
    raise Fail("m0002's cable is out too")
every.ok("cable", dev="m0001", state="plugged")
# m0002's subscriber: its power events and its ready, nothing of m0001 or m0003.
one.wait_event("power", state="on")
one.wait_event("ready")
every.ok("restart", dev="m0002")
one.wait_event("restart", cause="control")
one.wait_event("ready")
for ev in one.stream:
    if ev.get("dev") != "m0002":
        raise Fail(f"m0002's subscriber got {ev}")
PY
m0_stop
