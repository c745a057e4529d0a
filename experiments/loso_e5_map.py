"""#41 step 3 (2026-12-07): the multilingual distillation recipe with a linear student. A ridge
map W takes multilingual e5's vector of a text to the shipped tuned encoder's vector of its
English source, fitted on XSafety's parallel rows (each English prompt onto itself, each of its
translations onto it). XSafety is no leave-one-source-out source and no label of it is read, so
one map serves every fold honestly. The map's ridge strength is chosen on a tenth of XSafety's
English prompts held out with their translations. Views: `mapped` (e5 @ W, the tuned space
reached through e5), `tuned+mapped` and `tuned+e5` (for reference); the same folds as
`bench loso`, with MultiJail's recall per language. And `either`: a tuned head and a mapped head
each at the largest equal budget whose union still flags <= 2% of everyday validation prompts,
a row flagged when either flags it. Needs e5's vectors as loso_e5_view.py makes
them (~30 min the first time for the rows and XSafety; cached after).
Run from the root: `loso_e5_map.py`."""

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge

from refusalkit.classifiers.training import threshold_at_fpr
from refusalkit.datasets import input_rows
from refusalkit.evals import (
    FoldHead,
    LosoRow,
    features,
    fold_head,
    leave_one_source_out,
    left_out_by,
    loso_rows,
)
from refusalkit.jsonl import read_rows

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ALPHAS = (0.1, 1.0, 10.0, 100.0)
SEED = 0


def fitted_map() -> Ridge:
    """W: e5(any XSafety row) → tuned(its English source), ridge strength chosen on held-out
    English prompts (with all their translations)."""
    xsafety = read_rows(SHARED / "train" / "xsafety.jsonl")
    english = {(r["topic"], r["row"]): r["prompt"] for r in xsafety if r["lang"] == "en"}
    pairs = [
        (english[r["topic"], r["row"]], r["prompt"])
        for r in xsafety
        if (r["topic"], r["row"]) in english
    ]
    sources = sorted(english.values())
    rng = np.random.default_rng(SEED)
    held = set(rng.choice(sources, size=len(sources) // 10, replace=False).tolist())
    inputs = features("e5", [t for _, t in pairs], progress=False)
    targets = features("tuned", [s for s, _ in pairs], progress=False)
    is_held = np.array([s in held for s, _ in pairs])
    best: tuple[float, float] | None = None
    for alpha in ALPHAS:
        model = Ridge(alpha=alpha).fit(inputs[~is_held], targets[~is_held])
        predicted = model.predict(inputs[is_held])
        cosine = np.mean(
            np.sum(predicted * targets[is_held], axis=1)
            / (np.linalg.norm(predicted, axis=1) * np.linalg.norm(targets[is_held], axis=1))
        )
        print(
            f"ridge alpha {alpha}: held-out cosine to the English source's vector {cosine:.4f}",
            flush=True,
        )
        if best is None or cosine > best[1]:
            best = (alpha, float(cosine))
    assert best is not None
    print(f"{len(pairs)} pairs; alpha {best[0]}", flush=True)
    return Ridge(alpha=best[0]).fit(inputs, targets)


BUDGETS = (0.02, 0.015, 0.0125, 0.01, 0.0075, 0.005, 0.0025)
EVERYDAY_FLAGGED = 0.02


def _either(
    heads: list[FoldHead], views: list[np.ndarray], thresholds: list[float], index: list[int]
) -> np.ndarray:
    hits = [h.scores(v[index]) >= t for h, v, t in zip(heads, views, thresholds, strict=True)]
    return np.any(hits, axis=0)


def either_folds(rows: list[LosoRow], views: list[np.ndarray]) -> dict[str, dict[str, float]]:
    """Per left-out source: recall and everyday test flagged when either view's head flags."""
    val = [i for i, r in enumerate(rows) if r.source == "benign" and r.split == "val"]
    test = [i for i, r in enumerate(rows) if r.source == "benign" and r.split == "test"]
    folds = {}
    for source in sorted({r.source for r in rows if r.harmful and not r.added}):
        heads = [fold_head(rows, v, left_out_by(source=source)) for v in views]
        val_scores = [h.scores(v[val]) for h, v in zip(heads, views, strict=True)]
        for budget in BUDGETS:
            thresholds = [threshold_at_fpr(s.tolist(), budget) for s in val_scores]
            union = np.any([s >= t for s, t in zip(val_scores, thresholds, strict=True)], axis=0)
            if union.mean() <= EVERYDAY_FLAGGED:
                break
        held = [i for i, r in enumerate(rows) if r.source == source and r.harmful]

        folds[source] = {
            "budget": budget,
            "recall": round(float(_either(heads, views, thresholds, held).mean()), 4),
            "everyday_test": round(float(_either(heads, views, thresholds, test).mean()), 4),
        }
    return folds


def main() -> None:
    rows = loso_rows(SHARED)
    texts = [r.text for r in rows]
    language = {r["text"]: r.get("lang", "en") for r in input_rows() if r["source"] == "multijail"}
    e5 = features("e5", texts, progress=False)
    tuned = features("tuned", texts, progress=False)
    mapped = fitted_map().predict(e5).astype(np.float32)
    views = {
        "mapped": mapped,
        "tuned+mapped": np.hstack([tuned, mapped]),
        "tuned+e5": np.hstack([tuned, e5]),
    }
    held = [i for i, r in enumerate(rows) if r.source == "multijail" and r.harmful]
    for name, vectors in views.items():
        sources = leave_one_source_out(rows, vectors)
        head = fold_head(rows, vectors, left_out_by(source="multijail"))
        by_language: dict[str, list[bool]] = defaultdict(list)
        for i, hit in zip(held, head.flags(vectors[held]), strict=True):
            by_language[language.get(rows[i].text, "-")].append(bool(hit))
        print(
            name,
            json.dumps(
                {
                    "mean": sources["mean_recall"],
                    "worst": [sources["worst"], sources["worst_recall"]],
                    "recall": {k: f["recall"] for k, f in sources["folds"].items()},
                    "everyday_test": {
                        k: f["everyday_test_flagged"] for k, f in sources["folds"].items()
                    },
                    "multijail_by_language": {
                        k: round(float(np.mean(v)), 2) for k, v in sorted(by_language.items())
                    },
                }
            ),
            flush=True,
        )
    either = either_folds(rows, [tuned, mapped])
    recalls = [f["recall"] for f in either.values()]
    print("either", json.dumps({"mean": round(float(np.mean(recalls)), 4), "folds": either}))


if __name__ == "__main__":
    main()
