"""Start, restart, stop, fleets, and clean-up that leaves no process, symlink or folder,
whatever way the test ends."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request

import pytest

import m0emu as pkg
from helpers import (assert_nothing_left, child_env, process_alive, pytest_argv,
                     run_pytest)

RECORD = """
import json, os
def record(emu, name):
    with open(os.path.join(os.environ["M0_RECORDS"], name), "w") as f:
        json.dump({"pid": emu.pid, "tty": emu.tty, "dir": str(emu.workdir)}, f)
"""


def load(path):
    with open(path) as f:
        return json.load(f)


def test_restart(m0emu):
    first = m0emu.wait_event("ready")
    m0emu.at("AT+VER")
    ready = m0emu.restart()
    assert ready["ev"] == "ready" and ready["t_ms"] >= first["t_ms"]
    assert m0emu.mode == "transparent"
    # wait_event now looks at the new boot: its restart and its ready.
    assert m0emu.wait_event("restart")["cause"] == "sighup"
    assert m0emu.wait_event("ready") == ready
    assert m0emu.at("AT+VER") == "+ok=V4017"


def test_stop_and_start_keep_the_flash(m0emu):
    assert m0emu.at("AT+E=off") == "+ok"
    assert m0emu.stop() == 0
    assert not m0emu.running
    assert not os.path.lexists(m0emu.tty)  # the emulator removed its link on SIGTERM
    m0emu.start()
    assert m0emu.events[0]["t_ms"] < 1000  # a new run's stream, from its start
    assert m0emu.at("AT+E") == "+ok=off"


def test_a_stop_the_test_saw_is_not_reported_again(m0emu):
    os.kill(m0emu.pid, signal.SIGKILL)
    assert m0emu.stop() == -signal.SIGKILL
    # The fixture's teardown passes (an error there would fail this test): the test
    # took the status itself.


def test_a_fleet(m0emu_factory):
    macs = ["d8b04c000001", "d8b04c000002", "d8b04c000003"]
    fleet = [m0emu_factory(mac=m) for m in macs]
    assert len({e.tty for e in fleet}) == 3
    assert len({e.web_port for e in fleet}) == 3
    assert len({e.workdir for e in fleet}) == 3
    for emu, mac in zip(fleet, macs):
        assert emu.at("AT+MAC") == "+ok=" + mac.upper()


def test_the_web_port_is_ours(m0emu):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{m0emu.web_port}/", timeout=10) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    assert status in (200, 401)
    m0emu.wait_event("web.listening", since=0, host_port=m0emu.web_port)


def test_missing_binary_is_a_clear_error(monkeypatch):
    with pytest.raises(pkg.M0EmuError, match="/nonexistent/m0emu.*does not exist"):
        pkg.Emulator(binary="/nonexistent/m0emu")
    monkeypatch.setenv("M0EMU", "/nonexistent/m0emu")
    with pytest.raises(pkg.M0EmuError, match=r"\$M0EMU"):
        pkg.find_binary()


def test_a_start_that_fails_says_why_and_leaves_nothing():
    emu = pkg.Emulator(args=["--boot-ms", "999999"])
    workdir = emu.workdir
    with pytest.raises(pkg.M0EmuError) as e:
        emu.start()
    assert "exited with status 2" in str(e.value)
    assert "--boot-ms" in str(e.value)  # the emulator's own line, from its stderr
    emu.close(check=False)
    assert not workdir.exists()
    assert not os.path.lexists(emu.tty)


def test_clean_up_after_failing_tests(tmp_path):
    (tmp_path / "test_user.py").write_text(RECORD + textwrap.dedent("""
        def test_body_raises(m0emu):
            record(m0emu, "raises")
            assert m0emu.at("AT+VER") == "+ok=V4017"
            raise RuntimeError("the test body fails")

        def test_second_start_fails(m0emu_factory):
            record(m0emu_factory(), "fleet-first")
            m0emu_factory(args=["--no-such-option"])

        def test_emulator_dies_unseen(m0emu):
            import os, signal, time
            record(m0emu, "dies")
            os.kill(m0emu.pid, signal.SIGKILL)
            time.sleep(0.2)
        """))
    r = run_pytest(tmp_path, env=child_env(M0_RECORDS=str(tmp_path)))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 failed, 1 passed, 1 error" in r.stdout
    # The body passed, but a module that died during the test fails its teardown.
    assert "ERROR at teardown of test_emulator_dies_unseen" in r.stdout
    assert "m0emu ended with status -9 on its own during the run" in r.stdout
    assert "RuntimeError: the test body fails" in r.stdout
    assert "exited with status 2" in r.stdout  # the failed start explains itself
    assert "m0emu #0 (call)" in r.stdout  # the report's section with the last events
    assert '"ev":"ready"' in r.stdout
    for name in ("raises", "fleet-first", "dies"):
        assert_nothing_left(load(tmp_path / name))


def test_clean_up_when_pytest_is_killed(tmp_path):
    (tmp_path / "test_user.py").write_text(RECORD + textwrap.dedent("""
        import time
        def test_hangs(m0emu):
            record(m0emu, "hangs")
            time.sleep(120)
        """))
    proc = subprocess.Popen(pytest_argv(str(tmp_path)), cwd=tmp_path,
                            env=child_env(M0_RECORDS=str(tmp_path)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "hangs").exists():
            assert proc.poll() is None, "pytest ended before the test body ran"
            assert time.monotonic() < deadline, "the test body never ran"
            time.sleep(0.05)
        rec = load(tmp_path / "hangs")
        assert process_alive(rec["pid"]) and os.path.islink(rec["tty"])
        proc.send_signal(signal.SIGKILL)  # no finalizer, no atexit
        proc.wait()
        deadline = time.monotonic() + 15
        while process_alive(rec["pid"]) or os.path.lexists(rec["tty"]):
            assert time.monotonic() < deadline, "the emulator outlived its killed parent"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The folder itself stays (nobody was left to remove it); no process, no link.
    assert not process_alive(rec["pid"])
    assert not os.path.lexists(rec["tty"])
    shutil.rmtree(rec["dir"])


@pytest.mark.parametrize("ending", ["sys.exit(3)", "raise RuntimeError('boom')"])
def test_atexit_backstop(tmp_path, ending):
    script = RECORD + textwrap.dedent(f"""
        import sys, m0emu
        emu = m0emu.Emulator()
        emu.start()
        emu.at("AT+VER")
        record(emu, "script")
        {ending}
        """)
    r = subprocess.run([sys.executable, "-c", script], env=child_env(M0_RECORDS=str(tmp_path)),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode in (1, 3), r.stderr
    assert_nothing_left(load(tmp_path / "script"))
