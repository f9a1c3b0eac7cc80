"""emulator.py: one m0emu process on a private folder, driven from Python.

Each Emulator owns a fresh temporary directory (state dir, tty symlink, events file and
the process's stdout/stderr, one set per run) and a web port that was free a moment ago,
so any number run side by side. The process is bound to us three ways, because a test
that fails must not leave it behind: close() (the pytest fixture's finalizer), an atexit
hook for every emulator still open, and PR_SET_PDEATHSIG, which sends the process SIGTERM
if the Python process dies without running either (SIGKILL, a crash). On SIGTERM the
emulator removes its own tty symlink; stop() checks that it did, and removes a symlink
that a SIGKILL (after a 10 s grace) left.

Process holds all of that and the control channel's connections; Emulator is a Process
that is its own device (device.py gives the device's methods), and a Fleet (fleet.py) is
a Process with many.
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
from pathlib import Path

from .control import Control, ControlError
from .device import Device
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


class Process:
    """What an emulator process and a fleet process share: a private folder, the
    process and its clean-up, the event log, the control channel's connections.

    A subclass gives argv(web_port, events_path), _await_ready() (called once the
    process runs; returns what start() returns), _tty_links() (the links a SIGKILL may
    leave) and _close_hosts() (the helper's own ports, closed before the process
    stops)."""

    _kind = "emulator"

    def __init__(self, binary=None, *, timing="fast", verbose=False, args=(),
                 startup_timeout=30.0, stop_timeout=10.0, die_with_parent=True, env=None,
                 control=True):
        self.binary = find_binary(binary)
        self.timing = timing
        self.verbose = verbose
        self.extra_args = list(args)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.die_with_parent = die_with_parent
        self.env = env
        self.workdir = Path(tempfile.mkdtemp(prefix="m0emu-py."))
        _live.add(self)
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

    def _common_argv(self, web_port, events):
        a = [self.binary, "--events", str(events), "--web-port", str(web_port)]
        if self.timing:
            a += ["--timing", self.timing]
        if self.verbose:
            a.append("-v")
        if self.control_path:
            a += ["--control", self.control_path]
        return a

    def start(self):
        """Start the process and wait until it is ready; return what _await_ready()
        says (the `ready` event of a single emulator)."""
        if self.running:
            raise M0EmuError("start(): already running")
        if self.workdir is None:
            raise M0EmuError(f"start(): this {self._kind} was closed")
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = free_port()
            try:
                ready = self._start_once(port)
            except M0EmuError as e:
                if attempt < _START_ATTEMPTS and self._port_was_taken(port):
                    continue
                raise e
            if self._bind_failed() and attempt < _START_ATTEMPTS:
                self.stop()  # an address was taken between our choice and the bind
                continue
            return ready
        raise M0EmuError("unreachable")  # pragma: no cover

    def _bind_failed(self):
        return self.log.find("web.error", {}, 0) is not None

    def _start_once(self, port):
        self.run += 1
        events = self.workdir / f"events.{self.run}.jsonl"
        self.web_port = port
        self.returncode = None
        self._cursor = 0
        self.log = EventLog(events)
        self._new_run()
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
            ready = self._await_ready()
        except (TimeoutError, M0EmuError):
            self.stop()  # the error says how it ended: close() need not say it again
            raise
        self._watch_events()
        return ready

    def _new_run(self):
        """Forget what belonged to the last run (a subclass's buffers)."""

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
            self._remove_links()
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

    def stop(self, timeout=None):
        """SIGTERM, then SIGKILL after the grace; return the exit status (0 is clean).

        The files stay (state, events, logs) until close(); start() runs it again on
        the same state. The caller now owns the status: close() no longer reports it."""
        rc, _ = self._stop(timeout)
        return rc

    def _stop(self, timeout=None):
        """(exit status, whether the process had died before we signalled it)."""
        died = False
        self._close_hosts()
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
        self._remove_links()
        return self.returncode, died

    def _remove_links(self):
        for link in self._tty_links():
            if os.path.lexists(link):
                os.unlink(link)  # only after a SIGKILL or a crash: a clean exit removes it

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

    # ---- the control channel (docs/control.md, docs/faults.md) ----

    @property
    def channel(self):
        """The helper's own connection to the control channel (an m0emu.Control),
        opened on first use, closed when the process stops."""
        if self.control_path is None:
            raise M0EmuError(f"this {self._kind} was started without a control channel "
                             "(control=False)")
        if not self.running:
            raise M0EmuError("the control channel exists only while m0emu runs")
        if self._ctl is None or self._ctl.closed:
            self._ctl = Control(self.control_path)
        return self._ctl

    def _call(self, cmd, timeout, args):
        """One request on the helper's connection; if it failed because the process
        died, say so."""
        channel = self.channel
        try:
            return channel.call(cmd, timeout=timeout, **args)
        except M0EmuError as e:
            if isinstance(e, ControlError):
                raise
            self._alive(lambda: f"the answer to {cmd}")
            raise

    def _keep(self, conn):
        """A connection handed to the caller, closed when the process stops."""
        self._subs = [s for s in self._subs if not s.closed] + [conn]
        return conn

    def _close_channels(self):
        for c in [self._ctl] + self._subs:
            if c is not None:
                c.close()
        self._ctl = None
        self._subs = []

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


class Emulator(Process, Device):
    """An m0emu process. Start it with start() (or `with Emulator() as emu:`).

    Attributes once started: `tty` (the path to open), `web_port`, `state_dir`,
    `workdir`, `pid`, `events` (every event of this run, as dicts). The device's
    methods (at, wait_event, the control helpers, ...) are Device's."""

    dev = None  # the process's one device: requests need not name it

    def __init__(self, binary=None, *, timing="fast", dialect=None, mac=None,
                 boot_ms=None, net=None, line_faults=False, verbose=False, args=(),
                 flash=None, baudrate=115200, startup_timeout=30.0, stop_timeout=10.0,
                 die_with_parent=True, env=None, control=True):
        Process.__init__(self, binary, timing=timing, verbose=verbose, args=args,
                         startup_timeout=startup_timeout, stop_timeout=stop_timeout,
                         die_with_parent=die_with_parent, env=env, control=control)
        self.dialect = dialect
        self.mac = mac
        self.boot_ms = boot_ms
        self.net = net
        self.line_faults = line_faults
        self.baudrate = baudrate
        self.state_dir = self.workdir / "state"
        self.tty = str(self.workdir / "tty")
        self._serial = None
        self._rx = bytearray()
        if flash is not None:
            self.write_flash(flash)

    def __repr__(self):
        state = "running" if self.running else f"stopped ({self.returncode})"
        return f"<m0emu.Emulator {state} tty={self.tty} web_port={self.web_port}>"

    @property
    def process(self):
        return self

    def argv(self, web_port, events):
        a = self._common_argv(web_port, events)
        a[1:1] = ["--tty", self.tty, "--state", str(self.state_dir)]
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
        return a + self.extra_args

    def write_flash(self, lines):
        """Write the flash file (AT set lines, e.g. "AT+E=off") for the next start."""
        write_flash(self.state_dir, lines)

    def _new_run(self):
        self._rx.clear()

    def _await_ready(self):
        i = self.log.wait("ready", {}, 0, self.startup_timeout, self._alive,
                          "starting m0emu")
        return self.log.events[i]

    def _tty_links(self):
        return [self.tty]

    def _close_hosts(self):
        try:
            self.close_serial(settle=False)
        except OSError:
            pass


def write_flash(folder, lines):
    """A flash file (AT set lines, e.g. "AT+E=off") in folder, for the next start."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = "# m0emu flash v1\n" + "".join(f"{ln}\n" for ln in lines)
    (folder / "flash.conf").write_text(text)
