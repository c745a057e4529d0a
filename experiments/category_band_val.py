"""#21 experiment: the second stage's threshold per first-stage category, against the shared
threshold, on validation rows only, cross-fitted: fit on one half (split by a hash of the text),
judge on the other, both ways. Caches the scores in SCORES (an .npz) so reruns are quick.
`mix`: in the band, logit(second) + w * logit(first) instead of the second stage's score alone,
w and its threshold fitted on one half, judged on the other (w = 0 is the shipped rule).
Run: `category_band_val.py SCORES [category|mix]`."""

import hashlib
import sys
from pathlib import Path

import numpy as np
from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.training import (
    EVERYDAY_SOURCES,
    CascadeTargets,
    choose_band,
)

EVERYDAY_MAX, LOOKALIKE_MAX = 0.02, 0.05
MIN_SOURCE_ROWS, MIN_CATEGORY_HARMFUL = 50, 30

classifiers = ConstitutionalClassifiers.load()
stage = classifiers.second_stage
assert stage is not None, "this classifier directory has no second stage"
splits = shipped_splits(classifiers)[0]
val = [r for r in splits["val"] if r["stage"] == "input"]
cache = Path(sys.argv[1])
if not cache.exists():
    first = np.zeros(len(val), np.float32)
    found: list[str | None] = []
    for i, row in enumerate(tqdm(val, desc="first stage")):
        first[i], cat, _ = classifiers.first_stage(classifiers.input_features(row["text"]))
        found.append(cat)
    stage.warm()
    readable = np.array([stage.reader.reads(r["text"]) for r in val])
    second = np.zeros(len(val), np.float32)
    for i in tqdm(np.flatnonzero(readable & (first >= stage.band.low)), desc="second stage"):
        second[i] = stage.reader.score(val[i]["text"])
    np.savez(cache, first=first, category=np.array(found), readable=readable, second=second)
saved = np.load(cache)
first, second, readable = saved["first"], saved["second"], saved["readable"]
category = saved["category"]
harmful = np.array([r["label"] == "harmful" for r in val])
source = np.array([r["source"] for r in val])
everyday = ~harmful & np.isin(source, sorted(EVERYDAY_SOURCES))
lookalike = ~harmful & ~everyday
band = stage.band
in_band = readable & (first >= band.low) & (first < band.high)
outside = np.where(
    readable, first >= band.high, first >= classifiers.artifacts.calibration.input.default
)
half = np.array([int(hashlib.sha256(r["text"].encode()).hexdigest()[:8], 16) % 2 for r in val])
categories = sorted(set(category.tolist()))


def flags(thresholds: dict[str, float], shared: float) -> np.ndarray:
    per_row = np.array([thresholds.get(c, shared) for c in category])
    return np.where(in_band, second >= per_row, outside)


def within_budget(flagged: np.ndarray, rows: np.ndarray) -> bool:
    if flagged[rows & everyday].mean() > EVERYDAY_MAX:
        return False
    if flagged[rows & lookalike].mean() > LOOKALIKE_MAX:
        return False
    for s in np.unique(source[rows & lookalike]):
        pool = rows & lookalike & (source == s)
        if pool.sum() >= MIN_SOURCE_ROWS and flagged[pool].mean() > LOOKALIKE_MAX:
            return False
    return True


def per_category(rows: np.ndarray, shared: float) -> dict[str, float]:
    thresholds: dict[str, float] = {}
    for _ in range(3):
        for c in categories:
            mine = rows & in_band & (category == c)
            if (mine & harmful).sum() < MIN_CATEGORY_HARMFUL:
                continue
            best_t = thresholds.get(c, shared)
            best = flags(thresholds, shared)[rows & harmful].mean()
            for t in sorted({*second[mine].tolist(), 1.0}):
                trial = {**thresholds, c: t}
                flagged = flags(trial, shared)
                recall = flagged[rows & harmful].mean()
                if within_budget(flagged, rows) and recall > best + 1e-9:
                    best, best_t = recall, t
            thresholds[c] = best_t
    return thresholds


def report(flagged: np.ndarray, rows: np.ndarray) -> tuple[int, int, int, int, int, int]:
    return (
        int(flagged[rows & harmful].sum()),
        int((rows & harmful).sum()),
        int(flagged[rows & everyday].sum()),
        int((rows & everyday).sum()),
        int(flagged[rows & lookalike].sum()),
        int((rows & lookalike).sum()),
    )


def judged(
    totals: dict, label: str, key: str, flagged: np.ndarray, judge: np.ndarray, fit_half: int
) -> None:
    counts = report(flagged, judge)
    totals[key] += counts
    print(
        f"  judged on half {1 - fit_half}: {label} recall {counts[0]}/{counts[1]}"
        f" everyday {counts[2]}/{counts[3]} look-alikes {counts[4]}/{counts[5]}"
    )


def print_totals(totals: dict) -> None:
    for name, c in totals.items():
        print(
            f"both halves, {name}: recall {c[0] / c[1]:.4f} everyday {c[2] / c[3]:.4f}"
            f" look-alikes {c[4] / c[5]:.4f}"
        )


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def mix_flags(w: float, threshold: float) -> np.ndarray:
    return np.where(in_band, logit(second) + w * logit(first) >= threshold, outside)


def best_threshold(w: float, rows: np.ndarray) -> tuple[float, float]:
    """The lowest threshold on the mixed score within budget on `rows`, and its recall there."""
    z = logit(second) + w * logit(first)
    for t in sorted(set(z[rows & in_band].tolist())):
        flagged = mix_flags(w, t)
        if within_budget(flagged, rows):
            return t, float(flagged[rows & harmful].mean())
    return np.inf, float(outside[rows & harmful].mean())


def mix() -> None:
    totals = {"w=0": np.zeros(6, int), "best w": np.zeros(6, int)}
    for fit_half in (0, 1):
        fit, judge = half == fit_half, half != fit_half
        fitted = {w: best_threshold(w, fit) for w in (0.0, 0.25, 0.5, 1.0, 2.0)}
        print(
            f"fit on half {fit_half}:",
            {w: (round(t, 3), round(r, 4)) for w, (t, r) in fitted.items()},
        )
        best = max((w for w in fitted if w > 0), key=lambda w: (fitted[w][1], -w))
        for name, w in (("w=0", 0.0), ("best w", best)):
            judged(totals, f"{name} ({w})", name, mix_flags(w, fitted[w][0]), judge, fit_half)
    print_totals(totals)


if len(sys.argv) > 2 and sys.argv[2] == "mix":
    mix()
    sys.exit()
totals = {"shared": np.zeros(6, int), "per_category": np.zeros(6, int)}
for fit_half in (0, 1):
    fit, judge = half == fit_half, half != fit_half
    picked = [i for i in range(len(val)) if fit[i]]
    fit_band = choose_band(
        first[fit],
        second[fit],
        [val[i] for i in picked],
        readable[fit],
        classifiers.artifacts.calibration.input.default,
        CascadeTargets(),
    )
    shared = fit_band.threshold
    thresholds = per_category(fit, shared)
    print(
        f"fit on half {fit_half}: shared {shared:.4f}; per category",
        {c: round(t, 4) for c, t in thresholds.items()},
    )
    for name, flagged in (
        ("shared", flags({}, shared)),
        ("per_category", flags(thresholds, shared)),
    ):
        judged(totals, name, name, flagged, judge, fit_half)
print_totals(totals)
