"""m0uart: a host on the UART's network servers (--uart), through pyserial unmodified.

The scenarios 85-89 import it (lib.sh's uart_py runs them with /usr/bin/python3, which
has Debian's python3-serial). Serial wraps serial.serial_for_url() with m0net's bounded
waits and the same interface as m0net's streams (write, read_exact, expect, handshake,
at), so m0net.transfer() moves bulk data through it. Every wait is bounded by TIMEOUT
seconds without progress; nothing asserts a duration.
"""
import time

import serial

from m0net import *  # noqa: F401,F403 (Fail, wait_event, same, TIMEOUT, ...)
from m0net import Fail, TIMEOUT, same, show, wait_event


def uart_url(kind):
    """The URL pyserial opens for the server of this kind ("rfc2217" or "tcp"), from its
    uart.listening event (the scenarios ask for port 0: any free one)."""
    ev = wait_event("uart.listening", where={"uart": kind})
    return f"{'rfc2217' if kind == 'rfc2217' else 'socket'}://{ev['bind']}"


class Serial:
    """A pyserial port on the emulator's UART server."""

    def __init__(self, url, name=None, **settings):
        self.name = name or url.split(":", 1)[0]
        self.s = serial.serial_for_url(url, timeout=0.2, **settings)

    def write(self, b, what="writing"):
        self.s.write(bytes(b))
        self.s.flush()

    def read_exact(self, n, what="reading", slow=None):
        buf = bytearray()
        deadline = time.monotonic() + TIMEOUT
        while len(buf) < n:
            b = self.s.read(min(65536, n - len(buf)))
            if b:
                buf += b
                deadline = time.monotonic() + TIMEOUT
            elif time.monotonic() > deadline:
                raise Fail(f"{self.name}: no progress for {TIMEOUT:g}s while {what} "
                           f"({len(buf)} of {n} bytes); last: {show(bytes(buf[-32:]))}")
        return bytes(buf)

    def expect(self, want, what=None):
        what = what or f"{self.name}: expected bytes"
        same(self.read_exact(len(want), what), want, what)

    def expect_nothing(self, seconds, what):
        """Nothing arrives for this long (a minimum: anything stale comes at once)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            b = self.s.read(4096)
            if b:
                raise Fail(f"{self.name}: got {show(b)} while {what}")

    def handshake(self):
        time.sleep(0.1)  # the idle guard before +++ (a minimum)
        self.write(b"+++")
        self.expect(b"a", f"{self.name}: the device's 'a' after +++")
        self.write(b"a")
        self.expect(b"+ok", f"{self.name}: +ok after the handshake")

    def at(self, cmd, reply):
        self.write(cmd.encode() + b"\r")
        self.expect(cmd.encode() + b"\r" + reply.encode(), f"{self.name}: reply to {cmd}")

    def close(self):
        self.s.close()
