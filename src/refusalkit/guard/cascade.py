"""`cascade:FIRST,SECOND`: the second guard model decides only what the first leaves uncertain.

The first model's verdict stands when it is sure: flagged well above its threshold, or scored
far below it. In between (UNCERTAIN_BELOW of the threshold up to half-way from the threshold to
1) the second model decides, so a slow judge (Llama Guard on a GPU) reads a small share of
traffic and the fast classifiers read all of it. A judge that answers 0 or 1 is always sure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from refusalkit.backends.base import Message
from refusalkit.config import Settings
from refusalkit.errors import ConfigError
from refusalkit.guard.model import GuardModel, StreamCheck
from refusalkit.verdict import Verdict

# A first-model score from this share of its threshold upward is not sure enough to pass.
UNCERTAIN_BELOW = 0.1


def uncertain(verdict: Verdict) -> bool:
    """Whether a verdict's score is too close to its threshold to stand alone."""
    low = verdict.threshold * UNCERTAIN_BELOW
    high = verdict.threshold + (1.0 - verdict.threshold) / 2
    return low <= verdict.score < high


def _decided(first: Verdict, second: Verdict) -> Verdict:
    return replace(second, second_stage=True, latency_ms=first.latency_ms + second.latency_ms)


def _settle(first: Callable[..., Verdict], second: Callable[..., Verdict], *args: Any) -> Verdict:
    """The first check's verdict where it is sure, else the second's."""
    verdict = first(*args)
    return _decided(verdict, second(*args)) if uncertain(verdict) else verdict


@dataclass
class Cascade:
    first: GuardModel
    second: GuardModel
    name: str = field(init=False)
    check_every: int = field(init=False)  # the first model reads every window

    def __post_init__(self) -> None:
        self.name = f"cascade:{self.first.name},{self.second.name}"
        self.check_every = self.first.check_every

    def check_input(self, messages: Sequence[Message] | str) -> Verdict:
        return _settle(self.first.check_input, self.second.check_input, messages)

    def stream_check(self, messages: Sequence[Message] | str) -> CascadeStream:
        return CascadeStream(self.first.stream_check(messages), self.second.stream_check(messages))

    def check_output(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return _settle(self.first.check_output, self.second.check_output, messages, response)

    def check_exchange(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return _settle(self.first.check_exchange, self.second.check_exchange, messages, response)

    def refusal_message(self, category: str | None) -> str:
        """The first model's message for its own categories, else the second's."""
        try:
            return self.first.refusal_message(category)
        except KeyError:
            return self.second.refusal_message(category)

    def warm(self) -> None:
        self.first.warm()
        self.second.warm()


@dataclass
class CascadeStream:
    first: StreamCheck
    second: StreamCheck
    last: Verdict | None = None

    def observe(self, response_so_far: str) -> Verdict:
        if self.last is not None and self.last.flagged:  # once flagged, stays flagged
            return self.last
        verdict = self.first.observe(response_so_far)
        if uncertain(verdict):
            verdict = _decided(verdict, self.second.observe(response_so_far))
        self.last = verdict
        return verdict

    def verdict(self) -> Verdict:
        return self.last if self.last is not None else self.first.verdict()


def from_spec(spec: str, argument: str, settings: Settings) -> Cascade:
    from refusalkit.guard.registry import load_guard_model

    first, _, second = argument.partition(",")
    if not first.strip() or not second.strip():
        raise ConfigError(
            f"guard spec {spec!r} needs two models: cascade:FIRST,SECOND, e.g. "
            "cascade:constitutional,llamaguard:http://localhost:8000/v1#meta-llama/Llama-Guard-3-8B"
        )
    return Cascade(load_guard_model(first, settings), load_guard_model(second, settings))
