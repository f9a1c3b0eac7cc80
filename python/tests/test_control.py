"""The control channel from the package: each helper against the real binary, and what
the host and a TCP peer see (docs/faults.md's "the host sees")."""

import os
import socket
import time

import pytest

import m0emu as pkg

QUIET_S = 0.5  # how long "nothing arrives" is watched: the fault is on, so any wait holds


@pytest.fixture
def dialled(m0emu_factory, tcp_server):
    """An emulator in TCPC mode connected to the test's server: (emu, server)."""
    emu = m0emu_factory(flash=[f"AT+SOCK=TCPC,127.0.0.1,{tcp_server.port}"])
    tcp_server.accept()
    emu.wait_event("net.connected", timeout=10)
    emu.serial  # the host holds the tty open: the device's bytes are kept, not dropped
    return emu, tcp_server


def nothing_arrives(conn, seconds=QUIET_S):
    """True when conn neither receives a byte nor is closed within `seconds`."""
    conn.settimeout(seconds)
    try:
        data = conn.recv(100)
    except socket.timeout:
        return True
    finally:
        conn.settimeout(10)
    raise AssertionError(f"the peer got {data!r}" if data else "the peer saw a close (FIN)")


def test_the_fixture_has_a_channel(m0emu):
    assert m0emu.control_path == os.path.join(m0emu.workdir, "control")
    assert f"--control {m0emu.control_path}" in " ".join(m0emu.argv(1, "ev"))
    assert m0emu.channel.greeting["devices"] == [""]
    assert m0emu.channel.greeting["pid"] == m0emu.pid
    st = m0emu.status()
    assert st["mode"] == "transparent" and st["powered"] is True
    assert os.path.realpath(st["tty"]) == os.path.realpath(m0emu.tty)
    ready = m0emu.wait_event("ready")
    assert isinstance(st.t_ms, int) and st.t_ms >= ready["t_ms"]


def test_control_passes_any_command_through(m0emu):
    names = {c["cmd"] if isinstance(c, dict) else c
             for c in m0emu.control("commands")["commands"]}
    assert {"status", "power", "cable", "hang", "uart.fault", "net.fault",
            "flash.fault"} <= names
    assert m0emu.control("seed", seed=7) == {}


@pytest.mark.parametrize("call,code", [
    (lambda e: e.control("no-such-command"), "unknown-command"),
    (lambda e: e.hang(0), "bad-param"),
    (lambda e: e.control("power", state="sideways"), "bad-param"),
    (lambda e: e.control("status", colour="red"), "bad-param"),
    (lambda e: e.plug(), "state"),  # the cable is in already
    (lambda e: e.flash_fail(-1), "bad-param"),
])
def test_a_refusal_raises_the_channels_error(m0emu, call, code):
    with pytest.raises(pkg.ControlError) as info:
        call(m0emu)
    err = info.value
    assert err.code == code
    assert err.message and err.message in str(err)
    assert isinstance(err, pkg.M0EmuError)
    # A refused request changes nothing, and the connection goes on.
    st = m0emu.status()
    assert st["powered"] and st["faults"]["cable"]["plugged"] and st["faults"]["flash"] is None


def test_power_off_is_silence_then_power_on_a_new_boot(dialled):
    emu, server = dialled
    first = server.conn
    r = emu.power_off()
    assert emu.wait_event("power", state="off", since_ms=r.t_ms)
    assert emu.status()["mode"] == "off"
    with pytest.raises(pkg.ControlError) as info:
        emu.restart(via="control")
    assert info.value.code == "state"
    first.sendall(b"anyone?")
    assert nothing_arrives(first)  # no FIN, no RST while the power is off
    ready = emu.power_on()
    assert ready["ev"] == "ready" and ready["t_ms"] >= r.t_ms
    assert emu.wait_event("power")["state"] == "on"  # wait_event looks from the power on
    assert emu.wait_event("ready") == ready
    first.settimeout(10)
    with pytest.raises(ConnectionResetError):
        while first.recv(100):  # the new stack answers the old connection with RST
            pass
    server.accept()  # and the rebooted module dials again
    emu.wait_event("net.connected", timeout=10)
    assert emu.status()["mode"] == "transparent"


def test_unplug_pauses_the_link_and_plug_delivers(dialled):
    emu, server = dialled
    r = emu.unplug()
    assert emu.wait_event("cable", state="unplugged", since_ms=r.t_ms)
    st = emu.status()
    assert st["faults"]["cable"]["plugged"] is False and st["link_pin"] is False
    emu.write(b"typed while unplugged\n")
    assert nothing_arrives(server.conn)
    server.conn.sendall(b"sent while unplugged\n")
    assert emu.read(timeout=QUIET_S) == b""
    emu.plug()
    assert emu.wait_event("cable", state="plugged")["reset"] is False
    assert server.recv_exactly(22) == b"typed while unplugged\n"
    assert emu.expect(b"sent while unplugged\n") == b"sent while unplugged\n"
    server.conn.sendall(b"after\n")
    assert emu.expect(b"after\n") == b"after\n"


def test_unplug_for_a_while_plugs_back_by_itself(m0emu):
    r = m0emu.unplug(for_s=0.3)
    ev = m0emu.wait_event("cable", state="plugged", since_ms=r.t_ms)
    assert ev["down_ms"] >= 300
    assert m0emu.status()["faults"]["cable"]["plugged"] is True


def test_hang_then_the_watchdog_restarts(dialled):
    emu, server = dialled
    r = emu.hang(1.5)
    assert emu.wait_event("hang", since_ms=r.t_ms)["for_ms"] == 1500
    with pytest.raises(TimeoutError):
        emu.at("AT+VER", timeout=0.5)  # not even +++ is answered
    assert nothing_arrives(server.conn, 0.2)
    restart = emu.wait_event("restart", timeout=10, cause="watchdog")
    assert restart["t_ms"] >= r.t_ms + 1500
    emu.wait_event("ready", timeout=10)
    server.conn.settimeout(10)
    with pytest.raises(ConnectionResetError):
        while server.conn.recv(100):
            pass
    server.accept()
    emu.wait_event("net.connected", timeout=10)
    assert emu.at("AT+VER") == "+ok=V4017"


def test_uart_noise_loses_bytes_to_the_host_until_cleared(dialled):
    emu, server = dialled
    emu.uart_noise("to_host", loss=1.0)
    st = emu.status()["faults"]["uart"]
    assert st["to_host"] is not None and st["from_host"] is None
    server.conn.sendall(b"lost on the line\n")
    emu.wait_event("drop", timeout=5, dir="to_host", reason="line-loss")
    assert emu.read(timeout=QUIET_S) == b""
    assert emu.status()["faults"]["uart"]["to_host"]["lost"] >= 1
    emu.uart_noise()  # cleared, both ways
    assert emu.wait_event("fault.cleared", fault="uart")
    assert emu.status()["faults"]["uart"] == {"to_host": None, "from_host": None}
    server.conn.sendall(b"clean again\n")
    assert emu.expect(b"clean again\n") == b"clean again\n"


def test_uart_noise_with_a_seed_hits_the_same_bytes(dialled):
    emu, server = dialled
    payload = bytes(range(32, 127)) * 4
    got = []
    for _ in range(2):
        emu.uart_noise("to_host", bit_error=0.02, seed=5)
        server.conn.sendall(payload)
        data = b""
        deadline = time.monotonic() + 10
        while len(data) < len(payload) and time.monotonic() < deadline:
            data += emu.read(timeout=0.2)
        emu.uart_noise()
        got.append(data)
    assert len(got[0]) == len(payload) and got[0] != payload  # corrupted, not lost
    assert got[0] == got[1]


def test_net_impair_delays_what_the_device_sends(dialled):
    emu, server = dialled
    r = emu.net_impair("to_net", delay_s=1.0)
    ev = emu.wait_event("fault.set", fault="net", since=r.mark)
    assert ev["delay_ms"] == 1000
    sent = time.monotonic()
    emu.write(b"late\n")
    assert nothing_arrives(server.conn, 0.5)
    assert server.recv_exactly(5) == b"late\n"
    assert time.monotonic() - sent >= 0.9
    emu.net_impair()  # cleared
    emu.wait_event("fault.cleared", fault="net")
    emu.write(b"prompt\n")
    assert server.recv_exactly(7) == b"prompt\n"


def test_net_reset_resets_the_connection(dialled):
    emu, server = dialled
    assert emu.net_reset() == {"reset": 1}
    server.conn.settimeout(10)
    with pytest.raises(ConnectionResetError):
        while server.conn.recv(100):
            pass
    server.accept()  # TCPC dials again
    emu.wait_event("net.connected", timeout=10)


def test_flash_fail_refuses_the_next_saves(m0emu):
    r = m0emu.flash_fail(1)
    assert m0emu.wait_event("fault.set", fault="flash", since=r.mark)["fail_next"] == 1
    with pytest.raises(pkg.ATError) as info:
        m0emu.at("AT+MID=refused")
    assert info.value.code == -5
    assert m0emu.wait_event("flash.error")["fault"] == "fail"
    assert m0emu.wait_event("fault.cleared", fault="flash")["cause"] == "used"
    assert m0emu.at("AT+MID") != "+ok=refused"
    assert m0emu.at("AT+MID=kept") == "+ok"  # the failure was used up
    assert m0emu.at("AT+MID") == "+ok=kept"


def test_flash_full_until_cleared(m0emu):
    m0emu.flash_full()
    assert m0emu.at("AT+MID=a", check=False) == "+ERR=-5"
    assert m0emu.at("AT+MID=b", check=False) == "+ERR=-5"
    m0emu.clear("flash")
    assert m0emu.status()["faults"]["flash"] is None
    assert m0emu.at("AT+MID=c") == "+ok"


def test_restart_via_the_channel(m0emu):
    first = m0emu.wait_event("ready")
    ready = m0emu.restart(via="control")
    assert ready["t_ms"] > first["t_ms"]
    assert m0emu.wait_event("restart")["cause"] == "control"
    assert m0emu.wait_event("ready") == ready
    assert m0emu.status()["counters"]["restarts"] == 1
    with pytest.raises(ValueError):
        m0emu.restart(via="telepathy")


def test_subscribe_replays_what_an_action_caused(m0emu):
    # since_ms is "at or after" on a millisecond clock: the boot's ready must be in an
    # earlier millisecond than the request for the replay not to include it.
    time.sleep(0.05)
    r = m0emu.power_off(for_s=0.2)  # a power cycle, on again by itself
    time.sleep(0.5)  # the events are past before we subscribe
    with m0emu.subscribe(replay=512, since_ms=r.t_ms) as events:
        assert events.wait_event("power", state="off")["t_ms"] >= r.t_ms
        assert events.wait_event("power", state="on")["off_ms"] >= 200
        ready = events.wait_event("ready", timeout=10)
        assert ready["t_ms"] >= r.t_ms + 200
        # New events come as they happen.
        m0emu.unplug()
        assert events.wait_event("cable")["state"] == "unplugged"
    assert m0emu.wait_event("ready", since_ms=r.t_ms) == ready
    assert m0emu.wait_event("ready", since=r.mark) == ready


def test_wait_event_since_ms_looks_back(m0emu):
    m0emu.wait_event("ready")
    m0emu.wait_event("net.refused", timeout=10)  # the cursor is past them now
    time.sleep(0.05)  # a millisecond later than the boot's events, surely
    r = m0emu.unplug()
    m0emu.plug()
    assert m0emu.wait_event("cable", state="plugged")["t_ms"] >= r.t_ms
    # Back to the unplug, although wait_event already went beyond it.
    assert m0emu.wait_event("cable", since_ms=r.t_ms)["state"] == "unplugged"
    with pytest.raises(TimeoutError):
        m0emu.wait_event("ready", timeout=0.2, since_ms=r.t_ms)
    # The result's mark is the stream's position before the request: exact, whatever
    # the millisecond.
    assert m0emu.events[r.mark]["ev"] == "cable"
    assert all(ev["ev"] != "cable" for ev in m0emu.events[:r.mark])
    assert m0emu.wait_event("cable", since=r.mark)["state"] == "unplugged"


def test_the_channel_survives_a_stop_and_start(m0emu):
    old = m0emu.channel
    m0emu.stop()
    assert old.closed
    with pytest.raises(pkg.M0EmuError, match="only while m0emu runs"):
        m0emu.status()
    m0emu.start()
    assert m0emu.status()["mode"] == "transparent"
    assert m0emu.channel is not old and m0emu.channel.greeting["pid"] == m0emu.pid


def test_without_a_channel(m0emu_factory):
    emu = m0emu_factory(control=False)
    assert "--control" not in emu.argv(1, "ev")
    with pytest.raises(pkg.M0EmuError, match="control=False"):
        emu.status()
    assert emu.at("AT+VER") == "+ok=V4017"


def test_a_dead_emulator_is_reported_as_such(m0emu):
    m0emu.status()
    os.kill(m0emu.pid, 9)
    m0emu.proc.wait()
    with pytest.raises(pkg.M0EmuError, match="only while m0emu runs|exited"):
        m0emu.status()
    assert m0emu.stop() == -9


def test_at_over_the_channel_never_opens_the_tty(m0emu):
    mark = m0emu.mark()
    assert m0emu.at("AT+VER", via="control") == "+ok=V4017"
    assert m0emu.mode == "command"
    assert m0emu.at("AT+E=off", via="control") == "+ok"
    assert m0emu.at("AT+E", via="control") == "+ok=off"  # echo off: the same parser
    assert m0emu.at("AT+ENTM", via="control") == "+ok"
    assert m0emu.mode == "transparent"
    assert m0emu._serial is None
    assert not any(ev["ev"] == "tty.attach" for ev in m0emu.events[mark:])
    assert m0emu.status()["uart_ctl"] is not None
    with pytest.raises(pkg.ATError) as info:
        m0emu.at("AT+NOPE", via="control")
    assert info.value.code == -2
    with pytest.raises(ValueError):
        m0emu.at("AT+VER", via="carrier-pigeon")


def test_the_channels_uart_carries_every_byte_both_ways(dialled):
    emu, server = dialled
    emu.close_serial()  # the channel is the only host now
    every = bytes(range(256))
    with emu.uart() as uart:
        assert uart.write(every) == 256
        assert server.recv_exactly(256) == every
        server.conn.sendall(every[::-1])
        got = b""
        uart.timeout = 5
        while len(got) < 256:
            chunk = uart.read(256 - len(got))
            assert chunk, f"only {len(got)} bytes arrived"
            got += chunk
        assert got == every[::-1]
    assert uart.closed


def test_waits_wake_on_the_channel_not_on_a_timer(m0emu):
    clients = m0emu.control("clients")["clients"]
    assert [c["events"] for c in clients if not c["you"]] == [True]  # the wake connection
    before = m0emu.log.wakeups
    r = m0emu.power_off(for_s=0.3)
    m0emu.wait_event("ready", since=r.mark, timeout=10)  # came while the wait slept
    assert m0emu.log.wakeups > before
