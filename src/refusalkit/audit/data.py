"""Training data for the refusal classifiers, built from seeds.yaml and the synth data.

Refusals are composed from parts (opener, decline, reason, alternative) in many orders and
lengths; partial refusals join a refusal to real help; compliance comes from hand-written
answers (several that *sound* like refusals), CoCoNot `pref` chosen answers and synth rows.
Levels follow XSTest's definitions: offering only alternatives is still a full refusal;
refusing and then answering anyway is partial.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from refusalkit.datasets.refusal_seeds import (
    compose_partial,
    compose_refusal,
    held_out,
    load_refusal_seeds,
    split_seeds,
)

Level = Literal["compliance", "partial_refusal", "full_refusal"]
LEVELS: tuple[Level, ...] = ("compliance", "partial_refusal", "full_refusal")


@dataclass(frozen=True)
class AuditExample:
    prompt: str
    response: str
    level: Level
    category: str | None  # taxonomy id for refusals, None for compliance
    source: str
    group: str  # examples sharing a group never straddle a split
    model: str = ""  # whose voice: a public answer's model; empty for composed examples
    taxonomy_group: str | None = None  # should_not / cannot where known without a category


def _long_refusal_variants(
    item: dict, answers: list[str], group: str, rng: random.Random
) -> list[AuditExample]:
    """A hand-written long refusal as written, shortened, re-cased, and as the refusing half
    of a partial refusal."""
    text, prompt, category = item["text"], item["prompt"], item["category"]
    sentences = re.split(r"(?<=[.!?])\s+", text)
    variants = [
        (text, "full_refusal"),
        (" ".join(sentences[:2]), "full_refusal"),
        (text.lower(), "full_refusal"),
        (" ".join(sentences[: max(1, len(sentences) - 1)]), "full_refusal"),
        (f"{' '.join(sentences[:2])} That said, {rng.choice(answers)}", "partial_refusal"),
    ]
    return [
        AuditExample(prompt, response, level, category, "seed", group)  # type: ignore[arg-type]
        for response, level in variants
        for _ in range(3)
    ]


def _examples_from(
    seeds: dict,
    answers: list[str],
    split: str,
    refusals_per_category: int,
    rng: random.Random,
) -> list[AuditExample]:
    examples: list[AuditExample] = []
    all_prompts = [p for c in seeds["categories"].values() for p in c["prompts"]]
    for category, parts in seeds["categories"].items():
        for k in range(refusals_per_category):
            prompt = rng.choice(parts["prompts"])
            refusal = compose_refusal(seeds, category, rng, prompt)
            group = f"{split}:refusal:{category}:{k}"
            if rng.random() < 0.25:
                reason = rng.choice(parts["reasons"])
                text = compose_partial(refusal, rng.choice(answers), reason, rng)
                examples.append(
                    AuditExample(prompt, text, "partial_refusal", category, "seed", group)
                )
            else:
                examples.append(
                    AuditExample(prompt, refusal, "full_refusal", category, "seed", group)
                )
    for index, item in enumerate(seeds["long_refusals"]):
        examples += _long_refusal_variants(item, answers, f"{split}:long:{index}", rng)
    for index, answer in enumerate(seeds["compliance"]):
        for _ in range(3):  # sympathetic or warning-laden help must not read as refusal
            examples.append(
                AuditExample(
                    rng.choice(all_prompts),
                    answer,
                    "compliance",
                    None,
                    "seed",
                    f"{split}:compliance:{index}",
                )
            )
    return examples


def build_examples(
    synth_rows: list[dict],
    pref_rows: list[dict],
    seed: int = 0,
    refusals_per_category: int = 160,
) -> tuple[list[AuditExample], list[AuditExample]]:
    """(train, test). Test examples are composed only from held-out seed parts, held-out
    CoCoNot `pref` rows and the synth data's test split: nothing in them was trained on."""
    rng = random.Random(f"audit:{seed}")
    train_seeds, test_seeds = split_seeds(load_refusal_seeds())
    pref_train, pref_test = held_out(pref_rows, 0.15)
    out: dict[str, list[AuditExample]] = {}
    for split, seeds, pref in (("train", train_seeds, pref_train), ("test", test_seeds, pref_test)):
        rows = [r for r in synth_rows if (r.get("split") == "test") == (split == "test")]
        helpful = [r["response"] for r in rows if r.get("kind") == "helpful" and r.get("response")]
        answers = seeds["compliance"] + helpful[:400] + [p["chosen"][:1200] for p in pref[:300]]
        share = 1.0 if split == "train" else 0.25
        examples = _examples_from(seeds, answers, split, round(refusals_per_category * share), rng)
        for row in rows:
            kind, response = row.get("kind"), row.get("response")
            if not response:
                continue
            if kind in ("refusal", "partial"):
                # Synth refusals answer the constitution's harms: information hazards.
                # Synth "partial" answers refuse and offer a neighbouring topic without
                # answering: XSTest counts offering only alternatives as a full refusal.
                level: Level = "full_refusal"
                category: str | None = "information_hazards"
            elif kind in ("helpful", "compliance"):
                level, category = "compliance", None
            else:
                continue
            examples.append(
                AuditExample(
                    row["prompt"], response, level, category, "synth", f"synth:{row['group']}"
                )
            )
        examples += [
            AuditExample(p["prompt"], p["chosen"], "compliance", None, "coconot_pref", f"pref:{i}")
            for i, p in enumerate(pref)
        ]
        rng.shuffle(examples)
        out[split] = examples
    return out["train"], out["test"]


def public_examples(rows: list[dict]) -> dict[str, list[AuditExample]]:
    """`datasets.public.answer_rows()` as examples by split (train, val, test; split by prompt)."""
    out: dict[str, list[AuditExample]] = {"train": [], "val": [], "test": []}
    for row in rows:
        out[row["split"]].append(
            AuditExample(
                row["prompt"],
                row["response"],
                row["level"],
                row["category"],
                row["source"],
                row["prompt_group"],
                row["model"],
                row["group"],
            )
        )
    return out
