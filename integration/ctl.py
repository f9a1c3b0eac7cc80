"""ctl: the control channel from the scenarios' python3 programs (docs/control.md).

A scenario starts m0emu with --control "$M0_CONTROL" (exported by the scenario, so
net_py's program sees it) and talks JSON lines through Control: request() sends one
request with a fresh id and returns its answer, ok() and error() check it, and the lines
met meanwhile that are not answers (events, UART bytes) are kept in order for
next_stream() and wait_event() (which takes the oldest match and leaves the rest). Every
wait is bounded by m0net.TIMEOUT.
"""
import json
import os
import select
import socket
import time

from m0net import TIMEOUT, Fail, show

CONTROL = os.environ.get("M0_CONTROL", "")


class Control:
    def __init__(self, path=None, name="control"):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path or CONTROL)
        self.sock.setblocking(False)
        self.buf = b""
        self.next_id = 0
        self.stream = []  # non-answer lines, oldest first
        self.greeting = self.line()
        if "m0emu" not in self.greeting:
            raise Fail(f"{name}: greeting without m0emu: {self.greeting}")

    def fileno(self):
        return self.sock.fileno()

    def send_raw(self, b):
        self.sock.setblocking(True)
        self.sock.sendall(b)
        self.sock.setblocking(False)

    def raw_line(self, timeout=None):
        """The next line's bytes (without the newline)."""
        deadline = time.monotonic() + (timeout or TIMEOUT)
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail(f"{self.name}: no line within {timeout or TIMEOUT:g}s "
                           f"(have {show(self.buf)})")
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                b = self.sock.recv(65536)
                if not b:
                    raise Fail(f"{self.name}: the emulator closed the channel")
                self.buf += b
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def line(self, timeout=None):
        raw = self.raw_line(timeout)
        try:
            return json.loads(raw)
        except ValueError as e:
            raise Fail(f"{self.name}: not JSON ({e}): {show(raw, 200)}") from None

    def answer(self, rid, timeout=None):
        while True:
            msg = self.line(timeout)
            if "ok" not in msg:
                self.stream.append(msg)
                continue
            if msg.get("id") == rid:
                return msg
            raise Fail(f"{self.name}: answer {msg} while waiting for id {rid}")

    def request(self, cmd, **params):
        self.next_id += 1
        req = {"id": self.next_id, "cmd": cmd}
        req.update(params)
        self.send_raw(json.dumps(req).encode() + b"\n")
        return self.answer(self.next_id)

    def ok(self, cmd, **params):
        a = self.request(cmd, **params)
        if a.get("ok") is not True:
            raise Fail(f"{self.name}: {cmd} {params} refused: {a}")
        return a["result"]

    def error(self, cmd, code, **params):
        a = self.request(cmd, **params)
        if a.get("ok") is not False or a["error"]["code"] != code:
            raise Fail(f"{self.name}: {cmd} {params}: want error {code}, got {a}")
        return a["error"]["message"]

    def next_stream(self, timeout=None):
        if self.stream:
            return self.stream.pop(0)
        msg = self.line(timeout)
        if "ok" in msg:
            raise Fail(f"{self.name}: an answer nobody asked for: {msg}")
        return msg

    def wait_event(self, name, timeout=None, **fields):
        """The oldest event `name` with these fields not taken yet (subscribe first).
        Others stay for later waits, so two events may be waited for in either order."""
        def match(ev):
            return ev.get("ev") == name and all(ev.get(k) == v for k, v in fields.items())
        for i, ev in enumerate(self.stream):
            if match(ev):
                return self.stream.pop(i)
        deadline = time.monotonic() + (timeout or TIMEOUT)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail(f"{self.name}: no event {name} {fields} within {timeout or TIMEOUT:g}s")
            ev = self.line(left)
            if "ok" in ev:
                raise Fail(f"{self.name}: an answer nobody asked for: {ev}")
            if match(ev):
                return ev
            self.stream.append(ev)

    def close(self):
        self.sock.close()
