"""`steer decide` over a JSONL file: order and every input field kept, written atomically."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from tqdm.auto import tqdm

from refusalkit.errors import ConfigError, InvalidInputError
from refusalkit.jsonl import atomic_jsonl, chunked, json_lines
from refusalkit.steer.decode import SteerModel

CHUNK = 64  # rows held in memory at once


def _rows(path: Path):
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; give a JSONL file with a prompt field per row")
    for number, row in json_lines(path):
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
            found = ", ".join(row) if isinstance(row, dict) else type(row).__name__
            raise InvalidInputError(
                f"{path}:{number}: each row needs a text 'prompt' field (found: {found})"
            )
        if not row["prompt"].strip():
            raise InvalidInputError(f"{path}:{number}: the prompt is empty")
        yield row


def decide_file(
    path: Path, output: Path, model: SteerModel, thresholds: Mapping[str, float]
) -> int:
    total = sum(1 for _ in _rows(path))  # validates the whole file before any work
    values = model.thresholds(thresholds)
    count = 0
    with (
        atomic_jsonl(output) as sink,
        tqdm(total=total, desc="deciding", unit="prompt", disable=None) as bar,
    ):
        for chunk in chunked(_rows(path), CHUNK):
            probs = model.probabilities([r["prompt"] for r in chunk])
            for item, p in zip(chunk, probs, strict=True):
                item.update(model.decide_from(p, values).as_dict())
                sink.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += len(chunk)
            bar.update(len(chunk))
    return count
