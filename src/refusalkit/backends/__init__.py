"""Generation backends behind one interface, chosen by a model spec string.

Specs: `embedded` (SmolLM2-135M-Instruct GGUF via llama.cpp), `gguf:/path/model.gguf`,
`steer[:/path/to/model-dir]` (the refusal-token model, shipped or trained),
`hf:/path/to/model` (transformers; `hf:embedded` is the converted embedded model),
`http(s)://host:port/v1[#model]` (any OpenAI-compatible endpoint), or the name of an
`[endpoints.NAME]` table in refusalkit.toml.
"""

from __future__ import annotations

import os
from pathlib import Path

from refusalkit.backends.base import (
    Backend,
    GenerationParams,
    Message,
    TextStream,
    user_message,
    validate_messages,
)
from refusalkit.config import Settings, load_settings
from refusalkit.errors import ConfigError

__all__ = [
    "Backend",
    "GenerationParams",
    "Message",
    "TextStream",
    "load_backend",
    "user_message",
    "validate_messages",
]

SPEC_HELP = (
    "use embedded, gguf:/path/model.gguf, hf:/path/to/model, hf:embedded, steer[:/path], "
    "http://host:port/v1[#model], or an [endpoints.NAME] from refusalkit.toml"
)


def load_backend(spec: str | None = None, settings: Settings | None = None) -> Backend:
    """Build the backend a spec names; `None` means the configured default model."""
    settings = settings or load_settings()
    spec = (spec or settings.model).strip()
    if not spec:
        raise ConfigError(f"empty model spec: {SPEC_HELP}")

    if spec == "embedded":
        from refusalkit.backends.llamacpp import LlamaCppBackend
        from refusalkit.models import embedded_gguf_path

        return LlamaCppBackend(
            embedded_gguf_path(), spec=spec, n_ctx=settings.n_ctx, n_threads=settings.n_threads
        )
    if spec.startswith("gguf:"):
        from refusalkit.backends.llamacpp import LlamaCppBackend

        path = _local_path(spec, "gguf:")
        return LlamaCppBackend(path, spec=spec, n_ctx=settings.n_ctx, n_threads=settings.n_threads)
    if spec.startswith("hf:"):
        from refusalkit.backends.transformers import TransformersBackend

        if spec == "hf:embedded":
            from refusalkit.models import embedded_hf_path

            path = embedded_hf_path(settings.cache_dir)
        else:
            path = _local_path(spec, "hf:")
        return TransformersBackend(path, spec=spec, device=settings.device)
    if spec == "steer" or spec.startswith("steer:"):
        from refusalkit.steer.backend import SteerBackend

        directory = _local_path(spec, "steer:") if spec.startswith("steer:") else None
        return SteerBackend(directory=directory, spec=spec)
    if spec.startswith(("http://", "https://")):
        url, _, model = spec.partition("#")
        return _openai(url, model or None, settings.api_key, spec, settings)
    if spec in settings.endpoints:
        endpoint = settings.endpoints[spec]
        return _openai(endpoint.url, endpoint.model, endpoint.resolved_api_key(), spec, settings)
    raise ConfigError(f"unknown model spec {spec!r}: {SPEC_HELP}")


def _local_path(spec: str, prefix: str) -> Path:
    raw = spec.removeprefix(prefix)
    if not raw:
        raise ConfigError(f"model spec {spec!r} names no path: {SPEC_HELP}")
    path = Path(raw).expanduser()
    if not path.exists():
        raise ConfigError(f"model spec {spec!r}: {path} does not exist")
    return path


def _openai(url: str, model: str | None, key: str | None, spec: str, settings: Settings) -> Backend:
    from refusalkit.backends.openai import OpenAIBackend

    return OpenAIBackend(
        url,
        model=model,
        api_key=key or settings.api_key or os.environ.get("OPENAI_API_KEY"),
        spec=spec,
        timeout_s=settings.timeout_s,
        connect_timeout_s=settings.connect_timeout_s,
        max_retries=settings.max_retries,
    )
