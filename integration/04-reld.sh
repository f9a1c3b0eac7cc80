#!/usr/bin/env bash
# 04-reld: AT+RELD answers +ok=rebooting..., restores and saves factory settings, restarts.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start
tty_open
enter_command_mode
at 'AT+MID=Before-Reld' '\r\n+ok\r\n'
at 'AT+SOCKPORT=3000' '\r\n+ok\r\n'
at 'AT+E=off' '\r\n+ok\r\n'
wait_event flash.saved 3
flash_has 'AT+MID=Before-Reld'

saved=$(count_events flash.saved)
at_noecho 'AT+RELD' '\r\n+ok=rebooting...\r\n'
wait_event flash.saved $((saved + 1))
wait_event restart 1
wait_event ready 2
flash_has 'AT+MID=USR-M0'
flash_has 'AT+SOCKPORT=20108'
flash_has 'AT+E=on'

enter_command_mode
at 'AT+MID' '\r\n+ok=USR-M0\r\n'
at 'AT+SOCKPORT' '\r\n+ok=20108\r\n'
at 'AT+SOCK' '\r\n+ok=TCPC,192.168.0.201,8234\r\n'
tty_close
m0_stop
