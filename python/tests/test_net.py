"""The module as a TCP client of a server in the test, bytes both ways."""


def test_tcpc_to_a_server_in_the_test(m0emu, tcp_server):
    assert m0emu.at(f"AT+SOCK=TCPC,127.0.0.1,{tcp_server.port}") == "+ok"
    assert m0emu.at("AT+Z") == "+ok"  # returns after the new boot's ready
    conn = tcp_server.accept()
    ev = m0emu.wait_event("net.connected", timeout=10, peer=f"127.0.0.1:{tcp_server.port}")
    assert ev["link"] == 0
    m0emu.write(b"hello from the host\n")
    assert tcp_server.recv_exactly(20) == b"hello from the host\n"
    conn.sendall(b"hello from the server\n")
    assert m0emu.expect(b"from the server\n") == b"from the server\n"
    conn.close()
    closed = m0emu.wait_event("net.closed", peer=f"127.0.0.1:{tcp_server.port}")
    assert closed["reason"] == "closed"


def test_real_timing_and_a_preset_flash(m0emu_factory, tcp_server):
    emu = m0emu_factory(timing="real", flash=[f"AT+SOCK=TCPC,127.0.0.1,{tcp_server.port}",
                                              "AT+E=off"])
    conn = tcp_server.accept()
    emu.wait_event("net.connected")
    emu.write(b"x" * 100)
    assert tcp_server.recv_exactly(100) == b"x" * 100
    assert emu.at("AT+E") == "+ok=off"
    assert emu.at("AT+SOCK") == f"+ok=TCPC,127.0.0.1,{tcp_server.port}"
    conn.close()
