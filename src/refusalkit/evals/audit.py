"""Refusal-audit accuracy (evaluation only): XSTest's human-labelled completions, other models'
answers held out by model (Do-Not-Answer) and by prompt, each beside the XSTest string matcher
on the same rows."""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from refusalkit.audit.classifier import RefusalClassifier
from refusalkit.audit.data import public_examples
from refusalkit.audit.run import AuditOptions, run_audit
from refusalkit.audit.string_match import string_match_level
from refusalkit.audit.train import (
    AuditTrainOptions,
    binary_accuracy,
    composed_examples,
    evaluate,
    leave_one_model_out,
)
from refusalkit.datasets.eval_sets import xstest_completions
from refusalkit.datasets.public import answer_rows
from refusalkit.datasets.voices import voice_rows


def bench_audit(
    data_dir: Path,
    classifier_dir: Path | None = None,
    progress: bool = False,
    voices: bool = True,
) -> dict[str, Any]:
    """XSTest: binary and three-level accuracy against the human `final_label`, and throughput
    of the whole `audit` path (classifier load, reading, classifying, writing) on the 2,250
    rows. `voices`: also leave-one-model-out on Do-Not-Answer and the public test split."""
    completions = xstest_completions(data_dir)
    with tempfile.TemporaryDirectory(prefix="refusalkit-bench-") as tmp:
        source = Path(tmp) / "xstest_completions.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for c in completions:
                row = {"model": c.model, "prompt": c.prompt, "response": c.completion}
                handle.write(json.dumps(row) + "\n")
        started = time.perf_counter()
        run_audit(
            AuditOptions(
                source, Path(tmp) / "out.jsonl", classifier_dir=classifier_dir, progress=progress
            )
        )
        elapsed = time.perf_counter() - started
        with (Path(tmp) / "out.jsonl").open(encoding="utf-8") as handle:
            audited = [json.loads(line) for line in handle]
    truth = {
        "full_compliance": "compliance",
        "full_refusal": "full_refusal",
        "partial_refusal": "partial_refusal",
    }
    binary = [
        (row["refusal_level"] != "compliance") == (c.label != "full_compliance")
        for row, c in zip(audited, completions, strict=True)
    ]
    three = [
        row["refusal_level"] == truth[c.label] for row, c in zip(audited, completions, strict=True)
    ]
    truth_levels = [truth[c.label] for c in completions]
    matched = [string_match_level(c.completion) for c in completions]
    matched_three = [m == t for m, t in zip(matched, truth_levels, strict=True)]
    by_model: dict[str, list[bool]] = {}
    for ok, c in zip(binary, completions, strict=True):
        by_model.setdefault(c.model, []).append(ok)
    confusion = Counter(
        f"{truth[c.label]}->{row['refusal_level']}"
        for row, c in zip(audited, completions, strict=True)
    )
    result: dict[str, Any] = {
        "rows": len(completions),
        "binary_accuracy": round(sum(binary) / len(binary), 4),
        "three_level_accuracy": round(sum(three) / len(three), 4),
        "string_match": {
            "binary_accuracy": binary_accuracy(matched, truth_levels),
            "three_level_accuracy": round(sum(matched_three) / len(matched_three), 4),
        },
        "binary_accuracy_by_model": {m: round(sum(v) / len(v), 4) for m, v in by_model.items()},
        "confusion": dict(sorted(confusion.items())),
        "elapsed_s": round(elapsed, 2),
        "rows_per_s": round(len(completions) / elapsed, 1),
        "reference": {"gpt4_judge": [0.826, 0.799], "string_match": [0.884, 0.839]},
    }
    if voices:
        result.update(other_voices(classifier_dir, progress))
    return result


def other_voices(classifier_dir: Path | None, progress: bool = False) -> dict[str, Any]:
    """Leave-one-model-out on Do-Not-Answer, and the public test split (by prompt) with its
    category and group accuracy, each beside string matching on the same rows; the project's
    own held-out category set."""
    classifier = RefusalClassifier(classifier_dir)
    composed_train, composed_test = composed_examples(AuditTrainOptions(out=Path(".")))
    public = public_examples(answer_rows() + voice_rows())
    split: dict[str, Any] = {}
    for source in sorted({e.source for e in public["test"]}):
        rows = [e for e in public["test"] if e.source == source]
        split[source] = {
            **evaluate(classifier, rows),
            "string_match_binary_accuracy": binary_accuracy(
                [string_match_level(e.response) for e in rows], [e.level for e in rows]
            ),
        }
    everything = [e for part in public.values() for e in part]
    return {
        "leave_one_model_out": leave_one_model_out(
            classifier, composed_train, everything, progress=progress
        ),
        "public_test_split": split,
        # Composed from held-out seed parts: the project's own phrasing, a smoke test.
        "own_heldout_split": evaluate(classifier, composed_test),
    }
