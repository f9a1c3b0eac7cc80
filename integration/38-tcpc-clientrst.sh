#!/usr/bin/env bash
# 38-tcpc-clientrst: CLIENTRST=on restarts a TCP client after 30 failed dials in a row
# (restart with cause clientrst, after at least 30 net.refused), and the restarted
# device dials again. With CLIENTRST=off (the factory value) it just keeps dialling.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,127.0.0.1,$P" "AT+CLIENTRST=on"
m0_start
net_py "$P" <<'PY'
from m0net import *
# 30 dials one second apart: far beyond a single wait, so this one is longer.
ev = wait_event("restart", where={"cause": "clientrst"}, timeout=max(TIMEOUT, 120))
refused = [e for e in events("net.refused") if e["t_ms"] <= ev["t_ms"]]
if len(refused) < 30:
    raise Fail(f"restarted after {len(refused)} failed dials, want 30")
wait_event("ready", 2)
n = count("net.connecting")
wait_event("net.connecting", n + 1)
PY
m0_stop

flash_write "AT+SOCK=TCPC,127.0.0.1,$P" "AT+CLIENTRST=off"
m0_start
net_py "$P" <<'PY'
from m0net import *
wait_event("net.refused", 31, timeout=max(TIMEOUT, 120))
if count("restart") != 0:
    raise Fail("a device with CLIENTRST=off restarted")
PY
m0_stop
