"""The plugin's three ways in (the pyproject entry point, -p, a conftest's
pytest_plugins), its options, and what a failing test's report says."""

import subprocess
import sys
import textwrap
import tomllib

from helpers import PKG_DIR, child_env, run_pytest

USER_TEST = """
def test_user(m0emu):
    assert m0emu.at("AT+VER") == "+ok=V4017"
    m0emu.wait_event("ready", timeout=5)
"""


def fake_install(site):
    """What `pip install` of python/ leaves for importlib.metadata: a dist-info with the
    entry points that pyproject.toml declares (the package itself stays on PYTHONPATH)."""
    with open(PKG_DIR / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    info = site / f"m0emu-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: m0emu\nVersion: {project['version']}\n")
    lines = []
    for group, eps in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def test_entry_point_loads_the_plugin(tmp_path):
    site = tmp_path / "site"
    fake_install(site)
    work = tmp_path / "work"
    work.mkdir()
    (work / "test_user.py").write_text(USER_TEST)
    env = child_env()
    env["PYTHONPATH"] = f"{PKG_DIR}:{site}"
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    # The entry point alone.
    r = subprocess.run(base + [str(work)], cwd=work, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout
    # The entry point and -p together: loaded once, no "already registered" error.
    r = subprocess.run(base + ["-p", "m0emu.plugin", str(work)], cwd=work, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    # Without it, the fixture is unknown: the entry point is what made it work.
    r = subprocess.run(base + [str(work)], cwd=work, env=child_env(), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1 and "fixture 'm0emu' not found" in r.stdout


def test_conftest_pytest_plugins(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["m0emu.plugin"]\n')
    (tmp_path / "test_user.py").write_text(USER_TEST)
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                        str(tmp_path)], cwd=tmp_path, env=child_env(), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout


def test_binary_option(tmp_path):
    (tmp_path / "test_user.py").write_text(USER_TEST)
    r = run_pytest(tmp_path, "--m0emu-binary", "/nonexistent/m0emu")
    assert r.returncode == 1
    assert "1 error" in r.stdout
    assert "the m0emu binary '/nonexistent/m0emu' (given) does not exist" in r.stdout
    # Without $M0EMU the option alone finds it.
    env = child_env()
    binary = env.pop("M0EMU")
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nm0emu_binary = {binary}\n")
    r = run_pytest(tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_marker_options(tmp_path):
    (tmp_path / "test_user.py").write_text(textwrap.dedent("""
        import pytest
        @pytest.mark.m0emu(dialect="field", mac="d8b04c112233", flash=["AT+E=off"])
        def test_user(m0emu):
            assert m0emu.at("AT+MAC") == "+OK=D8B04C112233"
            assert m0emu.at("AT+E") == "+OK=OFF"
        """))
    r = run_pytest(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
