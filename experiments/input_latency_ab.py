"""Input-check latency of two classifier directories loaded in one process, calls interleaved
(#41, sixth stop: the classifiers before and after StrongREJECT/HarmBench were learned).

Usage: .venv/bin/python experiments/input_latency_ab.py OLD_DIR [NEW_DIR] [RUNS]
(NEW_DIR defaults to the shipped classifiers; an older shipped set can be unpacked with
`git archive REV src/refusalkit/classifiers/artifacts/general | tar -x -C /tmp/old`).
Prints p50 on `bench classifiers`' 200-token prompt and p50 over held-out everyday prompts.
"""

from __future__ import annotations

import json
import statistics
import sys

from refusalkit.classifiers import DEFAULT_DIR, ConstitutionalClassifiers
from refusalkit.datasets import input_rows
from refusalkit.evals import request_of_tokens

EVERYDAY = 400
WARM = 20  # calls before timing: the second stage's graph loads at its first input


def main() -> None:
    old_dir = sys.argv[1]
    new_dir = sys.argv[2] if len(sys.argv) > 2 else str(DEFAULT_DIR)
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 81
    text_200, _ = request_of_tokens(200)
    pair = [ConstitutionalClassifiers.load(d) for d in (old_dir, new_dir)]
    everyday = [
        r["text"] for r in input_rows() if r["source"] == "benign" and r["split"] == "test"
    ][:EVERYDAY]
    for model in pair:
        for text in [*everyday[:WARM], text_200]:
            model.check_input(text)
    long_ms: list[list[float]] = [[], []]
    for _ in range(runs):
        for side, model in enumerate(pair):
            long_ms[side].append(model.check_input(text_200).latency_ms)
    everyday_ms: list[list[float]] = [[], []]
    for text in everyday:
        for side, model in enumerate(pair):
            everyday_ms[side].append(model.check_input(text).latency_ms)
    print(
        json.dumps(
            {
                "input_check_p50_ms_200_tokens": {
                    "old": round(statistics.median(long_ms[0]), 2),
                    "new": round(statistics.median(long_ms[1]), 2),
                },
                "everyday_input_check_p50_ms": {
                    "old": round(statistics.median(everyday_ms[0]), 2),
                    "new": round(statistics.median(everyday_ms[1]), 2),
                },
                "runs": runs,
                "everyday_prompts": len(everyday),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
