"""Vectors kept on disk by key, embedded only where missing, saved as they come (resumable)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

SAVE_EVERY = 20  # batches: rewriting the whole store after each one grows as its square


def cached_vectors(
    store: Path,
    keyed: Sequence[tuple[str, Any]],
    embedder: Callable[[], Callable[[list[Any]], np.ndarray]],
    batch: int,
    desc: str,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Every key's vector: read from `store`, the missing ones embedded `batch` at a time by
    the function `embedder()` gives (made only if something is missing)."""
    store.parent.mkdir(parents=True, exist_ok=True)
    known: dict[str, np.ndarray] = {}
    if store.is_file():
        with np.load(store) as saved:
            known = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
    missing = sorted({k: item for k, item in keyed if k not in known}.items())
    if not missing:
        return known

    def save() -> None:
        np.savez(store, keys=np.array(list(known)), vectors=np.stack(list(known.values())))

    embed = embedder()
    starts = range(0, len(missing), batch)
    for done, start in enumerate(tqdm(starts, desc=desc, unit="batch", disable=not progress), 1):
        chunk = missing[start : start + batch]
        for (key, _), vector in zip(chunk, embed([item for _, item in chunk]), strict=True):
            known[key] = np.asarray(vector, dtype=np.float32)
        if done % SAVE_EVERY == 0:
            save()
    save()
    return known
