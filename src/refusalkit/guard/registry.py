"""Guard spec → guard model. A spec is `SCHEME` or `SCHEME:ARGUMENT`, as for backends.

Built-in schemes are listed by import path, so a model's libraries load only when a spec asks
for it. Other packages add schemes through the `refusalkit.guards` entry-point group (a factory
`(spec, argument, settings) -> GuardModel`) or at run time with `register_guard`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from refusalkit.config import Settings, load_settings
from refusalkit.errors import ConfigError
from refusalkit.guard.model import GuardModel

GuardFactory = Callable[[str, str, Settings], GuardModel]
ENTRY_POINT_GROUP = "refusalkit.guards"
DEFAULT_SPEC = "constitutional"

BUILT_IN: dict[str, str] = {
    "constitutional": "refusalkit.guard.constitutional:from_spec",
    "llamaguard": "refusalkit.guard.llamaguard:from_spec",
    "cascade": "refusalkit.guard.cascade:from_spec",
}
SPEC_HELP = (
    "use constitutional, constitutional:/path/to/classifiers, llamaguard:MODEL_SPEC "
    "(MODEL_SPEC: an OpenAI-compatible endpoint, hf:…, gguf:…) or cascade:FIRST,SECOND"
)
_registered: dict[str, GuardFactory] = {}


def register_guard(scheme: str, factory: GuardFactory) -> None:
    """Serve `scheme` and `scheme:ARGUMENT` guard specs with `factory`."""
    if not scheme or ":" in scheme:
        raise ConfigError(f"guard scheme {scheme!r} must be a non-empty name without ':'")
    _registered[scheme] = factory


@functools.cache
def _plugins() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def guard_schemes() -> list[str]:
    return sorted({*BUILT_IN, *_plugins(), *_registered})


def _factory(scheme: str) -> GuardFactory | None:
    if scheme in _registered:
        return _registered[scheme]
    target = BUILT_IN.get(scheme) or _plugins().get(scheme)
    if target is None:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def load_guard_model(spec: str | None = None, settings: Settings | None = None) -> GuardModel:
    """The guard model a spec names; `None` means the shipped constitutional classifiers."""
    spec = (spec or DEFAULT_SPEC).strip()
    scheme, _, argument = spec.partition(":")
    factory = _factory(scheme)
    if factory is None:
        raise ConfigError(f"unknown guard spec {spec!r}: {SPEC_HELP}")
    model = factory(spec, argument, settings or load_settings())
    if not isinstance(model, GuardModel):
        raise ConfigError(f"guard spec {spec!r} built {type(model).__name__}, not a GuardModel")
    return model
