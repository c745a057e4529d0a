"""A finished exchange (request + whole answer), judged as a harmful exchange or not.

The output classifier reads content: it stops harmful text whatever the request looked like, but
it misses answers that carry out a harmful request in plain words. A finished exchange is also
harmful when the input classifier flags the request and the exchange reader (the request read
with its answer, classifiers/exchange_reader.py) scores the pair at or above its threshold. An
answer to a look-alike request the input classifier flagged (how to kill a Python process) or a
refusal passes the reader. Each model keeps its own shipped operating point. Classifiers trained
without a reader are judged on content alone. The streaming guard does not need this rule: it
never generates an answer to a flagged request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from refusalkit.backends.base import Message
from refusalkit.classifiers.constitutional import ConstitutionalClassifiers, Verdict

ANSWERED_STAGE = "exchange"  # Verdict.stage when a flagged request was carried out


class ExchangeCheck:
    def __init__(self, classifiers: ConstitutionalClassifiers) -> None:
        self.classifiers = classifiers

    def check(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        started = time.perf_counter()
        content = self.classifiers.check_output(messages, response)
        reader = self.classifiers.exchange_reader
        if content.flagged or reader is None:
            return content
        request = self.classifiers.check_input(messages)
        if request.flagged:
            prompt = messages if isinstance(messages, str) else _last_user(messages)
            score = reader.score(prompt, response)
            if score >= reader.threshold:
                return Verdict(
                    ANSWERED_STAGE,
                    True,
                    score,
                    request.category,
                    reader.threshold,
                    (time.perf_counter() - started) * 1000,
                    request.second_stage,
                )
        content.latency_ms = (time.perf_counter() - started) * 1000
        return content


def _last_user(messages: Sequence[Message]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


__all__ = ["ANSWERED_STAGE", "ExchangeCheck"]
