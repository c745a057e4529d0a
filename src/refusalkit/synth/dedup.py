"""Exact and near-duplicate removal."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from refusalkit.synth.rows import Row

_PUNCT = re.compile(r"[^\w\s]")


def normalise(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def drop_exact(rows: Sequence[Row]) -> tuple[list[Row], int]:
    seen: set[tuple[str, str]] = set()
    kept: list[Row] = []
    for row in rows:
        key = (row.stage, normalise(row.text))
        if key in seen:
            continue
        seen.add(key)
        kept.append(row)
    return kept, len(rows) - len(kept)


def drop_near(
    rows: Sequence[Row], embeddings: np.ndarray, threshold: float, block: int = 256
) -> tuple[list[Row], int]:
    """Drop a row whose cosine to an earlier kept row of the same stage and transform is high.

    Rows under different transforms are kept: a typo'd copy of a request is augmentation, not
    duplication. Embeddings must be L2-normalised. Memory is block × group size.
    """
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        groups[(row.stage, row.transform)].append(index)
    dropped: set[int] = set()
    for indices in groups.values():
        vectors = embeddings[indices]
        keep = np.ones(len(indices), dtype=bool)
        for start in range(0, len(indices), block):
            stop = min(start + block, len(indices))
            sims = vectors[start:stop] @ vectors[:stop].T
            for position in range(start, stop):
                earlier = sims[position - start, :position][keep[:position]]
                if earlier.size and float(earlier.max()) >= threshold:
                    keep[position] = False
                    dropped.add(indices[position])
    kept = [row for index, row in enumerate(rows) if index not in dropped]
    return kept, len(dropped)
