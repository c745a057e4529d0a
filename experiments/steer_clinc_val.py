"""#23 (stop 35): refusal rates of refusal-token models on the public rows' validation split
(never trained on, not a test set), with CLINC150 apart: the requests the rule table names
(should be refused: modalities, knowledge cutoff; `clinc_rules.py` names them), the ones it
leaves with the answers, and the look-ups of the user's records (left out of training; reported
only). Up to 240 prompts a pool, seed 0. Run: `steer_clinc_val.py shipped|MODEL_DIR ...`."""

import json
import random
import sys

import numpy as np
from clinc_rules import clinc_category

from refusalkit.datasets import input_rows
from refusalkit.steer import SteerModel

pools: dict[str, list[str]] = {}
for row in input_rows():
    if row["split"] != "val" or row["source"] == "do_not_answer":
        continue
    pool = row["source"]
    if row.get("origin") == "CLINC150":
        pool = f"clinc:{clinc_category(row['text'])}"
    pools.setdefault(pool, []).append(row["text"])
for directory in sys.argv[1:]:
    model = SteerModel(directory) if directory != "shipped" else SteerModel()
    rng = random.Random(0)
    out = {}
    for pool, prompts in sorted(pools.items()):
        picked = rng.sample(sorted(prompts), min(240, len(prompts)))
        refused = [d.refused for d in model.decide(picked)]
        out[pool] = (len(picked), round(float(np.mean(refused)), 4))
    print(directory, json.dumps(out), flush=True)
