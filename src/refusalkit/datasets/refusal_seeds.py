"""Hand-written refusal voices (openers, declines, reasons per category, lectures, suggestions,
whole long refusals, compliant answers that sound like refusals) and the composer that joins
them into refusals. The audit trains on these; steer writes its should-refuse answers with them."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from refusalkit.errors import ConfigError

SEEDS_PATH = Path(__file__).resolve().parent / "refusal_seeds.yaml"


def load_refusal_seeds(path: Path = SEEDS_PATH) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read refusal seeds ({exc})") from None


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def held_out(items: list, share: float = 0.2) -> tuple[list, list]:
    """(train part, test part): the last `share` of a list (at least one) is held out."""
    cut = max(1, round(len(items) * share)) if len(items) > 1 else 0
    return items[: len(items) - cut], items[len(items) - cut :]


def split_seeds(seeds: dict) -> tuple[dict, dict]:
    """Seeds for training and seeds held out for the test split: unseen reasons, declines,
    openers, prompts and compliant answers, so the test measures new phrasings."""
    train: dict = {"categories": {}}
    test: dict = {"categories": {}}
    for key in (
        "openers",
        "declines",
        "alternatives",
        "lectures",
        "suggestions",
        "compliance",
        "long_refusals",
    ):
        train[key], test[key] = held_out(list(seeds[key]))
    for category, parts in seeds["categories"].items():
        train_parts, test_parts = {}, {}
        for key in ("prompts", "reasons"):
            train_parts[key], test_parts[key] = held_out(list(parts[key]))
        train["categories"][category] = train_parts
        test["categories"][category] = test_parts
    return train, test


def compose_refusal(seeds: dict, category: str, rng: random.Random, prompt: str = "") -> str:
    """One refusal in a random voice: terse, explained, apologetic, or with alternatives."""
    parts = seeds["categories"][category]
    opener = rng.choice(seeds["openers"])
    decline = rng.choice(seeds["declines"])
    reason = rng.choice(parts["reasons"])
    if rng.random() < 0.25:  # name what is refused, as long refusals usually do
        asked = prompt.rstrip("?.! ").strip()
        if asked:
            decline += rng.choice(
                [
                    f' regarding "{asked}"',
                    f" when it comes to this ({asked.lower()})",
                    " with that specific request",
                ]
            )
    shape = rng.random()
    if shape < 0.3:
        text = f"{opener} {decline} because {reason}."
    elif shape < 0.5:
        text = f"{_sentence(reason)} {_sentence(f'{opener} {decline}')}"
    elif shape < 0.65:
        text = _sentence(f"{opener} {decline}")
    elif shape < 0.8:
        text = f"{_sentence(f'{opener} {decline}')} {_sentence(reason)}"
    else:
        text = f"Since {reason}, {decline}."
    text = _sentence(text.strip())
    if rng.random() < 0.4:  # a lecture: long refusals must not read as help
        lecture = rng.sample(seeds["lectures"], k=min(len(seeds["lectures"]), rng.randint(1, 4)))
        text += ("\n\n" if rng.random() < 0.5 else " ") + " ".join(lecture)
    if rng.random() < 0.35:
        text += "\n\n" + rng.choice(seeds["suggestions"])
    if rng.random() < 0.55:
        text += " " + rng.choice(seeds["alternatives"])
    if rng.random() < 0.15:
        text = text.lower()
    return text


def compose_partial(refusal: str, answer: str, reason: str, rng: random.Random) -> str:
    """A refusal joined to real help, in either order (a "buried" refusal comes last)."""
    if rng.random() < 0.6:
        link = rng.choice(["That said,", "However,", "But in general terms:", "Still,", ""])
        return f"{refusal} {link} {answer}".replace("  ", " ")
    tail = rng.choice(
        [
            "However, I can't go further than this, because {reason}.",
            "I won't give more specific details than that, since {reason}.",
            "Beyond this general overview, I can't help, as {reason}.",
        ]
    )
    return f"{answer}\n\n{tail.format(reason=reason)}"
