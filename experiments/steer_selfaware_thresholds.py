"""#39 (2026-12-07): a refusal-token model's validation figures (as `steer_selfaware_val.py`) at
several single thresholds, from one prefill per prompt. An exploration after a shipping rule,
not a rule: validation data only. Run: `steer_selfaware_thresholds.py MODEL_DIR`."""

import json
import random
import sys

import numpy as np

from refusalkit.datasets import input_rows, selfaware_rows
from refusalkit.steer import SteerModel, f1

public: dict[str, list[str]] = {}
for row in input_rows():
    if row["split"] == "val" and row["source"] != "do_not_answer":
        public.setdefault(row["source"], []).append(row["text"])
selfaware = [r for r in selfaware_rows() if r["split"] == "val"]
unanswerable = [r["prompt"] for r in selfaware if r["category"] is not None]
answerable = [r["prompt"] for r in selfaware if r["category"] is None]
model = SteerModel(sys.argv[1])
rng = random.Random(0)  # the same 240 a source as steer_selfaware_val.py
picked = {s: rng.sample(sorted(p), min(240, len(p))) for s, p in sorted(public.items())}
probs = {s: model.probabilities(p) for s, p in picked.items()}
selfaware_probs = model.probabilities(unanswerable + answerable)
should = np.arange(len(selfaware_probs)) < len(unanswerable)
for threshold in (0.15, 0.2, 0.25, 0.3):
    values = dict.fromkeys(model.threshold_names, threshold)

    def refused(rows: np.ndarray) -> np.ndarray:
        return np.array([model.decide_from(r, values).refused for r in rows])  # noqa: B023

    out: dict[str, object] = {s: round(float(refused(p).mean()), 4) for s, p in probs.items()}
    decided = refused(selfaware_probs)
    out["selfaware_val"] = {
        "unanswerable_refused": round(float(decided[should].mean()), 4),
        "answerable_refused": round(float(decided[~should].mean()), 4),
        "f1": f1(decided, should)["f1"],
    }
    print(threshold, json.dumps(out), flush=True)
