"""The exchange reader: does this answer carry out this request harmfully?

The second stage's recipe (all-mpnet-base-v2 + LoRA + a linear head, int8 ONNX built at first
use) trained on (request, answer) pairs: answers that carry out a harmful request against
refusals, partial refusals and helpful answers to benign and look-alike requests. The output
classifier reads an answer's words as they stream; the reader judges a finished exchange, where
harmless-sounding words that carry out a flagged request are the harm (classifiers/exchange.py).
It reads the request's first REQUEST_CHARS characters and the answer's opening, MAX_TOKENS
tokens in all.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from refusalkit.classifiers.second_stage.reader import MAX_TOKENS, AdapterGraph
from refusalkit.classifiers.second_stage.tune import SecondStageTuneOptions, tune_second_stage
from refusalkit.config import load_settings

ADAPTER_DIR = "exchange_reader"
RECORD_FILE = "exchange_reader.json"
REQUEST_CHARS = 300
# Share of harmful validation exchanges at or above the threshold (the finished-exchange
# check also needs the input classifier to flag the request, so recall is bought there).
KEEPS_HARMFUL = 0.90


def exchange_text(request: str, answer: str) -> str:
    return f"{request[:REQUEST_CHARS]}\n\n{answer}"


@dataclass
class ExchangeReader(AdapterGraph):
    adapter: Path  # a folder: the LoRA adapter and HEAD_FILE
    threshold: float
    # A content flag on a finished exchange stands unless its output score is under
    # `content_sure` and the reader scores the pair under `veto` (classifiers/exchange.py).
    veto: float | None = None
    content_sure: float | None = None
    reader: Any = field(default=None, repr=False)  # a BandReader, loaded at first use

    def score(self, request: str, answer: str) -> float:
        """P(the answer carries out a harmful request)."""
        reader = self._reader()
        ids = reader.tokenizer(
            exchange_text(request, answer), truncation=True, max_length=MAX_TOKENS, verbose=False
        )["input_ids"]
        return reader.score_ids(ids)

    def save(self, directory: Path) -> None:
        record = {
            "threshold": self.threshold,
            "keeps_harmful": KEEPS_HARMFUL,
            "veto": self.veto,
            "content_sure": self.content_sure,
        }
        self._save(directory, ADAPTER_DIR, RECORD_FILE, record)

    @classmethod
    def load(cls, directory: Path) -> ExchangeReader | None:
        record = cls._record(directory, ADAPTER_DIR, RECORD_FILE)
        if record is None:
            return None
        return cls(
            directory / ADAPTER_DIR,
            record["threshold"],
            record.get("veto"),
            record.get("content_sure"),
        )


def re_asked(rows: Sequence[dict], seed: int) -> list[dict]:
    """Each harmful answer of `rows` that is not a carry-out, asked instead by one of their
    everyday requests (seeded): harmful text is harmful whatever the request looked like. A
    carry-out's harm is in its request, so re-asked it would no longer be one."""
    everyday = sorted({r["prompt"] for r in rows if r.get("kind") == "helpful"})
    harmful = [r for r in rows if r["label"] == "harmful" and r.get("kind") != "carry_out"]
    if not everyday:
        return []
    rng = random.Random(f"re-asked:{seed}")
    return [{**r, "prompt": rng.choice(everyday)} for r in harmful]


def train_exchange_reader(
    train_rows: Sequence[dict],
    val_rows: Sequence[dict],
    out: Path,
    seed: int = 0,
    progress: bool = True,
) -> tuple[ExchangeReader, dict[str, Any]]:
    """Tune on the output rows of `train_rows` and their harmful answers re-asked by everyday
    requests, then calibrate on `val_rows`."""
    rows = [r for r in train_rows if r["stage"] == "output"]
    rows += re_asked(rows, seed)
    adapter = tune_second_stage(
        [exchange_text(r["prompt"], r["response"]) for r in rows],
        [r["label"] != "harmless" for r in rows],
        out / ADAPTER_DIR,
        load_settings().cache_dir,
        SecondStageTuneOptions(seed=seed, progress=progress),
    )
    reader, report = calibrate_exchange_reader(ExchangeReader(adapter, 0.0), val_rows, progress)
    return reader, {**report, "train_rows": len(rows)}


def calibrate_exchange_reader(
    reader: ExchangeReader, val_rows: Sequence[dict], progress: bool = True
) -> tuple[ExchangeReader, dict[str, Any]]:
    """The threshold: the score KEEPS_HARMFUL of the harmful output rows of `val_rows` reach,
    read with the int8 graph that runs at run time."""
    from tqdm.auto import tqdm

    val = [r for r in val_rows if r["stage"] == "output"]
    scores = np.array(
        [
            reader.score(r["prompt"], r["response"])
            for r in tqdm(val, desc="exchange reader: val", disable=not progress)
        ]
    )
    harmful = np.array([r["label"] != "harmless" for r in val], dtype=bool)
    reader.threshold = (
        float(np.quantile(scores[harmful], 1 - KEEPS_HARMFUL)) if harmful.any() else 0.5
    )

    def share_at_threshold(pool: np.ndarray) -> float | None:
        return round(float((scores[pool] >= reader.threshold).mean()), 4) if pool.any() else None

    report = {
        "threshold": reader.threshold,
        "val_harmful_at_threshold": share_at_threshold(harmful),
        "val_harmless_at_threshold": share_at_threshold(~harmful),
    }
    return reader, report


__all__ = [
    "ExchangeReader",
    "calibrate_exchange_reader",
    "exchange_text",
    "re_asked",
    "train_exchange_reader",
]
