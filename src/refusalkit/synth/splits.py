"""Splits that measure generalisation: paraphrase groups and attack families held out whole."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from refusalkit.synth.rows import Row, Split


def pick_heldout_families(families: Sequence[str], count: int, seed: int) -> list[str]:
    eligible = sorted(f for f in families if f != "none")
    return sorted(random.Random(f"heldout:{seed}").sample(eligible, k=min(count, len(eligible))))


def _bucket(group: str, seed: int) -> int:
    return int(hashlib.sha1(f"{seed}:{group}".encode()).hexdigest()[:8], 16) % 100


def assign_splits(
    rows: Sequence[Row],
    heldout_families: Sequence[str],
    seed: int,
    val_percent: int = 10,
    test_percent: int = 10,
) -> list[Row]:
    """Groups go wholly to one split; rows under a held-out family never reach train."""
    heldout = set(heldout_families)
    assigned: list[Row] = []
    for row in rows:
        bucket = _bucket(row.group, seed)
        split: Split
        if row.transform_family in heldout:
            split = "val" if bucket % 2 == 0 else "test"
        elif bucket < 100 - val_percent - test_percent:
            split = "train"
        elif bucket < 100 - test_percent:
            split = "val"
        else:
            split = "test"
        assigned.append(row.model_copy(update={"split": split}))
    return assigned
