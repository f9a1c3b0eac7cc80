#!/usr/bin/env bash
# 15-tty-two-hosts: several programs holding the tty at once. The device stays attached
# while any host remains, even when inotify merges two opens or two closes that happen
# at the same instant into one event, and detaches once the last host is gone.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

# others OPEN|CLOSE: two more hosts open back to back (merged opens), or close back to
# back (merged closes); python3 for O_NOCTTY and two opens microseconds apart.
others() {
  python3 - "$TTY" "$1" <<'PY'
import os, sys, time
tty, mode = sys.argv[1], sys.argv[2]
flags = os.O_RDWR | os.O_NOCTTY
if mode == "OPEN":
    a = os.open(tty, flags); b = os.open(tty, flags)
    time.sleep(0.2); os.close(a)
    time.sleep(0.2); os.close(b)
else:
    a = os.open(tty, flags)
    time.sleep(0.2); b = os.open(tty, flags)
    time.sleep(0.2); os.close(a); os.close(b)
PY
}

m0_start
tty_open
enter_command_mode
others OPEN
sleep 0.5 # a minimum: lets the emulator see the closes before we ask
at 'AT+VER' '\r\n+ok=V4017\r\n'
others CLOSE
sleep 0.5
at 'AT+VER' '\r\n+ok=V4017\r\n'
tty_close
[[ $(count_events tty.attach) -eq $(count_events tty.detach) ]] ||
  fail "attach and detach events do not balance with every host gone"

# The next host starts clean (still command mode: only its own echo and reply).
tty_open
at 'AT' '\r\n+ok\r\n'
tty_close
m0_stop
