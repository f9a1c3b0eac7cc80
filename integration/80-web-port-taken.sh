#!/usr/bin/env bash
# 80-web-port-taken: a --web-port the user asked for and cannot have is a failure (exit 1,
# one line on stderr naming the option and the address, no banner, no `ready`, no symlink
# left), while the same port coming from WEBPORT only costs the page: the device runs,
# the banner and a web.error event say so. Once the port is free, the same options work.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

port=$(free_ports tcp 1)
# Another program holds the port (listening, as a second server would).
# It lets go when the scenario creates $T/release.
net_py_bg "$port" "$T/release" <<'PY'
import os, socket, sys, time, m0net
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
m0net.ready()
deadline = time.monotonic() + 600
while not os.path.exists(sys.argv[2]):
    if time.monotonic() > deadline:
        sys.exit("never released")
    time.sleep(0.05)
s.close()
PY

# Asked for explicitly: exit 1 before the banner.
rc=0
timeout -s KILL "$M0_TIMEOUT" "$M0EMU" --tty "$TTY" --state "$STATE" --events "$EVENTS" --udp1500-port 0 \
  --timing fast --web-port "$port" \
  >"$T/out" 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] || fail "--web-port $port (taken) exited $rc, want 1"
[[ $(wc -l <"$T/err") -eq 1 ]] || fail "want one line on stderr, got: $(cat "$T/err")"
grep -qF -- "m0emu: --web-port $port: cannot listen on 127.0.0.1:$port" "$T/err" ||
  fail "the error does not name the option and the address: $(cat "$T/err")"
[[ ! -s $T/out ]] || fail "a banner was printed before the failure: $(cat "$T/out")"
grep -q "\"ev\":\"web.error\",\"port\":$port,\"error\":\"EADDRINUSE\"" "$EVENTS" ||
  fail "no web.error event with the reason"
[[ $(count_events ready) -eq 0 ]] || fail "the device reached ready"
[[ ! -e $TTY && ! -L $TTY ]] || fail "the tty symlink was left behind"
[[ ! -e $STATE/flash.conf ]] || fail "flash.conf written by a run that failed"

# The same port from WEBPORT: a warning, and the device runs without its page.
flash_write "AT+WEBPORT=$port"
M0_WEB_FROM_WEBPORT=1 m0_start
grep -qF "web:     http://127.0.0.1:$port/ could not be bound: running without the web page" \
  "$T/stdout.$M0_RUN" || fail "the banner does not say the page is missing"
[[ $(count_events web.error) -ge 1 ]] || fail "no web.error event" # at start, and again at each boot
[[ ! -s $T/stderr.$M0_RUN ]] || fail "stderr: $(cat "$T/stderr.$M0_RUN")"
tty_open
enter_command_mode
at 'AT+VER' '\r\n+ok=V4017\r\n'
tty_close
m0_stop

# The holder gone, the explicit port is served.
touch "$T/release"
net_py_wait
m0_start --web-port "$port"
grep -qF "web:     http://127.0.0.1:$port/ (user and password: AT+WEBU)" "$T/stdout.$M0_RUN" ||
  fail "the banner does not give the requested port"
grep -q "\"ev\":\"web.listening\",\"port\":$port,\"host_port\":$port" "$EVENTS" ||
  fail "no web.listening event on $port"
m0_stop
