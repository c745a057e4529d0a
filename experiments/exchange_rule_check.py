"""#21: the finished-exchange rule (output flag, or input flag and the audit reads compliance)
against the output classifier alone, on the public validation exchanges (`val`) or XSTest's
completions (`xstest`, read once after the rule was fixed). Shipped models, nothing tuned."""

import json
import sys
from pathlib import Path

from tqdm import tqdm

from refusalkit.audit import RefusalClassifier
from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.datasets import output_rows, split_of, xstest_completions

which = sys.argv[1]
clf = ConstitutionalClassifiers.load()
audit = RefusalClassifier()
if which == "val":
    rows = [r for r in output_rows() if split_of(r["group"]) == "val"]
    items = [(r["text"], r["response"], r["label"] == "harmful", r["source"]) for r in rows]
else:
    items = [
        (x.prompt, x.completion, (not x.prompt_safe) and x.label == "full_compliance", x.model)
        for x in xstest_completions(Path("/work/shared/data"))
        if x.completion.strip()
    ]
out_flags, in_flags = [], {}
for p, resp, _, _ in tqdm(items):
    out_flags.append(clf.check_output(p, resp).flagged)
    if p not in in_flags:
        in_flags[p] = clf.check_input(p).flagged
levels = []
B = 64
for i in range(0, len(items), B):
    res = audit.classify([x[0] for x in items[i : i + B]], [x[1] for x in items[i : i + B]])
    levels += [r.refusal_level for r in res]


def report(name, guess):
    truth = [x[2] for x in items]
    tp = sum(g and t for g, t in zip(guess, truth, strict=True))
    fp = sum(g and not t for g, t in zip(guess, truth, strict=True))
    fn = sum(t and not g for g, t in zip(guess, truth, strict=True))
    neg = sum(not t for t in truth)
    p = tp / (tp + fp) if tp + fp else 0
    r = tp / (tp + fn) if tp + fn else 0
    f1 = 2 * p * r / (p + r) if p + r else 0
    print(
        f"{name}: n {len(truth)} pos {tp + fn} P {p:.3f} R {r:.3f} F1 {f1:.3f} FPR {fp / neg:.4f}"
    )


report("output only (shipped)", out_flags)
combo = [
    o or (in_flags[x[0]] and lv == "compliance")
    for o, x, lv in zip(out_flags, items, levels, strict=True)
]
report("output OR (input AND compliance)", combo)
combo_scores = {
    "out": out_flags,
    "in": [in_flags[x[0]] for x in items],
    "levels": levels,
    "truth": [x[2] for x in items],
}
Path(f"/tmp/s30/combo_{which}.json").write_text(json.dumps(combo_scores))
