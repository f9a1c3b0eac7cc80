#!/usr/bin/env bash
# 85-uart-rfc2217-pyserial: the UART as an RFC 2217 server (--uart rfc2217:PORT), opened
# by pyserial's own rfc2217:// client, unmodified. The Telnet options and the port
# settings (115200 8N1, no flow control, DTR and RTS, the purges pyserial sends on open)
# are agreed, the modem lines read as up, and the +++/a handshake and AT+VER work as on
# the tty. The client is the device's host from connect to close; a second session finds
# the device where the first left it (command mode) and starts clean.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start --uart rfc2217:0
grep -q '^  uart:    rfc2217://127.0.0.1:[0-9]* (RFC 2217' "$T/stdout.1" ||
  fail "the banner does not give the RFC 2217 server's URL"
uart_py <<'PY'
from m0uart import *
url = uart_url("rfc2217")
if not url.startswith("rfc2217://127.0.0.1:"):
    raise Fail(f"the server listens on {url}, not on loopback by default")
s = Serial(url, baudrate=115200)
wait_event("uart.connected", where={"uart": "rfc2217"})
if not (s.s.cts and s.s.dsr and s.s.cd):
    raise Fail(f"modem lines: CTS {s.s.cts} DSR {s.s.dsr} CD {s.s.cd}, want all up")
if s.s.ri:
    raise Fail("RI is up: nobody rings a UART")
s.handshake()
s.at("AT+VER", "\r\n+ok=V4017\r\n")
s.at("AT+UART", "\r\n+ok=115200,8,1,NONE,NFC\r\n")
if count("uart.mismatch"):
    raise Fail(f"pyserial's 115200 8N1 was taken as a mismatch: {events('uart.mismatch')}")
s.close()
wait_event("uart.closed", where={"uart": "rfc2217", "reason": "closed"})

s = Serial(url)  # still in command mode: only this session's own echo and reply
s.at("AT", "\r\n+ok\r\n")
s.close()
wait_event("uart.closed", 2)
if count("uart.connected") != 2 or count("uart.refused"):
    raise Fail(f"two sessions, none refused: {events('uart.connected')} {events('uart.refused')}")
PY
m0_stop
