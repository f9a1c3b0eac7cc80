"""helpers.py: running pytest or Python on a user's file in a child process, and
checking that an emulator left nothing behind."""

import os
import subprocess
import sys
from pathlib import Path

PKG_DIR = Path(__file__).resolve().parent.parent  # python/, where m0emu/ is


def child_env(**extra):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PKG_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(extra)
    return env


def pytest_argv(*args):
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "m0emu.plugin", *args]


def run_pytest(where, *args, env=None, timeout=120):
    return subprocess.run(pytest_argv(*args, str(where)), cwd=where, env=env or child_env(),
                          capture_output=True, text=True, timeout=timeout)


def process_alive(pid):
    """True while pid is a live (not zombie) m0emu process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X") and b"m0emu" in cmdline


def assert_nothing_left(rec):
    """rec: {"pid", "tty", "dir"} of an emulator that should be gone entirely."""
    assert not process_alive(rec["pid"]), f"m0emu pid {rec['pid']} still runs"
    assert not os.path.lexists(rec["tty"]), f"the tty symlink {rec['tty']} is still there"
    assert not os.path.exists(rec["dir"]), f"the private folder {rec['dir']} is still there"
