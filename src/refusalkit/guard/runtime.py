"""Guard runtime.

No text reaches the caller before the output classifier has read it: deltas wait in a buffer
until the next check (every `check_every` tokens, and at the end). On a flag the upstream
generation is cancelled at once and the constitution's refusal message takes the buffer's place.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from refusalkit.backends.base import (
    Backend,
    GenerationParams,
    Message,
    TextStream,
    validate_messages,
)
from refusalkit.errors import ConfigError
from refusalkit.guard.model import GuardModel, StreamCheck
from refusalkit.verdict import Verdict

log = logging.getLogger("refusalkit.guard")
Action = Literal["block", "flag"]
T = TypeVar("T")


def _error_verdict(stage: str, exc: Exception) -> Verdict:
    log.error("%s classifier failed, treating the request as flagged: %s", stage, exc)
    return Verdict(stage, True, math.nan, None, math.nan)


@dataclass
class GuardedStream(Iterator[str]):
    """Checked text deltas. After iteration: `blocked`, `stage`, `verdicts`, `finish_reason`."""

    guard: Guard
    backend: Backend
    messages: list[Message]
    params: GenerationParams | None
    action: Action | None = None  # None: the guard's own
    blocked: bool = False
    flagged: bool = False
    stage: str | None = None
    category: str | None = None
    refusal: str | None = None
    finish_reason: str | None = None
    classifier_error: bool = False
    verdicts: list[Verdict] = field(default_factory=list)
    released: str = ""
    generated: str = ""
    upstream_tokens: int = 0

    def __post_init__(self) -> None:
        self.action = self.action or self.guard.action
        self._cancelled = threading.Event()
        self._upstream: TextStream | None = None
        self._iterator = self._run()

    def cancel(self) -> None:
        """Stop now (client gone, deadline passed); safe from any thread."""
        self._cancelled.set()
        if self.finish_reason is None:
            self.finish_reason = "cancelled"
        if self._upstream is not None:
            self._upstream.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def upstream(self) -> TextStream | None:
        """The backend's stream, once generation has started."""
        return self._upstream

    def __iter__(self) -> GuardedStream:
        return self

    def __next__(self) -> str:
        return next(self._iterator)

    def text(self) -> str:
        return "".join(self)

    def _stop(self, verdict: Verdict, stage: str) -> str:
        self.blocked = True
        self.stage = stage
        self.category = verdict.category
        self.finish_reason = "content_filter"
        self.refusal = self.guard.refusal_message(verdict.category)
        return self.refusal

    def _run(self) -> Iterator[str]:
        guard = self.guard
        verdict = guard._safe_input(self.messages)
        self.verdicts.append(verdict)
        if verdict.flagged:
            self.flagged = True
            self.classifier_error |= math.isnan(verdict.score)
            if self.action == "block":
                yield self._stop(verdict, "input")
                return
        if self.cancelled:
            return
        try:
            scorer: StreamCheck | None = guard.call_classifier(
                guard.model.stream_check, self.messages
            )
        except Exception as exc:  # noqa: BLE001 - fail closed on any classifier failure
            scorer = None
            error = _error_verdict("output", exc)
            if guard.fail_closed:
                self.verdicts.append(error)
                self.classifier_error = True
                yield self._stop(error, "output")
                return
        upstream = self._upstream = self.backend.stream(self.messages, self.params)
        if self.cancelled:
            upstream.cancel()
        pending: list[str] = []
        unchecked = 0
        try:
            for delta in upstream:
                self.generated += delta
                self.upstream_tokens += 1
                pending.append(delta)
                unchecked += 1
                if unchecked < guard.check_every:
                    continue
                unchecked = 0
                verdict = guard._safe_observe(scorer, self.generated)
                self.verdicts.append(verdict)
                if verdict.flagged and self._flag(verdict):
                    upstream.cancel()
                    yield self._stop(verdict, "output")
                    return
                released = "".join(pending)
                pending.clear()
                self.released += released
                yield released
            if self.cancelled:
                return
            if pending:
                verdict = guard._safe_observe(scorer, self.generated)
                self.verdicts.append(verdict)
                if verdict.flagged and self._flag(verdict):
                    yield self._stop(verdict, "output")
                    return
                released = "".join(pending)
                self.released += released
                yield released
            self.finish_reason = upstream.finish_reason or "stop"
        finally:
            upstream.cancel()

    def _flag(self, verdict: Verdict) -> bool:
        """Record a flag; True when it must stop the stream."""
        self.flagged = True
        self.category = verdict.category
        self.classifier_error |= math.isnan(verdict.score)
        return self.action == "block"


def _is_folder_not_spec(text: str) -> bool:
    """A classifiers folder given as text; a known scheme (`constitutional`, …) is a spec even
    where a folder of that name happens to exist."""
    from refusalkit.guard.registry import guard_schemes

    return text.partition(":")[0] not in guard_schemes() and Path(text).expanduser().is_dir()


class Guard:
    """The streaming guard around any backend, checked by any guard model (guard/model.py)."""

    def __init__(
        self,
        model: GuardModel,
        action: Action = "block",
        fail_closed: bool = True,
        check_every: int | None = None,
        classifier_timeout_s: float | None = None,
    ) -> None:
        if action not in ("block", "flag"):
            raise ValueError(f"action must be 'block' or 'flag', not {action!r}")
        self.model = model
        self.action = action
        self.fail_closed = fail_closed
        self.check_every = check_every or model.check_every
        self.classifier_timeout_s = classifier_timeout_s
        # One thread runs every classifier call: concurrent streams take turns (the encoder's
        # tokenizer is not thread-safe, and two ONNX runs at once only split two cores), and a
        # call that hangs is abandoned at the timeout instead of holding its stream.
        self._classifier_thread = ThreadPoolExecutor(1, thread_name_prefix="guard-classifier")

    def call_classifier(self, function: Callable[..., T], *args: object) -> T:
        future = self._classifier_thread.submit(function, *args)
        try:
            return future.result(timeout=self.classifier_timeout_s)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(
                f"classifier took longer than {self.classifier_timeout_s} s"
            ) from None

    @classmethod
    def load(
        cls,
        spec: Path | str | None = None,
        action: Action = "block",
        fail_closed: bool = True,
        thresholds: dict[str, float] | None = None,
        classifier_timeout_s: float | None = None,
    ) -> Guard:
        """The guard model `spec` names (guard/registry.py); a folder means the constitutional
        classifiers trained into it, None the shipped ones. `thresholds` overrides per category."""
        from refusalkit.guard.registry import load_guard_model

        if isinstance(spec, Path) or (spec and _is_folder_not_spec(spec)):
            spec = f"constitutional:{spec}"
        model = load_guard_model(spec)
        if thresholds:
            set_thresholds = getattr(model, "set_thresholds", None)
            if set_thresholds is None:
                raise ConfigError(
                    f"guard model {model.name!r} takes no per-category thresholds; "
                    "they apply to the constitutional classifiers"
                )
            set_thresholds(thresholds)
        return cls(
            model,
            action=action,
            fail_closed=fail_closed,
            classifier_timeout_s=classifier_timeout_s,
        )

    @property
    def constitution(self):
        """The constitution behind the guard model, where it has one (None for a judge)."""
        return getattr(self.model, "constitution", None)

    def refusal_message(self, category: str | None) -> str:
        return self.model.refusal_message(category)

    def check_input(self, messages: Sequence[Message] | str) -> Verdict:
        return self.call_classifier(self.model.check_input, messages)

    def check_output(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return self.call_classifier(self.model.check_output, messages, response)

    def check_exchange(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return self.call_classifier(self.model.check_exchange, messages, response)

    def _safe_input(self, messages: Sequence[Message]) -> Verdict:
        try:
            return self.check_input(messages)
        except Exception as exc:  # noqa: BLE001 - fail closed on any classifier failure
            verdict = _error_verdict("input", exc)
            if not self.fail_closed:
                verdict.flagged = False
            return verdict

    def _safe_observe(self, scorer: StreamCheck | None, response: str) -> Verdict:
        try:
            if scorer is None:
                raise RuntimeError("no stream scorer")
            return self.call_classifier(scorer.observe, response)
        except Exception as exc:  # noqa: BLE001 - fail closed on any classifier failure
            verdict = _error_verdict("output", exc)
            if not self.fail_closed:
                verdict.flagged = False
            return verdict

    def stream(
        self,
        backend: Backend,
        messages: Sequence[Message],
        params: GenerationParams | None = None,
        action: Action | None = None,
    ) -> GuardedStream:
        """`action` overrides the guard's own for this exchange."""
        if action not in (None, "block", "flag"):
            raise ValueError(f"action must be 'block' or 'flag', not {action!r}")
        return GuardedStream(self, backend, validate_messages(messages), params, action)

    def chat(
        self,
        backend: Backend,
        messages: Sequence[Message],
        params: GenerationParams | None = None,
        action: Action | None = None,
    ) -> GuardedStream:
        """Run a guarded exchange to the end; the returned stream holds text and verdicts."""
        stream = self.stream(backend, messages, params, action)
        for _ in stream:
            pass
        return stream
