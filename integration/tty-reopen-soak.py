#!/usr/bin/python3
"""tty-reopen-soak.py: programs opening the emulated tty one right after another.

Used by 60-tty-reopen-stale.sh, and by hand to measure (figures: docs/user-guide.md):
    tty-reopen-soak.py TTY [--cycles N] [--seconds S] [--gap-ms MS]
        [--events FILE [--after-detach]] [--first N] [--reply-wait S]
(one program per process: --cycles 1 --first K).
The device must be in command mode with echo on (AT+E=on, the factory setting) and the
tty raw. Each cycle is one "program": open, look for bytes before writing anything,
write a command of its own ("zz<cycle>\\r", answered with its echo and +ERR=-1), then
close at once, or after part of the reply, or after all of it (in turn). The device
sends nothing unprompted in command mode, so every byte a cycle reads must be a prefix
of its own reply; anything else was meant for an earlier program (stale).

The next program opens GAP ms after the last one closed (0: at once), racing the
emulator's view of the close. With --events (the emulator's --events file) each program
waits for its tty.attach before it reads or writes, which is what a host may rely on
(docs/user-guide.md); with --after-detach as well, it also opens only once the emulator
reported the previous program's tty.detach.

Counted, each at most once per cycle:
  stale    read a byte that was not its own
  blocked  select() said readable and the non-blocking read then found nothing
  lost     waited for its whole reply and did not get it (within 2 s)
Prints `cycles=N stale=N blocked=N lost=N` (the first bad reads on stderr) and exits 0;
the caller judges the counts. Exits 2 if the emulator missed an attach or a detach.
Standard library only.
"""
import argparse
import os
import select
import sys
import time

REPLY_TAIL = b"\r\n+ERR=-1\r\n"
WAIT_S = 2.0
EVENT_WAIT_S = float(os.environ.get("M0_TIMEOUT", "30"))


class Events:
    """Counts tty.attach / tty.detach lines of the emulator's --events file."""

    def __init__(self, path):
        self.path = path
        self.seen = {"tty.attach": 0, "tty.detach": 0}
        self.offset = 0
        self.partial = b""
        self.poll()

    def poll(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            for name in self.seen:
                if b'"ev":"%s"' % name.encode() in line:
                    self.seen[name] += 1

    def wait(self, name, count):
        end = time.monotonic() + EVENT_WAIT_S
        while self.seen[name] < count:
            if time.monotonic() > end:
                print(f"no {name} #{count} within {EVENT_WAIT_S} s", file=sys.stderr)
                sys.exit(2)
            time.sleep(0.0005)
            self.poll()


def read_reply(fd, i, want, need, report, wait_s):
    """Read until `need` bytes of the reply came, checking each is this program's own."""
    got = b""
    end = time.monotonic() + wait_s
    while len(got) < need and want.startswith(got):
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        try:
            got += os.read(fd, need - len(got))
        except BlockingIOError:
            report("blocked", i, f"select said readable, then nothing after {got!r}")
            return
    if not want.startswith(got):
        report("stale", i, f"read {got!r}, want a prefix of {want!r}")
    elif len(got) < need:
        report("lost", i, f"only {got!r} of {want[:need]!r} within {wait_s} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tty")
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=20.0, help="stop early after this")
    ap.add_argument("--gap-ms", type=float, default=0, help="pause between programs")
    ap.add_argument("--events", help="wait for the emulator's tty.attach after opening")
    ap.add_argument("--after-detach", action="store_true",
                    help="with --events: open only after the previous tty.detach")
    ap.add_argument("--reply-wait", type=float, default=WAIT_S,
                    help="seconds to wait for a reply before counting it lost")
    ap.add_argument("--first", type=int, default=0, help="number of the first cycle")
    args = ap.parse_args()

    counts = {"cycles": 0, "stale": 0, "blocked": 0, "lost": 0}
    bad = set()
    shown = 0

    def report(kind, i, what):
        nonlocal shown
        bad.add(kind)
        if shown < 10:
            shown += 1
            print(f"cycle {i}: {kind}: {what}", file=sys.stderr)

    events = Events(args.events) if args.events else None
    if events:
        base_attach = events.seen["tty.attach"]
        base_detach = events.seen["tty.detach"]
    deadline = time.monotonic() + args.seconds
    for n in range(args.cycles):
        i = args.first + n
        if time.monotonic() > deadline:
            break
        counts["cycles"] += 1
        cmd = b"zz%d\r" % i
        want = cmd + REPLY_TAIL
        fd = os.open(args.tty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            if events:
                events.wait("tty.attach", base_attach + n + 1)
            # Before we write, nothing is ours: the device is quiet in command mode.
            if select.select([fd], [], [], 0)[0]:
                try:
                    got = os.read(fd, 4096)
                    report("stale", i, f"before writing: {got!r}")
                except BlockingIOError:
                    report("blocked", i, "select said readable, read found nothing")
            os.write(fd, cmd)
            style = i % 3  # 0: close at once, 1: after a part, 2: after the whole reply
            if style > 0:
                read_reply(fd, i, want, len(cmd) if style == 1 else len(want), report,
                           args.reply_wait)
        finally:
            os.close(fd)
            for kind in bad:
                counts[kind] += 1
            bad.clear()
        if events and args.after_detach:
            events.wait("tty.detach", base_detach + n + 1)
        if args.gap_ms > 0:
            time.sleep(args.gap_ms / 1000)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
