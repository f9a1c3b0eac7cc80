"""The AT helper: the handshake, replies with echo on and off, both dialects, errors,
a module already in command mode, and transparent bytes met on the way."""

import time

import pytest
import serial

import m0emu as pkg


def test_fixture_boots_and_answers_ver(m0emu):
    assert m0emu.at("AT+VER") == "+ok=V4017"
    assert m0emu.mode == "command"
    assert [e["ev"] for e in m0emu.events].count("mode.command") == 1


def test_replies_and_errors(m0emu):
    assert m0emu.at("AT") == "+ok"
    assert m0emu.at("at+ver") == "+ok=V4017"
    assert m0emu.at("AT+UART") == "+ok=115200,8,1,NONE,NFC"
    with pytest.raises(pkg.ATError) as e:
        m0emu.at("AT+FOO")
    assert e.value.code == -2
    assert e.value.reply == "+ERR=-2"
    with pytest.raises(pkg.ATError) as e:
        m0emu.at("AT+MAXSK=9")
    assert e.value.code == -4
    assert m0emu.at("AT+VER=1", check=False) == "+ERR=-3"
    with pytest.raises(ValueError):
        m0emu.at("AT+VER\r")
    with pytest.raises(ValueError):
        m0emu.at("")


def test_help_has_every_line(m0emu):
    lines = m0emu.at("AT+H").split("\n")
    assert lines[0] == "+ok=AT+E-Enable/disable echo"
    assert "AT+VER-Query firmware version" in lines
    assert len(lines) > 30
    assert m0emu.at("AT+VER") == "+ok=V4017"  # nothing of the help is left over


def test_echo_off(m0emu):
    assert m0emu.at("AT+E=off") == "+ok"
    assert m0emu.at("AT+E") == "+ok=off"
    assert m0emu.at("AT+VER") == "+ok=V4017"
    # And through a fresh handshake: echo stays off across AT+Z (it is saved).
    assert m0emu.at("AT+Z") == "+ok"
    assert m0emu.mode == "transparent"
    assert m0emu.at("AT+VER") == "+ok=V4017"
    assert m0emu.at("AT+E") == "+ok=off"


@pytest.mark.m0emu(dialect="field")
def test_field_dialect(m0emu):
    assert m0emu.at("AT+VER") == "+OK=V4017"
    assert m0emu.at("AT+E") == "+OK=ON"
    assert m0emu.at("AT+E=OFF") == "+OK"
    assert m0emu.at("AT+E") == "+OK=OFF"
    with pytest.raises(pkg.ATError) as e:
        m0emu.at("AT+FOO")
    assert e.value.code == -2


def test_already_in_command_mode(m0emu):
    # The user's own program did the handshake on its own port and closed it.
    with serial.Serial(m0emu.tty, 115200, timeout=5) as port:
        time.sleep(0.2)
        port.write(b"+++")
        assert port.read(1) == b"a"
        port.write(b"a")
        assert port.read(3) == b"+ok"
    m0emu.wait_event("mode.command")
    # No second handshake: a '+++' in command mode would be a command line and the
    # module would never answer 'a'.
    assert m0emu.at("AT+VER") == "+ok=V4017"
    assert [e["ev"] for e in m0emu.events].count("mode.command") == 1


def test_entm_and_back(m0emu):
    m0emu.at("AT+VER")
    assert m0emu.entm() == "+ok"
    assert m0emu.mode == "transparent"
    assert m0emu.entm() is None  # already transparent: nothing sent
    assert m0emu.at("AT+VER") == "+ok=V4017"
    assert [e["ev"] for e in m0emu.events].count("mode.command") == 2


def test_network_bytes_before_the_handshake_are_kept(m0emu, tcp_server):
    m0emu.at(f"AT+SOCK=TCPC,127.0.0.1,{tcp_server.port}")
    m0emu.at("AT+Z")
    conn = tcp_server.accept()
    m0emu.wait_event("net.connected", peer=f"127.0.0.1:{tcp_server.port}")
    m0emu.serial  # the helper's port stays open: the host is there to receive
    conn.sendall(b"early bytes")
    time.sleep(0.3)  # they reach the host before the handshake starts
    assert m0emu.at("AT+VER") == "+ok=V4017"
    conn.sendall(b"held in command mode")
    m0emu.entm()
    assert m0emu.expect(b"early bytes") == b"early bytes"
    assert m0emu.expect(b"held in command mode", timeout=5) == b"held in command mode"


def test_parse_reply():
    assert pkg.parse_reply(b"AT+VER\r\r\n+ok=V4017\r\n") == (7, 20, "+ok=V4017")
    assert pkg.parse_reply(b"\r\n+ERR=-2\r\n") == (0, 11, "+ERR=-2")
    assert pkg.parse_reply(b"AT+VER\r\r\n+ok=V40") is None
    assert pkg.parse_reply(b"AT+VER\r") is None


def test_mode_of():
    evs = [{"ev": "ready"}, {"ev": "mode.command"}]
    assert pkg.mode_of([]) == "booting"
    assert pkg.mode_of(evs) == "command"
    assert pkg.mode_of(evs + [{"ev": "restart"}]) == "restarting"
    assert pkg.mode_of(evs + [{"ev": "mode.transparent"}]) == "transparent"
