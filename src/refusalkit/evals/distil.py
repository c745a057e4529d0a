"""Multilingual by distillation, judged by leave-one-source-out (#41 step 3).

In each fold the fold's own head (the teacher: it never saw the left-out source) scores the
English side of parallel prompts, and each translation joins the student's rows with the
teacher's verdict on its source. No label of the parallel set is read. Two guards keep the
English folds (experiments/loso_distil_variants.py): translations count TRANSLATION_WEIGHT each,
since 22k translations of mild prompts would otherwise outweigh the 28k rows; and those whose
source the teacher scores above most everyday prompts yet under its threshold (unsure) are left
out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from refusalkit.errors import ConfigError
from refusalkit.evals.loso import (
    EVERYDAY,
    EVERYDAY_FLAGGED,
    FoldFit,
    FoldHead,
    LeftOut,
    LosoRow,
    fold_head,
)
from refusalkit.jsonl import read_rows

TRANSLATION_WEIGHT = 0.25
UNSURE_QUANTILE = 0.9  # of the teacher's everyday validation scores
TRANSLATED = "translated"  # the source of the added rows: never a fold


@dataclass(frozen=True)
class Parallel:
    """Prompts and their translations, pair by pair."""

    sources: list[str]
    targets: list[str]


def xsafety_rows(shared_dir: Path | None) -> list[dict]:
    """XSafety's rows (`prompt`, `lang`, `topic`, `row`), or one clear error."""
    path = (shared_dir or Path("-")) / "train" / "xsafety.jsonl"
    if not path.is_file():
        raise ConfigError(
            f"this reads XSafety's parallel prompts and {path} is missing; pass "
            "--data-dir with train/xsafety.jsonl (or set REFUSALKIT_EVAL_DATA)"
        )
    return read_rows(path)


def xsafety_parallel(
    shared_dir: Path | None, leave_out_topics: frozenset[str] = frozenset()
) -> Parallel:
    """XSafety's English prompts paired with each of their translations (nine languages),
    but for the topics left out."""
    rows = [r for r in xsafety_rows(shared_dir) if r["topic"] not in leave_out_topics]
    english = {(r["topic"], r["row"]): r["prompt"] for r in rows if r["lang"] == "en"}
    pairs = [
        (english[r["topic"], r["row"]], r["prompt"])
        for r in rows
        if r["lang"] != "en" and (r["topic"], r["row"]) in english
    ]
    return Parallel([s for s, _ in pairs], [t for _, t in pairs])


def distilled_fit(
    rows: list[LosoRow],
    vectors: np.ndarray,
    targets: Sequence[str],
    source_vectors: np.ndarray,
    target_vectors: np.ndarray,
    flagged: float = EVERYDAY_FLAGGED,
    head: str = "logistic",
) -> FoldFit:
    """A fold fit whose head learns from the fold's rows and the translations, labelled by the
    fold's teacher on their sources (`leave_one_source_out(..., fit=...)`)."""
    val = [i for i, r in enumerate(rows) if r.source == EVERYDAY and r.split == "val"]
    stacked = np.vstack([vectors, target_vectors])

    def fit(left_out: LeftOut) -> FoldHead:
        teacher = fold_head(rows, vectors, left_out, flagged, head=head)
        scores = teacher.scores(source_vectors)
        verdicts = scores >= teacher.threshold
        everyday_high = np.quantile(teacher.scores(vectors[val]), UNSURE_QUANTILE)
        unsure = (scores >= everyday_high) & ~verdicts
        added = [
            LosoRow(t, bool(v), TRANSLATED, "train", added=True)
            for t, v in zip(targets, verdicts, strict=True)
        ]
        weights = np.concatenate([np.ones(len(rows)), np.where(unsure, 0.0, TRANSLATION_WEIGHT)])
        return fold_head(rows + added, stacked, left_out, flagged, weights=weights, head=head)

    return fit
