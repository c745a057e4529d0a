"""#21 experiment: where the band's low edge should sit now that the second stage is a tuned
12-layer encoder. Validation rows only (the same rows `refusalkit train` calibrates on): for each
`band_recall` (the share of harmful validation rows at or above the low edge), choose_band picks
the threshold at the 2% / 5% targets; prints the cascade's harmful recall and the everyday share
that reaches the second stage. Run: `band_edge_val.py`."""

import numpy as np
from shipped_rows import validation_scores

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.training import (
    EVERYDAY_SOURCES,
    CascadeTargets,
    choose_band,
)

classifiers = ConstitutionalClassifiers.load()
val, first, readable, second = validation_scores(classifiers)
harmful = np.array([r["label"] == "harmful" for r in val])
everyday = np.array(
    [not h and r["source"] in EVERYDAY_SOURCES for h, r in zip(harmful, val, strict=True)]
)
t1 = classifiers.artifacts.calibration.input.default
for band_recall in (0.97, 0.98, 0.99, 0.995, 0.999):
    band = choose_band(first, second, val, readable, t1, CascadeTargets(0.02, 0.05, band_recall))
    in_band = (first >= band.low) & (first < band.high) & readable
    flagged = np.where(
        in_band, second >= band.threshold, first >= np.where(readable, band.high, t1)
    )
    print(
        f"band_recall {band_recall}: band [{band.low:.4f}, {band.high:.4f}) t {band.threshold:.3f}"
        f" recall {flagged[harmful].mean():.4f} everyday flagged {flagged[everyday].mean():.4f}"
        f" look-alikes flagged {flagged[~harmful & ~everyday].mean():.4f}"
        f" everyday in band {in_band[everyday].mean():.3f}"
    )
