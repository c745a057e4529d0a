"""A guard model's answer about one request, stream window or finished exchange: the one type
every guard model (guard/model.py) returns, so the guard, the server and the benches read any
of them the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from refusalkit.hazards import hazards_of


@dataclass
class Verdict:
    stage: str
    flagged: bool
    score: float
    category: str | None
    threshold: float
    latency_ms: float = 0.0
    second_stage: bool = False  # the first stage could not decide; the second stage did
    # MLCommons hazard ids (S1-S14) of a flag: what a judge named, else the category's
    # (hazards.py); empty when nothing is flagged
    hazards: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.flagged and not self.hazards:
            self.hazards = hazards_of(self.category)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "flagged": self.flagged,
            "score": round(self.score, 6),
            "category": self.category,
            "threshold": round(self.threshold, 6),
            "latency_ms": round(self.latency_ms, 2),
            "second_stage": self.second_stage,
            **({"hazards": list(self.hazards)} if self.hazards else {}),
        }
