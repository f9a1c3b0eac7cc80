"""device.py: what a test does to one device, whichever process runs it.

Device is the API of one module: AT commands (on its tty, or over the control channel's
UART), its events, its bytes, and the control channel's helpers (power, cable, hang,
noise, network and flash faults). An Emulator is a process that is its own device; a
fleet's module (fleet.py) is a Device of a process that runs many, and differs only in
three things, all kept here: its requests carry its name as `"dev"`, its event log is
the process's filtered to lines with that `dev` (events.DevLog, so indices, marks and
waits are the module's own), and SIGHUP is not its own (it restarts every module).

A Device's host object provides: `log`, `_cursor`, `dev`, `tty` (None: no pty),
`baudrate`, `_serial`, `_rx`, and from its process `running`, `pid`, `control_path`,
`process`, `_alive(what)`, `_call(cmd, timeout, args)` and `_keep(conn)`.
"""

import os
import re
import signal
import time

from .at import ATLink, mode_of
from .control import ChannelUart, Control
from .errors import M0EmuError


class Events:
    """The event stream of a process (all its lines) or of one device (its own):
    `log`, `_cursor`, `running` and `_alive` come from the host object."""

    @property
    def events(self):
        """Every event of this run so far (dicts, as in docs/events.md)."""
        if self.log is None:
            return []
        self.log.poll()
        return self.log.events

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


class Device(Events):
    """One device: AT commands, bytes, events and the control channel's helpers."""

    @property
    def mode(self):
        """booting, transparent, command or restarting: from the event stream."""
        return mode_of(self.events)

    def _no_channel(self, what):
        if self.control_path is None:
            raise M0EmuError(f"{what}: this emulator has no control channel "
                             "(control=False)")
        if not self.running:
            raise M0EmuError(f"{what}: m0emu is not running")

    def restart(self, timeout=10.0, via=None):
        """Restart the device like AT+Z and return the new `ready` event: by SIGHUP
        (`via="sighup"`, cause `sighup`), or by the control channel's `restart`
        (`via="control"`, cause `control`; refused with ControlError `state` while the
        power is off).

        wait_event() then looks at the events of the new boot, from its `restart` on.
        A fleet's module restarts by the channel (the default there): SIGHUP would
        restart every module."""
        if via is None:
            via = "sighup" if self.dev is None else "control"
        if via not in ("sighup", "control"):
            raise ValueError(f"via must be 'sighup' or 'control', not {via!r}")
        if not self.running:
            raise M0EmuError("restart(): not running")
        if via == "sighup" and self.dev is not None:
            raise M0EmuError(f"restart(via='sighup') on module {self.dev}: SIGHUP "
                             "restarts every module of the fleet; use via='control'")
        self.log.poll()
        mark = len(self.log.events)
        if via == "control":
            self.control("restart")
        else:
            self.process.proc.send_signal(signal.SIGHUP)
        what = "after SIGHUP" if via == "sighup" else "after the channel's restart"
        r = self.log.wait("restart", {"cause": via}, mark, timeout, self._alive, what)
        i = self.log.wait("ready", {}, r + 1, timeout, self._alive, what)
        self._cursor = r
        return self.log.events[i]

    # ---- the control channel (docs/control.md, docs/faults.md) ----

    def control(self, cmd, timeout=None, **args):
        """Send one control command (its wire name and parameters, as in
        docs/control.md) and return its result: a dict, with `.t_ms` the time the
        emulator took the request and `.mark` the stream's position before it (for
        wait_event(since=...): the events it caused come after). A refusal raises m0emu.ControlError with the
        channel's error name (`.code`) and message. A parameter given as None is left
        out. A fleet's module names itself (`dev`)."""
        args = {k: v for k, v in args.items() if v is not None}
        if self.dev is not None:
            args.setdefault("dev", self.dev)
        mark = self.mark()
        r = self._call(cmd, timeout, args)
        r.mark = mark
        return r

    def subscribe(self, replay=None, since_ms=None):
        """A new connection subscribed to the events (the channel's `subscribe`): an
        m0emu.Control whose wait_event(name, timeout, **fields) and next_stream() read
        them as they come. With since_ms and replay (up to 512), events already past
        are replayed first. Closed when the process stops (or by its close())."""
        self._no_channel("subscribe()")
        c = self._keep(Control(self.control_path))
        args = {k: v for k, v in (("replay", replay), ("since_ms", since_ms),
                                  ("dev", self.dev)) if v is not None}
        c.call("subscribe", **args)
        return c

    def uart(self, hold=True):
        """The device's UART over the channel, as a host without the tty: an
        m0emu.ChannelUart (read/write/in_waiting like a pyserial port). With hold (the
        default) the device waits for this reader as for a host that reads slowly,
        instead of losing bytes. Closed when the process stops (or by its close())."""
        self._no_channel("uart()")
        return self._keep(ChannelUart(self.control_path, hold=hold, dev=self.dev))

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
        if self.tty is None:
            raise M0EmuError(f"{self.dev or 'this device'} has no tty (no_tty): use "
                             "at(..., via='control') or uart()")
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

    def at(self, cmd, timeout=5.0, check=True, via=None):
        """Send one AT command, entering command mode first if needed; return the reply
        text without CR/LF and echo ("+ok=V4017"; "+OK=..." in the field dialect).

        +ERR=N raises ATError (.code == N) unless check=False. AT+Z and AT+RELD return
        after the new `ready`. Opens the tty for the command (and closes it after) unless
        the helper's port is already open. With via="control" the command goes over the
        control channel's UART instead (uart(): the tty is not opened); that is the
        default for a device without a pty (a fleet's module with no_tty)."""
        if via is None:
            via = "tty" if self.tty is not None else "control"
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

