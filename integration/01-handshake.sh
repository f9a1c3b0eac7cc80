#!/usr/bin/env bash
# 01-handshake: +++ / a enters command mode; basic commands answer with exact bytes
# (doc dialect), errors carry their codes, echo can be turned off, AT+ENTM leaves.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start --mac d8b04c0a0b0c
tty_open
enter_command_mode
wait_event mode.command

at 'AT' '\r\n+ok\r\n'
at 'AT+VER' '\r\n+ok=V4017\r\n'
at 'AT+VER?' '\r\n+ok=V4017\r\n'
at 'at+ver' '\r\n+ok=V4017\r\n'
at 'AT+MAC' '\r\n+ok=D8B04C0A0B0C\r\n'
at 'AT+PDTIME' '\r\n+ok=2026-11-23\r\n'
at 'AT+MID' '\r\n+ok=USR-M0\r\n'
at 'AT+UART' '\r\n+ok=115200,8,1,NONE,NFC\r\n'
at 'AT+FOO' '\r\n+ERR=-2\r\n'
at 'AT+VER=1' '\r\n+ERR=-3\r\n'
at 'AT+MAXSK=9' '\r\n+ERR=-4\r\n'
at 'XYZ' '\r\n+ERR=-1\r\n'

# The E=off line itself is echoed (echo was on while it arrived); later ones are not.
at 'AT+E=off' '\r\n+ok\r\n'
at_noecho 'AT+E' '\r\n+ok=off\r\n'
at_noecho 'AT+E=on' '\r\n+ok\r\n'
at 'AT+E' '\r\n+ok=on\r\n'

at 'AT+ENTM' '\r\n+ok\r\n'
wait_event mode.transparent
# Back in transparent mode, the handshake works again.
enter_command_mode
wait_event mode.command 2
tty_close
m0_stop
