"""Training the second stage and choosing its band and threshold on validation rows."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from refusalkit.classifiers.constitutional import ConstitutionalClassifiers, FirstStageReading
from refusalkit.classifiers.second_stage.reader import ADAPTER_DIR, Band, BandReader, SecondStage
from refusalkit.classifiers.second_stage.tune import SecondStageTuneOptions, tune_second_stage
from refusalkit.config import load_settings

# Everyday benign traffic; every other benign row (synthetic hard negatives, OR-Bench-Hard,
# CoCoNot pref) is a look-alike of a restricted request.
EVERYDAY_SOURCES = {"benign", "cvalues_zh", "do_not_answer"}


# Above every probability: a band without a high edge.
NO_HIGH_EDGE = 1.0 + 1e-6

# A look-alike source this large on validation gets its own budget (smaller ones are noise).
MIN_SOURCE_POOL = 100


@dataclass
class CascadeTargets:
    everyday_fpr: float = 0.02  # share of everyday validation prompts flagged, at most
    lookalike_fpr: float = 0.05  # share of look-alike validation prompts flagged, at most
    band_recall: float = 0.97  # harmful validation rows at or above the band's low edge
    # benign validation rows at or above the band's high edge; None: no high edge (every
    # readable input at or above the low edge goes to the second stage)
    band_fpr: float | None = 0.002
    # the second stage also reads a long input's worst window (else long inputs are the first
    # stage's alone)
    windows: bool = False


def first_stage_features(
    classifiers: ConstitutionalClassifiers, rows: Sequence[dict], progress: bool, desc: str
) -> tuple[np.ndarray, list[FirstStageReading]]:
    """Each row's first-stage score and reading (with the passage the second stage would
    read, as `check_input` gives it)."""
    readings = [
        classifiers.read_input(row["text"])
        for row in tqdm(rows, desc=f"first stage: {desc}", disable=not progress)
    ]
    return np.array([r.score for r in readings], dtype=np.float32), readings


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
    readable: np.ndarray,
    stage_one_threshold: float,
    targets: CascadeTargets,
) -> Band:
    """The band's edges from the first stage's scores; its threshold, the lowest that keeps
    each benign pool under its target: everyday prompts, look-alikes pooled, and each look-alike
    source with at least MIN_SOURCE_POOL rows (pooled, one source's excess hid behind another's
    zero). `readable`: rows the second stage may decide."""
    harmful = np.array([r["label"] == "harmful" for r in rows])
    everyday = np.array([r["label"] != "harmful" and r["source"] in EVERYDAY_SOURCES for r in rows])
    lookalike = ~harmful & ~everyday
    low = float(np.quantile(first[harmful], 1 - targets.band_recall)) if harmful.any() else 0.0
    benign_sorted = np.sort(first[~harmful])[::-1]
    if targets.band_fpr is None:
        high = NO_HIGH_EDGE
    else:
        high_index = int(np.floor(targets.band_fpr * len(benign_sorted)))
        high = float(np.nextafter(benign_sorted[high_index], 1.0)) if len(benign_sorted) else 1.0
    low, high = min(low, stage_one_threshold), max(high, stage_one_threshold)
    short = np.asarray(readable, dtype=bool)
    in_band = (first >= low) & (first < high) & short
    sources = np.array([r["source"] for r in rows])
    pools = [(everyday, targets.everyday_fpr), (lookalike, targets.lookalike_fpr)]
    for source in sorted(set(sources[lookalike])):
        pool = lookalike & (sources == source)
        if pool.sum() >= MIN_SOURCE_POOL:
            pools.append((pool, targets.lookalike_fpr))
    threshold = 0.0
    for pool, fpr in pools:
        if pool.any():
            outside = (
                first[pool & ~in_band]
                >= np.where(short, high, stage_one_threshold)[pool & ~in_band]
            )
            threshold = max(threshold, _allowed_threshold(outside, second[pool & in_band], fpr))
    return Band(low=low, high=high, threshold=threshold)


# English everyday prompts are most of the public input rows; a sample of them is enough to
# teach the second stage what ordinary traffic looks like. Non-English everyday prompts are few
# and all kept: sampled away, the stage learned that Swahili or Thai meant harmful (MultiJail's
# harmful translations outnumbered them 30 to 1; docs/classifiers.md).
MAX_SECOND_STAGE_EVERYDAY = 2000


def second_stage_rows(rows: Sequence[dict], seed: int) -> list[dict]:
    def sampled(row: dict) -> bool:
        return row["source"] == "benign" and row.get("lang", "en") == "en"

    everyday = [r for r in rows if sampled(r)]
    keep = {
        id(r)
        for r in random.Random(seed).sample(everyday, min(len(everyday), MAX_SECOND_STAGE_EVERYDAY))
    }
    return [r for r in rows if not sampled(r) or id(r) in keep]


def train_second_stage(
    classifiers: ConstitutionalClassifiers,
    train_rows: Sequence[dict],
    val_rows: Sequence[dict],
    targets: CascadeTargets,
    out: Path,
    seed: int = 0,
    progress: bool = True,
) -> tuple[SecondStage, dict[str, Any]]:
    """Tune the second stage on `train_rows`, then choose its band and threshold on `val_rows`
    with the int8 graph that runs at run time."""
    rows = second_stage_rows(train_rows, seed)
    adapter = tune_second_stage(
        [r["text"] for r in rows],
        [r["label"] == "harmful" for r in rows],
        out / ADAPTER_DIR,
        load_settings().cache_dir,
        SecondStageTuneOptions(seed=seed, progress=progress),
    )
    second, report = calibrate_second_stage(classifiers, adapter, val_rows, targets, progress)
    return second, {**report, "train_rows": len(rows)}


def calibrate_second_stage(
    classifiers: ConstitutionalClassifiers,
    adapter: Path,
    val_rows: Sequence[dict],
    targets: CascadeTargets,
    progress: bool = True,
) -> tuple[SecondStage, dict[str, Any]]:
    """The band and its threshold on `val_rows`, read with the int8 graph of `adapter`; with
    `targets.windows`, a long input's worst window is read too (else long inputs are not)."""
    windows = targets.windows
    reader = BandReader(adapter)
    val_first, readings = first_stage_features(classifiers, val_rows, progress, "val")
    readable = np.array([windows if r.cut else reader.reads(r.view) for r in readings])
    val_second = np.zeros(len(val_rows), dtype=np.float32)
    for i in tqdm(np.flatnonzero(readable), desc="second stage: val", disable=not progress):
        val_second[i] = reader.score(readings[i].passage)
    threshold = classifiers.artifacts.calibration.input.default
    band = choose_band(val_first, val_second, val_rows, readable, threshold, targets)
    band.windows = windows
    in_band = np.array([band.contains(float(s)) for s in val_first]) & readable
    benign = np.array([r["label"] != "harmful" for r in val_rows])
    report = {
        "encoder": "all-mpnet-base-v2 + LoRA r=16, int8 ONNX",
        "band": [round(band.low, 4), round(band.high, 4)],
        "threshold": round(band.threshold, 4),
        "val_benign_share_in_band": round(float(in_band[benign].mean()), 4),
        "val_harmful_share_in_band": round(float(in_band[~benign].mean()), 4),
    }
    return SecondStage(adapter, band, reader), report
