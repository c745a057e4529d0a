"""Guard-stopped answers: released text followed by a constitution's refusal message.

A guard that stops a stream mid-answer releases the checked text and appends its refusal
message. The learned classifier reads the opening (compliant) and the closing (a short refusal)
and may call that compliance; the message's wording is known, so it is matched exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from refusalkit.constitution import builtin_constitutions, load_constitution
from refusalkit.constitution.schema import CHECK_FAILED_REFUSAL, DEFAULT_REFUSAL


def _pattern(template: str) -> str:
    """The template's fixed text, escaped; a category title or id matches any short text."""
    parts = re.split(r"\{(?:title|id)\}", " ".join(template.split()))
    return r".{1,120}?".join(re.escape(part) for part in parts)


TAIL_CHARS = 1200  # longer than any refusal message with its category title


@lru_cache(maxsize=1)
def _message_patterns(extra: tuple[str, ...] = ()) -> re.Pattern[str]:
    templates = {DEFAULT_REFUSAL, CHECK_FAILED_REFUSAL, *extra}
    for path in builtin_constitutions().values():
        templates.add(load_constitution(path).refusal_message)
    alternatives = "|".join(sorted(_pattern(t) for t in templates))
    return re.compile(rf"(?:{alternatives})\s*$", re.DOTALL)


def guard_stop(response: str, templates: Iterable[str] = ()) -> str | None:
    """`partial_refusal` when a refusal message ends text that came before it,
    `full_refusal` when the message is all there is, else None."""
    flat = " ".join(response.split())
    tail_start = max(0, len(flat) - TAIL_CHARS)  # the message ends the text: search only there
    match = _message_patterns(tuple(sorted(templates))).search(flat, tail_start)
    if match is None:
        return None
    return "partial_refusal" if flat[: match.start()].strip() else "full_refusal"
