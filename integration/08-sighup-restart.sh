#!/usr/bin/env bash
# 08-sighup-restart: SIGHUP restarts the device like AT+Z: a restart event with cause
# sighup, a new ready, transparent mode again, the same pty and host session.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start
pts=$(readlink "$TTY")
tty_open
enter_command_mode
at 'AT+MID=Hup-Kept' '\r\n+ok\r\n'
kill -HUP "$M0_PID"
wait_event restart 1
wait_event ready 2
grep '"ev":"restart"' "$EVENTS" | grep -q sighup || fail "restart event does not name sighup"
[[ $(readlink "$TTY") == "$pts" ]] || fail "the pty changed across a restart"
# In command mode '+++' would be a bad AT line; the handshake answering proves the
# device came back in transparent mode.
enter_command_mode
at 'AT+MID' '\r\n+ok=Hup-Kept\r\n'
tty_close
kill -HUP "$M0_PID"
wait_event ready 3
m0_stop
