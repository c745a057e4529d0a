"""What `refusalkit train` is asked to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class TrainOptions:
    constitution: str
    data: Path
    out: Path
    seed: int = 0
    target_fpr: float = 0.01
    tune: bool = True  # tune the encoder with a LoRA adapter; False keeps it frozen
    tune_epochs: int = 2
    progress: bool = True
    # Public human-written rows (`datasets.public`), or None for synthetic data only.
    public: Path | None = None
    # Plain carry-outs (synth/carry_outs.py) added to the exchange reader's rows, or None.
    carry_outs: Path | None = None
    # Input threshold: flag at most these shares of everyday and of look-alike validation rows.
    everyday_fpr: float = 0.02
    lookalike_fpr: float = 0.05
    # the first stage's input head over the tuned windows: "linear" or "mlp" (one hidden layer)
    input_head: str = "linear"
    # which windows of a harmful input row the input head learns from: "every" or "worst"
    # ("worst": `bench loso --windows` mean 0.603 → 0.654, but a payload after long filler,
    # which only the first stage decides, is missed: docs/classifiers.md, seventh stop)
    input_windows: str = "every"
    # the second stage also reads a long input's worst window (else long inputs are decided by
    # the first stage alone)
    second_stage_windows: bool = False
