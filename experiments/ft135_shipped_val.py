"""#21 experiment: the shipped cascade's verdicts on the validation rows the tuned model is
judged on (`ft135_eval_val.py` compares them at the same budget)."""

import numpy as np
from ft135_second_stage import load_items

from refusalkit.classifiers import ConstitutionalClassifiers

items = load_items("val")
shipped = ConstitutionalClassifiers.load()
verdicts = [shipped.check_input(t) for t, _, _ in items]
y = np.array([label for _, label, _ in items])
flag = np.array([x.flagged for x in verdicts])
src = np.array([s for _, _, s in items])
np.savez(
    "/tmp/ft/shipped_val.npz",
    flag=flag,
    score=np.array([x.score for x in verdicts]),
    second=np.array([x.second_stage for x in verdicts]),
    y=y,
    src=src,
)
look = (np.isin(src, ["or_bench_hard", "cvalues_zh"]) | np.char.startswith(src, "synth:")) & (
    y == 0
)
print("n", len(y), "recall", flag[y == 1].mean(), "everyday flagged", flag[src == "benign"].mean())
print(
    "lookalike flagged",
    flag[look].mean(),
    "second-stage share",
    np.mean([x.second_stage for x in verdicts]),
)
