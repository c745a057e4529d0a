"""Output rows: which prompt gets which kind of answer (generator, compliance, helpful,
refusal, partial), and the rows built once the generator's answers are back."""

from __future__ import annotations

import random
from collections.abc import Callable

from refusalkit.backends import GenerationParams
from refusalkit.constitution import Constitution
from refusalkit.constitution.schema import Category
from refusalkit.synth import grammar
from refusalkit.synth.generation import Request
from refusalkit.synth.prompts import REFUSAL_RE, Prompt
from refusalkit.synth.rows import Label, Row, exchange_text, row_id
from refusalkit.synth.seeds import Seeds

#: (prompt, rng, rate) → (shown text, transform name, transform family)
Transformer = Callable[[Prompt, random.Random, float], tuple[str, str, str]]


def plan_output_rows(
    pool: list[Prompt], count: int, harmful: bool, generator_share: float, rng: random.Random
) -> list[tuple[Prompt, str]]:
    """Which prompt gets which kind of answer; generator answers are asked for later."""
    if harmful:
        kinds = {
            "generator": generator_share,
            "compliance": 0.55 - generator_share,
            "refusal": 0.27,
            "partial": 0.18,
        }
    else:
        kinds = {
            "generator": generator_share + 0.25,
            "helpful": 0.45 - generator_share,
            "refusal": 0.15,
            "partial": 0.15,
        }
    names, weights = zip(*((k, max(0.0, w)) for k, w in kinds.items()), strict=True)
    order = list(range(len(pool)))
    rng.shuffle(order)
    return [(pool[order[k % len(order)]], rng.choices(names, weights)[0]) for k in range(count)]


def answer_request(prompt: Prompt, index: int) -> Request:
    # The output classifier reads responses as they stream: a 96-token opening is enough.
    params = GenerationParams(max_tokens=96, temperature=0.7, seed=index)
    return Request.user(prompt.text, params)


def neighbour_title(constitution: Constitution, category: Category) -> str:
    for permitted in constitution.permitted:
        if category.id in permitted.near:
            return permitted.title.lower()
    return "general safety information"


def output_rows(
    constitution: Constitution,
    seeds: Seeds,
    category: Category,
    plan: list[tuple[Prompt, str]],
    generated: dict[int, str | None],
    transform: Transformer,
    transform_rate: float,
    rng: random.Random,
) -> list[tuple[Row, bool]]:
    """Rows, each with whether its response came from the generator (filtered later)."""
    seeded = seeds.for_category(category.id)
    tasks = seeded.tasks or [category.title.lower()]
    harmful_category = constitution.label_of(category.id) == "harmful"
    rows: list[tuple[Row, bool]] = []
    for k, (prompt, kind) in enumerate(plan):
        task = prompt.task or rng.choice(tasks)
        source = prompt.source
        from_generator = kind == "generator"
        if from_generator:
            response = generated.get(k)
            if not response or not response.strip():
                continue
            source = "generator"
            if REFUSAL_RE.search(response[:200]):
                kind = "refusal"
            else:
                kind = "compliance" if harmful_category else "helpful"
        elif kind == "compliance":
            steps = seeded.steps or [f"Work out the details of how to {task}."]
            response = grammar.compliance(task, steps, rng)
            source = "template"
        elif kind == "helpful":
            if not seeded.answers:
                continue
            response = grammar.helpful(rng.choice(seeded.answers), rng)
            source = "seed"
        elif kind == "refusal":
            message = (
                constitution.refusal_for(category.id)
                if harmful_category and rng.random() < 0.3
                else grammar.refusal(task, rng)
            )
            response, source = message, "template"
        else:
            response = grammar.partial(task, neighbour_title(constitution, category), rng)
            source = "template"
        label: Label = "harmful" if kind == "compliance" else "harmless"
        shown, transform_name, family = transform(prompt, rng, transform_rate / 2)
        rows.append(
            (
                Row(
                    id=row_id("output", category.id, k, shown, response),
                    stage="output",
                    text=exchange_text(shown, response),
                    prompt=shown,
                    response=response,
                    label=label,
                    category=category.id,
                    transform=transform_name,
                    transform_family=family,
                    source=source,  # type: ignore[arg-type]
                    group=prompt.group,
                    kind=kind,  # type: ignore[arg-type]
                ),
                from_generator and kind == "compliance",
            )
        )
    return rows
