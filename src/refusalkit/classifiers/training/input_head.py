"""The first stage's input head: fitted on tuned window features, thresholded on validation, and
retrained alone (`refusalkit train --input-head-only`) with the cascade after it re-read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from refusalkit.classifiers.artifacts import Thresholds
from refusalkit.classifiers.constitutional import ConstitutionalClassifiers
from refusalkit.classifiers.first_stage.encoder import TextEncoder, WindowSpec, input_windows
from refusalkit.classifiers.first_stage.heads import Head, balanced_weights, fit_mlp, fit_softmax
from refusalkit.classifiers.training.options import TrainOptions
from refusalkit.classifiers.training.second_stage import EVERYDAY_SOURCES
from refusalkit.errors import ConfigError

INPUT_HEADS = ("linear", "mlp")
# which windows of a harmful input the head learns as harmful: "every" window, or only its
# "worst" (the one a first fit scores most restricted: multiple-instance learning, since a
# long request's other windows are often benign context labelled harmful)
INPUT_WINDOWS = ("every", "worst")
INPUT_WINDOW = WindowSpec(size=128, stride=96)
# Long padded inputs are left out of training: which of their windows holds the payload is
# unknown, and at run time the max over windows finds it anyway.
SKIP_FAMILIES_IN_INPUT_TRAINING = {"padding"}


def embed_windows(
    encoder: TextEncoder, windows: list[list[int]], desc: str, progress: bool
) -> np.ndarray:
    chunks = [windows[i : i + 512] for i in range(0, len(windows), 512)]
    parts = [
        encoder.embed_ids(chunk)
        for chunk in tqdm(chunks, desc=f"embedding {desc}", unit="chunk", disable=not progress)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)


def input_features(
    encoder: TextEncoder, rows: Sequence[dict], classes: list[str], progress: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every window of every view of each row, its row's class, and its row's index."""
    windows: list[list[int]] = []
    labels: list[int] = []
    row_of: list[int] = []
    for index, row in enumerate(rows):
        if row["transform_family"] in SKIP_FAMILIES_IN_INPUT_TRAINING:
            continue
        for window in input_windows(encoder, row["text"], INPUT_WINDOW):
            windows.append(window)
            labels.append(classes.index(row["category"]))
            row_of.append(index)
    features = embed_windows(encoder, windows, "input windows", progress)
    return features, np.array(labels), np.array(row_of)


def worst_windows(window_scores: np.ndarray, row_of: np.ndarray, harmful: np.ndarray) -> np.ndarray:
    """Windows to learn from: every window of a benign row, and of a harmful row only the
    one scored highest (ties: the first). `harmful` is per window."""
    keep = ~harmful.astype(bool)
    best: dict[int, int] = {}
    for index in np.flatnonzero(harmful):
        row = int(row_of[index])
        if row not in best or window_scores[index] > window_scores[best[row]]:
            best[row] = int(index)
    keep[list(best.values())] = True
    return keep


def input_threshold(scores: Sequence[float], rows: Sequence[dict], options: TrainOptions) -> float:
    """The smallest threshold that keeps both benign validation pools under their targets."""
    everyday = [s for s, r in zip(scores, rows, strict=True) if r["source"] in EVERYDAY_SOURCES]
    lookalike = [
        s for s, r in zip(scores, rows, strict=True) if r["source"] not in EVERYDAY_SOURCES
    ]
    return max(
        threshold_at_fpr(everyday, options.everyday_fpr) if everyday else 0.0,
        threshold_at_fpr(lookalike, options.lookalike_fpr) if lookalike else 0.0,
    )


def threshold_at_fpr(benign_scores: Sequence[float] | np.ndarray, target_fpr: float) -> float:
    """The smallest threshold that flags at most target_fpr of the benign pool (score ≥
    threshold flags); above a score of exactly 1.0 when that is where the budget ends."""
    scores = np.sort(np.asarray(benign_scores))[::-1]
    allowed = int(np.floor(target_fpr * len(scores)))
    if allowed >= len(scores):
        return 0.0
    return float(np.nextafter(scores[allowed], np.inf))


def _fit_head(
    features: np.ndarray, labels: np.ndarray, classes: list[str], options: TrainOptions
) -> Head:
    """Every class weighs the same in total (balanced), as the shipped linear head always has."""
    weights = balanced_weights(labels, len(classes))
    if options.input_head == "linear":
        return fit_softmax(features, labels, classes, seed=options.seed, class_weight=weights)
    if options.input_head == "mlp":
        return fit_mlp(features, labels, classes, seed=options.seed, class_weight=weights)
    raise ConfigError(
        f"unknown input head {options.input_head!r}; choose one of {', '.join(INPUT_HEADS)}"
    )


def fit_input_head(
    features: np.ndarray,
    labels: np.ndarray,
    row_of: np.ndarray,
    classes: list[str],
    restricted: Sequence[str],
    options: TrainOptions,
) -> Head:
    """The head on every window; with `options.input_windows == "worst"`, fitted again on
    each harmful row's worst window under that first fit (and every benign window)."""
    head = _fit_head(features, labels, classes, options)
    if options.input_windows == "every":
        return head
    if options.input_windows != "worst":
        raise ConfigError(
            f"unknown input windows {options.input_windows!r}; "
            f"choose one of {', '.join(INPUT_WINDOWS)}"
        )
    restricted_index = [classes.index(c) for c in restricted]
    scores = head.probabilities(features)[:, restricted_index].sum(axis=1)
    keep = worst_windows(scores, row_of, np.isin(labels, restricted_index))
    return _fit_head(features[keep], labels[keep], classes, options)


def refit_input_head(
    classifiers: ConstitutionalClassifiers,
    train_in: Sequence[dict],
    val_rows: Sequence[dict],
    options: TrainOptions,
) -> dict[str, Any]:
    """A new input head on the classifiers' own (tuned) encoder, its threshold chosen on the
    validation rows; then the second stage's band and the exchange veto, which both read the
    first stage's scores, chosen again (the second stage's adapter is kept)."""
    from refusalkit.classifiers.exchange import calibrate_veto
    from refusalkit.classifiers.training.rows import reader_rows
    from refusalkit.classifiers.training.second_stage import CascadeTargets, calibrate_second_stage

    artifacts = classifiers.artifacts
    classes = artifacts.input_head.classes
    features, labels, row_of = input_features(
        classifiers.encoder, train_in, classes, options.progress
    )
    artifacts.input_head = fit_input_head(
        features, labels, row_of, classes, artifacts.meta.restricted, options
    )
    artifacts.meta.input_head = options.input_head
    artifacts.meta.input_windows = options.input_windows
    benign = [r for r in val_rows if r["stage"] == "input" and r["label"] == "harmless"]
    scores = [classifiers.score_input(r["text"])[0] for r in benign]
    artifacts.calibration.input = Thresholds(input_threshold(scores, benign, options))
    report: dict[str, Any] = {
        "head": options.input_head,
        "windows": options.input_windows,
        "threshold": artifacts.calibration.input.default,
    }
    if classifiers.second_stage is not None:
        val_in = [r for r in val_rows if r["stage"] == "input"]
        targets = CascadeTargets(
            options.everyday_fpr, options.lookalike_fpr, windows=options.second_stage_windows
        )
        second, report["second_stage"] = calibrate_second_stage(
            classifiers, classifiers.second_stage.adapter, val_in, targets, options.progress
        )
        classifiers.second_stage = second
        second.save(options.out)
    if classifiers.exchange_reader is not None:
        reader_val = reader_rows(options, val_rows, "val")
        report["veto"] = calibrate_veto(classifiers, reader_val, options.seed, options.progress)
        classifiers.exchange_reader.save(options.out)
    artifacts.save(options.out, artifacts.directory / "constitution.yaml")
    return report
