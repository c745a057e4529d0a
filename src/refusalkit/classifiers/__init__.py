"""Constitutional classifiers: an input classifier and a streaming exchange classifier."""

from refusalkit.classifiers.artifacts import Artifacts
from refusalkit.classifiers.constitutional import (
    ConstitutionalClassifiers,
    StreamScorer,
    Verdict,
    render_conversation,
)

__all__ = [
    "Artifacts",
    "ConstitutionalClassifiers",
    "StreamScorer",
    "Verdict",
    "render_conversation",
]
