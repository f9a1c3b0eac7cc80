#!/usr/bin/env bash
# 14-flash-error: when flash cannot be written, the set is refused (+ERR=-5), the event
# stream says flash.error with the reason, and nothing changes (file and saved value).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start
tty_open
enter_command_mode
at 'AT+MID=First' '\r\n+ok\r\n'
wait_event flash.saved 1
cp "$STATE/flash.conf" "$T/flash.before"
# A directory where the temporary file must go: open() fails with EISDIR (even as root).
mkdir "$STATE/flash.conf.tmp"
at 'AT+MID=Second' '\r\n+ERR=-5\r\n'
wait_event flash.error 1
grep '"ev":"flash.error"' "$EVENTS" | grep -q '"error":"Is a directory"' ||
  fail "flash.error lacks the reason"
at 'AT+MID' '\r\n+ok=First\r\n'
cmp -s "$STATE/flash.conf" "$T/flash.before" || fail "flash.conf changed by a failed save"
# Once flash works again, so does a set.
rmdir "$STATE/flash.conf.tmp"
at 'AT+MID=Third' '\r\n+ok\r\n'
flash_has 'AT+MID=Third'
tty_close
m0_stop
