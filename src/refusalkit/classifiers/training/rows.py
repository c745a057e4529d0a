"""The rows classifier training reads: the synthetic splits of `refusalkit synth` and the
public human-written rows (data/public), labelled with the constitution's categories."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from refusalkit.classifiers.first_stage.encoder import TextEncoder
from refusalkit.classifiers.training.options import TrainOptions
from refusalkit.datasets import public as public_data
from refusalkit.errors import ConfigError
from refusalkit.jsonl import read_rows


def read_split(data: Path, split: str) -> list[dict]:
    return read_rows(data / f"{split}.jsonl", f"make the data with `refusalkit synth --out {data}`")


def nearest_category(encoder: TextEncoder, texts: Sequence[str], constitution) -> list[str]:
    """The restricted category whose constitution examples are closest to each text: a
    category for harmful rows whose source has no harm labels."""
    names, examples = [], []
    for category in constitution.restricted:
        for example in category.examples:
            names.append(category.id)
            examples.append(example)
    anchors = encoder.embed(examples)
    vectors = encoder.embed(list(texts)) if texts else np.zeros((0, encoder.dim), np.float32)
    return [names[int(i)] for i in (vectors @ anchors.T).argmax(axis=1)]


def public_rows(
    options: TrainOptions, encoder: TextEncoder, constitution, known: set[str] | None = None
) -> list[dict]:
    """Public input and output rows, every harmful one with a category of this constitution
    (`known`: the categories allowed, by default the constitution's and "harmless")."""
    if options.public is None:
        return []
    if known is None:
        known = {c.id for c in constitution.categories} | {"harmless"}
    rows = public_data.input_rows(options.public) + public_data.output_rows(options.public)
    unknown = {r["category"] for r in rows if r["category"]} - known
    if unknown:
        raise ConfigError(
            "the public data maps onto categories this constitution lacks "
            f"({', '.join(sorted(unknown))}); train with --no-public or a constitution with them"
        )
    blank = [r for r in rows if r["label"] == "harmful" and not r["category"]]
    for row, category in zip(
        blank, nearest_category(encoder, [r["prompt"] for r in blank], constitution), strict=True
    ):
        row["category"] = category
    for row in rows:
        row["category"] = row["category"] or "harmless"
    return rows


def splits_with_public(options: TrainOptions, public: Sequence[dict]) -> dict[str, list[dict]]:
    """The synthetic train/val/test splits, train and val with the public rows of their split
    added, as `train` uses them (the public test split is scored apart)."""
    splits = {split: read_split(options.data, split) for split in ("train", "val", "test")}
    for split in ("train", "val"):
        splits[split] += [r for r in public if r["split"] == split]
    return splits


def reader_rows(options: TrainOptions, rows: Sequence[dict], split: str) -> list[dict]:
    """The exchange reader's rows of a split: `rows` and the plain carry-outs of that split."""
    if options.carry_outs is None:
        return list(rows)
    carry_outs = read_rows(options.carry_outs, "make it with `refusalkit synth-carry-outs`")
    return [*rows, *(r for r in carry_outs if r["split"] == split)]
