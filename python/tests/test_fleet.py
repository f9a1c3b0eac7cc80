"""Fleets (`m0emu --fleet`) from Python: who is who, registrations from distinct
addresses, per-module faults, at() over the channel without a pty, per-module events,
and the clean-up of the whole process."""

import json
import os
import random
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

import m0emu as pkg
from helpers import child_env, process_alive, run_pytest

FACTORY_PEER = "192.168.0.201:8234"  # every module's factory TCPC peer (docs/fleet.md)


def accept_all(server, n, timeout=20.0):
    """n connections on server, each with its first 6 bytes: {source address: (conn,
    the 6 bytes)}. Fails on a second connection from one address (a reconnect would
    hide a module that never came)."""
    server.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ)
    got, partial = {}, {}
    deadline = time.monotonic() + timeout
    while len(got) < n:
        left = deadline - time.monotonic()
        assert left > 0, f"{len(got)} of {n} modules registered within {timeout:g} s"
        for key, _ in sel.select(left):
            if key.fileobj is server:
                conn, (addr, _) = server.accept()
                assert addr not in got and addr not in [a for a, _ in partial.values()], \
                    f"a second connection from {addr}"
                partial[conn] = (addr, b"")
                sel.register(conn, selectors.EVENT_READ)
                continue
            conn = key.fileobj
            addr, data = partial[conn]
            chunk = conn.recv(6 - len(data))
            assert chunk, f"{addr} closed before its registration ({data!r})"
            data += chunk
            partial[conn] = (addr, data)
            if len(data) == 6:
                sel.unregister(conn)
                got[addr] = (conn, data)
    sel.close()
    for conn, _ in got.values():
        conn.setblocking(True)
    return got


def close_all(got):
    for conn, _ in got.values():
        conn.close()


@pytest.fixture
def server():
    with socket.create_server(("127.0.0.1", 0), backlog=128) as s:
        yield s


def test_twenty_modules_register_each_from_its_own_address(m0emu_fleet_factory, server):
    port = server.getsockname()[1]
    fleet = m0emu_fleet_factory(20, no_tty=True, settings={"REGEN": "mac"},
                                peers={FACTORY_PEER: f"127.0.0.1:{port}"})
    assert [m.name for m in fleet.modules] == [f"m{k:04d}" for k in range(1, 21)]
    assert len({m.addr for m in fleet}) == 20 and len({m.mac for m in fleet}) == 20
    got = accept_all(server, 20)
    try:
        by_addr = {m.addr: m for m in fleet}
        assert set(got) == set(by_addr)  # 20 distinct sources, each a module's own
        for addr, (_, reg) in got.items():
            assert reg.hex().upper() == by_addr[addr].mac, addr
        for m in fleet:
            ev = m.wait_event("reg.sent", timeout=10)
            assert ev["dev"] == m.name and ev["bytes"] == 6
    finally:
        close_all(got)


def test_a_fleet_is_who_its_map_says(m0emu_fleet_factory):
    fleet = m0emu_fleet_factory(3, mac="02AABB0000FE", prefix="dev")
    assert [m.name for m in fleet] == ["dev0001", "dev0002", "dev0003"]
    # The MAC counts from the base across the byte boundary; the address from --bind.
    assert [m.mac for m in fleet] == ["02AABB0000FE", "02AABB0000FF", "02AABB000100"]
    base = fleet.bind.rsplit(".", 1)[0]
    assert [m.addr for m in fleet] == [f"{base}.1", f"{base}.2", f"{base}.3"]
    assert fleet["dev0002"] is fleet[1] and len(fleet) == 3
    for m in fleet:
        assert m.tty == str(m.folder / "tty") and os.path.islink(m.tty)
        assert m.at("AT+MAC") == f"+ok={m.mac}"  # through its own tty
    listed = fleet.list()
    assert [(d["dev"], d["addr"], d["tty"]) for d in listed] == \
        [(m.name, m.addr, m.tty) for m in fleet]
    with pytest.raises(KeyError, match="dev0001 to dev0003"):
        fleet["dev0004"]


def test_unplugging_one_module_stops_only_its_connection(m0emu_fleet_factory, server):
    port = server.getsockname()[1]
    fleet = m0emu_fleet_factory(3, settings={"REGEN": "mac"},
                                peers=[f"{FACTORY_PEER}=127.0.0.1:{port}"])
    got = accept_all(server, 3)
    try:
        conns = {m.name: got[m.addr][0] for m in fleet}
        for m in fleet:
            m.wait_event("net.connected")
        victim = fleet["m0002"]
        r = victim.unplug()
        victim.wait_event("cable", since=r.mark, state="unplugged")
        for m in fleet:
            m.write(f"from {m.name}\n")
        for name in ("m0001", "m0003"):
            conns[name].settimeout(5)
            assert conns[name].recv(100) == f"from {name}\n".encode()
        conns["m0002"].settimeout(0.5)
        with pytest.raises(socket.timeout):  # held: no data, and no close
            conns["m0002"].recv(100)
        assert victim.status()["faults"]["cable"]["plugged"] is False
        assert fleet["m0001"].status()["faults"]["cable"]["plugged"] is True
        # The neighbours' events say nothing about a cable.
        with pytest.raises(TimeoutError):
            fleet["m0001"].wait_event("cable", since=0, timeout=0.2)
        victim.plug()
        conns["m0002"].settimeout(5)
        assert conns["m0002"].recv(100) == b"from m0002\n"
    finally:
        close_all(got)


def test_at_without_a_pty_goes_over_the_channel(m0emu_fleet_factory, server):
    port = server.getsockname()[1]
    fleet = m0emu_fleet_factory(2, no_tty=True, mac="02AABB000010",
                                peers={FACTORY_PEER: f"127.0.0.1:{port}"})
    m1, m2 = fleet
    assert m1.tty is None and not os.path.lexists(m1.folder / "tty")
    assert m2.at("AT+MAC") == "+ok=02AABB000011"
    assert m1.at("AT+MAC") == "+ok=02AABB000010"
    with pytest.raises(pkg.M0EmuError, match="m0001 has no tty"):
        m1.write(b"x")
    # Registration by AT commands on one module, then its restart: only it registers.
    server.settimeout(10)
    first, _ = server.accept()  # both modules are connected, without registration
    second, _ = server.accept()
    first.close()
    second.close()
    assert m2.at("AT+REGEN=mac") == "+ok"
    assert m2.at("AT+Z") == "+ok"  # returns after m0002's next ready
    assert m2.wait_event("restart")["dev"] == "m0002"
    conn, (addr, _) = server.accept()
    with conn:
        conn.settimeout(10)
        assert addr == m2.addr
        data = b""
        while len(data) < 6:
            chunk = conn.recv(6 - len(data))
            assert chunk, data
            data += chunk
        assert data == bytes.fromhex("02AABB000011")
    assert m1.at("AT+REGEN") == "+ok=off"


def test_each_module_waits_on_its_own_events(m0emu_fleet_factory):
    fleet = m0emu_fleet_factory(3, no_tty=True)
    m1, m2, m3 = fleet
    for m in fleet:
        ready = m.wait_event("ready")
        assert ready["dev"] == m.name and ready["addr"] == m.addr
        assert all(ev["dev"] == m.name for ev in m.events)
    sub = m2.subscribe()
    ready = m2.restart()  # by the channel: SIGHUP would restart all three
    assert ready["dev"] == "m0002"
    assert m2.wait_event("restart")["cause"] == "control"
    assert sub.wait_event("restart", timeout=5)["dev"] == "m0002"
    with pytest.raises(TimeoutError, match="no event restart"):
        m1.wait_event("restart", timeout=0.3)
    assert fleet.wait_event("restart")["dev"] == "m0002"  # the fleet sees every module
    with pytest.raises(pkg.M0EmuError, match="SIGHUP restarts every module"):
        m1.restart(via="sighup")
    m3.power_off()
    assert m3.status()["mode"] == "off"
    assert m1.status()["mode"] == "transparent" and m1.mode == "transparent"
    with pytest.raises(pkg.ControlError) as refused:
        m3.restart(via="control")
    assert refused.value.code == "state"
    assert m3.power_on()["dev"] == "m0003"
    # The subscription of m0002 got none of m0003's events.
    sub.poll()
    assert sub.stream and all(ev.get("dev") == "m0002" for ev in sub.stream)
    with pytest.raises(pkg.ControlError) as no_dev:
        fleet.control("status")
    assert no_dev.value.code == "device-required"


@pytest.mark.m0emu_fleet(count=2, no_tty=True, mac="02AABB000020",
                         flash={"m0002": ["AT+E=off"]})
def test_the_fixture_takes_a_marker(m0emu_fleet):
    assert [m.mac for m in m0emu_fleet] == ["02AABB000020", "02AABB000021"]
    assert m0emu_fleet["m0002"].at("AT+E") == "+ok=off"  # its own flash.conf
    assert m0emu_fleet["m0001"].at("AT+E") == "+ok=on"
    assert m0emu_fleet.timing == "fast"


def test_stop_and_start_keep_each_modules_flash(m0emu_fleet_factory):
    fleet = m0emu_fleet_factory(2, no_tty=True)
    m1 = fleet[0]
    addrs = [m.addr for m in fleet]
    assert m1.at("AT+MID=kept") == "+ok"
    assert fleet.stop() == 0
    assert not fleet.running
    fleet.start()
    assert [m.addr for m in fleet] == addrs  # the same addresses, the same modules
    assert m1.events[0]["dev"] == "m0001" and m1.events[0]["t_ms"] < 1000  # a new run
    assert m1.at("AT+MID") == "+ok=kept"
    assert fleet[1].at("AT+MID") != "+ok=kept"


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="count"):
        pkg.Fleet(0)
    with pytest.raises(KeyError, match="m0009"):
        pkg.Fleet(2, flash={"m0009": ["AT+E=off"]})
    with pytest.raises(ValueError, match="peers"):
        pkg.Fleet(2, peers=["no-equals-sign"])


RECORD = """
import json, os
def record(fleet, name):
    with open(os.path.join(os.environ["M0_RECORDS"], name), "w") as f:
        json.dump({"pid": fleet.pid, "ttys": [m.tty for m in fleet],
                   "dir": str(fleet.workdir)}, f)
"""


def assert_fleet_gone(rec, folder_too=True):
    assert not process_alive(rec["pid"]), f"m0emu pid {rec['pid']} still runs"
    for tty in rec["ttys"]:
        assert not os.path.lexists(tty), f"the tty link {tty} is still there"
    if folder_too:
        assert not os.path.exists(rec["dir"]), f"{rec['dir']} is still there"


def load(path):
    with open(path) as f:
        return json.load(f)


def test_clean_up_after_a_failing_fleet_test(tmp_path):
    (tmp_path / "test_user.py").write_text(RECORD + textwrap.dedent("""
        def test_body_raises(m0emu_fleet):
            record(m0emu_fleet, "raises")
            assert m0emu_fleet[0].at("AT+VER") == "+ok=V4017"
            raise RuntimeError("the test body fails")
        """))
    r = run_pytest(tmp_path, env=child_env(M0_RECORDS=str(tmp_path)))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 failed" in r.stdout
    assert "fleet #0 (call)" in r.stdout and '"dev":"m0001"' in r.stdout
    rec = load(tmp_path / "raises")
    assert len(rec["ttys"]) == 3 and all(rec["ttys"])
    assert_fleet_gone(rec)


@pytest.mark.parametrize("ending", ["sys.exit(3)", "os.kill(os.getpid(), signal.SIGKILL)"])
def test_a_fleet_dies_with_its_script(tmp_path, ending):
    script = RECORD + textwrap.dedent(f"""
        import os, signal, sys, m0emu
        fleet = m0emu.Fleet(2)
        fleet.start()
        record(fleet, "script")
        {ending}
        """)
    r = subprocess.run([sys.executable, "-c", script], env=child_env(M0_RECORDS=str(tmp_path)),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode in (3, -signal.SIGKILL), r.stderr
    rec = load(tmp_path / "script")
    if r.returncode == 3:  # atexit: everything goes
        assert_fleet_gone(rec)
        return
    # SIGKILL: PDEATHSIG ends the process, which removes its links; the folder stays.
    deadline = time.monotonic() + 15
    while process_alive(rec["pid"]) or any(os.path.lexists(t) for t in rec["ttys"]):
        assert time.monotonic() < deadline, "the fleet outlived its killed parent"
        time.sleep(0.05)
    assert_fleet_gone(rec, folder_too=False)
    shutil.rmtree(rec["dir"])


def test_a_taken_address_is_replaced(m0emu_fleet_factory, monkeypatch):
    taken = f"127.{random.randint(16, 250)}.77.1"
    fresh = taken.replace(".77.1", ".78.1")
    picks = iter([taken, fresh])
    monkeypatch.setattr(pkg.Fleet, "_pick_bind", lambda self: next(picks))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((taken, 1500))  # module 1's setup-protocol port on the first base
        fleet = m0emu_fleet_factory(2, no_tty=True)
    assert fleet.bind == fresh and fleet.run == 2
    assert [m.addr for m in fleet] == [fresh, fresh[:-1] + "2"]
    assert not any(ev["ev"] == "udp1500.error" for ev in fleet.events)
