"""#21: per validation answer, what the finished-exchange check reads: the output classifier's
score and flag, the input flag on its request, and the exchange reader's score. Three pools
(rule: docs/classifiers.md): the validation output rows, the validation carry-outs, and every
harmful validation answer re-asked by an everyday validation request (seeded choice).
Run: `exchange_veto_val.py OUT.json`."""

import json
import random
import sys
from pathlib import Path

from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.jsonl import read_rows

clf = ConstitutionalClassifiers.load()
splits, options = shipped_splits(clf)
val = [r for r in splits["val"] if r["stage"] == "output"]
assert options.carry_outs is not None
carry_outs = [r for r in read_rows(options.carry_outs, "") if r["split"] == "val"]
everyday = sorted({r["prompt"] for r in val if r.get("kind") == "helpful"})
rng = random.Random("re-asked:0")
re_asked = [{**r, "prompt": rng.choice(everyday)} for r in val if r["label"] == "harmful"]
reader = clf.exchange_reader
assert reader is not None, "this classifier directory has no exchange reader"
input_flag: dict[str, bool] = {}
out = []
for pool, rows in (("val", val), ("carry_outs", carry_outs), ("re_asked", re_asked)):
    for r in tqdm(rows, desc=pool):
        if r["prompt"] not in input_flag:
            input_flag[r["prompt"]] = clf.check_input(r["prompt"]).flagged
        content = clf.check_output(r["prompt"], r["response"])
        out.append(
            {
                "pool": pool,
                "source": r["source"],
                "harmful": r["label"] == "harmful",
                "out_score": content.score,
                "out_flag": content.flagged,
                "in_flag": input_flag[r["prompt"]],
                "reader": reader.score(r["prompt"], r["response"]),
            }
        )
Path(sys.argv[1]).write_text(json.dumps({"reader_threshold": reader.threshold, "rows": out}))
