"""Synthetic data: from a constitution to a labelled, augmented, split dataset."""

from refusalkit.synth.carry_outs import carry_outs_file, read_carry_outs
from refusalkit.synth.pipeline import Synthesizer, SynthOptions, SynthReport, synthesize
from refusalkit.synth.rows import Row, exchange_text

__all__ = [
    "Row",
    "SynthOptions",
    "SynthReport",
    "Synthesizer",
    "carry_outs_file",
    "exchange_text",
    "read_carry_outs",
    "synthesize",
]
