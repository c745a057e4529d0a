"""#21 experiment: where the band's top edge should sit (the first-stage score above which a
readable input is flagged without the second stage). Validation rows only (the rows
`refusalkit train` calibrates on): for each candidate, choose_band's threshold at the 2% / 5%
budgets, the cascade's harmful recall, the benign pools flagged, and the everyday share that
reaches the second stage. Run: `band_top_val.py`."""

import numpy as np
from shipped_rows import validation_scores

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.training import (
    EVERYDAY_SOURCES,
    CascadeTargets,
    choose_band,
)

classifiers = ConstitutionalClassifiers.load()
stage = classifiers.second_stage
assert stage is not None, "this classifier directory has no second stage"
val, first, readable, second = validation_scores(classifiers, stage.band.low)
harmful = np.array([r["label"] == "harmful" for r in val])
everyday = np.array(
    [not h and r["source"] in EVERYDAY_SOURCES for h, r in zip(harmful, val, strict=True)]
)
t1 = classifiers.artifacts.calibration.input.default


def band_for(band_fpr: float | None):
    return choose_band(first, second, val, readable, t1, CascadeTargets(band_fpr=band_fpr))


for band_fpr in (0.002, 0.001, 0.0, None):
    band = band_for(band_fpr)
    in_band = (first >= band.low) & (first < band.high) & readable
    flagged = np.where(
        in_band, second >= band.threshold, first >= np.where(readable, band.high, t1)
    )
    sources = sorted(
        {r["source"] for r, h, e in zip(val, harmful, everyday, strict=True) if not h and not e}
    )
    per = {
        s: round(
            float(flagged[[r["source"] == s and r["label"] != "harmful" for r in val]].mean()), 3
        )
        for s in sources
    }
    print(
        f"band_fpr {band_fpr}: band [{band.low:.4f}, {band.high:.6f}) t {band.threshold:.3f}"
        f" recall {flagged[harmful].mean():.4f} everyday flagged {flagged[everyday].mean():.4f}"
        f" look-alikes flagged {flagged[~harmful & ~everyday].mean():.4f} {per}"
        f" everyday in band {in_band[everyday].mean():.3f}"
        f" harmful in band {in_band[harmful].mean():.3f}"
    )
