"""`SCHEME[:ARGUMENT]` specs → factories: what the backend and guard-model registries share.

Built-in schemes are listed by import path, so a factory's heavy library loads only when a spec
asks for it; installed packages add schemes through an entry-point group; `register` adds one
at run time (and wins over the others).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from refusalkit.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


class SchemeRegistry(Generic[F]):
    def __init__(self, kind: str, entry_point_group: str, built_in: dict[str, str]) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.built_in = built_in
        self.registered: dict[str, F] = {}

    def register(self, scheme: str, factory: F) -> None:
        """Serve `scheme` and `scheme:ARGUMENT` specs with `factory` (replaces any earlier)."""
        if not scheme or ":" in scheme:
            raise ConfigError(f"{self.kind} scheme {scheme!r} must be a non-empty name without ':'")
        self.registered[scheme] = factory

    @functools.cached_property
    def plugins(self) -> dict[str, str]:
        return {ep.name: ep.value for ep in entry_points(group=self.entry_point_group)}

    def schemes(self) -> list[str]:
        """Every scheme a spec may start with, built-in, installed or registered."""
        return sorted({*self.built_in, *self.plugins, *self.registered})

    def factory(self, scheme: str) -> F | None:
        if scheme in self.registered:
            return self.registered[scheme]
        target = self.built_in.get(scheme) or self.plugins.get(scheme)
        if target is None:
            return None
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)
