"""One configuration scheme: `refusalkit.toml`, overridden by `REFUSALKIT_*` environment variables.

The file is `$REFUSALKIT_CONFIG` when set, else `./refusalkit.toml` when present. Nested tables map
to `__` in variable names, e.g. `REFUSALKIT_ENDPOINTS__LOCAL__URL`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from refusalkit.errors import ConfigError

CONFIG_FILE_NAME = "refusalkit.toml"
# llama.cpp's weight repacking (extra buffer types): backends/llama_cpu.py decides `auto`.
ExtraBuffers = Literal["auto", "on", "off"]


class EndpointConfig(BaseModel):
    """A named OpenAI-compatible endpoint, usable as a model spec by its name."""

    url: str = Field(description="Base URL, e.g. http://localhost:8000/v1")
    model: str | None = Field(default=None, description="Model id; the first listed when unset")
    api_key: str | None = Field(default=None, description="Key sent as Bearer token")
    api_key_env: str | None = Field(default=None, description="Variable that holds the key")

    def resolved_api_key(self) -> str | None:
        if self.api_key:
            return self.api_key
        if self.api_key_env:
            return os.environ.get(self.api_key_env)
        return None


class ServerConfig(BaseModel):
    """`[server]` in refusalkit.toml: the guard server's limits, keys and decision log."""

    api_keys: list[str] = Field(
        default_factory=list, description="Bearer keys; REFUSALKIT_API_KEYS (comma-separated) wins"
    )
    policy_keys: list[str] = Field(
        default_factory=list,
        description="Keys allowed per-request policy (guard action, refusal_thresholds); "
        "REFUSALKIT_POLICY_KEYS wins",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Larger bodies get 413")
    max_tokens: int = Field(default=1024, ge=1, description="Most tokens a request may ask for")
    default_max_tokens: int = Field(default=256, ge=1, description="When a request sets none")
    request_timeout_s: float = Field(default=300.0, gt=0, description="Whole-request limit")
    classifier_timeout_s: float = Field(
        default=10.0, gt=0, description="A slower classifier call counts as a failure"
    )
    fail_closed: bool = Field(default=True, description="Block when a classifier fails")
    action: Literal["block", "flag"] = Field(default="block", description="Guard action")
    max_batch: int = Field(default=256, ge=1, description="Items per /v1/classify or /v1/audit")
    decision_log: str | None = Field(
        default=None,
        description="Decision log database: sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB "
        "(replicas share one); default: log_path",
    )
    log_path: Path | None = Field(
        default=None, description="SQLite decision log file; default CACHE_DIR/decisions.sqlite3"
    )
    log_prompts: bool = Field(default=False, description="Store prompt text in the log")
    log_retention_days: float = Field(default=30.0, gt=0, description="Older rows are deleted")
    log_max_rows: int = Field(default=1_000_000, ge=1, description="Oldest rows beyond are deleted")


class Settings(BaseSettings):
    """Every setting, with its default. See docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="REFUSALKIT_", env_nested_delimiter="__", extra="forbid"
    )

    model: str = Field(default="embedded", description="Default model spec for generation")
    cache_dir: Path = Field(
        default_factory=lambda: platformdirs.user_cache_path("refusalkit"),
        description="Where converted weights and other caches live",
    )
    api_key: str | None = Field(
        default=None, description="Key for http(s) endpoints (falls back to OPENAI_API_KEY)"
    )
    timeout_s: float = Field(default=60.0, gt=0, description="HTTP read timeout per request")
    connect_timeout_s: float = Field(default=5.0, gt=0, description="HTTP connect timeout")
    max_retries: int = Field(default=2, ge=0, le=10, description="Retries on connection/5xx/429")
    n_ctx: int = Field(default=4096, ge=256, description="Context length for llama.cpp models")
    n_threads: int | None = Field(default=None, ge=1, description="llama.cpp threads (all cores)")
    llama_extra_buffers: ExtraBuffers = Field(
        default="auto",
        description="llama.cpp weight repacking (extra buffer types); auto: off where AMX is seen",
    )
    device: str | None = Field(default=None, description="Torch device for hf: models (auto)")
    endpoints: dict[str, EndpointConfig] = Field(default_factory=dict)
    server: ServerConfig = Field(default_factory=ServerConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init kwargs; environment variables must win over them.
        return (env_settings, init_settings)


def config_file_path() -> Path | None:
    explicit = os.environ.get("REFUSALKIT_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"REFUSALKIT_CONFIG points to {path}, which is not a file")
        return path
    local = Path.cwd() / CONFIG_FILE_NAME
    return local if local.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_settings(**overrides: Any) -> Settings:
    """Settings from the config file, then the environment, then explicit overrides."""
    path = config_file_path()
    file_values = _read_toml(path) if path else {}
    source = str(path) if path else "REFUSALKIT_* environment"
    try:
        settings = Settings(**file_values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(
            f"{source}: {where}: {first['msg']} (see docs/configuration.md)"
        ) from None
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
