#!/usr/bin/env bash
# 04-reld: AT+RELD answers +ok=rebooting..., restores and saves factory settings, restarts.
# The factory peer is a free port of the scenario's own (a profile's SOCK): the built-in
# 192.168.0.201:8234 would be dialled as 127.0.0.1:8234, where any program on the machine
# may be listening and talking. Every other setting is the built-in factory value.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

PEER=$(free_ports tcp 1)
m0_start --set "SOCK=TCPC,192.168.0.201,$PEER"
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
at 'AT+SOCK' "\\r\\n+ok=TCPC,192.168.0.201,$PEER\\r\\n"
tty_close
m0_stop
