#!/usr/bin/env bash
# 93-m0ctl-at: `m0ctl at` against the emulator from every state of the handshake: in
# transparent mode (the +++ / a handshake, then AT+ENTM), already in command mode (found
# by its answer to a CR, no second handshake, left with AT+ENTM; --stay keeps it there),
# while the device is booting (retried until it answers), and with network data pouring
# onto the line the whole time (letters 'a' among it: a false "a" must not derail it).
# Each reply on its own line; the first +ERR stops the run with exit 1 (and command mode
# is still left); AT+Z in the middle is followed by a new handshake. get, set, dump and
# load: values checked before sending (a bad one is exit 2 and sends nothing), and a dump
# loaded back restores the settings.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

CTL=$T/ctl
out_is() { # WANT: the last run's stdout
  [[ $(cat "$T/out") == "$1" ]] || { log "stdout: $(cat "$T/out")"; log "stderr: $(cat "$T/err")"; fail "want '$1'"; }
}
run() { # WANT_RC ARGS...
  local want=$1 rc=0
  shift
  "$M0CTL" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -eq $want ]] || { cat "$T/out" "$T/err" >&2; fail "m0ctl $* exited $rc, want $want"; }
}

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,192.168.0.201,$P" "AT+SOCKPORT=$P"
m0_start --control "$CTL"

# Transparent mode: one handshake, replies in order, command mode left.
run 0 at --tty "$TTY" AT+VER at+uart MAC
out_is $'+ok=V4017\n+ok=115200,8,1,NONE,NFC\n'"+ok=$(grep -o 'MAC [0-9A-F]*' "$T/stdout.1" | cut -c5-)"
[[ $(count_events mode.command) -eq 1 && $(count_events mode.transparent) -eq 1 ]] ||
  fail "want one handshake and one AT+ENTM"

# --stay, then found already in command mode: no new handshake, left at the end.
run 0 at --tty "$TTY" --stay AT+VER
[[ $(count_events mode.command) -eq 2 && $(count_events mode.transparent) -eq 1 ]] || fail "--stay left command mode"
run 0 at --tty "$TTY" --verbose AT+MID
out_is "+ok=USR-M0"
grep -q "already in command mode" "$T/err" || fail "--verbose did not say command mode was found"
[[ $(count_events mode.command) -eq 2 && $(count_events mode.transparent) -eq 2 ]] ||
  fail "in command mode already: want no handshake and one AT+ENTM"

# +ERR stops the run (AT+VER is not sent) and still leaves command mode.
run 1 at --tty "$TTY" AT+NOPE AT+VER
out_is "+ERR=-2"
wait_event mode.transparent 3

# AT+Z in the middle: the module restarts, a new handshake follows.
run 0 at --tty "$TTY" AT+MID=first AT+Z AT+MID
out_is $'+ok\n+ok\n+ok=first'
[[ $(count_events restart) -eq 1 ]] || fail "AT+Z did not restart"

# Booting: started right after a restart, it waits for the device.
"$M0CTL" --control "$CTL" restart >/dev/null
run 0 at --tty "$TTY" AT+VER
out_is "+ok=V4017"

# Line noise: network data pours onto the host's line all along.
net_py "$P" "$M0CTL" "$TTY" <<'PY'
import random, subprocess, sys, threading, time
from m0net import *
port, m0ctl, tty = int(sys.argv[1]), sys.argv[2], sys.argv[3]
client = tcp_connect(port, "noise")
wait_event("net.connected")
stop = threading.Event()
def pour():
    rnd = random.Random(7)
    while not stop.is_set():
        client.write(bytes(rnd.choice(b"a+ok\r\nxyz") for _ in range(64)))
        time.sleep(0.005)
t = threading.Thread(target=pour)
t.start()
try:
    for i in range(3):
        r = subprocess.run([m0ctl, "at", "--tty", tty, "AT+VER", "AT+SOCKLK"],
                           capture_output=True, timeout=60)
        if r.returncode != 0 or r.stdout != b"+ok=V4017\n+ok=connect\n":
            raise Fail(f"m0ctl at under noise: {r.returncode} {r.stdout!r} {r.stderr!r}")
finally:
    stop.set()
    t.join()
client.close()
PY

# get / set / dump / load.
run 0 get --tty "$TTY" UART
out_is "115200,8,1,NONE,NFC"
run 2 set --tty "$TTY" MID=fine UART=12
grep -q "UART: '12' is not a valid value" "$T/err" || fail "set's check: $(cat "$T/err")"
run 0 at --tty "$TTY" AT+MID
out_is "+ok=first" # nothing was sent
run 0 set --tty "$TTY" MID=saved HEARTTM=42
out_is $'+ok\n+ok'
run 0 dump --tty "$TTY"
cp "$T/out" "$T/dump"
head -1 "$T/dump" | grep -qx '# m0emu flash v1' || fail "dump's header: $(head -1 "$T/dump")"
grep -qx 'AT+MID=saved' "$T/dump" && grep -qx 'AT+HEARTTM=42' "$T/dump" || fail "dump: $(cat "$T/dump")"
"$M0CTL" --control "$CTL" factory-reset >/dev/null
wait_event ready 4
run 0 get --tty "$TTY" MID
out_is "USR-M0"
printf 'AT+MID=oops\nAT+UART=7\n' >"$T/bad"
run 2 load --tty "$TTY" "$T/bad"
grep -q "bad:2: UART" "$T/err" || fail "load's check: $(cat "$T/err")"
run 0 load --tty "$TTY" "$T/dump"
run 0 at --tty "$TTY" AT+Z AT+MID AT+HEARTTM
out_is $'+ok\n+ok=saved\n+ok=42'
m0_stop
