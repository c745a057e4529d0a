"""Building the server from settings, and running it under uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

from refusalkit.backends import load_backend
from refusalkit.config import ServerConfig, Settings, load_settings
from refusalkit.guard import Guard
from refusalkit.server.app import create_app
from refusalkit.server.decision_log import DecisionLog
from refusalkit.server.middleware import BodyLimitAndLog
from refusalkit.server.state import ServerState


def _keys(variable: str, configured: list[str]) -> frozenset[str]:
    raw = os.environ.get(variable)
    keys = raw.split(",") if raw is not None else configured
    return frozenset(key.strip() for key in keys if key.strip())


def build_state(
    upstream: str | None = None,
    guard_spec: Path | str | None = None,
    audit_classifier: Path | None = None,
    settings: Settings | None = None,
    backend=None,
    guard=None,
) -> ServerState:
    """What the app serves; `backend` and `guard` may come ready-made (tests, embedding).
    `guard_spec`: a guard model spec (guard/registry.py) or a classifiers folder."""
    settings = settings or load_settings()
    config: ServerConfig = settings.server
    if backend is None:
        backend = load_backend(upstream, settings)
    if guard is None:
        guard = Guard.load(
            guard_spec,
            action=config.action,
            fail_closed=config.fail_closed,
            classifier_timeout_s=config.classifier_timeout_s,
        )
        # the first check would otherwise pay the model's load (a graph's build) past the timeout
        guard.model.warm()
    log = config.decision_log or config.log_path or settings.cache_dir / "decisions.sqlite3"
    decisions = DecisionLog(log, config.log_prompts, config.log_retention_days, config.log_max_rows)
    return ServerState(
        config=config,
        backend=backend,
        guard=guard,
        decisions=decisions,
        api_keys=_keys("REFUSALKIT_API_KEYS", config.api_keys),
        policy_keys=_keys("REFUSALKIT_POLICY_KEYS", config.policy_keys),
        audit_dir=audit_classifier,
    )


def asgi_app(state: ServerState):
    return BodyLimitAndLog(create_app(state), state)


def run(state: ServerState, host: str, port: int, log_level: str = "info") -> None:
    import uvicorn

    try:
        uvicorn.run(asgi_app(state), host=host, port=port, log_level=log_level)
    finally:
        state.decisions.close()
        state.backend.close()
