#!/usr/bin/env bash
# 86-uart-rfc2217-mismatch: an RFC 2217 client's line settings reach the device as a pty
# host's termios do. pyserial at 9600 against AT+UART's 115200 raises uart.mismatch, and
# with --line-faults its bytes are garbled (the +++ handshake fails); back at 115200 it
# works. Data bits and parity count too (a pty cannot tell them), and what the module
# cannot do (1.5 stop bits) is refused with the value in force, which pyserial reports.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start --line-faults --uart rfc2217:0
uart_py <<'PY'
from m0uart import *
url = uart_url("rfc2217")
s = Serial(url, baudrate=9600)
ev = wait_event("uart.mismatch")
want = {"host_baud": 9600, "host_stop": 1, "baud": 115200, "stop": 1,
        "host_data": 8, "host_parity": "NONE", "data": 8, "parity": "NONE"}
if {k: ev.get(k) for k in want} != want:
    raise Fail(f"uart.mismatch: want {want}, got {ev}")
# A mismatched line: the device hears garbage, so +++ is no handshake.
time.sleep(0.1)
s.write(b"+++")
s.expect_nothing(1.0, "sending +++ at 9600 to a 115200 line (the device must not answer)")
if count("mode.command"):
    raise Fail("the handshake succeeded through a mismatched line")

s.s.baudrate = 115200  # pyserial's SET-BAUDRATE, answered before it returns
time.sleep(0.5)        # a pause, so the garbage's frame is over (a minimum)
s.handshake()
s.at("AT+VER", "\r\n+ok=V4017\r\n")

s.s.bytesize = 7
ev = wait_event("uart.mismatch", 2)
if (ev["host_data"], ev["data"]) != (7, 8):
    raise Fail(f"7 data bits: {ev}")
s.s.bytesize = 8
s.s.parity = "E"
ev = wait_event("uart.mismatch", 3)
if (ev["host_parity"], ev["parity"]) != ("EVEN", "NONE"):
    raise Fail(f"even parity: {ev}")
s.s.parity = "N"
s.at("AT", "\r\n+ok\r\n")  # in sync again: clean
try:
    s.s.stopbits = 1.5
    raise Fail("1.5 stop bits were accepted: the module has no such setting")
except ValueError as e:
    if "stop" not in str(e):
        raise Fail(f"1.5 stop bits: pyserial says {e!r}, want the stop size refused")
s.close()
if count("uart.mismatch") != 3:
    raise Fail(f"want 3 mismatches, got {events('uart.mismatch')}")
PY
m0_stop
