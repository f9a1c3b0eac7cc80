"""control.py: a client of the emulator's control channel (docs/control.md).

One connection speaks JSON lines: a request with a fresh id, then its one answer; lines
without `ok` met on the way (events after `subscribe`, `uart.data` after
`uart.subscribe`, `control.lost`) are kept in order in `stream` for whoever asked for
them, never mistaken for answers. No thread: the socket is read only while a call waits,
with select() bounding every wait, so a test that hangs says where.
Command and parameter names are the channel's own, passed through unchanged: this
module never invents a wire name, and the emulator's own error (its `code` and
`message`) is what a refused request raises.
"""

import json
import select
import socket
import time

from .errors import M0EmuError
from .events import matches, describe, format_event

# How long one answer may take. Every command is answered at once except uart.write,
# answered once the device took the bytes (64 KiB at 9600 baud is about 70 s).
ANSWER_TIMEOUT_S = 10.0


class ControlError(M0EmuError):
    """The channel refused a request (`ok:false`).

    `.code` is the channel's error name (`bad-param`, `state`, `unknown-command`, ...),
    `.message` its message, `.cmd` the command and `.request` the request sent."""

    def __init__(self, request, error):
        self.cmd = request.get("cmd")
        self.request = request
        self.code = error.get("code")
        self.message = error.get("message", "")
        super().__init__(f"control {self.cmd!r} refused: {self.code}: {self.message}")


class Result(dict):
    """A command's result, as a dict, with `.t_ms`: when the emulator took the request,
    on the event stream's clock (every event it caused has a t_ms at or after it).
    Emulator.control() adds `.mark`: the event stream's length before the request was
    sent, for wait_event(since=...) (t_ms has a millisecond's grain: an event of the
    same millisecond before the request has the same t_ms; the mark tells them apart)."""

    def __init__(self, result, t_ms, mark=None):
        super().__init__(result or {})
        self.t_ms = t_ms
        self.mark = mark


class Control:
    """One connection to a control channel: `path` (a Unix socket) or `port` (TCP on
    127.0.0.1). `greeting` is the emulator's first line (version, pid, devices)."""

    def __init__(self, path=None, port=None, timeout=ANSWER_TIMEOUT_S):
        if (path is None) == (port is None):
            raise ValueError("give the channel's path or its port, one of them")
        self.where = path if path is not None else f"127.0.0.1:{port}"
        self.timeout = timeout
        if path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target = str(path)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            target = ("127.0.0.1", port)
        try:
            self.sock.connect(target)
        except OSError as e:
            self.sock.close()
            raise M0EmuError(f"cannot connect to the control channel {self.where}: {e}") from e
        self.sock.setblocking(False)
        self._buf = b""
        self._next_id = 0
        self.stream = []  # lines without `ok` (events, uart.data), oldest first
        self.closed = False
        try:
            self.greeting = self._line(timeout)
        except BaseException:
            self.close()
            raise
        if "m0emu" not in self.greeting:
            self.close()
            raise M0EmuError(f"{self.where} is not an m0emu control channel: "
                             f"its first line is {self.greeting!r}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close()

    def fileno(self):
        return self.sock.fileno()

    # ---- lines ----

    def _fill(self, timeout):
        """Read what arrives within timeout; False if nothing did."""
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return False
        if not data:
            self.close()
            raise M0EmuError(f"the control channel {self.where} was closed by the emulator"
                             + (f" (unparsed: {self._buf[:200]!r})" if self._buf else ""))
        self._buf += data
        return True

    def _line(self, timeout):
        """The next line as a dict, waiting up to timeout (TimeoutError after)."""
        if self.closed:
            raise M0EmuError(f"the control channel {self.where} is closed")
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line from the control channel {self.where} within "
                                   f"{timeout:g} s (partial: {self._buf[:200]!r})")
            self._fill(left)
        raw, self._buf = self._buf.split(b"\n", 1)
        try:
            msg = json.loads(raw)
        except ValueError as e:
            raise M0EmuError(f"the control channel sent a line that is not JSON ({e}): "
                             f"{raw[:200]!r}") from None
        if not isinstance(msg, dict):
            raise M0EmuError(f"the control channel sent a line that is not an object: {raw[:200]!r}")
        return msg

    def poll(self):
        """Take the stream lines that already arrived (without waiting); return them."""
        new = []
        while not self.closed and self._fill(0):
            pass
        while b"\n" in self._buf:
            msg = self._line(0)
            if "ok" in msg:
                raise M0EmuError(f"an answer nobody asked for on {self.where}: {msg}")
            new.append(msg)
        self.stream.extend(new)
        return new

    # ---- requests ----

    def request(self, cmd, timeout=None, **args):
        """Send one request; return its whole answer (ok or not) as a dict."""
        if not isinstance(cmd, str) or not cmd:
            raise TypeError(f"the command must be a non-empty str, not {cmd!r}")
        self._next_id += 1
        req = {"id": self._next_id, "cmd": cmd}
        req.update(args)
        line = json.dumps(req, separators=(",", ":")).encode() + b"\n"
        self.sock.setblocking(True)
        try:
            self.sock.sendall(line)
        except OSError as e:
            self.close()
            raise M0EmuError(f"cannot send to the control channel {self.where}: {e}") from e
        finally:
            if not self.closed:
                self.sock.setblocking(False)
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                msg = self._line(left)
            except TimeoutError:
                raise TimeoutError(f"no answer to {req} within {timeout:g} s on "
                                   f"{self.where}") from None
            if "ok" not in msg:
                self.stream.append(msg)
                continue
            if msg.get("id") != self._next_id:
                raise M0EmuError(f"answer {msg} while waiting for the answer to {req}")
            msg["request"] = req
            return msg

    def call(self, cmd, timeout=None, **args):
        """Send one request; return its result (a Result: a dict with .t_ms), or raise
        ControlError with the channel's error name and message."""
        answer = self.request(cmd, timeout=timeout, **args)
        if answer.get("ok") is not True:
            raise ControlError(answer["request"], answer.get("error") or {})
        return Result(answer.get("result"), answer.get("t_ms"))

    # ---- the stream ----

    def next_stream(self, timeout=5.0):
        """The oldest stream line not taken yet, waiting up to timeout for one."""
        if self.stream:
            return self.stream.pop(0)
        msg = self._line(timeout)
        if "ok" in msg:
            raise M0EmuError(f"an answer nobody asked for on {self.where}: {msg}")
        return msg

    def wait_event(self, name, timeout=5.0, **fields):
        """The oldest stream line `name` (an `ev`) with these fields not taken yet
        (a value may be a predicate); lines before it that do not match stay."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for i in range(len(self.stream)):
                if matches(self.stream[i], name, fields):
                    return self.stream.pop(i)
            seen = len(self.stream)
            left = deadline - time.monotonic()
            if left <= 0:
                shown = "".join("\n  " + format_event(ev) for ev in self.stream[-12:])
                raise TimeoutError(f"no event {describe(name, fields)} within {timeout:g} s "
                                   f"on {self.where}; {seen} lines waiting" +
                                   (f", the last ones:{shown}" if shown else ""))
            if self._fill(left):
                self.poll()


class ChannelUart:
    """The device's UART over the channel (`uart.subscribe` with `hold`, `uart.write`):
    one more host beside the pty, for a test that does not open the tty (docs/control.md,
    "The UART without a pty").

    It reads and writes like a pyserial port (`read(n)` waiting up to `.timeout`,
    `in_waiting`, `write`, `flush`, `close`), so the package's AT helper drives it as it
    drives the tty. Bytes travel as hex (`"format":"hex"`): exact for any byte. A gap in
    the stream (`at` beyond what was received, or a `control.lost` line) raises rather
    than hand back a stream with a hole in it. `dev` names a fleet's module (None: the
    process's one device)."""

    def __init__(self, path, hold=True, dev=None):
        self.ctl = Control(path)
        self._dev = {} if dev is None else {"dev": dev}
        self.timeout = 0
        self._rx = bytearray()
        self._at = None  # the offset the next uart.data should start at
        try:
            self.ctl.call("uart.subscribe", format="hex", hold=hold, **self._dev)
        except BaseException:
            self.ctl.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def closed(self):
        return self.ctl.closed

    def close(self):
        self.ctl.close()

    def _take(self):
        while self.ctl.stream:
            msg = self.ctl.stream.pop(0)
            ev = msg.get("ev")
            if ev == "control.lost":
                raise M0EmuError(f"the channel dropped UART bytes for this reader: {msg}")
            if ev != "uart.data":
                continue  # events, if someone subscribed this connection to them too
            data = bytes.fromhex(msg["hex"])
            if self._at is not None and msg["at"] != self._at:
                raise M0EmuError(f"a gap in the UART stream: expected offset {self._at}, "
                                 f"got {msg['at']}")
            self._at = msg["at"] + len(data)
            self._rx += data

    @property
    def in_waiting(self):
        self.ctl.poll()
        self._take()
        return len(self._rx)

    def read(self, size=1):
        """Up to size bytes, waiting up to .timeout seconds for the first."""
        deadline = time.monotonic() + (self.timeout or 0)
        while True:
            self.ctl.poll()
            self._take()
            if self._rx:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                return b""
            self.ctl._fill(left)
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    def write(self, data):
        """Bytes to the device as its host sent them; returns once it took the last."""
        if isinstance(data, str):
            data = data.encode()
        for i in range(0, len(data), 65536):  # at most 64 KiB a write
            chunk = data[i:i + 65536]
            # Answered once fed at the line's pace: 10 bits a byte, 1200 baud at worst.
            self.ctl.call("uart.write", timeout=ANSWER_TIMEOUT_S + len(chunk) / 120,
                          hex=chunk.hex(), **self._dev)
        return len(data)

    def flush(self):
        """Nothing to do: write() returns once the device took the bytes."""
