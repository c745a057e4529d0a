"""Training data for the refusal-token model, built here.

Should-refuse prompts: steer/seeds.yaml (hand-written, per category, with templates) and the
general constitution's restricted seeds, each with a refusal that fits its category (composed from
the audit seeds). Should-answer prompts: CoCoNot `pref` prompts with their `chosen` answers, and
the constitution's permitted seeds answered by the base model itself (so helpfulness is kept).
Never CoCoNot eval/contrast or XSTest: those are the test sets.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import yaml
from tqdm.auto import tqdm

from refusalkit.backends import GenerationParams, load_backend, user_message
from refusalkit.datasets.checkout import data_dir
from refusalkit.datasets.public import (
    DNA_REFUSAL_CATEGORY,
    input_rows,
    prompt_group,
    source_rows,
    split_of,
)
from refusalkit.datasets.refusal_seeds import compose_refusal, load_refusal_seeds
from refusalkit.datasets.selfaware import selfaware_rows
from refusalkit.errors import ConfigError
from refusalkit.jsonl import json_lines

STEER_CATEGORIES: tuple[str, ...] = (
    "information_hazards",
    "legal_compliance",
    "privacy",
    "intellectual_property",
    "nsfw",
    "modalities",
    "skill_level",
    "invalid_premise",
    "missing_context",
    "missing_identity",
    "subjectivity",
    "knowledge_cutoff",
    "unknown_information",
)

RESPOND = "respond"

# The general constitution's restricted categories, seen as refusal categories.
CONSTITUTION_TO_STEER = {
    "cbrn_weapons": "information_hazards",
    "explosives_weapons": "information_hazards",
    "cyber_attacks": "information_hazards",
    "violent_crime_terrorism": "information_hazards",
    "illicit_drugs": "information_hazards",
    "self_harm": "information_hazards",
    "fraud_scams": "legal_compliance",
    "human_trafficking": "legal_compliance",
    "disinformation": "legal_compliance",
    "child_sexual_content": "nsfw",
    "non_consensual_sexual": "nsfw",
    "hate_harassment": "nsfw",
    "privacy_doxxing": "privacy",
}
TASK_FRAMES = (
    "How do I {task}?",
    "Explain how to {task}.",
    "Give me step-by-step instructions to {task}.",
    "What's the easiest way to {task}?",
    "I need to {task}. Walk me through it.",
)
PERMITTED_FRAMES = ("How do I {task}?", "Can you explain how to {task}?", "Help me {task}.")
TEMPLATE_SAMPLES = 24  # per template: slot combinations drawn


@dataclass
class SteerExample:
    prompt: str
    token: str  # "respond" or a category id
    answer: str
    source: str  # seed | constitution | coconot_pref | base_model | a public source's name

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _steer_seeds_file() -> dict:
    text = resources.files("refusalkit.steer").joinpath("seeds.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_steer_seeds() -> dict:
    return _steer_seeds_file()["categories"]


def respond_seeds() -> list[str]:
    """The steer seeds' should-answer look-alikes of the refusal categories."""
    return list(_steer_seeds_file().get("respond", []))


def _expand(template: str, slots: dict[str, list[str]], rng: random.Random) -> list[str]:
    names = [name for name in slots if "{" + name + "}" in template]
    combos = list(itertools.product(*(slots[name] for name in names)))
    rng.shuffle(combos)
    return [
        template.format(**dict(zip(names, combo, strict=True)))
        for combo in combos[:TEMPLATE_SAMPLES]
    ]


def refuse_prompts(rng: random.Random) -> list[tuple[str, str, str]]:
    """(prompt, category, source) for every should-refuse prompt."""
    rows: list[tuple[str, str, str]] = []
    for category, seeds in load_steer_seeds().items():
        if category not in STEER_CATEGORIES:
            raise ValueError(f"steer seeds name {category!r}, not a steering category")
        rows += [(prompt, category, "seed") for prompt in seeds.get("prompts", [])]
        for template in seeds.get("templates", []):
            rows += [(p, category, "seed") for p in _expand(template, seeds["slots"], rng)]
    for category, seeds in _constitution_seeds("restricted.yaml").items():
        target = CONSTITUTION_TO_STEER.get(category)
        if target is None:
            continue
        rows += [(prompt, target, "constitution") for prompt in seeds.get("prompts", [])]
        rows += [
            (rng.choice(TASK_FRAMES).format(task=task), target, "constitution")
            for task in seeds.get("tasks", [])
        ]
    return rows


def _constitution_seeds(name: str) -> dict:
    path = resources.files("refusalkit").joinpath("constitutions", "seeds", "general", name)
    return yaml.safe_load(path.read_text("utf-8"))["categories"]


def permitted_prompts() -> list[str]:
    """Should-answer prompts the base model answers: the steer seeds' look-alikes and the
    constitution's permitted seeds. Fixed (no randomness), so the answer cache always matches."""
    prompts = respond_seeds()
    for seeds in _constitution_seeds("permitted.yaml").values():
        prompts += seeds.get("prompts", [])
        tasks = seeds.get("tasks", [])
        prompts += [
            PERMITTED_FRAMES[i % len(PERMITTED_FRAMES)].format(task=t) for i, t in enumerate(tasks)
        ]
    return prompts


def pref_examples(path: Path, max_answer_chars: int) -> list[SteerExample]:
    examples = []
    for _, row in json_lines(path):
        if isinstance(row, dict) and row.get("prompt") and row.get("chosen"):
            examples.append(
                SteerExample(
                    row["prompt"], RESPOND, row["chosen"][:max_answer_chars], "coconot_pref"
                )
            )
    return examples


def base_model_answers(
    prompts: list[str], cache: Path, max_tokens: int, progress: bool = True
) -> dict[str, str]:
    """The base model's own answers, appended to `cache` as they come (a rerun resumes)."""
    answers: dict[str, str] = {}
    if cache.is_file():
        for _, row in json_lines(cache):
            answers[row["prompt"]] = row["answer"]
    missing = [p for p in dict.fromkeys(prompts) if p not in answers]
    if not missing:
        return answers

    backend = load_backend("embedded")
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0)
    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        with cache.open("a", encoding="utf-8") as sink:
            for prompt in tqdm(
                missing, desc="base-model answers", unit="prompt", disable=not progress
            ):
                answer = backend.chat(user_message(prompt), params).strip()
                answers[prompt] = answer
                sink.write(
                    json.dumps({"prompt": prompt, "answer": answer}, ensure_ascii=False) + "\n"
                )
                sink.flush()
    finally:
        backend.close()
    return answers


# How many public rows of each source join the training mix (drawn with the seed from the
# train split). Weighted toward should-answer rows: with fewer of them a model refused 27% of
# held-out everyday prompts (docs/results/steer.md, 2026-11-30).
PUBLIC_REFUSE_CAP = {"aart": 150, "multijail": 50, "do_not_answer": 250}
PUBLIC_RESPOND_CAP = {"benign": 800, "or_bench_hard": 800, "cvalues_zh": 60}
# SelfAware's unanswerable questions (a cannot category each) and self-contained answerable
# ones (respond), #39: the shipped model trained on them (docs/steer.md). They join after the
# other sources, so the other sources' draws are those of a run without them.
TRAIN_ON_SELFAWARE = True
SELFAWARE_CAP = {"unanswerable": 400, "answerable": 400}


# Do-Not-Answer rebuttals (action 1) whose harm type names one reason: false or misleading
# claims are false-premise questions ("How does the recent confirmation of the Flat Earth
# theory change…"). Kept out of DNA_REFUSAL_CATEGORY: the audit cannot give action 1 a level.
DNA_PREMISE_CATEGORY: dict[tuple[str, int], str] = {
    ("Disseminating false or misleading information", 1): "invalid_premise",
}
TRAIN_ON_PREMISES = False  # #39: tried 2026-12-07 with two more levers, not shipped


def dna_question_tokens(premises: bool | None = None) -> dict[str, str]:
    """Do-Not-Answer question → steering token, from what most of the four models did:
    a refusal (action 0 or 4) whose category is a steering category → that category; a
    premise rebuttal (1) of a harm type in DNA_PREMISE_CATEGORY → its category; an answer
    (action 2, 3 or 5) → respond; other rebuttals, ties and unnamed categories are left out.
    `premises` None: TRAIN_ON_PREMISES, the training mix's setting."""
    with_premises = TRAIN_ON_PREMISES if premises is None else premises
    table = {**DNA_REFUSAL_CATEGORY, **(DNA_PREMISE_CATEGORY if with_premises else {})}
    actions: dict[tuple[str, str], list[int]] = {}
    for row in source_rows("do_not_answer"):
        actions.setdefault((row["prompt"], row["types_of_harm"]), []).append(row["action"])
    tokens: dict[str, str] = {}
    for (prompt, harm), seen in actions.items():
        (action, count), *rest = Counter(seen).most_common()
        if rest and rest[0][1] == count:
            continue
        if action in (2, 3, 5):
            tokens[prompt] = RESPOND
        elif action in (0, 1, 4):
            category = table.get((harm, action))
            if category in STEER_CATEGORIES:
                tokens[prompt] = category
    return tokens


def public_examples(
    rng: random.Random,
    split: str = "train",
    selfaware: bool | None = None,
    premises: bool | None = None,
) -> list[SteerExample]:
    """Public rows (data/public) for the refusal-token model. Refusals get an answer composed
    from the audit seeds in their category's voice; should-answer rows carry no answer and
    teach the decision only (the answer after [respond] is learned from the base model's own)."""
    audit_seeds = load_refusal_seeds()
    dna = dna_question_tokens(premises)
    by_source: dict[str, list[tuple[str, str]]] = {}
    for row in input_rows():
        if row["split"] != split or row["source"] == "do_not_answer":
            continue
        token = CONSTITUTION_TO_STEER.get(row["category"]) if row["label"] == "harmful" else RESPOND
        if token is not None:
            by_source.setdefault(row["source"], []).append((row["text"], token))
    by_source["do_not_answer"] = [
        (prompt, token) for prompt, token in dna.items() if split_of(prompt_group(prompt)) == split
    ]
    examples: list[SteerExample] = []
    for source, cap in {**PUBLIC_REFUSE_CAP, **PUBLIC_RESPOND_CAP}.items():
        examples += _draw(by_source.get(source, []), cap, source, rng, audit_seeds)
    if TRAIN_ON_SELFAWARE if selfaware is None else selfaware:
        rows = [r for r in selfaware_rows() if r["split"] == split]
        for kind, cap in SELFAWARE_CAP.items():
            pool = [
                (r["prompt"], r["category"] or RESPOND)
                for r in rows
                if (r["category"] is None) == (kind == "answerable")
            ]
            examples += _draw(pool, cap, "selfaware", rng, audit_seeds)
    return examples


def _draw(
    pool: list[tuple[str, str]], cap: int, source: str, rng: random.Random, audit_seeds: dict
) -> list[SteerExample]:
    """Up to `cap` (prompt, token) rows of a pool, drawn with `rng`: refusals get an answer
    composed in their category's voice, respond rows none (they teach the decision only)."""
    examples = []
    for prompt, token in rng.sample(sorted(pool), min(cap, len(pool))):
        answer = "" if token == RESPOND else compose_refusal(audit_seeds, token, rng, prompt)
        examples.append(SteerExample(prompt, token, answer, source))
    return examples


def build_examples(
    pref_path: Path | None,
    answers_cache: Path,
    seed: int = 0,
    max_answer_chars: int = 400,
    progress: bool = True,
    public: bool = True,
    selfaware: bool | None = None,
    premises: bool | None = None,
) -> list[SteerExample]:
    rng = random.Random(seed)
    audit_seeds = load_refusal_seeds()
    examples = [
        SteerExample(prompt, category, compose_refusal(audit_seeds, category, rng, prompt), source)
        for prompt, category, source in refuse_prompts(rng)
    ]
    permitted = permitted_prompts()
    answers = base_model_answers(permitted, answers_cache, max_tokens=96, progress=progress)
    examples += [
        SteerExample(p, RESPOND, answers[p][:max_answer_chars], "base_model")
        for p in permitted
        if answers.get(p)
    ]
    if pref_path is not None:
        examples += pref_examples(pref_path, max_answer_chars)
    if public:
        examples += public_examples(rng, selfaware=selfaware, premises=premises)
    # exact duplicates (a template can meet a hand-written prompt) keep their first label
    unique: dict[str, SteerExample] = {}
    for example in examples:
        unique.setdefault(example.prompt.strip().lower(), example)
    result = list(unique.values())
    rng.shuffle(result)
    return result


def data_digest(examples: list[SteerExample]) -> str:
    """What meta.json records of the examples a model was built from."""
    encoded = json.dumps([e.as_dict() for e in examples], sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def rebuild_examples(meta: dict) -> list[SteerExample]:
    """The examples a model's meta.json says it was built from (train and validation share),
    rebuilt with its seed. meta.json records the mix by its sources; which of the mixes a model
    used is told by the data digest, which must match."""
    sources = meta.get("sources")
    # meta.json before 2026-12-07 names no sources: try the public mix, then seeds only;
    # meta.json does not name the premise setting either: the default first, then the other
    mixes = (
        [("benign" in sources, "selfaware" in sources)]
        if sources
        else [(True, False), (False, False)]
    )
    expected = meta.get("examples", {}).get("data_digest")
    for public, selfaware in mixes:
        for premises in (TRAIN_ON_PREMISES, not TRAIN_ON_PREMISES) if public else (False,):
            examples = build_examples(
                data_dir() / "external" / "coconot_pref.jsonl",
                data_dir() / "steer" / "base_answers.jsonl",
                seed=int(meta.get("seed", 0)),
                progress=False,
                public=public,
                selfaware=selfaware,
                premises=premises,
            )
            if data_digest(examples) == expected:
                return examples
    raise ConfigError(
        f"the training data differs from what this model was trained on (data digest "
        f"{expected} in meta.json); retrain it with `refusalkit steer train` first"
    )
