#!/usr/bin/env bash
# 115-fleet-events: a fleet's event lines and log lines name their module; SIGHUP
# restarts every module; an existing fleet folder is reused: without --count the fleet
# runs the module folders it holds (by their numbers, so each keeps its address), and
# each module keeps its settings.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

fleet_start 4 --name dev- --bind 127.115.0.1 -v --web-port "$(free_ports tcp 1)"
net_py "$FLEET" <<'PY'
import sys
from m0net import *
fleet = sys.argv[1]
tty = Tty(f"{fleet}/dev-0002/tty")
tty.handshake()
tty.at("AT+MID=two", "\r\n+ok\r\n")
tty.close()
wait_event("flash.saved", where={"dev": "dev-0002"})
wait_event("tty.detach", where={"dev": "dev-0002"})
names = {f"dev-{k:04d}" for k in range(1, 5)}
for e in events():
    if e.get("dev") not in names:
        raise Fail(f"an event line without its module: {e}")
    keys = list(e)
    if keys[:3] != ["t_ms", "ev", "dev"]:
        raise Fail(f"dev is not right after ev: {e}")
for name in ("tty.attach", "tty.detach", "flash.saved"):
    devs = {e["dev"] for e in events(name)}
    if devs != {"dev-0002"}:
        raise Fail(f"{name} from {devs}, want dev-0002 only")
addrs = {e["dev"]: e["addr"] for e in events("ready")}
if addrs != {f"dev-{k:04d}": f"127.115.0.{k}" for k in range(1, 5)}:
    raise Fail(f"ready addresses: {addrs}")
PY
kill -HUP "$M0_PID"
wait_event ready 8
[[ $(grep '"ev":"restart"' "$EVENTS" | grep -c '"cause":"sighup"') -eq 4 ]] ||
  fail "SIGHUP did not restart every module once"
m0_stop
# -v: every log line is the process's own or names its module.
bad=$(grep -v '^m0emu\[dev-000[1-4]\]: \|^m0emu: ' "$T/stderr.$M0_RUN" || true)
[[ -z $bad ]] || fail "log lines without their module: $bad"
grep -q '^m0emu\[dev-0002\]: event flash.saved' "$T/stderr.$M0_RUN" || fail "no tagged log line"

# Reused: a module folder added by hand (number 7), and one that is not a module.
mkdir -p "$FLEET/dev-0007" "$FLEET/notes" "$FLEET/dev-7"
M0_RUN=$((M0_RUN + 1))
rm -f "$EVENTS"
"$M0EMU" --fleet "$FLEET" --name dev- --bind 127.115.0.1 --events "$EVENTS" --timing fast \
  --web-port "$(free_ports tcp 1)" >"$T/stdout.$M0_RUN" 2>"$T/stderr.$M0_RUN" &
M0_PID=$!
wait_event ready 5
net_py "$FLEET" <<'PY'
import sys
from m0net import *
fleet = sys.argv[1]
addrs = {e["dev"]: e["addr"] for e in events("ready")}
want = {f"dev-{k:04d}": f"127.115.0.{k}" for k in (1, 2, 3, 4, 7)}
if addrs != want:
    raise Fail(f"the reused fleet: {addrs}")
tty = Tty(f"{fleet}/dev-0002/tty")
tty.handshake()
tty.at("AT+MID", "\r\n+ok=two\r\n")
tty.close()
PY
m0_stop
[[ $(wc -l <"$FLEET/fleet.tsv") -eq 6 ]] || fail "fleet.tsv: $(cat "$FLEET/fleet.tsv")"

# An empty folder without --count says what to do.
rc=0
"$M0EMU" --fleet "$T/empty" >"$T/out" 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] && grep -q 'give --count N' "$T/err" || fail "empty fleet folder: $rc $(cat "$T/err")"
