#!/usr/bin/env bash
# 87-uart-tcp-raw: the UART as a raw TCP server (--uart tcp:127.0.0.1:PORT), opened as
# pyserial's socket:// (any TCP client would do). The same +++/a handshake and AT
# exchange as on the tty. A raw client has no line settings, so it never mismatches:
# after AT+UART=9600 and a restart it still talks, even with --line-faults. A port that
# is taken is an error; a client connected at exit does not spoil it.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start --line-faults --uart tcp:127.0.0.1:0
grep -q '^  uart:    socket://127.0.0.1:[0-9]* (raw TCP' "$T/stdout.1" ||
  fail "the banner does not give the raw server's URL"
uart_py <<'PY'
from m0uart import *
s = Serial(uart_url("tcp"))
wait_event("uart.connected", where={"uart": "tcp"})
s.handshake()
s.at("AT+VER", "\r\n+ok=V4017\r\n")
s.at("AT+UART=9600,8,1,NONE,NFC", "\r\n+ok\r\n")
s.at("AT+Z", "\r\n+ok\r\n")
wait_event("ready", 2)
s.handshake()
s.at("AT+UART", "\r\n+ok=9600,8,1,NONE,NFC\r\n")
if count("uart.mismatch"):
    raise Fail(f"a raw client mismatched: {events('uart.mismatch')}")
s.close()
wait_event("uart.closed", where={"uart": "tcp", "reason": "closed"})
PY
# A port asked for that another program holds (this emulator's) is an error: exit 1,
# one line naming it, no banner.
taken=$(sed -n 's,^  uart:    socket://127.0.0.1:\([0-9]*\) .*,\1,p' "$T/stdout.1")
rc=0
"$M0EMU" --tty "$T/tty2" --state "$T/state2" --web-port "$(free_ports tcp 1)" \
  --uart "tcp:$taken" >"$T/out2" 2>"$T/err2" || rc=$?
[[ $rc -eq 1 ]] || fail "a --uart port already taken: exit $rc, want 1 ($(cat "$T/err2"))"
grep -q "^m0emu: --uart tcp:127.0.0.1:$taken: cannot listen: address already in use" "$T/err2" ||
  fail "a --uart port already taken: $(cat "$T/err2")"
[[ ! -s $T/out2 ]] || fail "a --uart port already taken: a banner was printed"
[[ ! -e $T/tty2 ]] || fail "a --uart port already taken: the tty symlink was left behind"

# A client still connected when the emulator stops: a clean exit all the same.
bg_start socat -u EXEC:"sleep 60" "TCP:127.0.0.1:$taken"
wait_event uart.connected 2
m0_stop
