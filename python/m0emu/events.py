"""events.py: the emulator's --events stream (docs/events.md), read as it grows.

The emulator flushes one JSON object per line; we tail the file by polling (every 20 ms
while a wait is in progress), keep every event of the run in a list, and hold a partial
last line back until its newline arrives. Polling a file is deliberate: it works the same
for a process we started and one we did not, and needs no thread.

With a control channel, a connection subscribed to the same events (`wake`) cuts the
20 ms short: a wait sleeps in select() on it and reads the file as soon as a line comes.
The file stays the one account (complete from the first event, numbered for mark());
the channel's lines are only a signal, so any it dropped (`control.lost`) or a
connection that failed costs nothing but the latency: the wait falls back to polling.
"""

import json
import select
import time

POLL_S = 0.02
# How many of the latest events an error message lists.
TAIL = 12


class EventLog:
    """The events of one emulator run, read from its --events file."""

    def __init__(self, path):
        self.path = path
        self.events = []
        self._pos = 0
        self._partial = b""
        self.wake = None  # a socket whose input means "the file grew"
        self.wakeups = 0

    def pause(self, seconds):
        """Sleep up to `seconds`, less if the wake socket says an event came."""
        if self.wake is None:
            time.sleep(seconds)
            return
        try:
            r, _, _ = select.select([self.wake], [], [], seconds)
            if r and not self.wake.recv(65536):
                raise OSError("closed")
            if r:
                self.wakeups += 1
        except (OSError, ValueError):
            self.wake = None  # polling from now on

    def poll(self):
        """Read whatever the file gained since the last call; return the new events."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                chunk = f.read()
        except FileNotFoundError:
            return []
        if not chunk:
            return []
        self._pos += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        new = []
        for line in lines:
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                # Not ours to judge here; keep it visible instead of losing it.
                ev = {"ev": "?unparsed", "line": line.decode("utf-8", "replace")}
            new.append(ev)
        self.events.extend(new)
        return new

    def find(self, name, fields, start):
        """Index of the first event at or after `start` named `name` whose fields match."""
        for i in range(start, len(self.events)):
            if matches(self.events[i], name, fields):
                return i
        return None

    def wait(self, name, fields, start, timeout, alive=None, what=None):
        """Wait for a matching event at index >= start; return its index.

        `alive` is called between polls and may raise (the process exited)."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            i = self.find(name, fields, start)
            if i is not None:
                return i
            if alive is not None:
                alive(lambda: describe(name, fields))
            if time.monotonic() >= deadline:
                raise TimeoutError(self.timeout_message(name, fields, timeout, start, what))
            self.pause(POLL_S)

    def timeout_message(self, name, fields, timeout, start, what=None):
        msg = f"no event {describe(name, fields)} within {timeout:g} s"
        if what:
            msg += f" ({what})"
        seen = self.events[start:]
        if not seen:
            msg += f"; no events at all since #{start}"
            if start > 0:
                msg += f" (the last one before: {format_event(self.events[start - 1])})"
        else:
            shown = seen[-TAIL:]
            msg += f"; the last {len(shown)} of {len(seen)} events since #{start}:"
            for ev in shown:
                msg += "\n  " + format_event(ev)
        return msg

    def tail(self, n=TAIL):
        return "\n".join(format_event(ev) for ev in self.events[-n:])


def matches(ev, name, fields):
    if name is not None and ev.get("ev") != name:
        return False
    for key, want in fields.items():
        if key not in ev:
            return False
        got = ev[key]
        if callable(want):
            if not want(got):
                return False
        elif got != want:
            return False
    return True


def describe(name, fields):
    if not fields:
        return name
    parts = ", ".join(
        f"{k}={'<predicate>' if callable(v) else repr(v)}" for k, v in fields.items())
    return f"{name} with {parts}"


def format_event(ev):
    return json.dumps(ev, separators=(",", ":"))


class DevLog(EventLog):
    """One fleet module's events: the process's log filtered to lines whose `dev` is
    the module's name. Its indices count the module's events only, so a mark(), a
    cursor or a wait's start means the same as on a single emulator's log."""

    def __init__(self, parent, dev):
        super().__init__(parent.path)
        self.parent = parent
        self.dev = dev
        self._seen = 0  # how many of the parent's events were sorted already

    def pause(self, seconds):
        self.parent.pause(seconds)

    def poll(self):
        self.parent.poll()
        src = self.parent.events
        new = [ev for ev in src[self._seen:] if ev.get("dev") == self.dev]
        self._seen = len(src)
        self.events.extend(new)
        return new
