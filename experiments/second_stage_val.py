"""#21: classifier directories compared on the validation rows `refusalkit train` calibrates on
(never a test set): harmful recall, everyday and look-alike prompts flagged, and everyday prompts
flagged by language. Run: `second_stage_val.py DIR [DIR ...]` ("shipped" for the shipped one)."""

import sys
from collections import defaultdict

import numpy as np
from shipped_rows import shipped_splits

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.training import EVERYDAY_SOURCES

for name in sys.argv[1:]:
    classifiers = ConstitutionalClassifiers.load(None if name == "shipped" else name)
    splits, _ = shipped_splits(classifiers)
    val = splits["val"]
    val = [r for r in val if r["stage"] == "input"]
    flagged = np.array([classifiers.check_input(r["text"]).flagged for r in val])
    harmful = np.array([r["label"] == "harmful" for r in val])
    everyday = np.array(
        [not h and r["source"] in EVERYDAY_SOURCES for h, r in zip(harmful, val, strict=True)]
    )
    by_lang = defaultdict(list)
    for f, e, r in zip(flagged, everyday, val, strict=True):
        if e and r.get("lang", "en") != "en":
            by_lang[r["lang"]].append(bool(f))
    non_english = [f for v in by_lang.values() for f in v]
    print(
        f"{name}: recall {flagged[harmful].mean():.4f} everyday {flagged[everyday].mean():.4f} "
        f"look-alikes {flagged[~harmful & ~everyday].mean():.4f} non-English everyday flagged "
        f"{sum(non_english)} of {len(non_english)} "
        + str({k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_lang.items())})
    )
