#!/usr/bin/env bash
# 112-fleet-lock: no silent collisions. A second m0emu on a state folder or a tty link
# that a live m0emu holds exits 1 with one line naming the holder's pid, and the holder
# runs on untouched; the same for a second fleet on a fleet's folder and for a single
# m0emu on one of its modules. The lock of a process that died (kill -9) is taken over,
# and the newcomer says whose it was.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

# refused WHAT PID ARGS...: m0emu ARGS must exit 1 with one line naming PID.
refused() {
  local what=$1 pid=$2 rc=0
  shift 2
  "$M0EMU" --timing fast "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -eq 1 ]] || fail "$what: exited $rc, want 1 ($(cat "$T/err"))"
  [[ $(wc -l <"$T/err") -eq 1 ]] || fail "$what: want one line on stderr: $(cat "$T/err")"
  grep -q "in use by m0emu pid $pid" "$T/err" || fail "$what: message: $(cat "$T/err")"
}

m0_start --bind 127.112.0.1
A=$M0_PID
LINK=$(readlink "$TTY")
refused "the same state folder" "$A" --state "$STATE" --tty "$T/other.tty" --bind 127.112.0.2
[[ ! -e $T/other.tty ]] || fail "the refused process published its tty"
refused "the same tty link" "$A" --state "$T/other" --tty "$TTY" --bind 127.112.0.2
[[ $(readlink "$TTY") == "$LINK" ]] || fail "the refused process took the tty link"
[[ $(cat "$STATE/lock") == "$A" ]] || fail "the lock file does not hold the pid: $(cat "$STATE/lock")"
# The holder is untouched: it still answers on its tty.
tty_open
enter_command_mode
at 'AT+MID=Locked' '\r\n+ok\r\n'
tty_close

# A holder that dies leaves its lock files behind; they are free, and taken over.
kill -KILL "$A"
wait "$A" 2>/dev/null || true
M0_PID=""
[[ -e $STATE/lock ]] || fail "kill -9 left no lock file (the test needs one)"
m0_start --bind 127.112.0.1
grep -q "taking over the lock of pid $A, which is gone" "$T/stderr.$M0_RUN" ||
  fail "no word of the stale lock: $(cat "$T/stderr.$M0_RUN")"
[[ $(cat "$STATE/lock") == "$M0_PID" ]] || fail "the lock was not rewritten"
tty_open
enter_command_mode
at 'AT+MID' '\r\n+ok=Locked\r\n'
tty_close
m0_stop
[[ ! -e $STATE/lock && ! -e $TTY.lock ]] || fail "lock files left behind after a clean exit"

# Fleets hold one lock for every module: a second fleet on the same folder, and a single
# m0emu on one of its module folders or tty links, are refused.
fleet_start 3 --bind 127.112.1.1
F=$M0_PID
[[ $(head -1 "$FLEET/fleet.lock") == "$F" ]] || fail "the fleet's lock: $(cat "$FLEET/fleet.lock")"
refused "a second fleet on the folder" "$F" --fleet "$FLEET" --count 3 --bind 127.112.2.1 \
  --no-tty
refused "a module's folder" "$F" --state "$FLEET/m0002" --tty "$T/m2.tty" --bind 127.112.3.1
refused "a module's tty" "$F" --state "$T/m2" --tty "$FLEET/m0003/tty" --bind 127.112.3.1
[[ -L $FLEET/m0003/tty ]] || fail "the refused process took the module's tty"
[[ $(grep -c '"ev":"ready"' "$EVENTS") -eq 3 ]] || fail "the fleet was disturbed"
# A fleet that dies leaves its lock: the next one takes it over, and says so.
kill -KILL "$F"
wait "$F" 2>/dev/null || true
M0_PID=""
fleet_start 3 --bind 127.112.1.1
grep -q "taking over the lock of pid $F, which is gone" "$T/stderr.$M0_RUN" ||
  fail "no word of the fleet's stale lock: $(cat "$T/stderr.$M0_RUN")"
m0_stop
[[ ! -e $FLEET/fleet.lock ]] || fail "the fleet's lock left behind"
# And the other way round: a single m0emu holds a module's folder, the fleet is refused.
m0_start --state "$FLEET/m0002" --bind 127.112.4.1
refused "a fleet over a held module" "$M0_PID" --fleet "$FLEET" --count 3 --bind 127.112.2.1
m0_stop
