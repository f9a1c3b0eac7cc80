"""docs/python.md's examples, run as written: each ```python block right after a line
`<!-- python-example: NAME -->` is saved as NAME; a test_*.py runs under pytest (with
the plugin given by -p), any other runs as a script."""

import re
import subprocess
import sys

import pytest

from helpers import PKG_DIR, child_env, run_pytest

DOC = PKG_DIR.parent / "docs" / "python.md"
BLOCK = re.compile(r"^<!-- python-example: (\S+) -->\n```python\n(.*?)^```$", re.M | re.S)


def examples():
    found = BLOCK.findall(DOC.read_text())
    assert found, f"no marked example in {DOC}"
    return found


def test_the_page_has_its_examples():
    names = [name for name, _ in examples()]
    assert names == ["test_reading.py", "test_faults.py", "test_fleet_server.py",
                     "without_pytest.py"]


@pytest.mark.parametrize("name,code", examples(), ids=[n for n, _ in examples()])
def test_example_runs(tmp_path, name, code):
    (tmp_path / name).write_text(code)
    if name.startswith("test_"):
        r = run_pytest(tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"{code.count('def test_')} passed" in r.stdout
        if name == "test_reading.py":
            # The test is ten lines, as the page says.
            test = code[code.index("def test_"):].rstrip("\n").split("\n")
            assert len(test) == 10, test
    else:
        r = subprocess.run([sys.executable, name], cwd=tmp_path, env=child_env(),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.splitlines()[0] == "+OK=V4017"
        assert '"ev": "ready"' in r.stdout.splitlines()[1].replace("'", '"')
