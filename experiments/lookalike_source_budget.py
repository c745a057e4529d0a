"""#21: the second stage's threshold under a per-source look-alike budget (each look-alike
source with >= 100 validation rows flagged <= 5%) against today's pooled budget, on the
validation rows `refusalkit train` calibrates on (never a test set)."""

from collections import defaultdict

import numpy as np
from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.training import EVERYDAY_SOURCES

clf = ConstitutionalClassifiers.load()
splits, _ = shipped_splits(clf)
val = splits["val"]
val = [r for r in val if r["stage"] == "input"]
verdicts = [clf.check_input(r["text"]) for r in tqdm(val)]
harmful = np.array([r["label"] == "harmful" for r in val])
everyday = np.array(
    [not h and r["source"] in EVERYDAY_SOURCES for h, r in zip(harmful, val, strict=True)]
)
second = np.array([v.second_stage for v in verdicts])
score = np.array([v.score for v in verdicts])
fixed = np.array([v.flagged for v in verdicts]) & ~second  # decided by the first stage
sources = defaultdict(list)
for i, r in enumerate(val):
    if not harmful[i] and not everyday[i]:
        sources[r["source"]].append(i)
assert clf.second_stage is not None, "this classifier directory has no second stage"
shipped = clf.second_stage.band.threshold


def flags(t: float) -> np.ndarray:
    return fixed | (second & (score >= t))


def report(name: str, t: float) -> None:
    f = flags(t)
    per = {s: f"{f[ix].mean():.3f} ({len(ix)})" for s, ix in sorted(sources.items())}
    look = ~harmful & ~everyday
    print(
        f"{name}: t {t:.4f} recall {f[harmful].mean():.4f} everyday {f[everyday].mean():.4f} "
        f"look-alikes {f[look].mean():.4f} {per}"
    )


report("pooled (shipped)", shipped)
candidates = sorted(set(score[second].tolist()) | {shipped})
big = [ix for ix in sources.values() if len(ix) >= 100]
for t in candidates:
    if t < shipped:
        continue
    f = flags(t)
    if all(f[ix].mean() <= 0.05 for ix in big) and f[everyday].mean() <= 0.02:
        report("per source", t)
        break
