"""The input classifier's second stage: all-mpnet-base-v2 with a LoRA adapter, read only for
inputs whose first-stage score falls in a band (reader.py; tuned by tune.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.classifiers.second_stage.reader import SecondStage as SecondStage
    from refusalkit.classifiers.second_stage.tune import (
        SecondStageTuneOptions as SecondStageTuneOptions,
    )
    from refusalkit.classifiers.second_stage.tune import tune_second_stage as tune_second_stage

_FACE = {
    "SecondStage": "refusalkit.classifiers.second_stage.reader",
    "SecondStageTuneOptions": "refusalkit.classifiers.second_stage.tune",
    "tune_second_stage": "refusalkit.classifiers.second_stage.tune",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
