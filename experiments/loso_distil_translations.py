"""#41 step 3 (2026-12-07): multilingual by distillation, judged by leaving MultiJail out. In
each fold the teacher is the fold's own head (it never saw the left-out source); it scores
XSafety's English prompts, and every translation of a prompt (same topic and row, 9 more
languages) joins the student's training rows with the teacher's verdict on the English one.
No XSafety topic label is read. The student is the same linear head on the same frozen
features, thresholded on the same everyday validation split. MultiJail's recall is also
broken down by language. ~6 min the first time (XSafety's prompts embedded per encoder).
Run from the root: `loso_distil_translations.py` (the tuned and base MiniLM views), or
`loso_distil_translations.py e5` (the tuned view with multilingual e5 beside it, as
loso_e5_view.py; ~15 min more the first time, to embed XSafety)."""

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

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

rows = loso_rows(SHARED)
language = {r["text"]: r.get("lang", "en") for r in input_rows() if r["source"] == "multijail"}
parallel = xsafety_parallel(SHARED)
pairs = list(zip(parallel.sources, parallel.targets, strict=True))
sources = ["multijail", "StrongREJECT", "HarmBench", "do_not_answer"]
print(f"{len(pairs)} translations of {len(set(parallel.sources))} English prompts", flush=True)


def view(encoder: str, texts: list[str]) -> np.ndarray:
    if encoder == "tuned+e5":
        return features("tuned+e5", texts, progress=False)
    return features(encoder, texts, progress=False)


for encoder in ("tuned+e5",) if len(sys.argv) > 1 else ("tuned", "minilm"):
    vectors = view(encoder, [r.text for r in rows])
    source_vectors = view(encoder, [e for e, _ in pairs])
    target_vectors = view(encoder, [t for _, t in pairs])
    test = [i for i, r in enumerate(rows) if r.source == "benign" and r.split == "test"]
    for source in sources:
        left_out = left_out_by(source=source)
        held = [i for i, r in enumerate(rows) if r.source == source and r.harmful]
        teacher = fold_head(rows, vectors, left_out)
        verdicts = teacher.flags(source_vectors)
        distilled = [
            LosoRow(t, bool(v), "xsafety", "train", added=True)
            for (_, t), v in zip(pairs, verdicts, strict=True)
        ]
        student = fold_head(rows + distilled, np.vstack([vectors, target_vectors]), left_out)
        result = {}
        for name, head in (("teacher", teacher), ("student", student)):
            caught = head.flags(vectors[held])
            by_language: dict[str, list[bool]] = defaultdict(list)
            for i, hit in zip(held, caught, strict=True):
                by_language[language.get(rows[i].text, "-")].append(bool(hit))
            result[name] = {
                "recall": round(float(caught.mean()), 4),
                "everyday_test_flagged": round(float(head.flags(vectors[test]).mean()), 4),
                "by_language": {
                    k: round(float(np.mean(v)), 2) for k, v in sorted(by_language.items())
                }
                if source == "multijail"
                else None,
            }
        share = round(float(verdicts.mean()), 4)
        print(
            encoder,
            source,
            f"teacher flags {share} of XSafety's English",
            json.dumps(result),
            flush=True,
        )
