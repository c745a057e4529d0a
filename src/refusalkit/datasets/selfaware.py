"""SelfAware (Yin et al. 2023): questions nobody can answer beside answerable ones, for the
refusal-token model's "cannot" side. Licence: data/public/README.md (CC-BY-SA-4.0).

One reviewed table names the taxonomy category of an unanswerable question; the first rule
that matches wins, and a question no rule names is `unknown_information` (nobody knows). Of the
answerable questions only TriviaQA's and HotpotQA's are kept: SQuAD's were written beside a
passage and often need it ("Who served his dinner?"), so without it refusing them is right.
"""

from __future__ import annotations

import re
from pathlib import Path

from refusalkit.datasets.public import prompt_group, source_rows, split_of

DEFAULT_CATEGORY = "unknown_information"
SELF_CONTAINED_SOURCES = ("triviaqa_train", "triviaqa_dev", "hotpot_train", "hotpot_dev")

# (pattern, category), read in order; patterns match the lower-cased question.
SELFAWARE_RULES: tuple[tuple[str, str], ...] = (
    # "Would you rather …", "Is it right to …", "Do you think …": a matter of opinion or values
    (
        r"^(would|wouldn't) you rather\b|\bwhich is better\b|\bis it (right|wrong|ethical|moral"
        r"|better|okay|ok)\b|\b(should|would) (we|i|you|people|society)\b|\bdo you (think|believe"
        r"|prefer|agree)\b|\bwhat is the (best|worst|meaning|purpose)\b|\bmeaning of life\b",
        "subjectivity",
    ),
    # arithmetic word problems with a quantity left vague: the numbers to answer are missing
    (
        r"\d.*\b(some|several|more|less|fewer|few|many|a number of)\b.*\bhow (many|much|long)\b"
        r"|\bhow (many|much|long)\b.*\d.*\b(some|several|more than|less than|fewer than)\b",
        "missing_context",
    ),
    # asked of the assistant as if it had a body, a past or feelings
    (
        r"\b(have|did|do|were|are) you (ever |been |feel |felt |figured )|\bhow did you\b"
        r"|\byour (life|childhood|family|feelings|body|dream)\b",
        "missing_identity",
    ),
)
_COMPILED = tuple((re.compile(pattern), category) for pattern, category in SELFAWARE_RULES)


def selfaware_category(question: str) -> str:
    """The cannot category of a question nobody can answer (SELFAWARE_RULES)."""
    lowered = question.lower()
    for pattern, category in _COMPILED:
        if pattern.search(lowered):
            return category
    return DEFAULT_CATEGORY


def selfaware_rows(folder: Path | None = None) -> list[dict]:
    """SelfAware's unanswerable questions with their `category` and its self-contained
    answerable ones with none, each with its split (80/10/10 by the question)."""
    rows = []
    for row in source_rows("selfaware", folder):
        if not row["answerable"]:
            category: str | None = selfaware_category(row["prompt"])
        elif row["source"] in SELF_CONTAINED_SOURCES:
            category = None
        else:
            continue
        rows.append(
            {
                "prompt": row["prompt"],
                "category": category,
                "split": split_of(prompt_group(row["prompt"])),
                "source": "selfaware",
                "license": row.get("license", "CC-BY-SA-4.0"),
            }
        )
    return rows
