"""wait_event: field matching, predicates, its cursor, and the timeout's message."""

import os
import signal
import time

import pytest

import m0emu as pkg


def test_wait_event_matches_fields(m0emu):
    ready = m0emu.wait_event("ready", mode="transparent", proto="TCPC")
    assert ready["ev"] == "ready" and isinstance(ready["t_ms"], int)
    cfg = m0emu.wait_event("uart.config", since=0, baud=115200, cause="restart")
    assert (cfg["data"], cfg["stop"], cfg["parity"]) == (8, 1, "NONE")
    web = m0emu.wait_event("web.listening", since=0, host_port=m0emu.web_port)
    assert web["host_port"] == m0emu.web_port
    # A predicate for a field.
    dial = m0emu.wait_event("net.connecting", since=0, dial=lambda d: d.startswith("127.0.0.1:"))
    assert dial["peer"] == "192.168.0.201:8234"


def test_wait_event_consumes_in_order(m0emu):
    m0emu.at("AT+VER")
    m0emu.entm()
    m0emu.at("AT+VER")
    first = m0emu.wait_event("mode.command")
    second = m0emu.wait_event("mode.command")
    assert first["t_ms"] <= second["t_ms"]
    assert m0emu.events.index(first) < m0emu.events.index(second)
    with pytest.raises(TimeoutError):
        m0emu.wait_event("mode.command", timeout=0.3)
    # mark() starts a wait from a point of one's choosing.
    assert m0emu.wait_event("mode.command", since=0) == first


def test_wait_event_timeout_lists_the_last_events(m0emu):
    t = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        m0emu.wait_event("net.connected", timeout=0.5, peer="127.0.0.1:1")
    assert time.monotonic() - t >= 0.5
    msg = str(e.value)
    assert msg.startswith("no event net.connected with peer='127.0.0.1:1' within 0.5 s")
    assert '"ev":"ready"' in msg
    assert "the last" in msg


def test_wait_event_sees_the_process_exit():
    emu = pkg.Emulator()
    try:
        emu.start()
        os.kill(emu.pid, signal.SIGKILL)
        with pytest.raises(pkg.M0EmuError) as e:
            emu.wait_event("net.connected", timeout=10)
        assert "exited with status -9 while waiting for net.connected" in str(e.value)
        assert not os.path.lexists(emu.tty)  # a killed emulator's link, removed for it
    finally:
        # It died on its own: closing says so (a crash must not pass unnoticed).
        with pytest.raises(pkg.M0EmuError, match="status -9 on its own"):
            emu.close()
    assert emu.workdir is None
