"""Loaders for public evaluation sets: a local copy, or the Hugging Face hub when online.

Evaluation only: nothing in refusalkit trains or tunes on these.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from refusalkit.datasets.public import HEAD_ONLY_SOURCES
from refusalkit.errors import ConfigError
from refusalkit.jsonl import read_rows
from refusalkit.taxonomy import from_coconot

XSTEST_COMPLETION_FILES = ("gpt4", "llama2new", "llama2orig", "mistralguard", "mistralinstruct")


def default_data_dir() -> Path | None:
    """`$REFUSALKIT_EVAL_DATA`, else a `shared/data` folder beside the checkout, if any."""
    explicit = os.environ.get("REFUSALKIT_EVAL_DATA")
    if explicit:
        return Path(explicit)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if (candidate / "xstest").is_dir():
            return candidate
    return None


def _need(path: Path) -> Path:
    if not path.exists():
        raise ConfigError(
            f"{path} is missing; point REFUSALKIT_EVAL_DATA (or --data-dir) at a folder with "
            "xstest/ and coconot/"
        )
    return path


@dataclass(frozen=True)
class XSTestPrompt:
    prompt: str
    type: str
    safe: bool


@dataclass(frozen=True)
class XSTestCompletion:
    model: str
    prompt: str
    completion: str
    prompt_safe: bool
    label: str  # full_compliance | full_refusal | partial_refusal


def xstest_prompts(data_dir: Path) -> list[XSTestPrompt]:
    path = _need(data_dir / "xstest" / "xstest_prompts.csv")
    with path.open(encoding="utf-8") as handle:
        return [
            XSTestPrompt(row["prompt"], row["type"], row["label"] == "safe")
            for row in csv.DictReader(handle)
        ]


def xstest_completions(data_dir: Path) -> list[XSTestCompletion]:
    safe_by_prompt = {p.prompt: p.safe for p in xstest_prompts(data_dir)}
    rows: list[XSTestCompletion] = []
    for model in XSTEST_COMPLETION_FILES:
        path = _need(data_dir / "xstest" / f"completions_{model}.csv")
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                label = row["final_label"].split("_", 1)[1]
                rows.append(
                    XSTestCompletion(
                        model,
                        row["prompt"],
                        row["completion"] or "",
                        safe_by_prompt.get(row["prompt"], not row["type"].startswith("contrast")),
                        label,
                    )
                )
    return rows


def unseen_harmful(data_dir: Path) -> list[dict] | None:
    """Harmful requests of `train/harmful_more.jsonl` (rows with `prompt`, `source`,
    `category`) from the sources the shipped classifiers never trained on (MaliciousInstruct;
    StrongREJECT and HarmBench are in data/public), or None where the folder has none: a
    source held out whole."""
    path = data_dir / "train" / "harmful_more.jsonl"
    if not path.is_file():
        return None
    return [
        r
        for r in read_rows(path)
        if r.get("label", "harmful") == "harmful" and r["source"] not in HEAD_ONLY_SOURCES
    ]


def selfaware(data_dir: Path) -> list[dict] | None:
    """SelfAware's questions (`train/selfaware.jsonl`: `prompt`, `answerable`), or None where
    the folder has none. The shipped refusal-token model never trained on them."""
    path = data_dir / "train" / "selfaware.jsonl"
    return read_rows(path) if path.is_file() else None


def coconot(data_dir: Path, split: str) -> list[dict]:
    """split: eval (should not comply), contrast_eval (should comply), pref (trainable)."""
    path = _need(data_dir / "coconot" / f"coconot_{split}.jsonl")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def coconot_by_category(data_dir: Path) -> tuple[list[dict], list[dict]]:
    """(should-refuse rows, contrast rows), each `{prompt, should_refuse, category}` with the
    taxonomy id of the row's CoCoNot subcategory ("other" where none maps)."""
    rows = [
        {
            "prompt": row["prompt"],
            "should_refuse": should_refuse,
            "category": from_coconot(row.get("subcategory", "")) or "other",
        }
        for split, should_refuse in (("eval", True), ("contrast_eval", False))
        for row in coconot(data_dir, split)
    ]
    return [r for r in rows if r["should_refuse"]], [r for r in rows if not r["should_refuse"]]
