"""Synthetic data: from a constitution to a labelled, augmented, split dataset."""

from refusalkit.synth.pipeline import Synthesizer, SynthOptions, SynthReport, synthesize
from refusalkit.synth.rows import Row, exchange_text

__all__ = ["Row", "SynthOptions", "SynthReport", "Synthesizer", "exchange_text", "synthesize"]
