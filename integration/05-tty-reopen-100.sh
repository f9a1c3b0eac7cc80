#!/usr/bin/env bash
# 05-tty-reopen-100: a host closing and reopening the tty 100 times; the emulator sees
# every attach and detach, still answers the handshake, and never hands a new host
# bytes that were meant for the previous one.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start
for _ in $(seq 100); do
  socat -u /dev/null FILE:"$TTY",rawer,b115200 2>>"$T/socat.err" ||
    fail "socat could not open the tty"
done
wait_event tty.detach 100
attach=$(count_events tty.attach)
detach=$(count_events tty.detach)
[[ $attach -eq 100 && $detach -eq 100 ]] ||
  fail "100 open/close cycles gave $attach attach and $detach detach events"
kill -0 "$M0_PID" || fail "m0emu died"

tty_open
enter_command_mode
at 'AT+VER' '\r\n+ok=V4017\r\n'
tty_close
# A host that sends a command and closes without reading (socat -u only writes): its
# reply is either flushed at detach or dropped, never left for the next host.
before=$(count_events tty.detach)
printf 'AT+MID\r' | socat -u - FILE:"$TTY",rawer,b115200 2>>"$T/socat.err"
wait_event tty.detach $((before + 1))

# The next host gets only its own replies (the device is still in command mode).
tty_open
at 'AT' '\r\n+ok\r\n'
at 'AT+ENTM' '\r\n+ok\r\n'
tty_close

tty_open
enter_command_mode
at 'AT+VER' '\r\n+ok=V4017\r\n'
tty_close
m0_stop
