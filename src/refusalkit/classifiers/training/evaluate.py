"""A trained classifier pair's recall and false-positive rate on labelled rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from refusalkit.classifiers.constitutional import ConstitutionalClassifiers


def evaluate(
    classifiers: ConstitutionalClassifiers, rows: Sequence[dict], progress: bool, desc: str
) -> dict[str, Any]:
    """Recall, false-positive rate and per-family/per-category recall at the saved thresholds."""
    flagged: list[tuple[dict, bool]] = []
    for row in tqdm(rows, desc=f"evaluating {desc}", unit="row", disable=not progress):
        if row["stage"] == "input":
            verdict = classifiers.check_input(row["text"])
        else:
            verdict = classifiers.check_output(row["prompt"], row["response"])
        flagged.append((row, verdict.flagged))
    return summarise(flagged)


def summarise(flagged: Sequence[tuple[dict, bool]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for stage in ("input", "output"):
        harmful = [f for r, f in flagged if r["stage"] == stage and r["label"] == "harmful"]
        harmless = [f for r, f in flagged if r["stage"] == stage and r["label"] == "harmless"]
        by_family: dict[str, list[bool]] = defaultdict(list)
        by_category: dict[str, list[bool]] = defaultdict(list)
        for row, hit in flagged:
            if row["stage"] == stage and row["label"] == "harmful":
                by_family[row["transform_family"]].append(hit)
                by_category[row["category"]].append(hit)
        correct = sum(harmful) + sum(not f for f in harmless)
        result[stage] = {
            "harmful": len(harmful),
            "harmless": len(harmless),
            "recall": round(float(np.mean(harmful)), 4) if harmful else None,
            "fpr": round(float(np.mean(harmless)), 4) if harmless else None,
            "accuracy": round(correct / (len(harmful) + len(harmless)), 4) if flagged else None,
            "recall_by_family": {
                k: round(float(np.mean(v)), 3) for k, v in sorted(by_family.items())
            },
            "recall_by_category": {
                k: round(float(np.mean(v)), 3) for k, v in sorted(by_category.items())
            },
        }
    return result
