#!/usr/bin/env bash
# tcp-server.sh: a TCP server on 127.0.0.1 that prints everything the module sends.
#
#   tcp-server.sh [PORT]        PORT defaults to 8234
#
# The factory work mode is TCPC to 192.168.0.201:8234, which m0emu (--net loopback, the
# default) dials as 127.0.0.1:8234: start this, start m0emu, and whatever a program
# writes to the tty in transparent mode appears here. Each connection is served in turn
# (the module reconnects after a restart). To answer the module as well, run
#   socat - TCP-LISTEN:8234,bind=127.0.0.1,reuseaddr
# instead: what you type goes to the module's UART.
set -euo pipefail
port=${1:-8234}
exec socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" STDOUT
