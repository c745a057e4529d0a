"""The rows `refusalkit train` reads for the shipped (general) classifiers: the synthetic splits
of data/synth-general with the public rows of each split added (`train.splits_with_public`)."""

from pathlib import Path

import numpy as np
from tqdm import tqdm

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.training import (
    TrainOptions,
    first_stage_features,
    public_rows,
    splits_with_public,
)
from refusalkit.datasets import default_public_dir
from refusalkit.synth import carry_outs_file

ROOT = Path(__file__).resolve().parents[1]


def shipped_splits(
    classifiers: ConstitutionalClassifiers,
) -> tuple[dict[str, list[dict]], TrainOptions]:
    options = TrainOptions("general", ROOT / "data" / "synth-general", ROOT)
    options.public = default_public_dir()
    options.carry_outs = carry_outs_file()  # as `refusalkit train` does by default
    public = public_rows(options, classifiers.encoder, classifiers.artifacts.constitution)
    return splits_with_public(options, public), options


def validation_scores(
    classifiers: ConstitutionalClassifiers, low: float = 0.0
) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """The input validation rows, their first-stage scores, whether the second stage may read
    each, and its score where it may and the first stage reaches `low` (0 elsewhere)."""
    stage = classifiers.second_stage
    assert stage is not None, "this classifier directory has no second stage"
    val = [r for r in shipped_splits(classifiers)[0]["val"] if r["stage"] == "input"]
    first, readings = first_stage_features(classifiers, val, True, "val")
    stage.warm()
    readable = np.array(
        [stage.band.windows if r.cut else stage.reader.reads(r.view) for r in readings]
    )
    second = np.zeros(len(val), np.float32)
    for i in tqdm(np.flatnonzero(readable & (first >= low)), desc="second stage"):
        second[i] = stage.reader.score(readings[i].passage)
    return val, first, readable, second
