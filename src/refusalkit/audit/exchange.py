"""A finished exchange (request + whole answer), judged as a harmful exchange or not.

The output classifier reads content: it stops harmful text whatever the request looked like, but
it misses answers that carry out a harmful request in plain words. A finished exchange is also
harmful when the input classifier flags the request and the refusal audit reads the answer as
compliance and the output classifier scores it at least `calibration.exchange_gate` (the score
90% of harmful validation answers reach): an answer to a look-alike request the input
classifier flagged (how to kill a Python process) is compliance but not harmful content. Each
model keeps its own shipped operating point.
The streaming guard does not need this rule: it never generates an answer to a flagged request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from refusalkit.audit.classifier import RefusalClassifier
from refusalkit.backends.base import Message
from refusalkit.classifiers.constitutional import ConstitutionalClassifiers, Verdict

ANSWERED_STAGE = "exchange"  # Verdict.stage when a flagged request was answered


class ExchangeCheck:
    def __init__(
        self, classifiers: ConstitutionalClassifiers, audit: RefusalClassifier | None = None
    ) -> None:
        self.classifiers = classifiers
        self._audit = audit

    @property
    def audit(self) -> RefusalClassifier:
        if self._audit is None:  # loaded on first use: a file of prompts alone never needs it
            self._audit = RefusalClassifier()
        return self._audit

    def check(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        started = time.perf_counter()
        content = self.classifiers.check_output(messages, response)
        if content.flagged:
            return content
        request = self.classifiers.check_input(messages)
        gate = self.classifiers.artifacts.calibration.exchange_gate
        if request.flagged and content.score >= gate:
            prompt = messages if isinstance(messages, str) else _last_user(messages)
            answer = self.audit.classify([prompt], [response])[0]
            if answer.refusal_level == "compliance":
                return Verdict(
                    ANSWERED_STAGE,
                    True,
                    request.score,
                    request.category,
                    request.threshold,
                    (time.perf_counter() - started) * 1000,
                    request.second_stage,
                )
        content.latency_ms = (time.perf_counter() - started) * 1000
        return content


def _last_user(messages: Sequence[Message]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


__all__ = ["ANSWERED_STAGE", "ExchangeCheck"]
