"""The project's own realistic benign prompts (everyday, non-English, long documents), shipped
with the package for benchmarks that need traffic without a data folder."""

from __future__ import annotations

import json
from importlib import resources


def benign_traffic() -> list[dict]:
    text = resources.files("refusalkit.evals").joinpath("data/benign_traffic.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]
