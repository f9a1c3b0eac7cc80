#!/usr/bin/env bash
# 02-persist-z: a successful set is saved to flash at once, and survives AT+Z; the
# device comes back in transparent mode on the same tty session.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start
tty_open
enter_command_mode
at 'AT+MID=Bench-7' '\r\n+ok\r\n'
at 'AT+SOCK=TCPS,192.168.0.7,9000' '\r\n+ok\r\n'
at 'AT+HEARTTM=45' '\r\n+ok\r\n'
wait_event flash.saved 3
flash_has 'AT+MID=Bench-7'
flash_has 'AT+SOCK=TCPS,192.168.0.7,9000'
flash_has 'AT+HEARTTM=45'
# Saved values are what a query answers, before any restart.
at 'AT+MID' '\r\n+ok=Bench-7\r\n'

at 'AT+Z' '\r\n+ok\r\n'
wait_event restart 1
wait_event ready 2
# A restart comes up in transparent mode: the handshake is needed again.
enter_command_mode
at 'AT+MID' '\r\n+ok=Bench-7\r\n'
at 'AT+SOCK' '\r\n+ok=TCPS,192.168.0.7,9000\r\n'
at 'AT+HEARTTM' '\r\n+ok=45\r\n'
tty_close
m0_stop
flash_has 'AT+MID=Bench-7'
