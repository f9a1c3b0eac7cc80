#!/usr/bin/env bash
# 12-real-timing: the default --timing real (paced at AT+UART's 115200 8N1) gives the
# same bytes as fast mode; only the rate differs, which is not asserted here.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start --timing real
tty_open
enter_command_mode
at 'AT+VER' '\r\n+ok=V4017\r\n'
at 'AT+MID=Paced' '\r\n+ok\r\n'
at 'AT+MID' '\r\n+ok=Paced\r\n'
at 'AT+UART' '\r\n+ok=115200,8,1,NONE,NFC\r\n'
at 'AT+ENTM' '\r\n+ok\r\n'
tty_close
m0_stop
