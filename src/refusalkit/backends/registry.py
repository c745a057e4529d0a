"""Model spec → backend. A spec is `SCHEME` or `SCHEME:ARGUMENT`; each scheme names a factory.

Built-in schemes are listed here by import path, so a backend's heavy library (llama.cpp,
torch, openai) loads only when a spec asks for it. Other packages add schemes through the
`refusalkit.backends` entry-point group (the refusal-token model registers `steer` that way,
from a layer above this one) or at run time with `register_backend`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from refusalkit.backends.base import Backend
from refusalkit.config import Settings
from refusalkit.errors import ConfigError
from refusalkit.schemes import SchemeRegistry

#: (the whole spec, what follows `SCHEME:`, settings) → a ready backend
BackendFactory = Callable[[str, str, Settings], Backend]
ENTRY_POINT_GROUP = "refusalkit.backends"

BUILT_IN: dict[str, str] = {
    "embedded": "refusalkit.backends.llamacpp:embedded_from_spec",
    "gguf": "refusalkit.backends.llamacpp:gguf_from_spec",
    "hf": "refusalkit.backends.hf:from_spec",
    "http": "refusalkit.backends.openai_http:from_spec",
    "https": "refusalkit.backends.openai_http:from_spec",
}
SPEC_HELP = (
    "use embedded, gguf:/path/model.gguf, hf:/path/to/model, hf:embedded, steer[:/path], "
    "http://host:port/v1[#model], or an [endpoints.NAME] from refusalkit.toml"
)
_REGISTRY: SchemeRegistry[BackendFactory] = SchemeRegistry("backend", ENTRY_POINT_GROUP, BUILT_IN)


def register_backend(scheme: str, factory: BackendFactory) -> None:
    """Serve `scheme` and `scheme:ARGUMENT` specs with `factory` (replaces any earlier one)."""
    _REGISTRY.register(scheme, factory)


def schemes() -> list[str]:
    """Every scheme a spec may start with, built-in, installed or registered."""
    return _REGISTRY.schemes()


def factory_for(scheme: str) -> BackendFactory | None:
    return _REGISTRY.factory(scheme)


def split_spec(spec: str) -> tuple[str, str]:
    scheme, _, argument = spec.partition(":")
    return scheme, argument


def local_path(spec: str, argument: str) -> Path:
    """The existing file or folder a spec's argument names."""
    if not argument:
        raise ConfigError(f"model spec {spec!r} names no path: {SPEC_HELP}")
    path = Path(argument).expanduser()
    if not path.exists():
        raise ConfigError(f"model spec {spec!r}: {path} does not exist")
    return path
