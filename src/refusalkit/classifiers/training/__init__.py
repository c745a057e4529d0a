"""`refusalkit train`: rows, encoder tuning, heads, the second stage and the exchange reader,
calibration and the card. Nothing here runs at inference."""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.classifiers.training.input_head import INPUT_WINDOW as INPUT_WINDOW
    from refusalkit.classifiers.training.input_head import (
        SKIP_FAMILIES_IN_INPUT_TRAINING as SKIP_FAMILIES_IN_INPUT_TRAINING,
    )
    from refusalkit.classifiers.training.input_head import threshold_at_fpr as threshold_at_fpr
    from refusalkit.classifiers.training.input_head import worst_windows as worst_windows
    from refusalkit.classifiers.training.options import TrainOptions as TrainOptions
    from refusalkit.classifiers.training.rows import nearest_category as nearest_category
    from refusalkit.classifiers.training.rows import public_rows as public_rows
    from refusalkit.classifiers.training.rows import reader_rows as reader_rows
    from refusalkit.classifiers.training.rows import splits_with_public as splits_with_public
    from refusalkit.classifiers.training.second_stage import EVERYDAY_SOURCES as EVERYDAY_SOURCES
    from refusalkit.classifiers.training.second_stage import CascadeTargets as CascadeTargets
    from refusalkit.classifiers.training.second_stage import (
        calibrate_second_stage as calibrate_second_stage,
    )
    from refusalkit.classifiers.training.second_stage import choose_band as choose_band
    from refusalkit.classifiers.training.second_stage import (
        first_stage_features as first_stage_features,
    )
    from refusalkit.classifiers.training.train import output_features as output_features
    from refusalkit.classifiers.training.train import retrain_part as retrain_part
    from refusalkit.classifiers.training.train import with_benign_prompts as with_benign_prompts
    from refusalkit.classifiers.training.tune import TuneExample as TuneExample
    from refusalkit.classifiers.training.tune import TuneOptions as TuneOptions
    from refusalkit.classifiers.training.tune import tune_encoder as tune_encoder

_FACE = {
    "INPUT_WINDOW": "refusalkit.classifiers.training.input_head",
    "SKIP_FAMILIES_IN_INPUT_TRAINING": "refusalkit.classifiers.training.input_head",
    "TrainOptions": "refusalkit.classifiers.training.options",
    "nearest_category": "refusalkit.classifiers.training.rows",
    "public_rows": "refusalkit.classifiers.training.rows",
    "reader_rows": "refusalkit.classifiers.training.rows",
    "splits_with_public": "refusalkit.classifiers.training.rows",
    "CascadeTargets": "refusalkit.classifiers.training.second_stage",
    "EVERYDAY_SOURCES": "refusalkit.classifiers.training.second_stage",
    "calibrate_second_stage": "refusalkit.classifiers.training.second_stage",
    "choose_band": "refusalkit.classifiers.training.second_stage",
    "first_stage_features": "refusalkit.classifiers.training.second_stage",
    "output_features": "refusalkit.classifiers.training.train",
    "retrain_part": "refusalkit.classifiers.training.train",
    "threshold_at_fpr": "refusalkit.classifiers.training.input_head",
    "worst_windows": "refusalkit.classifiers.training.input_head",
    "with_benign_prompts": "refusalkit.classifiers.training.train",
    "TuneExample": "refusalkit.classifiers.training.tune",
    "TuneOptions": "refusalkit.classifiers.training.tune",
    "tune_encoder": "refusalkit.classifiers.training.tune",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
