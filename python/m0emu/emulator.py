"""emulator.py: one m0emu process on a private folder, driven from Python.

Each Emulator owns a fresh temporary directory (state dir, tty symlink, events file and
the process's stdout/stderr, one set per run) and a web port that was free a moment ago,
so any number run side by side. The process is bound to us three ways, because a test
that fails must not leave it behind: close() (the pytest fixture's finalizer), an atexit
hook for every emulator still open, and PR_SET_PDEATHSIG, which sends the process SIGTERM
if the Python process dies without running either (SIGKILL, a crash). On SIGTERM the
emulator removes its own tty symlink; stop() checks that it did, and removes a symlink
that a SIGKILL (after a 10 s grace) left.
"""

import atexit
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .at import ATLink, mode_of
from .control import ChannelUart, Control, ControlError
from .errors import M0EmuError
from .events import EventLog, format_event

_PR_SET_PDEATHSIG = 1
# How many times start() retries when the free port it picked was taken meanwhile.
_START_ATTEMPTS = 3
# A Unix socket's path holds at most 107 bytes (sun_path, less its NUL).
_SUN_PATH_MAX = 107
_live = set()
_given_ports = set()


def find_binary(explicit=None):
    """The m0emu binary: `explicit`, else $M0EMU, else m0emu on PATH, else the source
    tree's build/ directory (this package's ../../build/src/board/m0emu)."""
    if explicit:
        return _check_binary(explicit, "given")
    env = os.environ.get("M0EMU")
    if env:
        return _check_binary(env, "$M0EMU")
    tried = ["$M0EMU (not set)"]
    on_path = shutil.which("m0emu")
    if on_path:
        return on_path
    tried.append("m0emu on PATH (none)")
    tree = Path(__file__).resolve().parent.parent.parent / "build" / "src" / "board" / "m0emu"
    if tree.is_file() and os.access(tree, os.X_OK):
        return str(tree)
    tried.append(f"{tree} (no such file)")
    raise M0EmuError(
        "cannot find the m0emu binary; tried " + ", ".join(tried) +
        ". Build it (meson setup build && ninja -C build), or set M0EMU=/path/to/m0emu, "
        "or pass --m0emu-binary to pytest.")


def _check_binary(path, where):
    if not os.path.isfile(path):
        raise M0EmuError(f"the m0emu binary {path!r} ({where}) does not exist")
    if not os.access(path, os.X_OK):
        raise M0EmuError(f"the m0emu binary {path!r} ({where}) is not executable")
    return path


def free_port(kind="tcp"):
    """A port free on 127.0.0.1 right now, never one this process handed out before.

    A server in a test is better off binding port 0 itself; this is for a port that
    another process must be told before it binds it."""
    socktype = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    for _ in range(100):
        with socket.socket(socket.AF_INET, socktype) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given_ports:
            _given_ports.add(port)
            return port
    raise M0EmuError("no free port found on 127.0.0.1")


def _bind_to_parent(parent):
    """A hook for the child, before exec: SIGTERM when the thread that started us dies.
    prctl is looked up here, in the parent: the child only calls it."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: the finalizers and atexit remain

    def hook():
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)
    return hook


@atexit.register
def _close_all():
    for emu in list(_live):
        try:
            emu.close(check=False)
        except Exception:  # noqa: BLE001 - a backstop must try every emulator
            pass


class Emulator:
    """An m0emu process. Start it with start() (or `with Emulator() as emu:`).

    Attributes once started: `tty` (the path to open), `web_port`, `state_dir`,
    `workdir`, `pid`, `events` (every event of this run, as dicts)."""

    def __init__(self, binary=None, *, timing="fast", dialect=None, mac=None,
                 boot_ms=None, net=None, line_faults=False, verbose=False, args=(),
                 flash=None, baudrate=115200, startup_timeout=30.0, stop_timeout=10.0,
                 die_with_parent=True, env=None, control=True):
        self.binary = find_binary(binary)
        self.timing = timing
        self.dialect = dialect
        self.mac = mac
        self.boot_ms = boot_ms
        self.net = net
        self.line_faults = line_faults
        self.verbose = verbose
        self.extra_args = list(args)
        self.baudrate = baudrate
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.die_with_parent = die_with_parent
        self.env = env
        self.workdir = Path(tempfile.mkdtemp(prefix="m0emu-py."))
        _live.add(self)
        self.state_dir = self.workdir / "state"
        self.tty = str(self.workdir / "tty")
        self.control_path = None
        if control:
            path = str(self.workdir / "control")
            if len(path.encode()) > _SUN_PATH_MAX:
                shutil.rmtree(self.workdir, ignore_errors=True)
                _live.discard(self)
                raise M0EmuError(
                    f"the control socket's path {path!r} is longer than a Unix socket "
                    f"allows ({_SUN_PATH_MAX} bytes): set TMPDIR to a shorter folder, or "
                    "pass control=False")
            self.control_path = path
        self._ctl = None
        self._subs = []
        self.web_port = None
        self.proc = None
        self.returncode = None
        self.log = None
        self.run = 0
        self._cursor = 0
        self._serial = None
        self._rx = bytearray()
        if flash is not None:
            self.write_flash(flash)

    def __repr__(self):
        state = "running" if self.running else f"stopped ({self.returncode})"
        return f"<m0emu.Emulator {state} tty={self.tty} web_port={self.web_port}>"

    def __enter__(self):
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc):
        self.close(check=exc[0] is None)

    # ---- the process ----

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def argv(self, web_port, events):
        a = [self.binary, "--tty", self.tty, "--state", str(self.state_dir),
             "--events", str(events), "--web-port", str(web_port)]
        if self.timing:
            a += ["--timing", self.timing]
        if self.dialect:
            a += ["--dialect", self.dialect]
        if self.mac:
            a += ["--mac", self.mac]
        if self.boot_ms is not None:
            a += ["--boot-ms", str(self.boot_ms)]
        if self.net:
            a += ["--net", self.net]
        if self.line_faults:
            a.append("--line-faults")
        if self.verbose:
            a.append("-v")
        if self.control_path:
            a += ["--control", self.control_path]
        return a + self.extra_args

    def write_flash(self, lines):
        """Write the flash file (AT set lines, e.g. "AT+E=off") for the next start."""
        self.state_dir.mkdir(exist_ok=True)
        text = "# m0emu flash v1\n" + "".join(f"{ln}\n" for ln in lines)
        (self.state_dir / "flash.conf").write_text(text)

    def start(self):
        """Start the process and wait for its first `ready`; return that event."""
        if self.running:
            raise M0EmuError("start(): already running")
        if self.workdir is None:
            raise M0EmuError("start(): this emulator was closed")
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = free_port()
            try:
                ready = self._start_once(port)
            except M0EmuError as e:
                if attempt < _START_ATTEMPTS and self._port_was_taken(port):
                    continue
                raise e
            if self.log.find("web.error", {}, 0) is not None and attempt < _START_ATTEMPTS:
                self.stop()  # our web port was taken between the check and the bind
                continue
            return ready
        raise M0EmuError("unreachable")  # pragma: no cover

    def _start_once(self, port):
        self.run += 1
        events = self.workdir / f"events.{self.run}.jsonl"
        self.web_port = port
        self.returncode = None
        self._rx.clear()
        self._cursor = 0
        self.log = EventLog(events)
        out = open(self.workdir / f"stdout.{self.run}", "wb")
        err = open(self.workdir / f"stderr.{self.run}", "wb")
        try:
            self.proc = subprocess.Popen(
                self.argv(port, events), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=self.env,
                preexec_fn=_bind_to_parent(os.getpid()) if self.die_with_parent else None)
        finally:
            out.close()
            err.close()
        try:
            i = self.log.wait("ready", {}, 0, self.startup_timeout, self._alive,
                              "starting m0emu")
        except (TimeoutError, M0EmuError):
            self.stop()  # the error says how it ended: close() need not say it again
            raise
        self._watch_events()
        return self.log.events[i]

    def _watch_events(self):
        """Subscribe a connection to the events so that waits wake when one comes
        (events.py); without it they poll the file every 20 ms, as they always could."""
        if self.control_path is None:
            return
        try:
            c = Control(self.control_path)
            c.call("subscribe")
        except (M0EmuError, OSError, TimeoutError):
            return
        self._subs.append(c)
        self.log.wake = c.sock

    def _port_was_taken(self, port):
        text = self.stderr()
        return str(port) in text and re.search(r"in use|EADDRINUSE", text) is not None

    def _alive(self, what):
        if self.proc is None:
            raise M0EmuError(f"m0emu is not running (waiting for {what()})")
        rc = self.proc.poll()
        if rc is not None:
            self.returncode = rc
            self._remove_link()
            raise M0EmuError(
                f"m0emu exited with status {rc} while waiting for {what()}\n"
                f"stderr:\n{self.stderr()[-3000:]}\nlast events:\n{self.log.tail()}")

    def stderr(self):
        """What the current (or last) run wrote on standard error."""
        try:
            return (self.workdir / f"stderr.{self.run}").read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    def stdout(self):
        try:
            return (self.workdir / f"stdout.{self.run}").read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    def restart(self, timeout=10.0, via="sighup"):
        """Restart the device like AT+Z and return the new `ready` event: by SIGHUP
        (`via="sighup"`, cause `sighup`), or by the control channel's `restart`
        (`via="control"`, cause `control`; refused with ControlError `state` while the
        power is off).

        wait_event() then looks at the events of the new boot, from its `restart` on."""
        if via not in ("sighup", "control"):
            raise ValueError(f"via must be 'sighup' or 'control', not {via!r}")
        if not self.running:
            raise M0EmuError("restart(): not running")
        self.log.poll()
        mark = len(self.log.events)
        if via == "control":
            self.control("restart")
        else:
            self.proc.send_signal(signal.SIGHUP)
        what = "after SIGHUP" if via == "sighup" else "after the channel's restart"
        r = self.log.wait("restart", {"cause": via}, mark, timeout, self._alive, what)
        i = self.log.wait("ready", {}, r + 1, timeout, self._alive, what)
        self._cursor = r
        return self.log.events[i]

    def stop(self, timeout=None):
        """SIGTERM, then SIGKILL after the grace; return the exit status (0 is clean).

        The files stay (state, events, logs) until close(); start() runs it again on
        the same state. The caller now owns the status: close() no longer reports it."""
        rc, _ = self._stop(timeout)
        return rc

    def _stop(self, timeout=None):
        """(exit status, whether the process had died before we signalled it)."""
        died = False
        try:
            self.close_serial(settle=False)
        except OSError:
            pass
        self._close_channels()
        if self.proc is None:
            return self.returncode, False
        if self.proc.poll() is not None:
            died = True
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self.proc = None
        if self.log is not None:
            self.log.poll()
        self._remove_link()
        return self.returncode, died

    def _remove_link(self):
        if os.path.lexists(self.tty):
            os.unlink(self.tty)  # only after a SIGKILL or a crash: a clean exit removes it

    def close(self, check=True):
        """Stop the process and remove the private folder. With check, raise if the
        process ended badly and nobody called stop() to see it: an exit status other
        than 0 after close()'s own SIGTERM (e.g. a sanitizer report), or a process that
        died on its own during the run."""
        was_running = self.running
        try:
            rc, died = self._stop()
        finally:
            text = self.stderr()[-3000:]
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = None
            _live.discard(self)
        if check and rc not in (0, None) and (was_running or died):
            how = "after SIGTERM" if was_running else "on its own during the run"
            raise M0EmuError(f"m0emu ended with status {rc} {how}; stderr:\n{text}")
        return rc

    # ---- events ----

    @property
    def events(self):
        """Every event of this run so far (dicts, as in docs/events.md)."""
        if self.log is None:
            return []
        self.log.poll()
        return self.log.events

    @property
    def mode(self):
        """booting, transparent, command or restarting: from the event stream."""
        return mode_of(self.events)

    def mark(self):
        """A position in the stream, for wait_event(since=...)."""
        return len(self.events)

    def wait_event(self, name, timeout=5.0, since=None, since_ms=None, **fields):
        """The next event `name` whose fields equal `fields` (a value may also be a
        predicate, e.g. port=lambda p: p > 1024); return it as a dict.

        Looks at events after the last one wait_event returned, since the last start or
        restart() or AT+Z/AT+RELD sent with at() (or from `since`, a mark()). With
        `since_ms` (e.g. a control result's .t_ms) it looks at every event of the run
        (or from `since`) whose t_ms is at or after it, as the channel's `subscribe`
        does with since_ms. Raises TimeoutError listing the last events seen, or
        M0EmuError if the process exits."""
        if self.log is None:
            raise M0EmuError("wait_event(): never started")
        if since_ms is not None:
            start = 0 if since is None else since
            want = fields.get("t_ms")
            fields = dict(fields, t_ms=lambda t, want=want: (
                isinstance(t, (int, float)) and t >= since_ms and
                (want is None or (want(t) if callable(want) else t == want))))
        else:
            start = self._cursor if since is None else since
        if self.running:
            i = self.log.wait(name, fields, start, timeout, self._alive)
        else:
            self.log.poll()
            i = self.log.find(name, fields, start)
            if i is None:
                raise TimeoutError(self.log.timeout_message(name, fields, 0, start,
                                                            "m0emu is not running"))
        self._cursor = i + 1
        return self.log.events[i]

    # ---- the control channel (docs/control.md, docs/faults.md) ----

    @property
    def channel(self):
        """The helper's own connection to the control channel (an m0emu.Control),
        opened on first use, closed when the process stops."""
        if self.control_path is None:
            raise M0EmuError("this emulator was started without a control channel "
                             "(control=False)")
        if not self.running:
            raise M0EmuError("the control channel exists only while m0emu runs")
        if self._ctl is None or self._ctl.closed:
            self._ctl = Control(self.control_path)
        return self._ctl

    def _close_channels(self):
        for c in [self._ctl] + self._subs:
            if c is not None:
                c.close()
        self._ctl = None
        self._subs = []

    def control(self, cmd, timeout=None, **args):
        """Send one control command (its wire name and parameters, as in
        docs/control.md) and return its result: a dict, with `.t_ms` the time the
        emulator took the request and `.mark` the stream's position before it (for
        wait_event(since=...): the events it caused come after). A refusal raises m0emu.ControlError with the
        channel's error name (`.code`) and message. A parameter given as None is left
        out."""
        args = {k: v for k, v in args.items() if v is not None}
        channel = self.channel
        mark = self.mark()
        try:
            r = channel.call(cmd, timeout=timeout, **args)
            r.mark = mark
            return r
        except M0EmuError as e:
            if isinstance(e, ControlError):
                raise
            self._alive(lambda: f"the answer to {cmd}")
            raise

    def subscribe(self, replay=None, since_ms=None):
        """A new connection subscribed to the events (the channel's `subscribe`): an
        m0emu.Control whose wait_event(name, timeout, **fields) and next_stream() read
        them as they come. With since_ms and replay (up to 512), events already past
        are replayed first. Closed when the process stops (or by its close())."""
        if self.control_path is None:
            raise M0EmuError("subscribe(): this emulator has no control channel "
                             "(control=False)")
        if not self.running:
            raise M0EmuError("subscribe(): m0emu is not running")
        c = Control(self.control_path)
        self._subs = [s for s in self._subs if not s.closed] + [c]
        args = {k: v for k, v in (("replay", replay), ("since_ms", since_ms))
                if v is not None}
        c.call("subscribe", **args)
        return c

    def uart(self, hold=True):
        """The device's UART over the channel, as a host without the tty: an
        m0emu.ChannelUart (read/write/in_waiting like a pyserial port). With hold (the
        default) the device waits for this reader as for a host that reads slowly,
        instead of losing bytes. Closed when the process stops (or by its close())."""
        if self.control_path is None:
            raise M0EmuError("uart(): this emulator has no control channel (control=False)")
        if not self.running:
            raise M0EmuError("uart(): m0emu is not running")
        u = ChannelUart(self.control_path, hold=hold)
        self._subs = [c for c in self._subs if not c.closed] + [u]
        return u

    def status(self):
        """The device's state (the channel's `status`): mode, links, counters, faults."""
        return self.control("status")

    def power_off(self, for_s=None):
        """Cut the power (`power` state=off), for for_s seconds or until power_on()."""
        return self.control("power", state="off", for_s=for_s)

    def power_on(self, timeout=10.0):
        """Power on (`power` state=on) and return the boot's `ready` event; wait_event()
        then looks at the events from that power on."""
        mark = self.mark()
        self.control("power", state="on")
        p = self.log.wait("power", {"state": "on"}, mark, timeout, self._alive,
                          "after power on")
        i = self.log.wait("ready", {}, p + 1, timeout, self._alive, "after power on")
        self._cursor = p
        return self.log.events[i]

    def unplug(self, for_s=None, reset_after_s=None):
        """Pull the Ethernet cable (`cable` state=unplugged): links paused, not closed."""
        return self.control("cable", state="unplugged", for_s=for_s,
                            reset_after_s=reset_after_s)

    def plug(self):
        """Plug the cable back (`cable` state=plugged)."""
        return self.control("cable", state="plugged")

    def hang(self, for_s):
        """Freeze the firmware for for_s seconds, then the watchdog restarts it
        (`hang`)."""
        return self.control("hang", for_s=for_s)

    def uart_noise(self, dir="both", bit_error=None, loss=None, for_s=None, seed=None):
        """Noise on the serial line (`uart.fault`): dir `to_host`, `from_host` or
        `both`; bit_error and loss are probabilities; neither (or both 0) clears."""
        if bit_error is None and loss is None:
            bit_error = loss = 0
        return self.control("uart.fault", dir=dir, bit_error=bit_error, loss=loss,
                            for_s=for_s, seed=seed)

    def net_impair(self, dir="both", delay_s=None, jitter_s=None, loss=None, rate=None,
                   for_s=None, seed=None):
        """An impaired network (`net.fault`): dir `to_net`, `from_net` or `both`; a
        delay and jitter (seconds), a datagram loss probability, a rate (bytes per
        second). None of them clears."""
        if all(v is None for v in (delay_s, jitter_s, loss, rate)):
            delay_s = jitter_s = loss = rate = 0
        return self.control("net.fault", dir=dir, delay_s=delay_s, jitter_s=jitter_s,
                            loss=loss, rate=rate, for_s=for_s, seed=seed)

    def net_reset(self):
        """Reset every TCP connection now (`net.reset`); the result's `reset` counts
        them."""
        return self.control("net.reset")

    def flash_fail(self, n, for_s=None):
        """The next n saves fail (`flash.fault` fail_next=n): +ERR=-5 and nothing
        changes."""
        return self.control("flash.fault", fail_next=n, for_s=for_s)

    def flash_full(self, for_s=None):
        """Every save fails (`flash.fault` full=true) until cleared or for for_s."""
        return self.control("flash.fault", full=True, for_s=for_s)

    def clear(self, fault="all"):
        """End faults (`clear`): `all`, `uart`, `net`, `flash` or `cable`."""
        return self.control("clear", fault=fault)

    # ---- the tty ----

    @property
    def serial(self):
        """A pyserial port on the tty, opened on first use and kept open until
        close_serial(). Two readers of one pty share its bytes: close it before another
        program reads the tty."""
        if self._serial is None:
            self._serial = self._open_serial()
        return self._serial

    def _open_serial(self):
        try:
            import serial
        except ImportError as e:
            raise M0EmuError("the m0emu package needs pyserial (Debian: python3-serial, "
                             "pip: pyserial)") from e
        if not self.running:
            raise M0EmuError("the tty exists only while m0emu runs")
        self._settle_tty()
        port = serial.Serial(self.tty, baudrate=self.baudrate, timeout=0)
        try:
            self._settle_tty()
        except BaseException:
            port.close()
            raise
        return port

    def close_serial(self, settle=True):
        """Close the helper's port (the device then drops bytes for the host, as a UART
        with nobody listening does, unless another program has the tty open), and wait
        until the emulator has seen it close."""
        if self._serial is None:
            return
        try:
            self._serial.close()
        finally:
            self._serial = None
        if settle and self.running:
            self._settle_tty()

    def _settle_tty(self, timeout=10.0):
        """Wait until the emulator has seen the opens and closes made so far.

        It learns of them asynchronously (inotify), and when the last host closes it
        flushes the pty's input: bytes written by a host that opened the port just after
        a close, before the emulator saw that close, are lost. So before and after
        opening, and after closing, we compare who holds the pts now (/proc) with the
        emulator's account (tty.attach / tty.detach) and wait for the event that is due."""
        pts = os.path.realpath(self.tty)
        held = self._pts_held(pts)
        if held is None:
            return  # /proc unreadable: nothing to compare with
        self.log.poll()
        last, attached = -1, False
        for i, ev in enumerate(self.log.events):
            if ev.get("ev") in ("tty.attach", "tty.detach"):
                last, attached = i, ev["ev"] == "tty.attach"
        if held and not attached:
            self.log.wait("tty.attach", {}, last + 1, timeout, self._alive, "the tty's open")
        elif attached and not held:
            self.log.wait("tty.detach", {}, last + 1, timeout, self._alive,
                          "the tty's last close")

    def _pts_held(self, pts):
        """Whether a process other than the emulator has `pts` open (None: cannot tell)."""
        try:
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
        except OSError:
            return None
        me = str(self.pid)
        for pid in pids:
            if pid == me:
                continue
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue  # gone, or not ours to read (then it cannot hold our pty)
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == pts:
                        return True
                except OSError:
                    continue
        return False

    def _on_data(self, data):
        self._rx += data

    def write(self, data):
        """Bytes (or a str, UTF-8) to the module's UART, as the host."""
        if isinstance(data, str):
            data = data.encode()
        self.serial.write(data)
        self.serial.flush()

    def _pull(self, deadline):
        port = self.serial
        left = max(0.0, deadline - time.monotonic())
        port.timeout = min(left, 0.05)
        data = port.read(max(1, port.in_waiting))
        self._rx += data
        return data

    def read(self, timeout=0.0):
        """Every byte from the module not consumed yet, waiting up to `timeout` for the
        first one."""
        deadline = time.monotonic() + timeout
        while True:
            self._pull(deadline)
            if self._rx or time.monotonic() >= deadline:
                break
        while self._pull(time.monotonic()):
            pass
        data = bytes(self._rx)
        self._rx.clear()
        return data

    def expect(self, pattern, timeout=5.0):
        """Wait for bytes from the module (transparent mode) and consume them up to the
        match. `pattern`: bytes or str (literal), or a compiled bytes regex. Returns the
        matched bytes, or the re.Match for a regex."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        deadline = time.monotonic() + timeout
        while True:
            if isinstance(pattern, re.Pattern):
                m = pattern.search(self._rx)
                if m is not None:
                    del self._rx[:m.end()]
                    return m
            else:
                i = self._rx.find(pattern)
                if i >= 0:
                    del self._rx[:i + len(pattern)]
                    return pattern
            self._alive(lambda: f"{pattern!r} on the tty")
            if time.monotonic() >= deadline:
                shown = bytes(self._rx[-400:])
                raise TimeoutError(
                    f"no {pattern!r} from the tty within {timeout:g} s; unconsumed "
                    f"({len(self._rx)} bytes{', the last 400' if len(self._rx) > 400 else ''})"
                    f": {shown!r}")
            self._pull(deadline)

    # ---- command mode ----

    def at(self, cmd, timeout=5.0, check=True, via="tty"):
        """Send one AT command, entering command mode first if needed; return the reply
        text without CR/LF and echo ("+ok=V4017"; "+OK=..." in the field dialect).

        +ERR=N raises ATError (.code == N) unless check=False. AT+Z and AT+RELD return
        after the new `ready`. Opens the tty for the command (and closes it after) unless
        the helper's port is already open. With via="control" the command goes over the
        control channel's UART instead (uart(): the tty is not opened)."""
        if via not in ("tty", "control"):
            raise ValueError(f"via must be 'tty' or 'control', not {via!r}")
        if not self.running:
            raise M0EmuError("at(): m0emu is not running")
        if via == "control":
            with self.uart() as port:
                link = ATLink(port, self.log, self._alive, self._on_data, self.baudrate)
                return self._at_on(link, cmd, timeout, check)
        opened_here = self._serial is None
        link = ATLink(self.serial, self.log, self._alive, self._on_data, self.baudrate)
        try:
            return self._at_on(link, cmd, timeout, check)
        finally:
            if opened_here:
                self.close_serial()

    def _at_on(self, link, cmd, timeout, check):
        mark = len(self.log.events)
        reply = link.command(cmd, timeout, check)
        if cmd.strip().upper() in ("AT+Z", "AT+RELD") and not reply.startswith("+ERR"):
            self._cursor = self.log.find("restart", {}, mark)
        return reply

    def command_mode(self, timeout=5.0):
        """Enter command mode (the +++ / a handshake) unless the device is in it."""
        opened_here = self._serial is None
        link = ATLink(self.serial, self.log, self._alive, self._on_data, self.baudrate)
        try:
            link.wait_booted(timeout)
            if link.mode() != "command":
                link.enter(timeout)
        finally:
            if opened_here:
                self.close_serial()

    def entm(self, timeout=5.0):
        """Leave command mode (AT+ENTM) if the device is in it."""
        if self.mode == "command":
            return self.at("AT+ENTM", timeout)
        return None

    def report(self):
        """A few lines for a failed test's report: where the files are, the stream's
        end and stderr's."""
        lines = [repr(self)]
        if self.log is not None:
            lines.append("last events:")
            lines += ["  " + format_event(ev) for ev in self.events[-15:]]
        err = self.stderr().strip()
        if err:
            lines.append("stderr (end):")
            lines += ["  " + ln for ln in err.splitlines()[-15:]]
        return "\n".join(lines)
