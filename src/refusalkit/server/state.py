"""What a running guard server holds: its backend, guard, decision log, keys and metrics."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refusalkit.audit.classifier import RefusalClassifier
from refusalkit.backends.base import Backend
from refusalkit.config import ServerConfig
from refusalkit.guard.runtime import Guard
from refusalkit.server.decision_log import DecisionLog
from refusalkit.server.metrics import ServerMetrics


@dataclass
class ServerState:
    config: ServerConfig
    backend: Backend
    guard: Guard
    decisions: DecisionLog
    api_keys: frozenset[str] = frozenset()
    policy_keys: frozenset[str] = frozenset()
    audit_dir: Path | None = None
    metrics: ServerMetrics = field(default_factory=ServerMetrics)
    _auditor: Any = None
    _audit_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def model_id(self) -> str:
        return self.backend.model_name

    def auditor(self) -> Any:
        with self._audit_lock:
            if self._auditor is None:
                self._auditor = RefusalClassifier(self.audit_dir)
            return self._auditor
