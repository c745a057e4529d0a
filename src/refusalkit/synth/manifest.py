"""What a synth run writes: the three split files (atomically) and manifest.json."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from refusalkit.synth.generation import GenerationCache
from refusalkit.synth.rows import Row

SPLITS = ("train", "val", "test")
COUNTED_FIELDS = (
    "split",
    "stage",
    "label",
    "category",
    "transform",
    "transform_family",
    "source",
    "kind",
)


def write_splits(out: Path, rows: list[Row]) -> None:
    for split in SPLITS:
        path = out / f"{split}.jsonl"
        temporary = path.with_suffix(".jsonl.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            for row in rows:
                if row.split == split:
                    handle.write(row.model_dump_json() + "\n")
        os.replace(temporary, path)


def build_manifest(
    rows: list[Row],
    run: dict[str, Any],
    dedup: dict[str, Any],
    heldout: list[str],
    cache: GenerationCache,
    stats: Counter[str],
    elapsed: float,
) -> dict[str, Any]:
    """`run`: what identifies the run (constitution, generator, seed, options); `dedup`: rows
    before deduplication and how many each pass removed."""

    def count(field_name: str) -> dict[str, int]:
        return dict(sorted(Counter(getattr(r, field_name) for r in rows).items()))

    before = dedup["before"]
    removed = dedup["exact_removed"] + dedup["near_removed"]
    return {
        **{k: run[k] for k in ("constitution", "constitution_path", "constitution_hash")},
        **{k: run[k] for k in ("generator", "seed", "n_requested")},
        "rows": len(rows),
        "files": {s: f"{s}.jsonl" for s in SPLITS},
        "counts": {name: count(name) for name in COUNTED_FIELDS},
        "label_by_stage": {
            stage: dict(Counter(r.label for r in rows if r.stage == stage))
            for stage in ("input", "output")
        },
        "heldout_families": heldout,
        "dedup": {
            **{k: dedup[k] for k in ("before", "exact_removed", "near_removed")},
            "near_duplicate_rate": round(removed / before, 4) if before else 0.0,
            "threshold": dedup["threshold"],
        },
        "generator_stats": {
            "calls": cache.calls,
            "cached": cache.cached_hits,
            "failures": cache.failures,
            "last_error": cache.last_error,
            **dict(stats),
        },
        "options": run["options"],
        "elapsed_s": round(elapsed, 1),
        "rows_per_min": round(len(rows) / (elapsed / 60), 1) if elapsed else None,
    }
