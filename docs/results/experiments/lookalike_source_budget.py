"""#21: the second stage's threshold under a per-source look-alike budget (each look-alike
source with >= 100 validation rows flagged <= 5%) against today's pooled budget, on the
validation rows `refusalkit train` calibrates on (never a test set)."""

from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.cascade import EVERYDAY_SOURCES
from refusalkit.classifiers.options import TrainOptions
from refusalkit.classifiers.train import public_rows, read_split
from refusalkit.datasets.public import default_public_dir

ROOT = Path(__file__).resolve().parents[3]
clf = ConstitutionalClassifiers.load()
constitution = clf.artifacts.constitution
known = {c.id for c in constitution.categories} | {"harmless"}
options = TrainOptions("general", ROOT / "data" / "synth-general", ROOT)
options.public = default_public_dir()
public = public_rows(options, clf.encoder, constitution, known)
val = read_split(options.data, "val") + [r for r in public if r["split"] == "val"]
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
