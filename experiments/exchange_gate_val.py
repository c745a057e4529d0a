"""#21: scores behind the finished-exchange rule on validation rows only (the public validation
exchanges and the synthetic validation answers: harmful compliance, refusals, helpful answers to
look-alike and everyday requests). Writes, per row: output score, input flag, audit level, truth.
Run: `exchange_gate_val.py OUT.json`."""

import json
import sys
from pathlib import Path

from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.audit import RefusalClassifier
from refusalkit.classifiers import ConstitutionalClassifiers

clf = ConstitutionalClassifiers.load()
splits, _ = shipped_splits(clf)
rows = splits["val"]
rows = [r for r in rows if r["stage"] == "output"]
audit = RefusalClassifier()
out = []
in_flags: dict[str, bool] = {}
for r in tqdm(rows):
    v = clf.check_output(r["prompt"], r["response"])
    if r["prompt"] not in in_flags:
        in_flags[r["prompt"]] = clf.check_input(r["prompt"]).flagged
    out.append(
        {
            "source": r["source"],
            "kind": r.get("kind"),
            "harmful": r["label"] == "harmful",
            "out_score": v.score,
            "out_flag": v.flagged,
            "in_flag": in_flags[r["prompt"]],
        }
    )
levels = []
for i in range(0, len(rows), 64):
    batch = rows[i : i + 64]
    levels += [
        x.refusal_level
        for x in audit.classify([r["prompt"] for r in batch], [r["response"] for r in batch])
    ]
for o, lv in zip(out, levels, strict=True):
    o["level"] = lv
Path(sys.argv[1]).write_text(json.dumps(out))
