"""`constitutional[:DIR]`: the constitutional classifiers (shipped, or trained into DIR) as a
guard model: the input classifier with its second stage, the streaming output classifier, and
the finished-exchange check with the exchange reader."""

from __future__ import annotations

from collections.abc import Sequence

from refusalkit.backends.base import Message
from refusalkit.classifiers.constitutional import ConstitutionalClassifiers, StreamScorer
from refusalkit.classifiers.exchange import ExchangeCheck
from refusalkit.config import Settings
from refusalkit.constitution.schema import CHECK_FAILED_REFUSAL
from refusalkit.verdict import Verdict


class ConstitutionalGuard:
    name = "constitutional"

    def __init__(self, classifiers: ConstitutionalClassifiers) -> None:
        self.classifiers = classifiers
        self.check_every = classifiers.artifacts.meta.check_every
        self.exchange = ExchangeCheck(classifiers)

    def check_input(self, messages: Sequence[Message] | str) -> Verdict:
        return self.classifiers.check_input(messages)

    def stream_check(self, messages: Sequence[Message] | str) -> StreamScorer:
        return self.classifiers.stream_scorer(messages)

    def check_output(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return self.classifiers.check_output(messages, response)

    def check_exchange(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return self.exchange.check(messages, response)

    def check_with_content(
        self, messages: Sequence[Message] | str, response: str
    ) -> tuple[Verdict, Verdict]:
        """The exchange's verdict and the content's, from one pass of the output classifier."""
        return self.exchange.check_with_content(messages, response)

    def compare_input_windows(self, text: str, runs: int) -> tuple[list[float], list[float]]:
        """Input-check latencies (ms) as shipped (windows side by side) and with the windows
        one after another, interleaved call by call so both see the same machine."""
        sessions = self.classifiers.encoder.sessions
        shipped, baseline = [], []
        try:
            for _ in range(runs):
                sessions.side_by_side = True
                shipped.append(self.classifiers.check_input(text).latency_ms)
                sessions.side_by_side = False
                baseline.append(self.classifiers.check_input(text).latency_ms)
        finally:
            sessions.side_by_side = True
        return shipped, baseline

    def refusal_message(self, category: str | None) -> str:
        if category is None:
            return CHECK_FAILED_REFUSAL
        return self.classifiers.artifacts.constitution.refusal_for(category)

    @property
    def constitution(self):
        return self.classifiers.artifacts.constitution

    def set_thresholds(self, thresholds: dict[str, float]) -> None:
        """Per-category thresholds for both classifiers (the second stage then leaves those
        categories to them)."""
        calibration = self.classifiers.artifacts.calibration
        for category, value in thresholds.items():
            calibration.input.per_category[category] = value
            calibration.output.per_category[category] = value

    def warm(self) -> None:
        """The second stage's graph, which the first input in its band would otherwise build
        past a server's classifier timeout. The exchange reader stays lazy: only finished
        exchanges (`/v1/classify` with a response) read it."""
        if self.classifiers.second_stage is not None:
            self.classifiers.second_stage.warm()


def from_spec(spec: str, argument: str, settings: Settings) -> ConstitutionalGuard:
    """`constitutional` (the shipped classifiers) or `constitutional:DIR`."""
    return ConstitutionalGuard(ConstitutionalClassifiers.load(argument or None))
