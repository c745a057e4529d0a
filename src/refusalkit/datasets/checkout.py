"""The data/ folder of the refusalkit checkout this package runs from: what the `train` commands
read. A wheel carries the trained artifacts and the constitutions, not the rows they came from."""

from __future__ import annotations

from pathlib import Path

from refusalkit.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parents[1]


def checkout_root() -> Path | None:
    """The repository root when this package is the checkout's `src/refusalkit` (editable)."""
    root = _PACKAGE.parents[1]
    is_checkout = _PACKAGE.parent.name == "src" and (root / "pyproject.toml").is_file()
    return root if is_checkout and (root / "data").is_dir() else None


def data_dir() -> Path:
    """The checkout's data/ folder; a clear error where refusalkit was installed from a wheel."""
    root = checkout_root()
    if root is None:
        raise ConfigError(
            f"training reads the data/ folder of a refusalkit checkout, and the refusalkit in "
            f"{_PACKAGE.parent} is an installed wheel: run this command in a clone of the "
            "repository (`make demo` there sets it up), or pass the input files explicitly"
        )
    return root / "data"
