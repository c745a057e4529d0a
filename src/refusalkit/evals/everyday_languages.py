"""Everyday prompts in languages other than English, flagged with the language held out (#41's
multilingual bar: ≤ 2%): for each language, a head that learned from no everyday prompt in it
and set its threshold on none, judged on all of them; and XSafety's commonsense questions
(benign multiple choice about unsafe acts, ten languages), which distillation leaves out."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from refusalkit.evals.distil import xsafety_rows
from refusalkit.evals.loso import EVERYDAY, FoldFit, FoldHead, LosoRow, Vectors
from refusalkit.evals.parity import flagged_by_language

COMMONSENSE = "commonsense"  # XSafety's topic
# the held-out language's everyday prompts: neither trained on nor setting a threshold
HELD = "everyday held out"


def everyday_held_out_by_language(
    rows: list[LosoRow], vectors: Vectors, make_fit: Callable[[list[LosoRow]], FoldFit]
) -> dict[str, Any]:
    """Per language: the share of its everyday prompts (every split) flagged by a head fitted
    by `make_fit` on the rows with those prompts set apart."""
    languages = sorted({r.lang for r in rows if r.source == EVERYDAY and r.lang != "en"})
    flagged: dict[str, dict[str, float | int]] = {}
    for lang in languages:
        held = [i for i, r in enumerate(rows) if r.source == EVERYDAY and r.lang == lang]
        apart = set(held)
        fold_rows = [
            dataclasses.replace(r, source=HELD) if i in apart else r for i, r in enumerate(rows)
        ]
        head = make_fit(fold_rows)(lambda row: row.source == HELD)
        flagged[lang] = {
            "prompts": len(held),
            "flagged": round(float(head.flags(vectors[held]).mean()), 4),
        }
    total = sum(int(f["prompts"]) for f in flagged.values())
    return {
        "languages": flagged,
        "pooled": round(sum(f["flagged"] * f["prompts"] for f in flagged.values()) / total, 4)
        if total
        else None,
        "worst": max(flagged, key=lambda lang: flagged[lang]["flagged"]) if flagged else None,
    }


def commonsense_flagged(
    head: FoldHead, embed: Callable[[Sequence[str]], Vectors], shared_dir: Path | None
) -> dict[str, float]:
    """Per language: the share of XSafety's commonsense questions the head flags."""
    by_language: dict[str, list[str]] = defaultdict(list)
    for row in xsafety_rows(shared_dir):
        if row["topic"] == COMMONSENSE:
            by_language[row["lang"]].append(row["prompt"])
    return flagged_by_language(head, embed, by_language)
