"""#23: refusal rates of refusal-token models on the public rows' validation split (never
trained on, not a test set): the shipping rule of 2026-11-30.
Run: `steer_val_split.py shipped|MODEL_DIR ...`."""

import json
import random
import sys

import numpy as np

from refusalkit.datasets import input_rows
from refusalkit.steer import SteerModel

rows: dict[str, list[str]] = {}
for row in input_rows():
    if row["split"] == "val" and row["source"] != "do_not_answer":
        rows.setdefault(row["source"], []).append(row["text"])
for d in sys.argv[1:]:
    m = SteerModel(d) if d != "shipped" else SteerModel()
    rng = random.Random(0)
    out = {}
    for source, prompts in sorted(rows.items()):
        picked = rng.sample(sorted(prompts), min(240, len(prompts)))
        out[source] = (len(picked), round(float(np.mean([x.refused for x in m.decide(picked)])), 4))
    print(d, json.dumps(out))
