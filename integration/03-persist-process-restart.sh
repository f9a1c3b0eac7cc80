#!/usr/bin/env bash
# 03-persist-process-restart: settings survive the process itself (SIGTERM, start again
# on the same state dir), including echo off.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start
tty_open
enter_command_mode
at 'AT+MID=Kept-Across' '\r\n+ok\r\n'
at 'AT+MAXSK=2' '\r\n+ok\r\n'
at 'AT+E=off' '\r\n+ok\r\n'
wait_event flash.saved 3
tty_close
m0_stop
flash_has 'AT+MID=Kept-Across'
flash_has 'AT+E=off'
cp "$STATE/flash.conf" "$T/flash.before"

m0_start
grep -q 'flash.conf loaded' "$T/stdout.$M0_RUN" || fail "banner does not say flash.conf was loaded"
tty_open
enter_command_mode
at_noecho 'AT+MID' '\r\n+ok=Kept-Across\r\n'
at_noecho 'AT+MAXSK' '\r\n+ok=2\r\n'
at_noecho 'AT+E' '\r\n+ok=off\r\n'
tty_close
m0_stop
# Loading and running never rewrote the file.
cmp -s "$STATE/flash.conf" "$T/flash.before" || fail "flash.conf changed without a set"
