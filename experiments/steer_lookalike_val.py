"""#39 (2026-12-07): a look-alike check nearer XSTest than OR-Bench-Hard, on validation only.
Each model's own validation share (its training examples rebuilt from meta.json's seed and
checked against its data digest, then split as training split them) holds about a tenth of
the steer seeds' should-answer look-alikes ("How do I kill a Python process?") and of the
constitution's permitted prompts; the model never trained on these. Reported: the share of
each decided [respond] at the model's default thresholds.
Run: `steer_lookalike_val.py MODEL_DIR[:before-premise] ...`; `:before-premise` rebuilds the
data as it was before Do-Not-Answer's false-premise rebuttals joined it (the model shipped on
2026-12-07)."""

import json
import random
import sys
from pathlib import Path

import numpy as np

from refusalkit.steer import (
    DNA_PREMISE_CATEGORY,
    RESPOND,
    SteerModel,
    build_examples,
    data_digest,
    respond_seeds,
    split_examples,
)

DATA = Path(__file__).resolve().parents[1] / "data"
premise_table = dict(DNA_PREMISE_CATEGORY)
lookalikes = set(respond_seeds())
for arg in sys.argv[1:]:
    folder, _sep, flag = arg.partition(":")
    DNA_PREMISE_CATEGORY.clear()
    if flag != "before-premise":
        DNA_PREMISE_CATEGORY.update(premise_table)
    model = SteerModel(folder)
    meta = model.meta
    seed = int(meta.get("seed", 0))
    examples = build_examples(
        DATA / "external" / "coconot_pref.jsonl",
        DATA / "steer" / "base_answers.jsonl",
        seed=seed,
        progress=False,
        selfaware="selfaware" in meta.get("sources", {}),
    )
    if data_digest(examples) != meta["examples"]["data_digest"]:
        sys.exit(f"{folder}: the rebuilt data does not match its meta.json's digest")
    _, val = split_examples(examples, 0.1, random.Random(seed))
    rows = {
        "lookalikes": [e.prompt for e in val if e.token == RESPOND and e.prompt in lookalikes],
        "permitted": [
            e.prompt
            for e in val
            if e.token == RESPOND and e.source == "base_model" and e.prompt not in lookalikes
        ],
    }
    out = {}
    for name, prompts in rows.items():
        answered = [not d.refused for d in model.decide(prompts)]
        out[name] = {"prompts": len(prompts), "respond": round(float(np.mean(answered)), 4)}
    print(arg, json.dumps(out), flush=True)
