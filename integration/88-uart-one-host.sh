#!/usr/bin/env bash
# 88-uart-one-host: the UART has one host at a time, whichever front end it is on.
# While a network client has it, a second client is refused (a raw one is told so in
# one line, pyserial's rfc2217:// open fails) and a program that opens the tty is not
# connected (what it writes is dropped) until the client leaves; then the tty is the
# host. While the tty is open, network clients are refused. What the device queued for
# a host that left is never delivered to the next one (real timing, 1200 baud: AT+H's
# long reply is still being paced out when its reader goes).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start --timing real --uart tcp:0 --uart rfc2217:0
uart_py <<'PY'
import socket
from m0uart import *
from m0net import Tty, tcp_connect
raw_url, rfc_url = uart_url("tcp"), uart_url("rfc2217")
raw_port = int(raw_url.rsplit(":", 1)[1])

a = Serial(raw_url, name="first")
wait_event("uart.connected")
b = tcp_connect(raw_port, "second")
b.expect(b"m0emu: this UART already has a host; try again when it leaves\r\n",
         "second raw client: the refusal")
b.expect_closed("second raw client: closed after the refusal")
wait_event("uart.refused", where={"uart": "tcp", "reason": "busy"})
try:
    Serial(rfc_url, name="third")
    raise Fail("an rfc2217 client was let in while another host has the UART")
except (serial.SerialException, OSError):
    pass  # pyserial: Broken pipe (the server closed), or the options never agreed
wait_event("uart.refused", where={"uart": "rfc2217"})

tty = Tty(wait_attach=False)
wait_event("uart.refused", where={"uart": "tty"})
tty.write(b"+++")  # not connected: dropped, no handshake
a.handshake()
a.at("AT+VER", "\r\n+ok=V4017\r\n")
if count("tty.attach"):
    raise Fail("the tty was attached while a network client had the UART")
a.close()
wait_event("uart.closed")
wait_event("tty.attach")  # the waiting tty is the host now, still in command mode
tty.at("AT", "\r\n+ok\r\n")
c = tcp_connect(raw_port, "while the tty is open")
got = c.read_exact(len(b"m0emu: this UART"), "client while the tty is open")
same(got, b"m0emu: this UART", "client while the tty is open: the refusal")
c.close()
wait_event("uart.refused", 2, where={"uart": "tcp"})

# Stale bytes: AT+H at 1200 baud takes seconds; its reader leaves early.
tty.at("AT+UART=1200,8,1,NONE,NFC", "\r\n+ok\r\n")
tty.at("AT+Z", "\r\n+ok\r\n")
tty.close()
wait_event("ready", 2)
wait_event("tty.detach")
a = Serial(raw_url, name="reader of AT+H")
a.handshake()
a.write(b"AT+H\r")
a.read_exact(40, "the start of AT+H's reply")
a.close()
wait_event("uart.closed", 2)
wait_event("drop", where={"dir": "to_host", "reason": "no-host"})  # the rest: dropped
a = Serial(raw_url, name="next host")
a.expect_nothing(1.5, "connecting after a host left in the middle of a reply")
a.at("AT", "\r\n+ok\r\n")
a.close()
PY
m0_stop
