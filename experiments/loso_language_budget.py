"""#41 (2026-12-07): `bench loso --distil` flags 4-6% of everyday prompts in other languages
against the bar's 2%. What meeting it costs: each fold's distilled head (tuned+e5) thresholded
so that both the pooled everyday validation prompts and those not in English flag at most 2%,
against the pooled threshold alone. Judged on the left-out source and the everyday test split
(English and other languages apart). ~6 min with vectors cached. Run from the root."""

import json
from pathlib import Path

import numpy as np

from refusalkit.classifiers.training import threshold_at_fpr
from refusalkit.evals import (
    distilled_fit,
    features,
    left_out_by,
    loso_rows,
    xsafety_parallel,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
VIEW = "tuned+e5"
BUDGET = 0.02


def main() -> None:
    rows = loso_rows(SHARED)
    parallel = xsafety_parallel(SHARED)
    vectors = features(VIEW, [r.text for r in rows], progress=False)
    sources = features(VIEW, parallel.sources, progress=False)
    targets = features(VIEW, parallel.targets, progress=False)
    fit = distilled_fit(rows, vectors, parallel.targets, sources, targets)
    everyday = [(i, r) for i, r in enumerate(rows) if r.source == "benign"]
    val_other = [i for i, r in everyday if r.split == "val" and r.lang != "en"]
    test_en = [i for i, r in everyday if r.split == "test" and r.lang == "en"]
    test_other = [i for i, r in everyday if r.split == "test" and r.lang != "en"]
    print(
        f"everyday: val other languages {len(val_other)}, test English {len(test_en)}, "
        f"test other languages {len(test_other)}"
    )
    folds = sorted({r.source for r in rows if r.harmful and not r.added})
    results: dict[str, dict[str, list[float]]] = {"pooled": {}, "per_language_too": {}}
    for source in folds:
        head = fit(left_out_by(source=source))
        held = [i for i, r in enumerate(rows) if r.source == source and r.harmful]
        other_threshold = threshold_at_fpr(head.scores(vectors[val_other]).tolist(), BUDGET)
        for name, threshold in (
            ("pooled", head.threshold),
            ("per_language_too", max(head.threshold, other_threshold)),
        ):
            rates = [
                round(float(np.mean(head.scores(vectors[index]) >= threshold)), 4)
                for index in (held, test_en, test_other)
            ]
            results[name][source] = rates
            print(name, source, "recall / everyday test en / other languages", rates, flush=True)
    for name, per_fold in results.items():
        recalls = [r[0] for r in per_fold.values()]
        print(name, json.dumps({"mean": round(float(np.mean(recalls)), 4), "folds": per_fold}))


if __name__ == "__main__":
    main()
