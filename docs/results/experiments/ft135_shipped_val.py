import json

import numpy as np

from refusalkit.classifiers.constitutional import ConstitutionalClassifiers
from refusalkit.datasets.public import input_rows

rows = input_rows()
pub = [r for r in rows if r["split"] == "val"]
syn = [json.loads(l) for l in open("/work/main/data/synth-general/val.jsonl")]
items = [(r["text"], int(r["label"] == "harmful"), r["source"]) for r in pub]
items += [
    (r["prompt"], int(r["label"] == "harmful"), "synth:" + r["transform_family"])
    for r in syn
    if r["stage"] == "input"
]
c = ConstitutionalClassifiers.load()
v = [c.check_input(t) for t, _, _ in items]
np.savez(
    "/tmp/ft/shipped_val.npz",
    flag=np.array([x.flagged for x in v]),
    score=np.array([x.score for x in v]),
    second=np.array([x.second_stage for x in v]),
    y=np.array([l for _, l, _ in items]),
    src=np.array([s for _, _, s in items]),
)
y = np.array([l for _, l, _ in items])
f = np.array([x.flagged for x in v])
src = np.array([s for _, _, s in items])
print("n", len(y), "recall", f[y == 1].mean(), "everyday flagged", f[src == "benign"].mean())
look = (
    np.isin(src, ["or_bench_hard", "cvalues_zh"]) | np.char.startswith(src.astype(str), "synth:")
) & (y == 0)
print(
    "lookalike flagged", f[look].mean(), "second-stage share", np.mean([x.second_stage for x in v])
)
