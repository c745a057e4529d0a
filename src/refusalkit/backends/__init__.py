"""Generation backends behind one interface, chosen by a model spec string.

Specs: `embedded` (SmolLM2-135M-Instruct GGUF via llama.cpp), `gguf:/path/model.gguf`,
`steer[:/path/to/model-dir]` (the refusal-token model, shipped or trained),
`hf:/path/to/model` (transformers; `hf:embedded` is the converted embedded model),
`http(s)://host:port/v1[#model]` (any OpenAI-compatible endpoint), or the name of an
`[endpoints.NAME]` table in refusalkit.toml. `registry` maps a spec's scheme to its backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.backends.base import (
    Backend,
    GenerationParams,
    Message,
    TextStream,
    user_message,
    validate_messages,
)
from refusalkit.backends.registry import SPEC_HELP, factory_for, register_backend, split_spec
from refusalkit.config import Settings, load_settings
from refusalkit.errors import ConfigError
from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.backends.llamacpp import LlamaCppBackend as LlamaCppBackend

__all__ = [
    "SPEC_HELP",
    "Backend",
    "LlamaCppBackend",
    "GenerationParams",
    "Message",
    "TextStream",
    "load_backend",
    "register_backend",
    "user_message",
    "validate_messages",
]


def load_backend(spec: str | None = None, settings: Settings | None = None) -> Backend:
    """Build the backend a spec names; `None` means the configured default model."""
    settings = settings or load_settings()
    spec = (spec or settings.model).strip()
    if not spec:
        raise ConfigError(f"empty model spec: {SPEC_HELP}")
    scheme, argument = split_spec(spec)
    factory = factory_for(scheme)
    if factory is not None:
        return factory(spec, argument, settings)
    if spec in settings.endpoints:
        from refusalkit.backends.openai_http import from_endpoint  # loads openai only when used

        return from_endpoint(spec, settings)
    raise ConfigError(f"unknown model spec {spec!r}: {SPEC_HELP}")


# llama.cpp loads only when asked for.
__getattr__ = lazy_face(__name__, {"LlamaCppBackend": "refusalkit.backends.llamacpp"})
