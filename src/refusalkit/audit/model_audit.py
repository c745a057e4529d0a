"""`refusalkit audit-model`: ask a live model, audit its answers, count over- and under-refusal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refusalkit.audit.classifier import RefusalClassifier
from refusalkit.audit.io import read_batches
from refusalkit.backends import GenerationParams, load_backend
from refusalkit.backends.base import user_message
from refusalkit.datasets.eval_sets import coconot, default_data_dir, xstest_prompts
from refusalkit.errors import InvalidInputError

BUILTIN_PROMPT_SETS = ("xstest", "coconot")


@dataclass
class LabelledPrompt:
    prompt: str
    should_refuse: bool | None  # None: unlabelled
    kind: str = ""


def _label(row: dict, number: int) -> bool | None:
    if "should_refuse" in row:
        value = row["should_refuse"]
        if isinstance(value, str):
            value = value.strip().lower() in ("1", "true", "yes")
        return bool(value)
    if "label" in row and row["label"] in ("safe", "unsafe"):
        return row["label"] == "unsafe"
    if "safe" in row:
        value = row["safe"]
        return not (value if isinstance(value, bool) else str(value).lower() == "true")
    return None


def load_prompts(spec: str, data_dir: Path | None = None) -> list[LabelledPrompt]:
    """A prompt file (prompt + optional should_refuse / label safe|unsafe / safe), or a
    built-in labelled set: `xstest` (250 safe, 200 unsafe) or `coconot` (1,001 should-refuse
    + 379 contrast prompts), read from the evaluation data folder."""
    if spec in BUILTIN_PROMPT_SETS:
        folder = data_dir or default_data_dir()
        if folder is None:
            raise InvalidInputError(
                f"--prompts {spec} needs the evaluation data: set REFUSALKIT_EVAL_DATA to a folder "
                "holding xstest/ and coconot/"
            )
        if spec == "xstest":
            return [LabelledPrompt(p.prompt, not p.safe, p.type) for p in xstest_prompts(folder)]
        refuse = [LabelledPrompt(r["prompt"], True, "eval") for r in coconot(folder, "eval")]
        answer = [
            LabelledPrompt(r["prompt"], False, "contrast") for r in coconot(folder, "contrast_eval")
        ]
        return refuse + answer
    path = Path(spec)
    prompts: list[LabelledPrompt] = []
    for batch in read_batches(path, 1024):
        for row in batch:
            number = len(prompts) + 1
            text = row.get("prompt")
            if not isinstance(text, str) or not text.strip():
                raise InvalidInputError(
                    f"{path} row {number}: needs a text `prompt` (found: {', '.join(row)})"
                )
            prompts.append(LabelledPrompt(text, _label(row, number), str(row.get("type", ""))))
    if not prompts:
        raise InvalidInputError(f"{path} holds no prompts")
    return prompts


def audit_model(
    model: str,
    prompts: list[LabelledPrompt],
    max_tokens: int = 160,
    classifier_dir: Path | None = None,
    concurrency: int | None = None,
    progress: bool = True,
) -> tuple[dict[str, Any], list[dict]]:

    params = GenerationParams(max_tokens=max_tokens, temperature=0.0)
    with load_backend(model) as backend:
        answers = backend.generate_batch(
            [user_message(p.prompt) for p in prompts], params, concurrency, progress
        )
        name = backend.model_name
    classifier = RefusalClassifier(classifier_dir)
    results = classifier.classify([p.prompt for p in prompts], answers)
    rows = [
        {
            "prompt": p.prompt,
            "should_refuse": p.should_refuse,
            "type": p.kind,
            "response": a,
            **r.as_dict(),
        }
        for p, a, r in zip(prompts, answers, results, strict=True)
    ]
    safe = [r for r in rows if r["should_refuse"] is False]
    unsafe = [r for r in rows if r["should_refuse"] is True]
    summary: dict[str, Any] = {
        "model": name,
        "prompts": len(rows),
        "refusal_rate": round(sum(r["refusal"] for r in rows) / len(rows), 4),
        "levels": dict(Counter(r["refusal_level"] for r in rows)),
        "categories": dict(Counter(r["category"] for r in rows if r["category"])),
    }
    if safe:
        summary["over_refusal_rate"] = round(sum(r["refusal"] for r in safe) / len(safe), 4)
        summary["safe_prompts"] = len(safe)
    if unsafe:
        summary["under_refusal_rate"] = round(
            sum(not r["refusal"] for r in unsafe) / len(unsafe), 4
        )
        summary["unsafe_prompts"] = len(unsafe)
    return summary, rows
