"""Language-neutral views (#41): the directions along which a view tells languages apart, read
from text with the same content in each language (no label is read), projected out of every
vector, so that a linear head cannot take "not English" for harm. Most non-English rows the
heads learn from are harmful (MultiJail's, translated harm), and without this they flagged
everyday prompts in other languages at 2-3 times the English rate
(experiments/loso_language_neutral.py)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.linalg import block_diag

from refusalkit.datasets import public as public_data
from refusalkit.evals.distil import xsafety_rows
from refusalkit.evals.loso import features

ENGLISH = "en"


def parallel_groups(shared_dir: Path | None) -> dict[str, dict[str, list[str]]]:
    """Per corpus, per language, texts whose content matches across languages: XSafety's
    prompts (ten languages) and MGSM's train-split word problems (eleven)."""
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in xsafety_rows(shared_dir):
        groups["xsafety"][row["lang"]].append(row["prompt"])
    for row in public_data.input_rows():
        if row.get("origin") == "MGSM" and row["split"] == "train":
            groups["mgsm"][row.get("lang") or ENGLISH].append(row["text"])
    return {corpus: dict(by_language) for corpus, by_language in groups.items()}


def language_directions(vectors_by_language: dict[str, np.ndarray]) -> np.ndarray:
    """Each language's centroid minus English's, within one corpus."""
    english = vectors_by_language[ENGLISH].mean(0)
    return np.array(
        [v.mean(0) - english for lang, v in sorted(vectors_by_language.items()) if lang != ENGLISH]
    )


def projection_without(directions: np.ndarray) -> np.ndarray:
    """I - UUᵀ for an orthonormal basis U of the directions' span."""
    u, s, _ = np.linalg.svd(directions.T, full_matrices=False)
    basis = u[:, s > 1e-6 * s.max()]
    return (np.eye(directions.shape[1]) - basis @ basis.T).astype(np.float32)


def neutral_projection(
    encoder_name: str,
    shared_dir: Path | None,
    classifiers_dir: Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """The matrix that takes each part of a (joined) view's vectors off its language
    directions: `features(encoder_name, texts) @ neutral_projection(encoder_name, …)`."""
    groups = [g for g in parallel_groups(shared_dir).values() if ENGLISH in g]
    keys = [(i, lang) for i, group in enumerate(groups) for lang in group]
    texts = [t for i, lang in keys for t in groups[i][lang]]
    ends = np.cumsum([len(groups[i][lang]) for i, lang in keys])
    blocks = []
    for part in encoder_name.split("+"):
        # one call per view: each call reads the vector cache from disk
        vectors = features(part, texts, classifiers_dir, progress=progress)
        by_group: list[dict[str, np.ndarray]] = [{} for _ in groups]
        for (i, lang), end in zip(keys, ends, strict=True):
            by_group[i][lang] = vectors[end - len(groups[i][lang]) : end]
        directions = [language_directions(by_language) for by_language in by_group]
        blocks.append(projection_without(np.vstack(directions)))
    return np.asarray(block_diag(*blocks), dtype=np.float32)
