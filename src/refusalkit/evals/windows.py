"""Rows read as the shipped first stage reads an input: every window of every de-obfuscated
view (base64, rot13, reversed, leet, spaced-out letters decoded), a row's score its worst
window's. `refusalkit bench loso --windows` trains and judges each fold this way, so the
padding and encoding families are measured as the guard meets them, not by their first 128
tokens of raw text."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from refusalkit.config import load_settings
from refusalkit.errors import ConfigError
from refusalkit.evals.vector_cache import cached_vectors

WINDOWED_ENCODERS = ("tuned", "minilm")  # the first stage's own encoder, tuned or not
EMBED_CHUNK = 512


@dataclass(frozen=True)
class WindowedVectors:
    """Window vectors of a list of rows; `owner[i]` is window i's row, ascending, and every
    row has at least one window."""

    vectors: np.ndarray  # (windows, dim)
    owner: np.ndarray  # (windows,)
    starts: np.ndarray = field(init=False, repr=False)  # each row's first window

    def __post_init__(self) -> None:
        rows = int(self.owner[-1]) + 1 if len(self.owner) else 0
        starts = np.searchsorted(self.owner, np.arange(rows))
        if len(self.owner) and (np.diff(self.owner) < 0).any():
            raise ValueError("window owners must be ascending")
        object.__setattr__(self, "starts", starts)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __getitem__(self, rows: Sequence[int] | np.ndarray) -> WindowedVectors:
        """The windows of `rows`, in that order (row k of the result is rows[k])."""
        rows = np.asarray(rows, dtype=int)
        ends = np.append(self.starts[1:], len(self.owner))
        counts = ends[rows] - self.starts[rows]
        picked = [np.arange(s, s + n) for s, n in zip(self.starts[rows], counts, strict=True)]
        index = np.concatenate(picked) if picked else np.zeros(0, dtype=int)
        return WindowedVectors(self.vectors[index], np.repeat(np.arange(len(rows)), counts))

    def row_max(self, window_scores: np.ndarray) -> np.ndarray:
        """Each row's worst (highest) window score."""
        if not len(self.starts):
            return np.zeros(0)
        return np.maximum.reduceat(np.asarray(window_scores), self.starts)


def _key(ids: Sequence[int]) -> str:
    return hashlib.sha256(np.asarray(ids, dtype=np.int32).tobytes()).hexdigest()[:20]


def check_windowed(name: str) -> None:
    if name not in WINDOWED_ENCODERS:
        raise ConfigError(
            f"--windows reads the first stage's own encoder; choose --encoder "
            f"{' or '.join(WINDOWED_ENCODERS)}, not {name!r}"
        )


def windowed_features(
    texts: Sequence[str],
    adapter: Path | None,
    store_name: str,
    cache: Path | None = None,
    progress: bool = True,
) -> WindowedVectors:
    """Every window of every view of each text, embedded by the first stage's encoder (with
    `adapter`, a tuned one) one window a run, as at run time; each window's vector kept in
    `cache`/`store_name`-windows.npz (resumes)."""
    from refusalkit.classifiers.first_stage.encoder import TextEncoder, input_windows
    from refusalkit.classifiers.training import INPUT_WINDOW

    encoder = TextEncoder(adapter=adapter)
    store = (cache or load_settings().cache_dir / "loso") / f"{store_name}-windows.npz"
    windows: list[list[int]] = []
    owner: list[int] = []
    for row, text in enumerate(tqdm(texts, desc="windows", disable=not progress)):
        cut = input_windows(encoder, text, INPUT_WINDOW)
        windows += cut
        owner += [row] * len(cut)
    keys = [_key(w) for w in windows]
    known = cached_vectors(
        store,
        list(zip(keys, windows, strict=True)),
        lambda: encoder.embed_ids,
        EMBED_CHUNK,
        f"embed windows ({store_name})",
        progress,
    )
    vectors = np.stack([known[k] for k in keys]) if keys else np.zeros((0, encoder.dim))
    return WindowedVectors(vectors.astype(np.float32), np.array(owner, dtype=int))
