"""Package faces that load on first use: `from refusalkit.audit import RefusalClassifier`
works, yet `import refusalkit.audit.io` (which imports the package first) does not load what
the face names (torch, Ray, ONNX Runtime) for a command that never uses it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_face(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports each of `names` (name → module) from
    its module when first asked for."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
