#!/usr/bin/env bash
# 82-say-what-is-wrong: what the user's program cannot see for itself is said where the
# user looks, without -v. A host line at another speed or stop bits than AT+UART is one
# warning on stderr per change (and one more when it agrees again), the uart.mismatch and
# uart.match events, /api/status's uart_mismatch and host_line; the module's mode
# (booting, transparent, command), the host's line and the mismatch are in
# <state>/status.json, rewritten as they change and removed at a clean exit.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start
[[ -s $STATE/status.json ]] || fail "no status.json once ready"
tty_open
enter_command_mode
net_py "$STATE/status.json" "$WEB_PORT" <<'PY'
import json, os, sys, termios, time
from m0net import *
path, web = sys.argv[1], int(sys.argv[2])

def status(**want):
    """status.json once it says what is wanted (it is rewritten on the next loop turn)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        with open(path) as f:
            got = json.load(f)
        if all(got.get(k) == v for k, v in want.items()):
            return got
        if time.monotonic() > deadline:
            raise Fail(f"status.json: {got}, want {want}")
        time.sleep(0.02)

s = status(mode="command")
assert s["pid"] == int(M0_PID), s
assert s["host_line"] == {"baud": 115200, "stop": 1} and not s["uart_mismatch"], s
assert s["uart"] == {"baud": 115200, "stop": 1} and s["proto"] == "TCPC", s
assert s["tty"] == TTY and s["pts"].startswith("/dev/pts/") and s["web_port"] == web, s

# A second program on the port at 9600 baud: the line is now wrong.
host = Tty(baud=9600, wait_attach=False)  # the first host keeps it attached
wait_event("uart.mismatch")
s = status(uart_mismatch=True)
assert s["host_line"] == {"baud": 9600, "stop": 1}, s
api = web_status(web)
assert api["uart_mismatch"] is True and api["host_line"] == {"baud": 9600, "stop": 1}, api

def line(baud, stop):
    a = termios.tcgetattr(host.fd)
    a[4] = a[5] = getattr(termios, f"B{baud}")
    a[2] = (a[2] | termios.CSTOPB) if stop == 2 else (a[2] & ~termios.CSTOPB)
    termios.tcsetattr(host.fd, termios.TCSANOW, a)

line(9600, 2)                       # another change: said again
wait_event("uart.mismatch", 2)
line(115200, 1)                     # agrees: said once
wait_event("uart.match")
s = status(uart_mismatch=False)
assert s["host_line"] == {"baud": 115200, "stop": 1}, s
assert web_status(web)["uart_mismatch"] is False
line(115200, 2)                     # the stop bits alone
wait_event("uart.mismatch", 3)
line(115200, 1)
wait_event("uart.match", 2)
host.close()
PY
# The lines on stderr, without -v: one per change, nothing else.
err=$T/stderr.$M0_RUN
want="m0emu: host line is 9600 baud 1 stop bits but AT+UART is 115200 baud 1 stop bits; a real module would garble the bytes (--line-faults does too)
m0emu: host line is 9600 baud 2 stop bits but AT+UART is 115200 baud 1 stop bits; a real module would garble the bytes (--line-faults does too)
m0emu: host line now agrees with AT+UART (115200 baud, 1 stop bits)
m0emu: host line is 115200 baud 2 stop bits but AT+UART is 115200 baud 1 stop bits; a real module would garble the bytes (--line-faults does too)
m0emu: host line now agrees with AT+UART (115200 baud, 1 stop bits)"
[[ $(cat "$err") == "$want" ]] || fail "stderr: want
$want
got
$(cat "$err")"

at 'AT+ENTM' '\r\n+ok\r\n'
wait_event mode.transparent
deadline=$((SECONDS + M0_TIMEOUT))
until grep -q '"mode":"transparent"' "$STATE/status.json"; do
  ((SECONDS < deadline)) || fail "status.json still says $(cat "$STATE/status.json")"
  sleep 0.02
done
tty_close
m0_stop
[[ ! -e $STATE/status.json ]] || fail "status.json left behind by a clean exit"
