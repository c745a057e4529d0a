"""The input classifier and the streaming exchange (output) classifier."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from refusalkit.backends.base import Message
from refusalkit.classifiers.artifacts import Artifacts
from refusalkit.classifiers.exchange_reader.reader import ExchangeReader
from refusalkit.classifiers.first_stage.encoder import (
    InputWindows,
    TextEncoder,
    exchange_features,
    input_view_windows,
    input_windows,
    prompt_window,
    stream_windows,
)
from refusalkit.classifiers.second_stage.reader import SecondStage
from refusalkit.errors import InvalidInputError
from refusalkit.verdict import Verdict

MAX_INPUT_CHARS = 200_000  # about 50k tokens: beyond this a request is refused as malformed


def render_conversation(messages: Sequence[Message]) -> str:
    """All turns, as the input classifier reads them (the same shape as multi-turn data)."""
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    return "\n".join(
        f"{m['role'].capitalize()}: {m['content']}" for m in messages if m["content"].strip()
    )


def _check_text(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise InvalidInputError(f"{what} must be text")
    if not text.strip():
        raise InvalidInputError(f"{what} is empty")
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidInputError(
            f"{what} has {len(text):,} characters; the limit is {MAX_INPUT_CHARS:,}"
        )
    return text


@dataclass
class FirstStageReading:
    score: float  # P(restricted) of the worst window
    category: str | None
    windows: InputWindows = field(repr=False)
    worst: int  # index of the worst window
    encoder: TextEncoder = field(repr=False)

    @property
    def view(self) -> str:
        """The de-obfuscated view (normalize.views) the worst window was cut from."""
        return self.windows.views[self.windows.view_of[self.worst]]

    @property
    def cut(self) -> bool:
        """The worst window is one of several cut from its view."""
        return self.windows.is_cut(self.worst)

    @cached_property
    def passage(self) -> str:
        """What the second stage reads: the view, or the worst window's own text where the
        view is longer than one window (made only when read: it tokenises the view again)."""
        return self.windows.passage(self.encoder, self.worst)


class ConstitutionalClassifiers:
    """Both classifiers over one shared encoder."""

    def __init__(self, artifacts: Artifacts, encoder: TextEncoder | None = None) -> None:
        self.artifacts = artifacts
        self.encoder = encoder or TextEncoder(adapter=artifacts.adapter_path)
        self.second_stage = SecondStage.load(artifacts.directory)
        self.exchange_reader = ExchangeReader.load(artifacts.directory)
        meta = artifacts.meta
        self._in_restricted = [artifacts.input_head.classes.index(c) for c in meta.restricted]
        out_classes = artifacts.output_head.classes
        self._out_harmless = out_classes.index("harmless")
        self._out_restricted = [out_classes.index(c) for c in meta.restricted]

    @classmethod
    def load(cls, directory=None, encoder: TextEncoder | None = None) -> ConstitutionalClassifiers:
        return cls(Artifacts.load(directory), encoder)

    @property
    def restricted(self) -> list[str]:
        return self.artifacts.meta.restricted

    # -- input -----------------------------------------------------------------------------
    def input_windows(self, text: str) -> list[list[int]]:
        return input_windows(self.encoder, text, self.artifacts.meta.input_window)

    def first_stage(self, features: np.ndarray) -> tuple[float, str | None, int]:
        """P(restricted) of the worst window, its category and the window's index."""
        probs = self.artifacts.input_head.probabilities(features)
        harmful = probs[:, self._in_restricted]
        totals = harmful.sum(axis=1)
        worst = int(totals.argmax())
        category = self.restricted[int(harmful[worst].argmax())]
        return float(totals[worst]), category, worst

    def input_features(self, text: str) -> np.ndarray:
        _check_text(text, "the input")
        return self.encoder.embed_ids(self.input_windows(text))

    def read_input(self, text: str) -> FirstStageReading:
        """The first stage's reading of every view of `text`, with the worst window's view."""
        _check_text(text, "the input")
        cut = input_view_windows(self.encoder, text, self.artifacts.meta.input_window)
        score, category, worst = self.first_stage(self.encoder.embed_ids(cut.windows))
        return FirstStageReading(score, category, cut, worst, self.encoder)

    def score_input(self, text: str) -> tuple[float, str | None]:
        """The first stage's score (calibration and training read it)."""
        reading = self.read_input(text)
        return reading.score, reading.category

    def check_input(self, messages: Sequence[Message] | str) -> Verdict:
        started = time.perf_counter()
        text = messages if isinstance(messages, str) else render_conversation(messages)
        reading = self.read_input(text)
        score, category = reading.score, reading.category
        threshold = self.artifacts.calibration.input.for_category(category)
        second = self.second_stage
        # a per-category threshold set by the user is the decision: no second stage for it
        overridden = category in self.artifacts.calibration.input.per_category
        decided_later = False
        # the second stage reads what the first stage found worst: a decoded payload, not
        # the base64 around it; in a long input, the worst window (where its band says so)
        if (
            second is not None
            and not overridden
            and second.decides(score, reading.view, reading.cut)
        ):
            decided_later = True
            score, threshold = second.score(reading.passage), second.band.threshold
        return Verdict(
            "input",
            score >= threshold,
            score,
            category,
            threshold,
            (time.perf_counter() - started) * 1000,
            decided_later,
        )

    # -- output ----------------------------------------------------------------------------
    def prompt_features(self, prompt: str) -> np.ndarray:
        """The prompt's last window: the exchange context every response window is read in."""
        size = self.artifacts.meta.input_window.size
        return self.encoder.embed_ids([prompt_window(self.encoder, prompt, size)])[0]

    def response_window(self, response: str) -> list[int]:
        """The last window of the response; only a bounded tail is tokenised."""
        size = self.artifacts.meta.output_window.size
        tail = response[-size * 12 :]  # a word piece is rarely over 12 characters
        return self.encoder.token_ids(tail)[-size:]

    def score_exchange_features(
        self, prompt_vector: np.ndarray, window_vectors: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        features = exchange_features(
            prompt_vector, window_vectors, self.artifacts.meta.exchange_product
        )
        probs = self.artifacts.output_head.probabilities(features)
        return 1.0 - probs[:, self._out_harmless], probs[:, self._out_restricted]

    def stream_scorer(self, messages: Sequence[Message] | str) -> StreamScorer:
        prompt = messages if isinstance(messages, str) else render_conversation(messages)
        return StreamScorer(self, self.prompt_features(prompt))

    def check_output(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        """A whole response, scored as the stream would have been: windows every k tokens."""
        started = time.perf_counter()
        _check_text(response, "the response")
        scorer = self.stream_scorer(messages)
        meta = self.artifacts.meta
        ids = self.encoder.token_ids(response)
        scorer.observe_windows(stream_windows(ids, meta.check_every, meta.output_window.size))
        verdict = scorer.verdict()
        verdict.latency_ms = (time.perf_counter() - started) * 1000
        return verdict


@dataclass
class StreamScorer:
    """Scores a growing response; the score is the running maximum (once flagged, stays so)."""

    classifiers: ConstitutionalClassifiers
    prompt_vector: np.ndarray
    max_score: float = 0.0
    category: str | None = None
    checks: int = 0

    def observe_windows(self, windows: Sequence[Sequence[int]]) -> None:
        vectors = self.classifiers.encoder.embed_ids(windows)
        harmful, per_category = self.classifiers.score_exchange_features(
            self.prompt_vector, vectors
        )
        for score, categories in zip(harmful, per_category, strict=True):
            self.checks += 1
            if score > self.max_score:
                self.max_score = float(score)
                self.category = self.classifiers.restricted[int(categories.argmax())]

    def observe(self, response_so_far: str) -> Verdict:
        self.observe_windows([self.classifiers.response_window(response_so_far)])
        return self.verdict()

    def verdict(self) -> Verdict:
        threshold = self.classifiers.artifacts.calibration.output.for_category(self.category)
        return Verdict(
            "output", self.max_score >= threshold, self.max_score, self.category, threshold
        )
