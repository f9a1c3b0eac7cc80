"""at.py: command mode over the tty, the way a careful host program does it.

Where the device is (booting, transparent, command mode, restarting) is read from the
event stream, not guessed from the bytes: the stream is the emulator's own account, so a
module some other program already put in command mode is answered at once, and no probe
ever sends "AT" as data to the network by mistake. Every step this module takes waits for
the event that proves it (mode.command after the handshake, mode.transparent after
AT+ENTM, restart then ready after AT+Z and AT+RELD), so the next call starts from a
stream that agrees with the device.

The handshake (spec section 3.1): an idle line for the guard time (at least 100 ms,
far above the 4 character times the module needs), "+++" in one write (its gaps are far
below 300 ms), the module's "a", our "a" (within its 3 s), then "+ok" in every dialect.
A reply is CR LF + body + CR LF after the echo of our line (when echo is on): the body
starts at the first CR LF "+" (an echo holds neither CR LF nor is it longer than the
line), so the same parser reads echo on and off, and +ok/+OK from either dialect.
"""

import re
import time

from .errors import ATError

GUARD_S = 0.1
# AT+H answers several lines with no end marker: the reply ends when the line is quiet.
MULTILINE_QUIET_S = 0.3
_RESTARTS = {"AT+Z", "AT+RELD"}
_ERR = re.compile(r"^\+ERR=(-?\d+)$")


def mode_of(events):
    """The device's mode after these events: booting, transparent, command, restarting."""
    mode = "booting"
    for ev in events:
        name = ev.get("ev")
        if name in ("ready", "mode.transparent"):
            mode = "transparent"
        elif name == "restart":
            mode = "restarting"
        elif name == "mode.command":
            mode = "command"
    return mode


def parse_reply(buf):
    """(start, end, body) of the first complete reply in buf, or None."""
    start = buf.find(b"\r\n+")
    if start < 0:
        return None
    end = buf.find(b"\r\n", start + 2)
    if end < 0:
        return None
    return start, end + 2, buf[start + 2:end].decode("latin-1")


class ATLink:
    """Command mode on one open serial port, with the emulator's event log as the truth.

    `on_data(bytes)` receives transparent-mode bytes met on the way (network data that
    reached the host before the handshake), so nothing read here is lost to a caller
    who also expects data."""

    def __init__(self, port, log, alive, on_data, baudrate=115200):
        self.port = port
        self.log = log
        self.alive = alive
        self.on_data = on_data
        self.baudrate = baudrate

    # ---- bytes ----

    def _read_some(self, deadline):
        """Bytes available now or before the deadline (b"" if none), in slices of <=50 ms."""
        left = deadline - time.monotonic()
        if left <= 0:
            left = 0
        self.port.timeout = min(left, 0.05)
        return self.port.read(max(1, self.port.in_waiting))

    def drain(self):
        """Hand whatever the device already sent to on_data."""
        self.port.timeout = 0
        while True:
            data = self.port.read(max(1, self.port.in_waiting))
            if not data:
                return
            self.on_data(data)

    def _write(self, data):
        self.port.write(data)
        self.port.flush()

    # ---- modes ----

    def mode(self):
        self.log.poll()
        return mode_of(self.log.events)

    def wait_booted(self, timeout):
        """If the device is (re)starting, wait for its ready."""
        self.log.poll()
        mode = mode_of(self.log.events)
        if mode not in ("booting", "restarting"):
            return
        last = max((i for i, ev in enumerate(self.log.events)
                    if ev.get("ev") == "restart"), default=-1)
        self.log.wait("ready", {}, last + 1, timeout, self.alive,
                      "the device was restarting")

    def enter(self, timeout=5.0):
        """The +++ / a handshake, from transparent mode."""
        self.log.poll()
        start = len(self.log.events)
        self.drain()
        guard = max(GUARD_S, 8 * 10.0 / self.baudrate)
        time.sleep(guard)
        self.drain()
        self._write(b"+++")
        deadline = time.monotonic() + timeout
        buf = b""
        while b"a" not in buf:
            self.alive(lambda: "the module's 'a' after +++")
            if time.monotonic() >= deadline:
                self.on_data(buf)
                raise TimeoutError(
                    f"no 'a' from the module within {timeout:g} s of '+++' (device mode "
                    f"from events: {self.mode()}); the '+++' went to the network as data")
            buf += self._read_some(deadline)
        i = buf.index(b"a")
        self.on_data(buf[:i])
        buf = buf[i + 1:]
        self._write(b"a")
        seen = None
        while seen is None or not buf.endswith(b"+ok"):
            self.alive(lambda: "+ok after the handshake")
            if seen is None:
                self.log.poll()
                seen = self.log.find("mode.command", {}, start)
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the handshake did not finish within {timeout:g} s: "
                    f"{'mode.command seen' if seen is not None else 'no mode.command event'}"
                    f", bytes after 'a': {buf!r}\nlast events:\n{self.log.tail()}")
            buf += self._read_some(min(deadline, time.monotonic() + 0.02))
        self.on_data(buf[:-3])

    def command(self, cmd, timeout=5.0, check=True):
        """Send one command line, return the reply text (CR/LF and echo removed)."""
        if not isinstance(cmd, str):
            raise TypeError(f"the command must be a str, not {type(cmd).__name__}")
        if not cmd or "\r" in cmd or "\n" in cmd:
            raise ValueError(f"one non-empty command line without CR/LF, not {cmd!r}")
        self.wait_booted(timeout)
        if self.mode() != "command":
            self.enter(timeout)
        # Anything still unread in command mode is a stale reply nobody read: not ours.
        self.port.timeout = 0
        stale = self.port.read(max(1, self.port.in_waiting))
        start = len(self.log.events)
        self._write(cmd.encode("latin-1") + b"\r")
        deadline = time.monotonic() + timeout
        buf = b""
        parsed = None
        while parsed is None:
            self.alive(lambda: f"the reply to {cmd}")
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"no reply to {cmd!r} within {timeout:g} s; received {buf!r}"
                    + (f" (and stale before it: {stale!r})" if stale else ""))
            buf += self._read_some(deadline)
            parsed = parse_reply(buf)
        _, end, body = parsed
        name = cmd.strip().upper()
        if name == "AT+H" or name == "AT+H?":
            # More lines follow the first; collect until the line goes quiet.
            rest = buf[end:]
            quiet_until = time.monotonic() + MULTILINE_QUIET_S
            while time.monotonic() < min(quiet_until, deadline):
                more = self._read_some(min(quiet_until, deadline))
                if more:
                    rest += more
                    quiet_until = time.monotonic() + MULTILINE_QUIET_S
            lines = [body] + [ln for ln in rest.decode("latin-1").split("\r\n") if ln]
            body = "\n".join(lines)
        elif buf[end:]:
            # After AT+ENTM, network data held during command mode follows the reply.
            self.on_data(buf[end:])
        m = _ERR.match(body)
        if m is None:
            if name in _RESTARTS:
                self.log.wait("restart", {}, start, timeout, self.alive, f"after {cmd}")
                r = self.log.find("restart", {}, start)
                self.log.wait("ready", {}, r + 1, timeout, self.alive, f"after {cmd}")
            elif name == "AT+ENTM":
                self.log.wait("mode.transparent", {}, start, timeout, self.alive,
                              "after AT+ENTM")
        elif check:
            raise ATError(cmd, body, int(m.group(1)))
        return body
