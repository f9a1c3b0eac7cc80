#!/usr/bin/env bash
# 96-hang: a firmware hang and its watchdog, end to end. While it hangs AT gets no answer
# (m0ctl at times out: exit 1), the server meets silence (no FIN, no reset, none of the
# host's bytes), status says it hangs; when the hang ends the old connection is reset,
# the device restarts (cause watchdog), dials again, and answers AT.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

export M0_CONTROL=$T/ctl
P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+SOCKPORT=0"
net_py_bg "$P" "$M0CTL" <<'PY'
import subprocess, sys, time
from m0net import *
from ctl import CONTROL, Control
port, m0ctl = int(sys.argv[1]), sys.argv[2]
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
wait_event("net.connected")
c = Control()
c.ok("subscribe")
r = subprocess.run([m0ctl, "--control", CONTROL, "hang", "8"], capture_output=True, timeout=30)
if r.returncode != 0:
    raise Fail(f"m0ctl hang: {r.returncode} {r.stderr!r}")
t_ms = int(r.stdout)
hang = c.wait_event("hang", for_ms=8000)
if hang["t_ms"] < t_ms:
    raise Fail(f"m0ctl hang printed {t_ms}, the hang began at {hang['t_ms']}")
st = c.ok("status")
if st["faults"]["hang"]["hung"] is not True:
    raise Fail(f"status during the hang: {st['faults']}")
# AT times out (m0ctl gives up after max(--timeout, 3 s) of handshakes).
r = subprocess.run([m0ctl, "at", "--tty", TTY, "--timeout", "1", "AT+VER"],
                   capture_output=True, timeout=30)
if r.returncode != 1 or b"no +++ handshake" not in r.stderr:
    raise Fail(f"m0ctl at during the hang: {r.returncode} {r.stdout!r} {r.stderr!r}")
server.write(b"to a hung module")
expect_nothing(server, 1.0, "the firmware hangs: no FIN, no reset, no bytes")
c.wait_event("net.reset", links=1, cause="watchdog")
c.wait_event("restart", cause="watchdog")
server.sock.setblocking(True)
server.sock.settimeout(TIMEOUT)
try:
    b = server.sock.recv(100)
    raise Fail(f"server: got {b!r} where the connection should be reset")
except ConnectionResetError:
    pass
c.wait_event("ready")
accept(listener, "server after the watchdog")
r = subprocess.run([m0ctl, "at", "--tty", TTY, "AT+VER"], capture_output=True, timeout=30)
if r.returncode != 0 or r.stdout != b"+ok=V4017\n":
    raise Fail(f"m0ctl at after the watchdog: {r.returncode} {r.stdout!r} {r.stderr!r}")
PY
m0_start --control "$M0_CONTROL"
net_py_wait
m0_stop
