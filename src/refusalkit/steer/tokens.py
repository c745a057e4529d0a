"""The decision tokens added to the generator's vocabulary."""

from __future__ import annotations

RESPOND_TOKEN = "[respond]"
REFUSE_TOKEN = "[refuse]"


def category_token(category: str) -> str:
    return f"[refuse:{category}]"


def decision_tokens(categories: list[str] | tuple[str, ...]) -> list[str]:
    """Every token added: respond, the single-token refuse variant, one per category."""
    return [RESPOND_TOKEN, REFUSE_TOKEN, *(category_token(c) for c in categories)]


def choice_tokens(categories: list[str] | tuple[str, ...], single: bool) -> list[str]:
    """The tokens a decision chooses among: [respond], then [refuse] or one per category."""
    return [RESPOND_TOKEN, *([REFUSE_TOKEN] if single else map(category_token, categories))]
