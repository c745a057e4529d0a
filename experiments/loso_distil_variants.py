"""#41 step 3 (2026-12-07): distilling onto XSafety's translations (loso_distil_translations.py)
lifted MultiJail's fold and cost the English folds. Three ways to keep the first without the
second, against the plain recipe, in the same folds: `weight` (translations count 0.25 each),
`confident` (translations whose English source the teacher scores between the everyday
validation prompts' 90th percentile and its threshold are left out: neither clearly benign nor
flagged), `both` (the two together). Views: `tuned` (the shipped first stage's encoder alone),
`tuned+e5`, `tuned+mapped` (loso_e5_map.py), `minilm+e5` (base MiniLM: every fold honest).
Folds: MultiJail and the sources no shipped model tuned on, plus Do-Not-Answer. ~15 min with
the vectors cached. Run from the root: `loso_distil_variants.py VIEW`."""

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from loso_e5_map import fitted_map

from refusalkit.datasets import input_rows
from refusalkit.evals import (
    LosoRow,
    features,
    fold_head,
    left_out_by,
    loso_rows,
    xsafety_parallel,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SOURCES = ["multijail", "StrongREJECT", "HarmBench", "MaliciousInstruct", "jailbreakbench"]
SOURCES += ["do_not_answer"]
TRANSLATION_WEIGHT = 0.25
CONFIDENT_BENIGN_QUANTILE = 0.9
VARIANTS = ("plain", "weight", "confident", "both")


def main() -> None:
    view = sys.argv[1]
    rows = loso_rows(SHARED)
    language = {r["text"]: r.get("lang", "en") for r in input_rows() if r["source"] == "multijail"}
    parallel = xsafety_parallel(SHARED)
    pairs = list(zip(parallel.sources, parallel.targets, strict=True))
    project = fitted_map().predict if view == "tuned+mapped" else None

    base = view.split("+")[0]

    def vectors_of(texts: list[str]) -> np.ndarray:
        if view == base:
            return features(base, texts, progress=False)
        e5 = features("e5", texts, progress=False)
        second = e5 if project is None else project(e5).astype(np.float32)
        return np.hstack([features(base, texts, progress=False), second])

    vectors = vectors_of([r.text for r in rows])
    source_vectors = vectors_of([e for e, _ in pairs])
    target_vectors = vectors_of([t for _, t in pairs])
    stacked = np.vstack([vectors, target_vectors])
    val = [i for i, r in enumerate(rows) if r.source == "benign" and r.split == "val"]
    test = [i for i, r in enumerate(rows) if r.source == "benign" and r.split == "test"]
    summary: dict[str, dict[str, float]] = defaultdict(dict)
    for source in SOURCES:
        left_out = left_out_by(source=source)
        held = [i for i, r in enumerate(rows) if r.source == source and r.harmful]
        teacher = fold_head(rows, vectors, left_out)
        scores = teacher.scores(source_vectors)
        verdicts = scores >= teacher.threshold
        unsure = (
            scores >= np.quantile(teacher.scores(vectors[val]), CONFIDENT_BENIGN_QUANTILE)
        ) & (~verdicts)
        distilled = [
            LosoRow(t, bool(v), "xsafety", "train", added=True)
            for (_, t), v in zip(pairs, verdicts, strict=True)
        ]
        students = {"teacher": teacher}
        for variant in VARIANTS:
            added = np.full(
                len(pairs), TRANSLATION_WEIGHT if variant in ("weight", "both") else 1.0
            )
            if variant in ("confident", "both"):
                added[unsure] = 0.0
            weights = np.concatenate([np.ones(len(rows)), added])
            students[variant] = fold_head(rows + distilled, stacked, left_out, weights=weights)
        result = {}
        for name, head in students.items():
            caught = head.flags(vectors[held])
            summary[name][source] = round(float(caught.mean()), 4)
            by_language: dict[str, list[bool]] = defaultdict(list)
            for i, hit in zip(held, caught, strict=True):
                by_language[language.get(rows[i].text, "-")].append(bool(hit))
            result[name] = {
                "recall": round(float(caught.mean()), 4),
                "everyday_test_flagged": round(float(head.flags(vectors[test]).mean()), 4),
                "by_language": {k: round(float(np.mean(v)), 2) for k, v in by_language.items()}
                if source == "multijail"
                else None,
            }
        print(view, source, f"unsure {unsure.mean():.3f}", json.dumps(result), flush=True)
    for name, recalls in summary.items():
        print(view, name, "mean", round(float(np.mean(list(recalls.values()))), 4), flush=True)


if __name__ == "__main__":
    main()
