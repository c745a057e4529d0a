"""A native crash in one test fails that test, names it and the native call it died in, and the
rest of the suite still runs and reports: pytest runs with this project's own options."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_CONFIG = Path(__file__).resolve().parents[1] / "pyproject.toml"

CRASHING_TESTS = """
import ctypes


def test_before_the_crash():
    assert True


def test_crashes_natively():
    ctypes.string_at(0)  # reads address 0 in C: SIGSEGV


def test_after_the_crash():
    assert True
"""


def test_a_native_crash_names_its_test_and_the_run_goes_on(tmp_path: Path):
    (tmp_path / "test_crashing.py").write_text(CRASHING_TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(PROJECT_CONFIG), "--rootdir", str(tmp_path)]
        + ["-p", "no:cacheprovider", "test_crashing.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        # the inner run reports as the project configures it, not as this run was asked to
        env={k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "crashed while running 'test_crashing.py::test_crashes_natively'" in output
    assert "FAILED test_crashing.py::test_crashes_natively" in output
    # faulthandler's frames, innermost first: the native call, then the test that made it
    assert "Fatal Python error: Segmentation fault" in output
    frames = output[output.index("Fatal Python error") :]
    assert frames.index("in string_at") < frames.index("in test_crashes_natively")
    assert "1 failed, 2 passed" in output
