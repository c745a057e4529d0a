"""Distillation onto translations under leave-one-source-out: a left-out language is caught
only through translations the teacher labelled, and the unsure ones teach nothing."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from refusalkit.errors import ConfigError
from refusalkit.evals import loso
from refusalkit.evals.distil import distilled_fit, xsafety_parallel
from refusalkit.evals.loso import LosoRow, leave_one_source_out

ENGLISH_HARM = np.array([3.0, 0, 0, 0])
FOREIGN_HARM = np.array([0, 0, 3.0, 0])


def _rows() -> tuple[list[LosoRow], np.ndarray]:
    rng = np.random.default_rng(0)
    rows, vectors = [], []
    for split in ("train", "val", "test"):
        for i in range(300):
            rows.append(LosoRow(f"everyday-{split}-{i}", False, "benign", split))
            vectors.append(rng.normal(0, 0.3, 4))
    for source in ("english_a", "english_b"):
        for i in range(150):
            rows.append(LosoRow(f"{source}-{i}", True, source, "train"))
            vectors.append(ENGLISH_HARM + rng.normal(0, 0.3, 4))
    for i in range(150):  # the left-out language: harm where no English row lies
        rows.append(LosoRow(f"foreign-{i}", True, "foreign", "train"))
        vectors.append(FOREIGN_HARM + rng.normal(0, 0.3, 4))
    return rows, np.array(vectors)


def _parallel(n: int = 200) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Half harmful English prompts, half everyday ones, and their translations: a
    translation of harm lies where the foreign harm does."""
    rng = np.random.default_rng(1)
    harmful = np.arange(n) < n // 2
    sources = np.where(harmful[:, None], ENGLISH_HARM, 0.0) + rng.normal(0, 0.3, (n, 4))
    targets = np.where(harmful[:, None], FOREIGN_HARM, 0.0) + rng.normal(0, 0.3, (n, 4))
    return [f"translation-{i}" for i in range(n)], sources, targets


def test_translations_labelled_by_the_teacher_carry_harm_into_the_left_out_language():
    rows, vectors = _rows()
    texts, sources, targets = _parallel()
    plain = leave_one_source_out(rows, vectors, sources=["foreign"])
    fit = distilled_fit(rows, vectors, texts, sources, targets)
    distilled = leave_one_source_out(rows, vectors, sources=["foreign"], fit=fit)
    assert plain["folds"]["foreign"]["recall"] < 0.2
    assert distilled["folds"]["foreign"]["recall"] > 0.8
    assert distilled["folds"]["foreign"]["everyday_test_flagged"] <= 0.05
    assert distilled["folds"]["foreign"]["rows"] == 150  # translations are never judged


def test_translations_the_teacher_is_unsure_of_teach_nothing(monkeypatch):
    rows, vectors = _rows()
    texts, sources, targets = _parallel()
    # every source scores 0.5: as high as the everyday prompts, under the teacher's 0.9
    monkeypatch.setattr(loso.FoldHead, "scores", lambda self, v: np.full(len(v), 0.5))
    seen: list[np.ndarray] = []
    real_fold_head = loso.fold_head

    def recording(rows_, vectors_, left_out, flagged=0.02, c=1.0, weights=None, head="logistic"):
        fitted = real_fold_head(rows_, vectors_, left_out, flagged, c, weights, head)
        if weights is not None:
            seen.append(weights)
            return fitted
        return dataclasses.replace(fitted, threshold=0.9)  # the teacher flags none of them

    monkeypatch.setattr("refusalkit.evals.distil.fold_head", recording)
    distilled_fit(rows, vectors, texts, sources, targets)(loso.left_out_by(source="foreign"))
    assert len(seen) == 1 and seen[0][: len(rows)].min() == 1.0
    assert seen[0][len(rows) :].max() == 0.0


def test_a_missing_parallel_set_names_the_file_and_the_fix(tmp_path: Path):
    with pytest.raises(ConfigError, match="xsafety.jsonl is missing; pass --data-dir"):
        xsafety_parallel(tmp_path)
