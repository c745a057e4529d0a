"""`refusalkit bench loso`: the leave-one-source-out and leave-one-family-out tables for one
encoder, plain, with distillation onto translations, or on language-neutral views; and, where
XSafety is at hand, harm caught in translations as in English."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from refusalkit.errors import ConfigError
from refusalkit.evals.distil import distilled_fit, xsafety_parallel
from refusalkit.evals.everyday_languages import (
    COMMONSENSE,
    commonsense_flagged,
    everyday_held_out_by_language,
)
from refusalkit.evals.language import neutral_projection
from refusalkit.evals.loso import (
    ENCODERS,
    HEADS,
    NEVER_TUNED_ON,
    FoldFit,
    LosoRow,
    Vectors,
    adapter_of,
    cache_name,
    features,
    fold_head,
    leave_one_family_out,
    leave_one_source_out,
    loso_rows,
)
from refusalkit.evals.parity import PARITY_TOPICS, caught_in_translation, parity_requests
from refusalkit.evals.windows import check_windowed, windowed_features

# the translations distillation learns from leave out what the bench judges in translation
DISTIL_LEAVES_OUT = PARITY_TOPICS | {COMMONSENSE}


def _nothing(row: LosoRow) -> bool:
    return False


def bench_loso(
    encoder_name: str = "tuned",
    shared_dir: Path | None = None,
    classifiers_dir: Path | None = None,
    progress: bool = True,
    distil: bool = False,
    neutral: bool = False,
    head: str = "logistic",
    windows: bool = False,
    worst_window: bool = False,
) -> dict[str, Any]:
    """The leave-one-source-out table for one encoder (`refusalkit bench loso`); with `distil`,
    each fold's head also learns from XSafety's translations labelled by the fold's teacher
    (evals/distil.py); with `neutral`, every view's language directions are projected out
    first (evals/language.py); `head` is `logistic` or `mlp` (one hidden layer); with
    `windows`, rows are read as the shipped first stage reads them (evals/windows.py), and
    with `worst_window` each harmful row also teaches only its worst window."""
    if encoder_name not in ENCODERS:
        raise ConfigError(f"unknown encoder {encoder_name!r}; choose one of {', '.join(ENCODERS)}")
    if head not in HEADS:
        raise ConfigError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
    if windows:
        check_windowed(encoder_name)
        if distil or neutral:
            raise ConfigError("--windows reads plain window vectors: drop --distil and --neutral")
    elif worst_window:
        raise ConfigError("--input-windows worst needs --windows (a row's every window)")
    # read first, so a missing file fails before minutes of embedding
    parallel = xsafety_parallel(shared_dir, DISTIL_LEAVES_OUT) if distil else None
    xsafety = shared_dir is not None and (shared_dir / "train" / "xsafety.jsonl").is_file()
    requests = parity_requests(shared_dir) if xsafety else None
    project = (
        neutral_projection(encoder_name, shared_dir, classifiers_dir, progress) if neutral else None
    )

    def embed(texts: Sequence[str]) -> Vectors:
        if windows:
            adapter = adapter_of(classifiers_dir) if encoder_name == "tuned" else None
            store = cache_name(encoder_name, classifiers_dir)
            return windowed_features(texts, adapter, store, progress=progress)
        vectors = features(encoder_name, texts, classifiers_dir, progress=progress)
        return vectors if project is None else vectors @ project

    rows = loso_rows(shared_dir)
    vectors = embed([r.text for r in rows])
    if parallel is not None:
        sources, targets = (embed(texts) for texts in (parallel.sources, parallel.targets))

    def make_fit(fold_rows: list[LosoRow]) -> FoldFit:
        if parallel is None:
            return lambda left_out: fold_head(
                fold_rows, vectors, left_out, head=head, worst_window=worst_window
            )
        # --windows refuses --distil: every vector here is one a text
        assert isinstance(vectors, np.ndarray)
        assert isinstance(sources, np.ndarray) and isinstance(targets, np.ndarray)
        return distilled_fit(fold_rows, vectors, parallel.targets, sources, targets, head=head)

    fit = make_fit(rows)
    result = leave_one_source_out(rows, vectors, fit=fit)
    families = leave_one_family_out(rows, vectors, fit=fit)
    everyday = everyday_held_out_by_language(rows, vectors, make_fit)
    in_translation: dict[str, Any] = {
        "translations_caught_as_english": "not measured: needs train/xsafety.jsonl"
    }
    if requests:
        every_source = fit(_nothing)
        in_translation = {
            "translations_caught_as_english": caught_in_translation(every_source, embed, requests),
            "xsafety_commonsense_flagged": commonsense_flagged(every_source, embed, shared_dir),
        }
    honest = (
        "every fold"
        if "tuned" not in encoder_name.split("+")
        else "folds of sources the encoder never trained on: "
        + ", ".join(sorted(NEVER_TUNED_ON & set(result["folds"])))
    )
    return {
        "encoder": encoder_name,
        "neutral": neutral,
        "head": head,
        "reading": "every window of every view, worst window" if windows else "first window",
        "harmful_rows_teach": "their worst window" if worst_window else "every window",
        "rows": len(rows),
        "honest": honest,
        "distilled_translations": len(parallel.targets) if parallel else 0,
        **result,
        "leave_one_family_out": families,
        "everyday_held_out_by_language": everyday,
        **in_translation,
    }
