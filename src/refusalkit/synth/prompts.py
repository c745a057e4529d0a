"""The requests a synth run starts from: seeds, templates, and generator-written queries kept
only when they sit nearest their own category."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from refusalkit.backends import GenerationParams
from refusalkit.constitution.schema import Category
from refusalkit.synth import grammar
from refusalkit.synth.generation import Request
from refusalkit.synth.seeds import Seeds

REFUSAL_RE = re.compile(
    r"\b(I can(?:'|’)?t|I cannot|I won(?:'|’)?t|I(?:'|’)m sorry|I am sorry|I(?:'|’)m not able|"
    r"I am not able|unable to (?:help|assist|provide)|as an AI|I must decline|"
    r"not (?:appropriate|something I can))",
    re.IGNORECASE,
)
BULLET_RE = re.compile(r"^\s*(?:#?\d+[.):]|[-*•#]+)(?:\s*(?:#?\d+[.):]|[-*•#]+))*\s*")
# A generated line counts as a request only if it asks for something; the 135M model often
# writes statements instead ("Soldiers are the most vulnerable."), which would be label noise.
REQUEST_RE = re.compile(
    r"(\?\s*$|^(?:how|what|why|where|which|who|when|can|could|would|will|is|are|do|does|"
    r"should|write|give|tell|explain|help|describe|list|show|create|make|draft|find|generate|"
    r"provide|teach|suggest|please|i (?:want|need|would like)|i'm looking|compose)\b)",
    re.IGNORECASE,
)
QUERY_TONES = [
    "casual and short", "polite and detailed", "urgent", "curious", "blunt",
    "formal", "from a beginner", "from an expert",
]  # fmt: skip


@dataclass
class Prompt:
    text: str
    source: str
    group: str
    task: str | None = None


def seed_and_template_prompts(
    category: Category, seeds: Seeds, wanted: int, rng: Callable[..., random.Random]
) -> list[Prompt]:
    """The category's examples and seed prompts, topped up with query frames × seed tasks."""
    seeded = seeds.for_category(category.id)
    pool = [
        Prompt(text, "seed", f"{category.id}:seed:{i}")
        for i, text in enumerate([*category.examples, *seeded.prompts])
    ]
    combos = [
        Prompt(
            grammar.fill_query(frame, task, rng(category.id, "frame", t, f)),
            "template",
            f"{category.id}:task:{t}",
            task,
        )
        for t, task in enumerate(seeded.tasks)
        for f, frame in enumerate(grammar.QUERY_FRAMES)
    ]
    rng(category.id, "templates").shuffle(combos)
    return pool + combos[: max(0, wanted - len(pool))]


def query_requests(category: Category, calls: int, rng: random.Random) -> list[Request]:
    """Requests asking the generator for five new queries like the category's examples."""
    requests = []
    for call in range(calls):
        examples = rng.sample(category.examples, k=min(3, len(category.examples)))
        listed = "\n".join(f"- {e}" for e in examples)
        prompt = (
            f"Here are requests people send to an AI assistant about "
            f"{category.title.lower()} ({category.description.strip()})\n{listed}\n"
            f"Write 5 new, different requests like these, {rng.choice(QUERY_TONES)}. "
            "One per line, each starting with '- '."
        )
        params = GenerationParams(max_tokens=160, temperature=0.9, seed=call)
        requests.append(Request.user(prompt, params))
    return requests


def parse_query_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = BULLET_RE.sub("", raw).strip().strip('"')
        words = line.split()
        if 4 <= len(words) <= 60 and REQUEST_RE.search(line) and not REFUSAL_RE.search(line):
            lines.append(line)
    return lines


class TopicFilter:
    """Keeps generator text only when the encoder puts it nearest its own category; the
    category centroids come from the first pools it sees."""

    def __init__(self, category_ids: list[str], embed: Callable[[list[str], str], np.ndarray]):
        self.ids = category_ids
        self.embed = embed
        self.centroids: np.ndarray | None = None

    def keep(
        self, candidates: list[tuple[str, str]], pools: dict[str, list[Prompt]], desc: str
    ) -> list[tuple[str, str]]:
        if not candidates:
            return []
        if self.centroids is None:
            texts = [p.text for category_id in self.ids for p in pools[category_id]]
            owners = [category_id for category_id in self.ids for _ in pools[category_id]]
            vectors = self.embed(texts, "category centroids")
            centroids = []
            for category_id in self.ids:
                mask = np.array([owner == category_id for owner in owners])
                centroid = vectors[mask].mean(axis=0)
                centroids.append(centroid / np.linalg.norm(centroid))
            self.centroids = np.stack(centroids)
        vectors = self.embed([text for _, text in candidates], desc)
        nearest = (vectors @ self.centroids.T).argmax(axis=1)
        return [
            candidate
            for candidate, index in zip(candidates, nearest, strict=True)
            if self.ids[index] == candidate[0]
        ]
