"""Guard spec → guard model. A spec is `SCHEME` or `SCHEME:ARGUMENT`, as for backends.

Built-in schemes are listed by import path, so a model's libraries load only when a spec asks
for it. Other packages add schemes through the `refusalkit.guards` entry-point group (a factory
`(spec, argument, settings) -> GuardModel`) or at run time with `register_guard`.
"""

from __future__ import annotations

from collections.abc import Callable

from refusalkit.config import Settings, load_settings
from refusalkit.errors import ConfigError
from refusalkit.guard.model import GuardModel
from refusalkit.schemes import SchemeRegistry

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
_REGISTRY: SchemeRegistry[GuardFactory] = SchemeRegistry("guard", ENTRY_POINT_GROUP, BUILT_IN)


def register_guard(scheme: str, factory: GuardFactory) -> None:
    """Serve `scheme` and `scheme:ARGUMENT` guard specs with `factory`."""
    _REGISTRY.register(scheme, factory)


def guard_schemes() -> list[str]:
    return _REGISTRY.schemes()


def load_guard_model(spec: str | None = None, settings: Settings | None = None) -> GuardModel:
    """The guard model a spec names; `None` means the shipped constitutional classifiers."""
    spec = (spec or DEFAULT_SPEC).strip()
    scheme, _, argument = spec.partition(":")
    factory = _REGISTRY.factory(scheme)
    if factory is None:
        raise ConfigError(f"unknown guard spec {spec!r}: {SPEC_HELP}")
    model = factory(spec, argument, settings or load_settings())
    if not isinstance(model, GuardModel):
        raise ConfigError(f"guard spec {spec!r} built {type(model).__name__}, not a GuardModel")
    return model
