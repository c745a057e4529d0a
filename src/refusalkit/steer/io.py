"""`steer decide` over a JSONL file: order and every input field kept, written atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from tqdm.auto import tqdm

from refusalkit.errors import ConfigError, InvalidInputError
from refusalkit.jsonl import json_lines
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
    temporary = output.with_name(output.name + ".tmp")
    count = 0
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with (
            temporary.open("w", encoding="utf-8") as sink,
            tqdm(total=total, desc="deciding", unit="prompt", disable=None) as bar,
        ):
            chunk: list[dict] = []
            for row in [*_rows(path), None]:
                if row is not None:
                    chunk.append(row)
                if chunk and (row is None or len(chunk) == CHUNK):
                    probs = model.probabilities([r["prompt"] for r in chunk])
                    for item, p in zip(chunk, probs, strict=True):
                        item.update(model.decide_from(p, values).as_dict())
                        sink.write(json.dumps(item, ensure_ascii=False) + "\n")
                    count += len(chunk)
                    bar.update(len(chunk))
                    chunk = []
        os.replace(temporary, output)
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return count
