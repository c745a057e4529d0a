"""#39 (2026-12-07): the shipping rule for a refusal-token model trained with SelfAware
(`steer train --selfaware`), on validation only: refusal rates on the public rows' validation
split (as `steer_val_split.py`) and, on SelfAware's validation split, unanswerable questions
refused against answerable ones (TriviaQA / HotpotQA) refused, with the F1 of refusing the
unanswerable. Run: `steer_selfaware_val.py shipped|MODEL_DIR ...`."""

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
for name in sys.argv[1:]:
    model = SteerModel(name) if name != "shipped" else SteerModel()
    rng = random.Random(0)
    out: dict[str, object] = {}
    for source, prompts in sorted(public.items()):
        picked = rng.sample(sorted(prompts), min(240, len(prompts)))
        out[source] = round(float(np.mean([d.refused for d in model.decide(picked)])), 4)
    refused = np.array([d.refused for d in model.decide(unanswerable + answerable)])
    should = np.arange(len(refused)) < len(unanswerable)
    out["selfaware_val"] = {
        "unanswerable": len(unanswerable),
        "answerable": len(answerable),
        "unanswerable_refused": round(float(refused[should].mean()), 4),
        "answerable_refused": round(float(refused[~should].mean()), 4),
        "f1": f1(refused, should)["f1"],
    }
    print(name, json.dumps(out), flush=True)
