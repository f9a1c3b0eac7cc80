"""fleet.py: `m0emu --fleet` from Python, N modules in one process (docs/fleet.md).

A Fleet is a Process (emulator.py: private folder, clean-up by close(), atexit and
PR_SET_PDEATHSIG, one control channel) that starts `--fleet DIR --count N` and waits
until every module's `ready`. Each module is a FleetModule: a Device (device.py) whose
requests carry `"dev"` and whose events are the fleet's filtered to its name, so every
method of the single-module API works on it unchanged.

Addresses: unless `bind` is given, the first start picks a random base 127.B.C.1 with
B in 16-250 (never 127.0.x.x, where single emulators and the default fleet live), so
fleets of tests running side by side do not meet, and later starts keep it (a module
keeps its address as it keeps its flash); a base whose ports turn out taken
(`web.error`, `udp1500.error`) is replaced by another, up to 3 tries. The web port is
a free port of 127.0.0.1, the same on every module's address (as --web-port does).
"""

import random
import time

from .device import Device, Events
from .emulator import Process, write_flash
from .errors import M0EmuError
from .events import POLL_S, DevLog

# Module names: the prefix and k with at least 4 digits (docs/fleet.md, "Who is who").
_NAME_DIGITS = 4
# Usable hosts in a /24 (last octets 0 and 255 skipped).
_PER_NET = 254


def module_name(prefix, k):
    return f"{prefix}{k:0{_NAME_DIGITS}d}"


def _pairs(value, what):
    """A dict {a: b} or a list of "a=b" strings, as a list of "a=b"."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [f"{k}={v}" for k, v in value.items()]
    if isinstance(value, str):
        raise TypeError(f"{what}: a dict or a list of 'A=B' strings, not a str")
    out = []
    for item in value:
        if not isinstance(item, str) or "=" not in item:
            raise ValueError(f"{what}: each entry is 'A=B', not {item!r}")
        out.append(item)
    return out


class FleetModule(Device):
    """One module of a Fleet: `name` (also `dev`), `addr`, `mac`, `tty` (None without a
    pty), `folder`, and every method of the single-module API (at, wait_event, write,
    expect, control, status, power_off, unplug, ... subscribe, uart), about this module
    only."""

    def __init__(self, fleet, name):
        self.process = fleet
        self.name = self.dev = name
        self.addr = None
        self.mac = None
        self.tty = None
        self.ready = None  # the `ready` event of the start that last waited for it
        self.baudrate = fleet.baudrate
        self._serial = None
        self._rx = bytearray()
        self._log = None
        self._cursor = 0

    def __repr__(self):
        return (f"<m0emu.FleetModule {self.name} addr={self.addr} mac={self.mac} "
                f"tty={self.tty}>")

    @property
    def folder(self):
        """DIR/<name>/: its flash.conf, its tty link, its status.json."""
        return self.process.dir / self.name

    @property
    def log(self):
        """The fleet's event log seen through this module's `dev` (a new one each run)."""
        parent = self.process.log
        if parent is None:
            return None
        if self._log is None or self._log.parent is not parent:
            self._log = DevLog(parent, self.name)
            self._cursor = 0
            self._rx.clear()
        return self._log

    @property
    def running(self):
        return self.process.running

    @property
    def pid(self):
        return self.process.pid

    @property
    def control_path(self):
        return self.process.control_path

    def _alive(self, what):
        self.process._alive(what)

    def _call(self, cmd, timeout, args):
        return self.process._call(cmd, timeout, args)

    def _keep(self, conn):
        return self.process._keep(conn)

    def write_flash(self, lines):
        """This module's flash file (AT set lines) for the fleet's next start."""
        write_flash(self.folder, lines)


class Fleet(Process, Events):
    """`m0emu --fleet` with `count` modules. Start it with start() (or `with`).

    `modules` lists them in order; `fleet["m0007"]` or `fleet[6]` finds one;
    `wait_event()` waits on every module's events (each carries `dev`), a module's
    own wait_event() on its own. `control(cmd, **params)` sends a request for the
    process (`list`, `clients`); a module's helpers name the module."""

    _kind = "fleet"
    dev = None

    def __init__(self, count, binary=None, *, no_tty=False, bind=None, mac=None,
                 prefix=None, timing="fast", dialect=None, boot_ms=None, net=None,
                 peers=None, profile=None, settings=None, flash=None, line_faults=False,
                 verbose=False, args=(), baudrate=115200, startup_timeout=60.0,
                 stop_timeout=10.0, die_with_parent=True, env=None, control=True):
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"count: a number of modules, at least 1, not {count!r}")
        peer_args = _pairs(peers, "peers")
        set_args = _pairs(settings, "settings")
        prefix = prefix or "m"
        names = [module_name(prefix, k) for k in range(1, count + 1)]
        flash = dict(flash or {})
        unknown = [n for n in flash if n not in names]
        if unknown:
            raise KeyError(f"flash: no module {unknown[0]!r} in a fleet of {names[0]} to "
                           f"{names[-1]}")
        Process.__init__(self, binary, timing=timing, verbose=verbose, args=args,
                         startup_timeout=startup_timeout, stop_timeout=stop_timeout,
                         die_with_parent=die_with_parent, env=env, control=control)
        self.count = count
        self.no_tty = no_tty
        self.bind = bind
        self._auto_bind = bind is None
        self._rebind = False
        self.mac = mac
        self.prefix = prefix
        self.dialect = dialect
        self.boot_ms = boot_ms
        self.net = net
        self.peers = peer_args
        self.profile = profile
        self.settings = set_args
        self.line_faults = line_faults
        self.baudrate = baudrate
        self.dir = self.workdir / "fleet"
        self.modules = [FleetModule(self, n) for n in names]
        self._by_name = {m.name: m for m in self.modules}
        for name, lines in flash.items():
            self[name].write_flash(lines)

    def __repr__(self):
        state = "running" if self.running else f"stopped ({self.returncode})"
        return (f"<m0emu.Fleet {self.count} modules {state} dir={self.dir} "
                f"bind={self.bind}>")

    def __len__(self):
        return len(self.modules)

    def __iter__(self):
        return iter(self.modules)

    def __getitem__(self, key):
        """A module by name ("m0007") or by position (6 is the seventh)."""
        if isinstance(key, str):
            try:
                return self._by_name[key]
            except KeyError:
                raise KeyError(f"no module {key!r} in this fleet (it has "
                               f"{self.modules[0].name} to {self.modules[-1].name})") from None
        return self.modules[key]

    @property
    def process(self):
        return self

    # ---- the process ----

    def _pick_bind(self):
        nets = (self.count + _PER_NET - 1) // _PER_NET
        return f"127.{random.randint(16, 250)}.{random.randint(0, 255 - nets)}.1"

    def argv(self, web_port, events):
        if self._auto_bind and (self.bind is None or self._rebind):
            self.bind = self._pick_bind()
            self._rebind = False
        a = self._common_argv(web_port, events)
        a[1:1] = ["--fleet", str(self.dir), "--count", str(self.count),
                  "--bind", self.bind]
        if self.no_tty:
            a.append("--no-tty")
        if self.mac:
            a += ["--mac", self.mac]
        if self.prefix != "m":
            a += ["--name", self.prefix]
        if self.dialect:
            a += ["--dialect", self.dialect]
        if self.boot_ms is not None:
            a += ["--boot-ms", str(self.boot_ms)]
        if self.net:
            a += ["--net", self.net]
        for p in self.peers:
            a += ["--peer", p]
        if self.profile is not None:
            a += ["--profile", str(self.profile)]
        for s in self.settings:
            a += ["--set", s]
        if self.line_faults:
            a.append("--line-faults")
        return a + self.extra_args

    def _bind_failed(self):
        if not self._auto_bind:
            return False  # the caller's addresses: another try would meet the same
        self._rebind = any(ev.get("ev") in ("web.error", "udp1500.error")
                           for ev in self.events)
        return self._rebind

    def _await_ready(self):
        """Wait for every module's `ready`, then learn who is who from DIR/fleet.tsv."""
        want = set(self._by_name)
        ready = {}
        seen = 0
        deadline = time.monotonic() + self.startup_timeout
        while True:
            self.log.poll()
            for ev in self.log.events[seen:]:
                if ev.get("ev") == "ready" and ev.get("dev") in want:
                    ready.setdefault(ev["dev"], ev)
            seen = len(self.log.events)
            if len(ready) == len(want):
                break
            missing = sorted(want - set(ready))
            what = (f"every module's ready ({len(ready)} of {len(want)}; missing "
                    f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''})")
            self._alive(lambda: what)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no {what} within {self.startup_timeout:g} s; the last "
                                   f"events:\n{self.log.tail()}")
            self.log.pause(POLL_S)
        table = self._read_map()
        for m in self.modules:
            row = table.get(m.name)
            if row is None:
                raise M0EmuError(f"{self.dir}/fleet.tsv does not list module {m.name}")
            m.ready = ready[m.name]
            m.addr = ready[m.name].get("addr", row["addr"])
            m.mac = row["mac"]
            m.tty = None if row["tty"] == "-" else row["tty"]
        return ready

    def _read_map(self):
        path = self.dir / "fleet.tsv"
        try:
            lines = path.read_text().splitlines()
        except OSError as e:
            raise M0EmuError(f"cannot read the fleet's map {path}: {e}") from e
        head = lines[0].split("\t") if lines else []
        return {row[0]: dict(zip(head, row)) for row in
                (ln.split("\t") for ln in lines[1:]) if len(row) == len(head)}

    def _new_run(self):
        pass  # each module's view of the log renews itself (FleetModule.log)

    def _tty_links(self):
        return [str(m.folder / "tty") for m in self.modules]

    def _close_hosts(self):
        for m in self.modules:
            try:
                m.close_serial(settle=False)
            except OSError:
                pass

    # ---- the control channel ----

    def control(self, cmd, timeout=None, **args):
        """A request (its wire name and parameters, docs/control.md): for the process
        (`list`, `clients`), or for one module with dev="m0007" (its helpers do that
        for you). Returns the result (a dict with `.t_ms`); a refusal raises
        ControlError."""
        args = {k: v for k, v in args.items() if v is not None}
        return self._call(cmd, timeout, args)

    def list(self):
        """The channel's `list`: every module with its address, mode and tty."""
        return self.control("list")["devices"]
