"""The layout rules of issue #24, checked where CI runs: layers point down, no import cycles,
types check, no module grows past 450 lines."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MAX_MODULE_LINES = 450


def _tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in this environment (pip install -e '.[dev]')")
    return path


def test_imports_follow_the_layers_and_have_no_cycles():
    result = subprocess.run(
        [str(_tool("lint-imports"))], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_the_constitutional_classifiers_are_named_only_behind_the_seam():
    """#40: outside classifiers/, only the registry's `constitutional` module names them."""
    package = ROOT / "src" / "refusalkit"
    naming = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "ConstitutionalClassifiers" in path.read_text()
        and path.relative_to(package).parts[0] != "classifiers"
    )
    assert naming == ["guard/constitutional.py"]


def test_every_package_sits_in_a_layer():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    named = {part.strip("() ") for layer in layers for part in layer.split("|")}
    package = ROOT / "src" / "refusalkit"
    children = {
        p.stem if p.is_file() else p.name
        for p in package.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert children <= named, f"not in any layer: {sorted(children - named)}"


def test_types_check():
    result = subprocess.run(
        [str(_tool("mypy"))], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_too_long():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "src").rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these by responsibility (≤ {MAX_MODULE_LINES} lines): {long}"
