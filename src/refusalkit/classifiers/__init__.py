"""Constitutional classifiers: an input classifier and a streaming exchange classifier."""

from refusalkit.classifiers.artifacts import DEFAULT_DIR, Artifacts, Calibration, Thresholds
from refusalkit.classifiers.constitutional import (
    ConstitutionalClassifiers,
    StreamScorer,
    Verdict,
    render_conversation,
)
from refusalkit.classifiers.exchange import ExchangeCheck, calibrate_veto

__all__ = [
    "Artifacts",
    "Calibration",
    "ConstitutionalClassifiers",
    "DEFAULT_DIR",
    "ExchangeCheck",
    "StreamScorer",
    "Thresholds",
    "Verdict",
    "calibrate_veto",
    "render_conversation",
]
