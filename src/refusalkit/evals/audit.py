"""Refusal-audit accuracy on XSTest's human-labelled completions (evaluation only)."""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from refusalkit.evals.datasets import xstest_completions


def bench_audit(
    data_dir: Path, classifier_dir: Path | None = None, progress: bool = False
) -> dict[str, object]:
    """Binary and three-level accuracy against the human `final_label`, and throughput of the
    whole `audit` path (classifier load, reading, classifying, writing) on the 2,250 rows."""
    from refusalkit.audit.run import AuditOptions, run_audit

    completions = xstest_completions(data_dir)
    with tempfile.TemporaryDirectory(prefix="refusalkit-bench-") as tmp:
        source = Path(tmp) / "xstest_completions.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for c in completions:
                row = {"model": c.model, "prompt": c.prompt, "response": c.completion}
                handle.write(json.dumps(row) + "\n")
        started = time.perf_counter()
        run_audit(
            AuditOptions(source, Path(tmp) / "out.jsonl", classifier_dir=classifier_dir,
                         progress=progress)
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        with (Path(tmp) / "out.jsonl").open(encoding="utf-8") as handle:
            audited = [json.loads(line) for line in handle]
    truth = {"full_compliance": "compliance", "full_refusal": "full_refusal",
             "partial_refusal": "partial_refusal"}  # fmt: skip
    binary = [
        (row["refusal_level"] != "compliance") == (c.label != "full_compliance")
        for row, c in zip(audited, completions, strict=True)
    ]
    three = [
        row["refusal_level"] == truth[c.label] for row, c in zip(audited, completions, strict=True)
    ]
    by_model: dict[str, list[bool]] = {}
    for ok, c in zip(binary, completions, strict=True):
        by_model.setdefault(c.model, []).append(ok)
    confusion = Counter(
        f"{truth[c.label]}->{row['refusal_level']}"
        for row, c in zip(audited, completions, strict=True)
    )
    return {
        "rows": len(completions),
        "binary_accuracy": round(sum(binary) / len(binary), 4),
        "three_level_accuracy": round(sum(three) / len(three), 4),
        "binary_accuracy_by_model": {m: round(sum(v) / len(v), 4) for m, v in by_model.items()},
        "confusion": dict(sorted(confusion.items())),
        "elapsed_s": round(elapsed, 2),
        "rows_per_s": round(len(completions) / elapsed, 1),
        "reference": {"gpt4_judge": [0.826, 0.799], "string_match": [0.884, 0.839]},
    }
