"""#41 (2026-12-07): the distilled heads flag 4-6% of everyday prompts in other languages, and
the multilingual bar is 2%: they partly learned "not English" as harm, since most non-English
rows they see are MultiJail's. A lever that needs no new data: take the language out of the
features. Each view's language directions are read from text alone, never a label: the offsets
between language centroids of XSafety's parallel prompts (ten languages) and of MGSM's train-split
problems (same content in each language; adds sw, te, th). `means` projects their span out of
every vector; `pairs-K` also the top K principal directions of translation-minus-source
differences over XSafety's pairs. The head then cannot read a language off those directions.
MultiJail's own languages it/jv/ko/vi have no centroid here (MultiJail is a fold). Judged as
`bench loso` judges: recall on the left-out source at 2% everyday validation flagged; everyday
test split flagged, English and other languages apart. Run from the root:
`loso_language_neutral.py VIEW [VARIANT …] [--distil]` (~5-10 min a variant with vectors cached)."""

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from refusalkit.evals import (
    distilled_fit,
    features,
    fold_head,
    left_out_by,
    loso_rows,
    xsafety_parallel,
)
from refusalkit.jsonl import read_rows

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# per view part: what is projected out of it ("base" stands for the view's first part)
VARIANTS = {
    "none": {},
    "means": {"base": "means", "e5": "means"},
    "pairs-16": {"base": "pairs-16", "e5": "pairs-16"},
    "pairs-48": {"base": "pairs-48", "e5": "pairs-48"},
    "e5-means": {"e5": "means"},
    "e5-pairs-16": {"e5": "pairs-16"},
    "means+e5-pairs-16": {"base": "means", "e5": "pairs-16"},
    "means+e5-pairs-32": {"base": "means", "e5": "pairs-32"},
}


def language_texts(train_texts: set[str]) -> dict[str, list[str]]:
    """Per source of parallel content, per language: its texts (MGSM: train split only)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for r in read_rows(SHARED / "train" / "xsafety.jsonl"):
        groups[f"xsafety/{r['lang']}"].append(r["prompt"])
    for r in read_rows(SHARED / "train" / "benign_prompts.jsonl"):
        if r["source"] == "MGSM" and r["prompt"] in train_texts:
            groups[f"mgsm/{r['lang']}"].append(r["prompt"])
    return groups


def offsets(view: str, groups: dict[str, list[str]]) -> np.ndarray:
    """Each language's centroid minus English's, within the same parallel source."""
    means = {k: features(view, texts, progress=False).mean(0) for k, texts in groups.items()}
    return np.array(
        [
            mean - means[f"{k.split('/')[0]}/en"]
            for k, mean in means.items()
            if not k.endswith("/en")
        ]
    )


def projection(directions: np.ndarray) -> np.ndarray:
    """I - UUᵀ over an orthonormal basis U of the directions' span."""
    u, s, _ = np.linalg.svd(directions.T, full_matrices=False)
    basis = u[:, s > 1e-6 * s.max()]
    return np.eye(directions.shape[1], dtype=np.float32) - (basis @ basis.T).astype(np.float32)


def main() -> None:
    view, distil = sys.argv[1], "--distil" in sys.argv
    rows = loso_rows(SHARED)
    parallel = xsafety_parallel(SHARED)
    groups = language_texts({r.text for r in rows if r.split == "train"})
    print({k: len(v) for k, v in groups.items()}, flush=True)
    parts = view.split("+")
    texts = [r.text for r in rows]
    raw = {p: features(p, texts, progress=False) for p in parts}
    raw_sources = {p: features(p, parallel.sources, progress=False) for p in parts}
    raw_targets = {p: features(p, parallel.targets, progress=False) for p in parts}
    test = [(i, r) for i, r in enumerate(rows) if r.source == "benign" and r.split == "test"]
    test_en = np.array([i for i, r in test if r.lang == "en"])
    test_other = np.array([i for i, r in test if r.lang != "en"])
    folds = sorted({r.source for r in rows if r.harmful and not r.added})
    summary = {}
    chosen = [a for a in sys.argv[2:] if not a.startswith("--")] or list(VARIANTS)
    for variant in chosen:
        projections = {}
        for p in parts:
            mode = VARIANTS[variant].get("e5" if p == "e5" else "base", "none")
            if mode == "none":
                projections[p] = np.eye(raw[p].shape[1], dtype=np.float32)
                continue
            directions = offsets(p, groups)
            if mode.startswith("pairs-"):
                diffs = raw_targets[p] - raw_sources[p]
                diffs = diffs - diffs.mean(0)
                _, _, vt = np.linalg.svd(diffs, full_matrices=False)
                directions = np.vstack([directions, vt[: int(mode.split("-")[1])]])
            projections[p] = projection(directions)

        def neutral(vectors: dict[str, np.ndarray], proj: dict = projections) -> np.ndarray:
            return np.hstack([vectors[p] @ proj[p] for p in parts])

        vectors = neutral(raw)
        if distil:
            fit = distilled_fit(
                rows, vectors, parallel.targets, neutral(raw_sources), neutral(raw_targets)
            )
        else:

            def fit(left_out, vectors=vectors):  # noqa: ANN001, ANN202
                return fold_head(rows, vectors, left_out)

        per_fold = {}
        for source in folds:
            head = fit(left_out_by(source=source))
            held = np.array([i for i, r in enumerate(rows) if r.source == source and r.harmful])
            per_fold[source] = [
                round(float(head.flags(vectors[index]).mean()), 4)
                for index in (held, test_en, test_other)
            ]
            print(variant, source, "recall / everyday en / other", per_fold[source], flush=True)
        recalls = [v[0] for v in per_fold.values()]
        others = [v[2] for v in per_fold.values()]
        summary[variant] = {
            "mean": round(float(np.mean(recalls)), 4),
            "multijail": per_fold["multijail"][0],
            "worst": min(recalls),
            "other_languages_flagged": [min(others), max(others)],
            "folds": per_fold,
        }
        print(variant, json.dumps(summary[variant]), flush=True)


if __name__ == "__main__":
    main()
