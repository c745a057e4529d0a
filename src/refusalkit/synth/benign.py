"""Imported benign prompts (`synth --benign FILE`): harmless input rows, and output rows where
the file carries an answer."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from refusalkit.constitution import Constitution
from refusalkit.errors import ConfigError, InvalidInputError
from refusalkit.jsonl import json_lines
from refusalkit.synth.answers import Transformer
from refusalkit.synth.prompts import Prompt
from refusalkit.synth.rows import Row, exchange_text, row_id

# An opening is what the streaming classifier reads; long imported answers add nothing past it.
MAX_IMPORTED_ANSWER_CHARS = 2000


def read_benign(path: Path) -> list[tuple[int, str, str | None]]:
    """(line number, prompt, answer or None) from a JSONL file with `prompt` and optionally
    `response` or `chosen` (CoCoNot's preference format)."""
    if not path.is_file():
        raise ConfigError(f"--benign {path}: no such file")
    rows: list[tuple[int, str, str | None]] = []
    for number, record in json_lines(path):
        prompt = record.get("prompt") if isinstance(record, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            found = ", ".join(record) if isinstance(record, dict) else type(record).__name__
            raise InvalidInputError(f"{path}:{number}: needs a text `prompt` (found: {found})")
        answer = record.get("response") or record.get("chosen")
        rows.append((number, prompt, answer if isinstance(answer, str) else None))
    return rows


def benign_rows(
    constitution: Constitution,
    constitution_path: Path,
    paths: list[Path],
    transform: Transformer,
    transform_rate: float,
    rng: Callable[..., random.Random],
) -> list[Row]:
    """Imported benign prompts as harmless input rows; with an answer, output rows too."""
    permitted = [c.id for c in constitution.permitted]
    if not permitted:
        raise ConfigError(
            f"--benign needs a permitted category in {constitution_path} to file "
            "imported prompts under"
        )
    category = "everyday_requests" if "everyday_requests" in permitted else permitted[0]
    rows: list[Row] = []
    for path in paths:
        for index, prompt, answer in read_benign(path):
            group = f"import:{path.stem}:{index}"
            shown, transform_name, family = transform(
                Prompt(prompt, "imported", group), rng("benign", path.stem, index), transform_rate
            )
            rows.append(
                Row(
                    id=row_id("import", group, shown),
                    stage="input",
                    text=shown,
                    prompt=shown,
                    label="harmless",
                    category=category,
                    transform=transform_name,
                    transform_family=family,
                    source="imported",
                    group=group,
                )
            )
            if answer:
                answer = answer[:MAX_IMPORTED_ANSWER_CHARS]
                rows.append(
                    Row(
                        id=row_id("import-out", group, answer),
                        stage="output",
                        text=exchange_text(prompt, answer),
                        prompt=prompt,
                        response=answer,
                        kind="helpful",
                        label="harmless",
                        category=category,
                        transform="none",
                        transform_family="none",
                        source="imported",
                        group=group,
                    )
                )
    return rows
