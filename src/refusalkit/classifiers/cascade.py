"""Training the second stage and choosing its band and threshold on validation rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from refusalkit.classifiers.constitutional import ConstitutionalClassifiers
from refusalkit.classifiers.second_stage import (
    MAX_CHARS,
    Band,
    MultilingualEncoder,
    SecondStage,
    fit_second_stage,
)

# Everyday benign traffic; every other benign row (synthetic hard negatives, OR-Bench-Hard,
# CoCoNot pref) is a look-alike of a restricted request.
EVERYDAY_SOURCES = {"benign", "cvalues_zh", "do_not_answer"}


@dataclass
class CascadeTargets:
    everyday_fpr: float = 0.02  # share of everyday validation prompts flagged, at most
    lookalike_fpr: float = 0.05  # share of look-alike validation prompts flagged, at most
    band_recall: float = 0.97  # harmful validation rows at or above the band's low edge
    band_fpr: float = 0.002  # benign validation rows at or above the band's high edge


def first_stage_features(
    classifiers: ConstitutionalClassifiers, rows: Sequence[dict], progress: bool, desc: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's first-stage score and the vector of its worst window."""
    scores = np.zeros(len(rows), dtype=np.float32)
    vectors = np.zeros((len(rows), classifiers.encoder.dim), dtype=np.float32)
    for i, row in enumerate(tqdm(rows, desc=f"first stage: {desc}", disable=not progress)):
        features = classifiers.input_features(row["text"])
        scores[i], _, worst = classifiers.first_stage(features)
        vectors[i] = features[worst]
    return scores, vectors


def multilingual_features(
    encoder: MultilingualEncoder, rows: Sequence[dict], progress: bool, desc: str
) -> np.ndarray:
    texts = [r["text"] for r in rows]
    chunks = [texts[i : i + 64] for i in range(0, len(texts), 64)]
    parts = [
        encoder.embed(c) for c in tqdm(chunks, desc=f"multilingual: {desc}", disable=not progress)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)


def _allowed_threshold(outside_flags: np.ndarray, band_scores: np.ndarray, fpr: float) -> float:
    """The smallest second-stage threshold that keeps a benign pool's flagged share ≤ fpr,
    counting the rows the first stage flags outright."""
    allowance = int(np.floor(fpr * (len(outside_flags) + len(band_scores)))) - int(
        outside_flags.sum()
    )
    ordered = np.sort(band_scores)[::-1]
    if allowance < 0:
        return 1.0
    if allowance >= len(ordered):
        return 0.0
    return float(np.nextafter(ordered[allowance], 1.0))


def choose_band(
    first: np.ndarray,
    second: np.ndarray,
    rows: Sequence[dict],
    stage_one_threshold: float,
    targets: CascadeTargets,
) -> Band:
    harmful = np.array([r["label"] == "harmful" for r in rows])
    everyday = np.array([r["label"] != "harmful" and r["source"] in EVERYDAY_SOURCES for r in rows])
    lookalike = ~harmful & ~everyday
    low = float(np.quantile(first[harmful], 1 - targets.band_recall)) if harmful.any() else 0.0
    benign_sorted = np.sort(first[~harmful])[::-1]
    high_index = int(np.floor(targets.band_fpr * len(benign_sorted)))
    high = float(np.nextafter(benign_sorted[high_index], 1.0)) if len(benign_sorted) else 1.0
    low, high = min(low, stage_one_threshold), max(high, stage_one_threshold)
    short = np.array([len(r["text"]) <= MAX_CHARS for r in rows])
    in_band = (first >= low) & (first < high) & short
    threshold = 0.0
    for pool, fpr in ((everyday, targets.everyday_fpr), (lookalike, targets.lookalike_fpr)):
        if pool.any():
            outside = (
                first[pool & ~in_band]
                >= np.where(short, high, stage_one_threshold)[pool & ~in_band]
            )
            threshold = max(threshold, _allowed_threshold(outside, second[pool & in_band], fpr))
    return Band(low=low, high=high, threshold=threshold)


def train_second_stage(
    classifiers: ConstitutionalClassifiers,
    train_rows: Sequence[dict],
    val_rows: Sequence[dict],
    targets: CascadeTargets,
    seed: int = 0,
    progress: bool = True,
) -> tuple[SecondStage, dict[str, Any]]:
    encoder = MultilingualEncoder()
    _, train_vectors = first_stage_features(classifiers, train_rows, progress, "train")
    x_train = np.concatenate(
        [train_vectors, multilingual_features(encoder, train_rows, progress, "train")], axis=1
    )
    y_train = np.array([r["label"] == "harmful" for r in train_rows], dtype=int)
    head = fit_second_stage(x_train, y_train, seed=seed)
    val_first, val_vectors = first_stage_features(classifiers, val_rows, progress, "val")
    x_val = np.concatenate(
        [val_vectors, multilingual_features(encoder, val_rows, progress, "val")], axis=1
    )
    val_second = head.probabilities(x_val)[:, 1]
    threshold = classifiers.artifacts.calibration.input.default
    band = choose_band(val_first, val_second, val_rows, threshold, targets)
    in_band = np.array(
        [band.contains(float(s), r["text"]) for s, r in zip(val_first, val_rows, strict=True)]
    )
    benign = np.array([r["label"] != "harmful" for r in val_rows])
    report = {
        "band": [round(band.low, 4), round(band.high, 4)],
        "threshold": round(band.threshold, 4),
        "val_benign_share_in_band": round(float(in_band[benign].mean()), 4),
        "val_harmful_share_in_band": round(float(in_band[~benign].mean()), 4),
    }
    return SecondStage(head, band, encoder), report
