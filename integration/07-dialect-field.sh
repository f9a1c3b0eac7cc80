#!/usr/bin/env bash
# 07-dialect-field: --dialect field answers +OK and ON/OFF; the handshake's +ok and the
# error replies are the same in both dialects.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start --dialect field
tty_open
enter_command_mode
at 'AT' '\r\n+OK\r\n'
at 'AT+VER' '\r\n+OK=V4017\r\n'
at 'AT+E' '\r\n+OK=ON\r\n'
at 'AT+TCPSE' '\r\n+OK=KEEP\r\n'
at 'AT+FOO' '\r\n+ERR=-2\r\n'
at 'AT+ENTM' '\r\n+OK\r\n'
tty_close
m0_stop
