"""Refusal tokens: a model that decides `[respond]` or a category's refusal token first, with
per-category thresholds set at inference.

    from refusalkit.steer import SteerModel
    SteerModel().decide(["Draw me a lighthouse."])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.steer.backend import SteerBackend as SteerBackend
    from refusalkit.steer.calibrate import calibrate_model as calibrate_model
    from refusalkit.steer.calibrate import load_calibration as load_calibration
    from refusalkit.steer.curve import f1 as f1
    from refusalkit.steer.data import RESPOND as RESPOND
    from refusalkit.steer.data import SteerExample as SteerExample
    from refusalkit.steer.data import build_examples as build_examples
    from refusalkit.steer.data import dna_question_tokens as dna_question_tokens
    from refusalkit.steer.data import rebuild_examples as rebuild_examples
    from refusalkit.steer.data import respond_seeds as respond_seeds
    from refusalkit.steer.decode import Decision as Decision
    from refusalkit.steer.decode import SteerModel as SteerModel
    from refusalkit.steer.decode import parse_thresholds as parse_thresholds
    from refusalkit.steer.io import decide_file as decide_file
    from refusalkit.steer.sweep import mass_rule as mass_rule
    from refusalkit.steer.train import SteerTrainOptions as SteerTrainOptions
    from refusalkit.steer.train import split_examples as split_examples
    from refusalkit.steer.train import train_steer as train_steer

_FACE = {
    "SteerBackend": "refusalkit.steer.backend",
    "calibrate_model": "refusalkit.steer.calibrate",
    "load_calibration": "refusalkit.steer.calibrate",
    "RESPOND": "refusalkit.steer.data",
    "SteerExample": "refusalkit.steer.data",
    "build_examples": "refusalkit.steer.data",
    "rebuild_examples": "refusalkit.steer.data",
    "respond_seeds": "refusalkit.steer.data",
    "dna_question_tokens": "refusalkit.steer.data",
    "Decision": "refusalkit.steer.decode",
    "SteerModel": "refusalkit.steer.decode",
    "parse_thresholds": "refusalkit.steer.decode",
    "decide_file": "refusalkit.steer.io",
    "f1": "refusalkit.steer.curve",
    "mass_rule": "refusalkit.steer.sweep",
    "SteerTrainOptions": "refusalkit.steer.train",
    "train_steer": "refusalkit.steer.train",
    "split_examples": "refusalkit.steer.train",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
