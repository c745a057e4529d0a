"""`refusalkit bench loso`: the leave-one-source-out and leave-one-family-out tables for one
encoder, plain or with distillation onto translations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from refusalkit.errors import ConfigError
from refusalkit.evals.distil import distilled_fit, xsafety_parallel
from refusalkit.evals.loso import (
    ENCODERS,
    NEVER_TUNED_ON,
    FoldFit,
    features,
    leave_one_family_out,
    leave_one_source_out,
    loso_rows,
)


def bench_loso(
    encoder_name: str = "tuned",
    shared_dir: Path | None = None,
    classifiers_dir: Path | None = None,
    progress: bool = True,
    distil: bool = False,
) -> dict[str, Any]:
    """The leave-one-source-out table for one encoder (`refusalkit bench loso`); with `distil`,
    each fold's head also learns from XSafety's translations labelled by the fold's teacher
    (evals/distil.py)."""
    if encoder_name not in ENCODERS:
        raise ConfigError(f"unknown encoder {encoder_name!r}; choose one of {', '.join(ENCODERS)}")
    # read first, so a missing file fails before minutes of embedding
    parallel = xsafety_parallel(shared_dir) if distil else None
    fit: FoldFit | None = None
    rows = loso_rows(shared_dir)
    vectors = features(encoder_name, [r.text for r in rows], classifiers_dir, progress=progress)
    if parallel is not None:
        sources, targets = (
            features(encoder_name, texts, classifiers_dir, progress=progress)
            for texts in (parallel.sources, parallel.targets)
        )
        fit = distilled_fit(rows, vectors, parallel.targets, sources, targets)
    result = leave_one_source_out(rows, vectors, fit=fit)
    families = leave_one_family_out(rows, vectors, fit=fit)
    honest = (
        "every fold"
        if "tuned" not in encoder_name.split("+")
        else "folds of sources the encoder never trained on: "
        + ", ".join(sorted(NEVER_TUNED_ON & set(result["folds"])))
    )
    return {
        "encoder": encoder_name,
        "rows": len(rows),
        "honest": honest,
        "distilled_translations": len(parallel.targets) if parallel else 0,
        **result,
        "leave_one_family_out": families,
    }
