#!/usr/bin/env python3
"""soak.py: m0emu held under load for a bounded time, one phase per check (bench/soak).

Every phase runs its own emulator (--timing fast) on a private temporary state directory,
tty symlink and events file, with free ports on 127.0.0.1 only, for SOAK_S seconds (30)
plus a bounded drain, and counts what went wrong instead of stopping at the first fault:

  tty        reopen cycles in command mode: open, wait for the tty.attach (the host's
             contract), one distinct invalid AT line, its reply, close; some cycles
             abandon their reply. Stale bytes, empty reads after a
             readable select, lost replies.
  tcpc-flap  TCPC against a server the soak keeps stopping (FIN, RST, RST while the link
             is paused by a host that stopped reading) and restarting; every connected
             period moves random data both ways, which must arrive whole.
  tcps8      TCPS, MAXSK=8, eight clients sending at full rate while the host reads the
             tty. Client k sends only bytes 32k..32k+31 in a known order, so the host can
             split the one stream it reads back into eight and check each exactly.
  udp        UDPS flooded with datagrams of varied sizes, each self-describing (0xFF, seq
             and length in hex, payload without 0xFF): whole, corrupt, dropped.
  kill9      start, set AT+MID (a flash save), kill -9 at a random moment around the save,
             restart: flash.conf is the old file or the new one and the device starts.

Long-running phases sample the emulator's /proc fd count and VmRSS after a warm-up and
again at the end, in the same state (connections up, host attached or not). Invariants
are listed in docs/reliability.md; a violation is reported and the soak goes on.
Exit status: 0 all held, 1 a violation, 2 the soak could not run to its end, 130 Ctrl-C.
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import random
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import termios
import time

LO = "127.0.0.1"
PHASES = ("tty", "tcpc-flap", "tcps8", "udp", "kill9")
WAIT = 15.0          # bound of any single wait (an event, a connection, a reply)
DRAIN_IDLE = 5.0     # after a flood: this long without a byte ends the drain
FD_SLACK = 2         # fds the emulator may hold more at the end than after the warm-up
RSS_SLACK_KB = 1024  # and RSS (KiB); a run grows it by 20-100 KiB after the warm-up
STARVED = 0.25       # tcps8: a client below this fraction of a fair share is starved
PAUSED_WAIT = 5.0    # tcpc-flap: a reset must be noticed this soon while the link is paused
REPLY_WAIT = 2.0     # tty: a reply takes well under a millisecond when nothing is wrong
CHUNK = 1 << 16


class Interrupted(Exception):
    """SIGINT or SIGTERM: clean up and leave."""


class Violation(Exception):
    """An invariant broke in a way that ends the phase (the emulator died, no reconnect)."""


# ---- processes: everything started is tracked and killed on the way out ----

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - no libc to call: children just lack the safety net
    _libc = None


def die_with_parent():
    """In a child: SIGKILL when the soak dies, even by kill -9 (prctl PR_SET_PDEATHSIG)."""
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)


LIVE = {}  # pid -> description, every process the soak started and has not reaped


def fork_child(fn):
    """Run fn(report) in a forked child; report(obj) sends one JSON object back. Returns
    (pid, read fd of the reports). The child never returns into the parent's code."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        rc = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            die_with_parent()
            os.close(r)
            fn(lambda obj: os.write(w, (json.dumps(obj) + "\n").encode()))
        except BaseException as e:  # reported to the parent, which decides
            try:
                os.write(w, (json.dumps({"error": repr(e)}) + "\n").encode())
            except OSError:
                pass
            rc = 1
        finally:
            os._exit(rc)
    os.close(w)
    LIVE[pid] = "child"
    return pid, r


class Reports:
    """The JSON lines a forked child sends back, read without blocking the caller."""

    def __init__(self, fd):
        self.fd, self.buf = fd, b""

    def next(self, timeout):
        """The next report, waiting at most timeout seconds (None: none complete yet)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if not select.select([self.fd], [], [], max(0, left))[0]:
                return None
            b = os.read(self.fd, 65536)
            if not b:
                return {"error": "the child ended without a report"}
            self.buf += b
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def reap(pid, sig=signal.SIGKILL):
    if pid not in LIVE:
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    LIVE.pop(pid, None)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((LO, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- the emulator ----

class Events:
    """The --events file, read incrementally (a tty phase writes tens of thousands)."""

    def __init__(self, path):
        self.path, self.off, self.by_name, self.tail = path, 0, {}, b""

    def reset(self):
        self.off, self.by_name, self.tail = 0, {}, b""

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return
        self.off += len(data)
        lines = (self.tail + data).split(b"\n")
        self.tail = lines.pop()
        for line in lines:
            if line.startswith(b"{"):
                ev = json.loads(line)
                self.by_name.setdefault(ev.get("ev"), []).append(ev)

    def of(self, name, where=None):
        self.poll()
        evs = self.by_name.get(name, [])
        if where:
            evs = [e for e in evs if all(e.get(k) == v for k, v in where.items())]
        return evs

    def count(self, name, where=None):
        return len(self.of(name, where))


class Emu:
    """One m0emu process on a phase's own state directory, tty link and events file."""

    def __init__(self, run, name, flash=None, boot_ms=None):
        self.run, self.name, self.boot_ms = run, name, boot_ms
        self.dir = os.path.join(run.work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state")
        self.tty = os.path.join(self.dir, "tty")
        self.flash = os.path.join(self.state, "flash.conf")
        self.ev = Events(os.path.join(self.dir, "events"))
        self.proc = None
        self.starts = 0
        run.links.append(self.tty)
        os.makedirs(self.state, exist_ok=True)
        if flash is not None:
            with open(self.flash, "w") as f:
                f.write("# m0emu flash v1\n" + "".join(line + "\n" for line in flash))

    def start(self, wait=True):
        self.starts += 1
        try:
            os.unlink(self.ev.path)  # the last run's `ready` must not count for this one
        except FileNotFoundError:
            pass
        self.ev.reset()
        args = [self.run.exe, "--tty", self.tty, "--state", self.state,
                "--events", self.ev.path, "--timing", "fast",
                "--web-port", str(free_port()), "-q"]
        if self.boot_ms is not None:
            args += ["--boot-ms", str(self.boot_ms)]
        with open(os.path.join(self.dir, "stderr"), "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=log,
                                         start_new_session=True, preexec_fn=die_with_parent)
        LIVE[self.proc.pid] = f"m0emu ({self.name})"
        if wait:
            self.wait_event("ready")

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            rc = self.proc.returncode if self.proc else None
            LIVE.pop(self.proc.pid, None)
            raise Violation(f"m0emu exited (status {rc}) in the middle of the phase; "
                            f"see {self.dir}/stderr")

    def wait_event(self, name, n=1, where=None, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while self.ev.count(name, where) < n:
            self.check_alive()
            if time.monotonic() > deadline:
                raise Violation(f"no {name} event #{n} {where or ''} within {timeout:g} s")
            time.sleep(0.005)

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def sample(self):
        """fds and RSS, the least of three looks 50 ms apart: the emulator briefly holds
        a directory fd or two while it scans /proc after a tty close."""
        looks = []
        for i in range(3):
            if i:
                time.sleep(0.05)
            looks.append((self.fds(), self.rss_kb()))
        return {"fds": min(x[0] for x in looks), "rss_kb": min(x[1] for x in looks)}

    def stop(self):
        """SIGTERM: the emulator must exit 0 and remove its tty link. Returns the
        violation (a string) or None."""
        if not self.alive():
            self.check_alive()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            reap(self.pid)
            return f"m0emu did not exit within {WAIT:g} s of SIGTERM"
        LIVE.pop(self.pid, None)
        if rc != 0:
            return f"m0emu exited with status {rc} after SIGTERM (want 0)"
        if os.path.lexists(self.tty):
            return "the tty link is still there after SIGTERM"
        return None

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        LIVE.pop(self.pid, None)


# ---- the host's side of the tty ----

def open_tty(path, baud=115200):
    """The tty opened like a host program: raw 8N1, non-blocking (select before reads)."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    iflag, oflag, cflag, lflag, _, _, cc = termios.tcgetattr(fd)
    iflag = 0
    oflag &= ~termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG |
               termios.IEXTEN)
    cflag &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB | termios.CRTSCTS)
    cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    speed = getattr(termios, f"B{baud}")
    termios.tcsetattr(fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, speed, speed, cc])
    return fd


class Host:
    """Reads and writes on a tty fd; counts reads that select called readable but that
    returned nothing (a host doing a blocking read there would hang)."""

    def __init__(self, fd):
        self.fd, self.blocked = fd, 0

    def read(self, timeout, limit=CHUNK):
        """Bytes (b"" after timeout with nothing readable; None: readable, but empty)."""
        if not select.select([self.fd], [], [], max(0, timeout))[0]:
            return b""
        try:
            return os.read(self.fd, limit)
        except BlockingIOError:
            self.blocked += 1
            return None

    def write_all(self, data, timeout=WAIT):
        view, off = memoryview(data), 0
        deadline = time.monotonic() + timeout
        while off < len(view):
            try:
                off += os.write(self.fd, view[off:off + CHUNK])
                deadline = time.monotonic() + timeout
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Violation(f"the tty took no bytes for {timeout:g} s")
                select.select([], [self.fd], [], 0.5)

    def expect(self, want, what):
        buf = b""
        deadline = time.monotonic() + WAIT
        while len(buf) < len(want):
            b = self.read(deadline - time.monotonic(), len(want) - len(buf))
            if b == b"" and time.monotonic() > deadline:
                break
            buf += b or b""
        if buf != want:
            raise Violation(f"{what}: got {buf!r}, want {want!r}")

    def handshake(self):
        """+++ / a into command mode (the sleep is the idle guard before '+': a minimum)."""
        time.sleep(0.1)
        self.write_all(b"+++")
        self.expect(b"a", "the 'a' after +++")
        self.write_all(b"a")
        self.expect(b"+ok", "+ok after the handshake")


def serial_safe(rng, n):
    """n random bytes without '+' (a '+++' after a pause is the escape)."""
    return rng.randbytes(n).replace(b"+", b"*")


# ---- results ----

class Phase:
    def __init__(self, name):
        self.name = name
        self.figures = {}
        self.violations = []
        self.samples = {}  # "before"/"after" -> {"fds", "rss_kb"}
        self.t0 = time.monotonic()
        self.seconds = 0.0
        self.summary = ""
        self.error = None

    def violate(self, msg):
        if msg and msg not in self.violations:
            self.violations.append(msg)

    def check_growth(self, rss=True):
        b, a = self.samples.get("before"), self.samples.get("after")
        if not b or not a:
            return
        if a["fds"] > b["fds"] + FD_SLACK:
            self.violate(f"fds grew {b['fds']} -> {a['fds']} (slack {FD_SLACK})")
        if rss and a["rss_kb"] > b["rss_kb"] + RSS_SLACK_KB:
            self.violate(f"RSS grew {b['rss_kb']} -> {a['rss_kb']} KiB "
                         f"(slack {RSS_SLACK_KB} KiB)")

    def as_json(self):
        return {"seconds": round(self.seconds, 1), "figures": self.figures,
                "samples": self.samples, "violations": self.violations,
                "error": self.error, "summary": self.summary}


# ---- phase 1: tty reopen cycles ----

def wait_own_attach(emu, attaches):
    """What a host may rely on (docs/user-guide.md): once its tty.attach is out, it gets
    only its own bytes and every reply. A host that writes earlier, while the device has
    not yet seen the previous host's close, may have its line taken as that host's tail
    (read by the device, answered to nobody). So a cycle writes only once the device
    reports a host attached (more attaches than detaches) since this cycle opened."""
    deadline = time.monotonic() + WAIT
    while True:
        n = emu.ev.count("tty.attach")
        if n > attaches and n > emu.ev.count("tty.detach"):
            return
        emu.check_alive()
        if time.monotonic() > deadline:
            raise Violation(f"no tty.attach within {WAIT:g} s of an open")
        time.sleep(0.001)


def phase_tty(run, ph):
    """Command mode once, then cycles of open / distinct invalid AT line / reply / close.
    Most cycles read their whole reply; some read a little and close, some close right
    after writing (the reply is then the device's to flush or drop, never the next
    host's). Every byte a full-reading cycle sees before its reply is stale."""
    port = free_port()
    emu = Emu(run, "tty", [f"AT+SOCK=TCPS,127.0.0.1,{port}", f"AT+SOCKPORT={port}"])
    emu.start()
    emu.wait_event("net.listening")
    host = Host(open_tty(emu.tty))
    host.handshake()
    os.close(host.fd)
    emu.wait_event("tty.detach")

    f = dict(cycles=0, full=0, partial=0, abandoned=0, stale_reads=0, stale_bytes=0,
             stale_after_full=0, stale_after_partial=0, stale_after_abandoned=0,
             blocked_reads=0, lost_replies=0)
    examples = []
    prev_mode = "full"
    lost_in_row = 0
    end = time.monotonic() + run.soak_s
    while time.monotonic() < end:
        n = f["cycles"]
        line = b"AT+SOAK%07d\r" % n
        want = line + b"\r\n+ERR=-2\r\n"
        x = run.rng.random()
        mode = "full" if x < 0.8 else "partial" if x < 0.9 else "abandoned"
        attaches = emu.ev.count("tty.attach")
        fd = open_tty(emu.tty)
        host = Host(fd)
        try:
            wait_own_attach(emu, attaches)
            host.write_all(line)
            if mode == "full":
                buf = b""
                deadline = time.monotonic() + REPLY_WAIT
                while want not in buf and len(buf) < len(want) + 4096:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    buf += host.read(left) or b""
                if want in buf:
                    lost_in_row = 0
                    extra = len(buf) - len(want)
                else:
                    f["lost_replies"] += 1
                    lost_in_row += 1
                    # What is not the start of the reply (its end never came) is stale.
                    k = next(k for k in range(min(len(buf), len(want)), -1, -1)
                             if buf.endswith(want[:k]))
                    extra = len(buf) - k
                    if len(examples) < 6:
                        examples.append(f"cycle {n} (after a {prev_mode} cycle): no reply "
                                        f"in {REPLY_WAIT:g} s; got {buf[-64:]!r}")
                if extra:
                    f["stale_reads"] += 1
                    f["stale_bytes"] += extra
                    f["stale_after_" + prev_mode] += 1
                    if len(examples) < 6:
                        examples.append(f"cycle {n} (after a {prev_mode} cycle): got "
                                        f"{buf[-80:]!r}")
            elif mode == "partial":
                host.read(1.0, 1 + run.rng.randrange(len(want) - 1))
        finally:
            os.close(fd)
        f["blocked_reads"] += host.blocked
        f[mode] += 1
        f["cycles"] += 1
        prev_mode = mode
        if n == 0:
            emu.wait_event("tty.detach", 2)
            ph.samples["before"] = emu.sample()
        if n % 200 == 0:
            emu.check_alive()
        if lost_in_row >= 5:
            ph.violate(f"5 cycles in a row got no reply (the last: cycle {n}); phase ended")
            break
    # Settle: every close seen, then the same state as the first sample (nobody attached).
    deadline = time.monotonic() + WAIT
    while emu.ev.count("tty.detach") < emu.ev.count("tty.attach") and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    ph.samples["after"] = emu.sample()
    drops = emu.ev.of("drop", {"dir": "to_host", "reason": "no-host"})
    f["no_host_drop_bytes"] = drops[-1]["bytes"] if drops else 0
    f["attach_events"] = emu.ev.count("tty.attach")
    f["detach_events"] = emu.ev.count("tty.detach")
    f["cycles_per_s"] = round(f["cycles"] / run.soak_s, 1)
    if examples:
        f["examples"] = examples
    if f["stale_reads"]:
        ph.violate(f"{f['stale_reads']} stale reads ({f['stale_bytes']} bytes; after a "
                   f"cycle that read its whole reply {f['stale_after_full']}, part of it "
                   f"{f['stale_after_partial']}, none of it {f['stale_after_abandoned']})")
    if f["blocked_reads"]:
        ph.violate(f"{f['blocked_reads']} reads found nothing after select said readable")
    if f["lost_replies"]:
        ph.violate(f"{f['lost_replies']} cycles got no whole reply within {REPLY_WAIT:g} s")
    ph.violate(emu.stop())
    ph.figures = f
    ph.summary = (f"{f['cycles']} cycles ({f['cycles_per_s']}/s; {f['partial']} partial, "
                  f"{f['abandoned']} abandoned), stale {f['stale_reads']} "
                  f"({f['stale_bytes']} B), blocked {f['blocked_reads']}, "
                  f"lost replies {f['lost_replies']}")


# ---- phase 2: TCPC against a flapping server ----

def exchange(host, conn, up, down):
    """up (tty -> server) and down (server -> tty) at once, all four directions from one
    select loop. Returns (bytes the server got, bytes the host got), stopping when both
    are complete or nothing moved for WAIT seconds."""
    got_up, got_down = bytearray(), bytearray()
    off_up = off_down = 0
    conn.setblocking(False)
    idle_until = time.monotonic() + WAIT
    while (len(got_up) < len(up) or len(got_down) < len(down)) and \
            time.monotonic() < idle_until:
        rd, wr = [], []
        if len(got_up) < len(up):
            rd.append(conn)
        if len(got_down) < len(down):
            rd.append(host.fd)
        if off_up < len(up):
            wr.append(host.fd)
        if off_down < len(down):
            wr.append(conn)
        r, w, _ = select.select(rd, wr, [], 0.5)
        moved = False
        if host.fd in w:
            try:
                off_up += os.write(host.fd, up[off_up:off_up + CHUNK])
                moved = True
            except BlockingIOError:
                pass
        if conn in w:
            try:
                off_down += conn.send(down[off_down:off_down + CHUNK])
                moved = True
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                break
        if conn in r:
            try:
                b = conn.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                b = None
            except OSError:
                b = b""
            if b == b"":
                break  # the device closed it: what is missing is lost
            if b:
                got_up += b
                moved = True
        if host.fd in r:
            b = host.read(0)
            if b:
                got_down += b
                moved = True
        if moved:
            idle_until = time.monotonic() + WAIT
    return bytes(got_up), bytes(got_down)


def lost_and_corrupt(got, want):
    """(bytes missing at the end, 1 if what did arrive differs from what was sent)."""
    if got == want:
        return 0, 0
    if len(got) <= len(want) and want.startswith(got):
        return len(want) - len(got), 0
    return max(0, len(want) - len(got)), 1


def fill_until_paused(conn, rng):
    """The server sends while the host does not read, until the socket has taken
    nothing for 0.3 s: the device's queue toward the host is full and it stopped reading
    the link (flow.c pauses TCP at 48 KiB), and the kernel's buffers are full too."""
    conn.setblocking(False)
    filler = memoryview(rng.randbytes(1 << 20))
    stuck = None
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            conn.send(filler)
            stuck = None
        except (BlockingIOError, InterruptedError):
            now = time.monotonic()
            stuck = stuck or now
            if now - stuck > 0.3:
                return
            select.select([], [conn], [], 0.1)


def drain_tty(host, idle=0.5):
    """Read and discard until the tty has been quiet for idle seconds; bytes read."""
    n = 0
    while True:
        b = host.read(idle)
        if b == b"":
            return n
        n += len(b or b"")


def phase_tcpc_flap(run, ph):
    """The server goes away and comes back over and over: closed with FIN or with RST
    (some RSTs while the device has paused the link because the host stopped reading:
    the device must still notice within PAUSED_WAIT), reopened at once, after the
    device's next refused dial, or after a random pause. While connected, random data
    both ways (64 KiB to 4 MiB each) must arrive whole before the server goes away."""
    port = free_port()
    emu = Emu(run, "tcpc-flap", [f"AT+SOCK=TCPC,127.0.0.1,{port}", "AT+SOCKPORT=0"])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((LO, port))
    listener.listen(4)
    emu.start()
    host = Host(open_tty(emu.tty))
    emu.wait_event("tty.attach")
    f = dict(flaps=0, up_bytes=0, down_bytes=0, up_lost=0, down_lost=0, corrupt_flaps=0,
             fin_closes=0, rst_closes=0, paused_rst_closes=0, paused_rst_unnoticed=0,
             discarded_after_rst=0, reconnect_failures=0)
    reconnect_ms = []
    end = time.monotonic() + run.soak_s
    conn = None
    try:
        while True:
            t_listen = time.monotonic()
            listener.settimeout(WAIT)
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                f["reconnect_failures"] += 1
                raise Violation(f"the device did not reconnect within {WAIT:g} s "
                                f"(after {f['flaps']} flaps)") from None
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if f["flaps"]:
                reconnect_ms.append((time.monotonic() - t_listen) * 1000)
            emu.wait_event("net.connected", f["flaps"] + 1)
            up = serial_safe(run.rng, run.rng.randint(1 << 16, 4 << 20))
            down = run.rng.randbytes(run.rng.randint(1 << 16, 4 << 20))
            got_up, got_down = exchange(host, conn, up, down)
            f["flaps"] += 1
            f["up_bytes"] += len(got_up)
            f["down_bytes"] += len(got_down)
            for key, got, want in (("up", got_up, up), ("down", got_down, down)):
                lost, bad = lost_and_corrupt(got, want)
                f[f"{key}_lost"] += lost
                f["corrupt_flaps"] += bad
            if f["flaps"] == 1:
                ph.samples["before"] = emu.sample()
            if time.monotonic() >= end:
                ph.samples["after"] = emu.sample()
                break
            # The server goes away: FIN, RST, or RST while the device has paused the link
            # (the host stopped reading, the device's queue toward it is full).
            closed = emu.ev.count("net.closed")
            refused = emu.ev.count("net.refused")
            how = run.rng.random()
            if how < 0.25:
                f["paused_rst_closes"] += 1
                fill_until_paused(conn, run.rng)
            if how < 0.625:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                b"\x01\x00\x00\x00\x00\x00\x00\x00")
                f["rst_closes"] += 1
            else:
                f["fin_closes"] += 1
            conn.close()
            conn = None
            listener.close()
            if how < 0.25:
                t = time.monotonic()
                while emu.ev.count("net.closed") <= closed and \
                        time.monotonic() - t < PAUSED_WAIT:
                    emu.check_alive()
                    time.sleep(0.01)
                if emu.ev.count("net.closed") <= closed:
                    f["paused_rst_unnoticed"] += 1
                f["discarded_after_rst"] += drain_tty(host)
            emu.wait_event("net.closed", closed + 1)
            how = run.rng.random()
            if how < 0.3:
                emu.wait_event("net.refused", refused + 1)
            elif how < 0.6:
                time.sleep(run.rng.uniform(0, 1.5))
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((LO, port))
            listener.listen(4)
    except Violation as e:
        ph.violate(str(e))
    finally:
        if conn is not None:
            conn.close()
        listener.close()
        os.close(host.fd)
    f["blocked_reads"] = host.blocked
    f["reconnects"] = max(0, emu.ev.count("net.connected") - 1)
    f["closed_events"] = emu.ev.count("net.closed")
    f["refused_dials"] = emu.ev.count("net.refused")
    if reconnect_ms:
        f["reconnect_ms_median"] = round(statistics.median(reconnect_ms))
        f["reconnect_ms_max"] = round(max(reconnect_ms))
    if f["up_lost"] or f["down_lost"] or f["corrupt_flaps"]:
        ph.violate(f"TCP data lost or corrupt while connected: {f['up_lost']} bytes "
                   f"host->server, {f['down_lost']} server->host missing, "
                   f"{f['corrupt_flaps']} flows differing")
    if f["paused_rst_unnoticed"]:
        ph.violate(f"{f['paused_rst_unnoticed']} of {f['paused_rst_closes']} resets went "
                   f"unnoticed for {PAUSED_WAIT:g} s while the link was paused")
    if f["blocked_reads"]:
        ph.violate(f"{f['blocked_reads']} tty reads found nothing after select said "
                   f"readable")
    ph.violate(emu.stop())
    ph.figures = f
    ph.summary = (f"{f['flaps']} flaps ({f['fin_closes']} FIN, {f['rst_closes']} RST of "
                  f"which {f['paused_rst_closes']} paused, {f['paused_rst_unnoticed']} "
                  f"unnoticed), "
                  f"{f['reconnects']} reconnects (median "
                  f"{f.get('reconnect_ms_median', 'n/a')} ms), "
                  f"{f['up_bytes'] / 1e6:.1f} MB up, {f['down_bytes'] / 1e6:.1f} MB down, "
                  f"lost {f['up_lost'] + f['down_lost']} B, corrupt {f['corrupt_flaps']}")


# ---- phase 3: eight TCPS clients at full rate ----

NCLIENTS = 8
PERIOD = 1 << 20  # each client's stream repeats every MiB


def client_streams(seed):
    """Client k's stream: bytes 32k..32k+31 only, random order; two periods long, so any
    slice of up to one period starting inside the first is one slice."""
    rng = random.Random(seed)
    out = []
    for k in range(NCLIENTS):
        table = bytes(32 * k + (b & 31) for b in range(256))
        block = rng.randbytes(PERIOD).translate(table)
        out.append(block + block)
    return out


class Demux:
    """The host's stream split back into the eight clients' by byte value, each compared
    with what that client sends; counts bytes per client and the first difference."""

    def __init__(self, streams):
        self.streams = streams
        self.delete = [bytes(b for b in range(256) if b // 32 != k)
                       for k in range(NCLIENTS)]
        self.got = [0] * NCLIENTS
        self.corrupt = [None] * NCLIENTS  # offset of the first difference

    def feed(self, data):
        for k in range(NCLIENTS):
            sub = data.translate(None, self.delete[k])
            pos, i = self.got[k], 0
            while i < len(sub):
                off = pos % PERIOD
                n = min(len(sub) - i, PERIOD)
                if self.corrupt[k] is None and \
                        sub[i:i + n] != self.streams[k][off:off + n]:
                    want = self.streams[k][off:off + n]
                    j = next(j for j in range(n) if sub[i + j] != want[j])
                    self.corrupt[k] = pos + j
                pos += n
                i += n
            self.got[k] = pos


def phase_tcps8(run, ph):
    """Eight clients, each sending its own stream as fast as the sockets take it, from a
    forked process (no GIL shared with the reader); the host reads the tty and splits the
    bytes back per client. Shares are counted when the sending window ends; losses once
    everything sent has been drained (or nothing more came for DRAIN_IDLE)."""
    port = free_port()
    emu = Emu(run, "tcps8", [f"AT+SOCK=TCPS,127.0.0.1,{port}", f"AT+SOCKPORT={port}",
                             "AT+MAXSK=8", "AT+TCPSE=keep"])
    emu.start()
    emu.wait_event("net.listening")
    host = Host(open_tty(emu.tty))
    emu.wait_event("tty.attach")
    seed = run.rng.randrange(1 << 30)
    streams = client_streams(seed)
    socks = []
    for _ in range(NCLIENTS):
        s = socket.create_connection((LO, port), timeout=WAIT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    emu.wait_event("net.connected", NCLIENTS, {"accepted": True})
    done_r, done_w = os.pipe()
    seconds = run.soak_s

    def clients(report):
        os.close(done_w)
        sent = [0] * NCLIENTS
        views = [memoryview(s) for s in streams]
        for s in socks:
            s.setblocking(False)
        index = {s.fileno(): k for k, s in enumerate(socks)}
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            _, w, _ = select.select([], socks, [], 0.2)
            for s in w:
                k = index[s.fileno()]
                off = sent[k] % PERIOD
                try:
                    sent[k] += s.send(views[k][off:off + CHUNK])
                except (BlockingIOError, InterruptedError):
                    pass
        report({"sent": sent})
        os.read(done_r, 1)  # hold the connections until the parent has drained

    pid, rep_fd = fork_child(clients)
    rep = Reports(rep_fd)
    os.close(done_r)
    demux = Demux(streams)
    batch = bytearray()
    t0 = time.monotonic()
    window_end, warm = t0 + seconds, t0 + min(2.0, seconds / 4)
    share_at_end = None
    sent = None
    last_byte = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if "before" not in ph.samples and now >= warm:
                ph.samples["before"] = emu.sample()
            if share_at_end is None and now >= window_end:
                demux.feed(bytes(batch))
                batch.clear()
                share_at_end = list(demux.got)
                emu.check_alive()
            if sent is None and share_at_end is not None:
                rep_obj = rep.next(0)
                if rep_obj is not None:
                    if "error" in rep_obj:
                        raise RuntimeError(f"tcps8 clients: {rep_obj['error']}")
                    sent = rep_obj["sent"]
                elif now > window_end + WAIT:
                    raise RuntimeError("tcps8 clients: no report")
            b = host.read(0.2)
            if b:
                batch += b
                last_byte = time.monotonic()
                if len(batch) >= 1 << 18:
                    demux.feed(bytes(batch))
                    batch.clear()
            if sent is not None:
                demux.feed(bytes(batch))
                batch.clear()
                if sum(demux.got) >= sum(sent) or \
                        time.monotonic() - last_byte > DRAIN_IDLE:
                    break
        ph.samples["after"] = emu.sample()
    finally:
        os.close(done_w)
        reap(pid)
        os.close(rep_fd)
    total = sum(share_at_end)
    fair = total / NCLIENTS if total else 0
    shares = [round(100 * g / total, 1) if total else 0.0 for g in share_at_end]
    lost = [max(0, s - g) for s, g in zip(sent, demux.got)]
    corrupt = [k + 1 for k in range(NCLIENTS) if demux.corrupt[k] is not None]
    starved = [k + 1 for k in range(NCLIENTS) if share_at_end[k] < STARVED * fair]
    f = {"seconds": seconds, "mb_s": round(total / seconds / 1e6, 1),
         "share_pct": shares, "delivered_in_window": share_at_end,
         "sent": sent, "delivered": demux.got, "lost": lost,
         "corrupt_clients": corrupt, "starved_clients": starved,
         "min_max_share": round(min(share_at_end) / max(share_at_end), 3)
         if max(share_at_end) else 0.0,
         "blocked_reads": host.blocked,
         "accepted": emu.ev.count("net.connected", {"accepted": True}),
         "closed_events": emu.ev.count("net.closed")}
    os.close(host.fd)
    for s in socks:
        s.close()
    if sum(lost) or corrupt:
        ph.violate(f"TCP data lost or corrupt: {sum(lost)} bytes missing "
                   f"(per client {lost}), corrupt streams of clients {corrupt}")
    if starved:
        ph.violate(f"clients {starved} starved: under {STARVED:g} of a fair share "
                   f"(shares % {shares})")
    if host.blocked:
        ph.violate(f"{host.blocked} tty reads found nothing after select said readable")
    ph.violate(emu.stop())
    ph.figures = f
    ph.summary = (f"{f['mb_s']} MB/s to the host, shares % {shares} "
                  f"(min/max {f['min_max_share']}), lost {sum(lost)} B, "
                  f"corrupt {len(corrupt)}")


# ---- phase 4: UDP flood ----

UDP_BLOCK = 1 << 20


def udp_block(seed):
    """Payload source without 0xFF (the datagram delimiter), with 64 KiB of run-off."""
    b = random.Random(seed).randbytes(UDP_BLOCK + 65536)
    return b.replace(b"\xff", b"\xfe")


def udp_payload(block, seq, n):
    off = (seq * 7919) % UDP_BLOCK
    return block[off:off + n]


def udp_size(rng):
    """Varied sizes: mostly small, some above the 400-byte serial frame, a few past what
    fits the 64 KiB queue toward the host together with much else."""
    x = rng.random()
    if x < 0.70:
        return rng.randint(1, 512)
    if x < 0.95:
        return rng.randint(513, 4096)
    if x < 0.99:
        return rng.randint(4097, 16384)
    return rng.randint(16385, 60000)


def proc_udp_drops(port):
    """The kernel's drop counter of the UDP socket bound to 127.0.0.1:port."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/udp") as f:
            for line in f:
                cols = line.split()
                if len(cols) > 12 and cols[1] == want:
                    return int(cols[-1])
    except OSError:
        pass
    return None


class UdpCheck:
    """Datagrams out of the host's byte stream: 0xFF, 8 hex digits seq, 4 hex digits
    length, payload. A piece between two 0xFF is one datagram, whole or not."""

    def __init__(self, block):
        self.block = block
        self.buf = bytearray()
        self.whole = self.corrupt = self.duplicate = self.reordered = 0
        self.seen = bytearray()
        self.last = -1
        self.examples = []

    def feed(self, data, final=False):
        self.buf += data
        cut = len(self.buf) if final else self.buf.rfind(b"\xff")
        if cut <= 0:
            return
        pieces = bytes(self.buf[:cut]).split(b"\xff")
        del self.buf[:cut]
        if pieces[0]:
            self.bad(pieces[0], "bytes before the first delimiter")
        for p in pieces[1:]:
            self.one(p)

    def bad(self, piece, why):
        self.corrupt += 1
        if len(self.examples) < 3:
            self.examples.append(f"{why}: {piece[:32]!r} ({len(piece)} bytes)")

    def one(self, p):
        try:
            seq, n = int(p[:8], 16), int(p[8:12], 16)
        except ValueError:
            return self.bad(p, "no header")
        if len(p) != 12 + n:
            return self.bad(p, f"datagram {seq}: {len(p) - 12} payload bytes, want {n}")
        if p[12:] != udp_payload(self.block, seq, n):
            return self.bad(p, f"datagram {seq}: payload differs")
        if seq >= len(self.seen):
            self.seen += bytes(seq + 65536 - len(self.seen))
        if self.seen[seq]:
            self.duplicate += 1
            return
        self.seen[seq] = 1
        if seq < self.last:
            self.reordered += 1
        self.last = max(self.last, seq)
        self.whole += 1


def phase_udp(run, ph):
    """UDPS flooded by a forked sender as fast as sendto goes, datagrams of varied sizes;
    the host reads the tty and checks every datagram. Drops (kernel socket buffer, the
    device's queue toward the host) are allowed and counted; a datagram cut or altered is
    not."""
    dev, first = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    emu = Emu(run, "udp", [f"AT+SOCK=UDPS,127.0.0.1,{first}", f"AT+SOCKPORT={dev}"])
    emu.start()
    emu.wait_event("net.listening", where={"udp": True})
    host = Host(open_tty(emu.tty))
    emu.wait_event("tty.attach")
    seed = run.rng.randrange(1 << 30)
    block = udp_block(seed)
    seconds = run.soak_s
    drops_before = proc_udp_drops(dev) or 0

    def sender(report):
        rng = random.Random(seed)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        seq = nbytes = failed = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            n = udp_size(rng)
            d = b"\xff%08x%04x" % (seq, n) + udp_payload(block, seq, n)
            try:
                s.sendto(d, (LO, dev))
            except OSError:
                failed += 1
                continue
            seq += 1
            nbytes += len(d)
        report({"sent": seq, "bytes": nbytes, "send_errors": failed})

    pid, rep_fd = fork_child(sender)
    rep = Reports(rep_fd)
    check = UdpCheck(block)
    t0 = time.monotonic()
    warm = t0 + min(2.0, seconds / 4)
    got_bytes = 0
    sent = None
    last_byte = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if "before" not in ph.samples and now >= warm:
                ph.samples["before"] = emu.sample()
            b = host.read(0.2)
            if b:
                got_bytes += len(b)
                check.feed(b)
                last_byte = time.monotonic()
            if sent is None and now >= t0 + seconds:
                r = rep.next(0)
                if r is not None:
                    if "error" in r:
                        raise RuntimeError(f"udp sender: {r['error']}")
                    sent = r
                    emu.check_alive()
                elif now > t0 + seconds + WAIT:
                    raise RuntimeError("udp sender: no report")
            if sent is not None and (check.whole >= sent["sent"] or
                                     time.monotonic() - last_byte > min(DRAIN_IDLE, 2.0)):
                break
        check.feed(b"", final=True)
        ph.samples["after"] = emu.sample()
    finally:
        reap(pid)
        os.close(rep_fd)
    drops = emu.ev.of("drop", {"dir": "to_host", "reason": "queue-full"})
    kernel = proc_udp_drops(dev)
    f = {"sent": sent["sent"], "sent_bytes": sent["bytes"], "whole": check.whole,
         "corrupt_or_partial": check.corrupt, "duplicates": check.duplicate,
         "reordered": check.reordered,
         "dropped": sent["sent"] - check.whole - check.corrupt,
         "dropped_pct": round(100 * (sent["sent"] - check.whole - check.corrupt)
                              / max(1, sent["sent"]), 1),
         "kernel_drops": None if kernel is None else kernel - drops_before,
         "device_queue_full_bytes": drops[-1]["bytes"] if drops else 0,
         "host_bytes": got_bytes, "host_mb_s": round(got_bytes / seconds / 1e6, 1),
         "send_errors": sent["send_errors"], "blocked_reads": host.blocked}
    if check.examples:
        f["corrupt_examples"] = check.examples
    os.close(host.fd)
    if check.corrupt or check.duplicate:
        ph.violate(f"{check.corrupt} datagrams cut or altered, {check.duplicate} "
                   f"duplicated")
    if host.blocked:
        ph.violate(f"{host.blocked} tty reads found nothing after select said readable")
    ph.violate(emu.stop())
    ph.figures = f
    ph.summary = (f"{f['sent']} datagrams sent, {f['whole']} whole at the host, "
                  f"{f['dropped']} dropped ({f['dropped_pct']} %; kernel "
                  f"{f['kernel_drops']}), corrupt {f['corrupt_or_partial']}")


# ---- phase 5: kill -9 around flash saves ----

def mid_of(text):
    for line in text.decode("latin-1").splitlines():
        if line.startswith("AT+MID="):
            return line[len("AT+MID="):]
    return None


def read_or_none(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def phase_kill9(run, ph):
    """Cycles of: start, handshake, AT+MID (the running value must be the file's), set
    AT+MID to a new value (a flash save: tmp file, fsync, rename), SIGKILL. One cycle in
    five (and the first five) waits for the set's +ok before the kill: the file must then
    be the new one, and the time to the +ok is measured. The others kill after a random
    delay in [0, 2 x the median of those times], around the save. After every kill
    flash.conf must be byte for byte the old file or the new one, no flash.conf.bad may
    appear, and the next start must come up on it."""
    port = free_port()
    emu = Emu(run, "kill9", [f"AT+SOCK=TCPS,127.0.0.1,{port}", f"AT+SOCKPORT={port}"],
              boot_ms=0)
    f = dict(cycles=0, measured=0, random=0, old=0, new=0, corrupt=0, failed_starts=0,
             value_mismatch=0, bad_files=0, mid_save=0, lost_after_ok=0)
    examples = []
    lat = []

    def session():
        emu.start()
        host = Host(open_tty(emu.tty))
        host.handshake()
        return host

    def query(host):
        host.write_all(b"AT+MID\r")
        head = b"AT+MID\r\r\n+ok="
        buf = b""
        deadline = time.monotonic() + WAIT
        while not (buf.startswith(head) and buf.endswith(b"\r\n") and
                   len(buf) > len(head) + 1):
            b = host.read(deadline - time.monotonic())
            if b == b"" and time.monotonic() > deadline:
                raise Violation(f"no reply to AT+MID: {buf!r}")
            buf += b or b""
        return buf[len(head):-2].decode("latin-1")

    def note(msg):
        if len(examples) < 5:
            examples.append(msg)

    end = time.monotonic() + run.soak_s
    try:
        while True:
            n = f["cycles"]
            try:
                host = session()
            except Violation as e:
                f["failed_starts"] += 1
                raise Violation(f"cycle {n}: the emulator did not come up: {e}") from None
            try:
                if os.path.exists(emu.flash + ".bad"):
                    f["bad_files"] += 1
                    note(f"cycle {n}: the loader renamed flash.conf to flash.conf.bad")
                    os.unlink(emu.flash + ".bad")
                old = read_or_none(emu.flash)
                tmp_before = read_or_none(emu.flash + ".tmp")
                running = query(host)
                if mid_of(old or b"") is not None and running != mid_of(old):
                    f["value_mismatch"] += 1
                    note(f"cycle {n}: running MID {running!r}, file {mid_of(old)!r}")
                if time.monotonic() >= end:
                    break  # this start, on the last kill's file, was the final check
                value = f"k{n:05d}-{run.rng.randrange(1 << 24):06x}"  # MID: 1-14 bytes
                line = f"AT+MID={value}\r".encode()
                measured = n < 5 or n % 5 == 0 or not lat
                if measured:
                    t = time.monotonic()
                    host.write_all(line)
                    host.expect(line + b"\r\n+ok\r\n", "the reply to the set")
                    lat.append(time.monotonic() - t)
                else:
                    delay = run.rng.uniform(0, 2 * statistics.median(lat))
                    host.write_all(line)
                    t = time.monotonic() + delay
                    while time.monotonic() < t:
                        pass  # a busy wait: sleep() is coarser than a save
                emu.kill9()
            finally:
                os.close(host.fd)
            f["measured" if measured else "random"] += 1
            after = read_or_none(emu.flash)
            is_new = after is not None and mid_of(after) == value and (
                old is None or mid_of(old) is None or
                after == old.replace(f"AT+MID={mid_of(old)}\n".encode(),
                                     f"AT+MID={value}\n".encode()))
            if after == old:
                f["old"] += 1
                if measured:
                    f["lost_after_ok"] += 1
                    note(f"cycle {n}: the set answered +ok, but after kill -9 the file "
                         f"still has the old value")
            elif is_new:
                f["new"] += 1
            else:
                f["corrupt"] += 1
                note(f"cycle {n}: flash.conf is neither the old nor the new file "
                     f"({None if after is None else len(after)} bytes, MID "
                     f"{mid_of(after or b'')!r})")
            tmp_after = read_or_none(emu.flash + ".tmp")
            if tmp_after is not None and tmp_after != tmp_before:
                f["mid_save"] += 1  # this kill hit between the tmp file and the rename
            f["cycles"] += 1
        ph.violate(emu.stop())
    except Violation as e:
        ph.violate(str(e))
        if emu.alive():
            emu.kill9()
    if lat:
        f["save_ms_median"] = round(statistics.median(lat) * 1000, 2)
        f["save_ms_max"] = round(max(lat) * 1000, 2)
    if examples:
        f["examples"] = examples
    if f["corrupt"] or f["bad_files"]:
        ph.violate(f"flash corrupt after kill -9: {f['corrupt']} files neither old nor "
                   f"new, {f['bad_files']} renamed .bad by the loader")
    if f["lost_after_ok"]:
        ph.violate(f"{f['lost_after_ok']} sets answered +ok were not in the file after "
                   f"kill -9")
    if f["value_mismatch"]:
        ph.violate(f"{f['value_mismatch']} starts ran another MID than the file's")
    ph.figures = f
    ph.summary = (f"{f['cycles']} kills ({f['random']} at random around the save, "
                  f"median save {f.get('save_ms_median', 'n/a')} ms): {f['old']} old, "
                  f"{f['new']} new, {f['corrupt']} corrupt, {f['failed_starts']} failed "
                  f"starts; {f['mid_save']} kills left a fresh flash.conf.tmp")


# ---- driver ----

class Run:
    def __init__(self, exe, soak_s, seed):
        self.exe, self.soak_s, self.seed = exe, soak_s, seed
        self.rng = random.Random(seed)
        self.work = tempfile.mkdtemp(prefix="m0emu-soak.")
        self.links = []
        # ASan keeps freed memory in quarantine (up to 256 MiB): RSS then says nothing.
        with open(exe, "rb") as f:
            self.sanitized = b"__asan_init" in f.read()

    def cleanup(self, keep):
        for pid in list(LIVE):
            reap(pid)
        for link in self.links:
            try:
                if os.path.islink(link):
                    os.unlink(link)
            except OSError:
                pass
        if keep:
            print(f"soak: files kept in {self.work}", file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)


RUNNERS = {"tty": phase_tty, "tcpc-flap": phase_tcpc_flap, "tcps8": phase_tcps8,
           "udp": phase_udp, "kill9": phase_kill9}


def pick(names):
    if not names:
        return list(PHASES)
    out = []
    for n in names:
        hits = [p for p in PHASES if p == n] or [p for p in PHASES if p.startswith(n)]
        if len(hits) != 1:
            print(f"soak: unknown or ambiguous phase {n!r} (phases: {' '.join(PHASES)})",
                  file=sys.stderr)
            raise SystemExit(2)
        if hits[0] not in out:
            out.append(hits[0])
    return out


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "python": platform.python_version()}


def commit():
    """The source tree's commit (with -dirty), or None outside a git checkout."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def sample_text(ph):
    b, a = ph.samples.get("before"), ph.samples.get("after")
    if not b or not a:
        return "-", "-"
    return f"{b['fds']}->{a['fds']}", f"{b['rss_kb']}->{a['rss_kb']}"


def table(phases):
    lines = [f"{'phase':10} {'secs':>6} {'fds':>8} {'RSS KiB':>12}  verdict  figures",
             "-" * 100]
    for ph in phases:
        fds, rss = sample_text(ph)
        verdict = "ERROR" if ph.error else "FAIL" if ph.violations else "ok"
        lines.append(f"{ph.name:10} {ph.seconds:6.1f} {fds:>8} {rss:>12}  {verdict:7}  "
                     f"{ph.summary or ph.error}")
    for ph in phases:
        for v in ph.violations:
            lines.append(f"  {ph.name}: {v}")
        if ph.error:
            lines.append(f"  {ph.name}: harness error: {ph.error}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(
        description="Soak m0emu phase by phase (see docs/reliability.md).",
        epilog=f"phases: {' '.join(PHASES)}; SOAK_S seconds each (30), SOAK_SEED")
    ap.add_argument("--m0emu", required=True, help="the binary to soak")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("phases", nargs="*", help="phases to run (default: all)")
    args = ap.parse_args()
    names = pick(args.phases)
    soak_s = float(os.environ.get("SOAK_S", "30"))
    seed = int(os.environ.get("SOAK_SEED") or random.randrange(1 << 31))
    exe = os.path.abspath(args.m0emu)
    if not os.access(exe, os.X_OK):
        print(f"soak: {exe} is not an executable", file=sys.stderr)
        return 2

    def on_term(signum, frame):
        raise Interrupted()
    signal.signal(signal.SIGTERM, on_term)

    run = Run(exe, soak_s, seed)
    print(f"soak: {' '.join(names)}; SOAK_S={soak_s:g} SOAK_SEED={seed}; {exe}",
          flush=True)
    done, interrupted = [], False
    try:
        for name in names:
            ph = Phase(name)
            try:
                RUNNERS[name](run, ph)
            except Violation as e:
                ph.violate(str(e))
            except (KeyboardInterrupt, Interrupted):
                interrupted = True
            except Exception as e:  # the harness broke: say so, go on with the others
                ph.error = f"{type(e).__name__}: {e}"
            finally:
                for pid in list(LIVE):
                    reap(pid)  # whatever the phase left running (a failure path)
            ph.check_growth(rss=not run.sanitized)
            ph.seconds = time.monotonic() - ph.t0
            if interrupted:
                break
            done.append(ph)
            verdict = "ERROR" if ph.error else "FAIL" if ph.violations else "ok"
            fds, rss = sample_text(ph)
            print(f"{name:10} {verdict:5} {ph.summary or ph.error}  [fds {fds}, "
                  f"RSS {rss} KiB]", flush=True)
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
    finally:
        bad = any(ph.error or ph.violations for ph in done)
        run.cleanup(keep=bad and not interrupted)
    if interrupted:
        print("soak: interrupted", file=sys.stderr)
        return 130
    m = machine()
    date = datetime.datetime.now().isoformat(timespec="seconds")
    print()
    print(f"m0emu soak {date}, commit {commit()}: {m['nproc']} CPUs, {m['cpu']}, "
          f"Linux {m['kernel']}; SOAK_S={soak_s:g} SOAK_SEED={seed}")
    print(table(done))
    if run.sanitized:
        print("(an ASan build: RSS growth is shown but not checked, its quarantine holds "
              "freed memory)")
    errors = any(ph.error for ph in done)
    violated = any(ph.violations for ph in done)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": date, "commit": commit(), "machine": m,
                       "soak_s": soak_s, "seed": seed, "m0emu": exe,
                       "sanitized": run.sanitized,
                       "slack": {"fds": FD_SLACK, "rss_kb": RSS_SLACK_KB,
                                 "starved_share": STARVED},
                       "phases": {ph.name: ph.as_json() for ph in done},
                       "violated": violated, "errors": errors}, f, indent=1)
            f.write("\n")
    if errors:
        return 2
    return 1 if violated else 0


if __name__ == "__main__":
    sys.exit(main())
