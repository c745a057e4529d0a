"""Classifying a JSONL file row by row, keeping order and every input field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tqdm.auto import tqdm

from refusalkit.errors import ConfigError, InvalidInputError
from refusalkit.jsonl import atomic_jsonl, json_lines
from refusalkit.verdict import Verdict


def _rows(path: Path):
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; give a JSONL file with a prompt field per row")
    for number, row in json_lines(path):
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
            raise InvalidInputError(f"{path}:{number}: each row needs a text 'prompt' field")
        if (
            "response" in row
            and row["response"] is not None
            and not isinstance(row["response"], str)
        ):
            raise InvalidInputError(f"{path}:{number}: 'response' must be text or null")
        yield number, row


class Checks(Protocol):
    """What classifying a file needs of a guard model (guard/model.py has the whole protocol)."""

    def check_input(self, text: str) -> Verdict: ...

    def check_output(self, text: str, response: str) -> Verdict: ...


def classify_file(
    path: Path,
    output: Path,
    classifiers: Checks,
    check_response: Callable[[str, str], Verdict] | None = None,
) -> int:
    """Writes to a temporary file first, so a failure never leaves a half-written OUT.
    Rows with a response go to `check_response` (default: the output classifier alone)."""
    check_response = check_response or classifiers.check_output
    total = sum(1 for _ in _rows(path))  # validates the whole file before any work
    count = 0
    with atomic_jsonl(output) as sink:
        for number, row in tqdm(
            _rows(path), total=total, desc="classifying", unit="row", disable=None
        ):
            try:
                if row.get("response"):
                    verdict = check_response(row["prompt"], row["response"])
                else:
                    verdict = classifiers.check_input(row["prompt"])
            except InvalidInputError as exc:
                raise InvalidInputError(f"{path}:{number}: {exc}") from None
            row.update(
                flagged=verdict.flagged,
                score=round(verdict.score, 6),
                category=verdict.category if verdict.flagged else None,
                stage=verdict.stage,
            )
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
