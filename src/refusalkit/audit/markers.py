"""What a keyword matcher sees in a response, as features beside the learned vectors.

A string matcher is a strong refusal detector on answers that open with "I'm sorry" or "I
can't"; giving the level head the same cues (and where in the answer they sit) keeps the
learned classifier from doing worse than one. Hand-written because the cues are a short list
of phrases, not something a library ships.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

# Each family: phrases matched on lower-cased text with curly quotes straightened.
APOLOGY = ("sorry", "i apologize", "i apologise", "my apologies", "unfortunately")
DECLINE = (
    "i can't", "i cannot", "i can not", "i won't", "i will not", "i'm unable", "i am unable",
    "i'm not able", "i am not able", "unable to", "not able to provide", "i must decline",
    "i'd rather not", "i would rather not", "i refuse", "i'm not going to", "i am not going to",
    "can't assist", "cannot assist", "can't help", "cannot help", "can't provide",
    "cannot provide", "cannot fulfill", "can't fulfill", "cannot comply", "can't comply",
    "not able to help", "not able to assist", "not in a position to",
)  # fmt: skip
AI_IDENTITY = (
    "as an ai", "i'm an ai", "i am an ai", "just an ai", "language model", "as a language",
    "i'm a language", "ai assistant", "as an assistant", "i'm claude", "i am claude",
    "developed by openai", "created by anthropic",
)  # fmt: skip
NO_ACCESS = (
    "i don't have access", "i do not have access", "i don't have personal",
    "i do not have personal", "i don't have real-time", "i do not have real-time",
    "i don't have information", "i do not have information", "i don't have the ability",
    "i do not have the ability", "i don't have any information", "i do not have any",
    "i'm not aware", "i am not aware", "i don't know", "i do not know", "not sure",
)  # fmt: skip
JUDGEMENT = (
    "not appropriate", "inappropriate", "not ethical", "unethical", "illegal", "harmful",
    "dangerous", "against my", "ethical guidelines", "i strongly advise against",
    "i must emphasize", "i must inform you", "it is important to", "it's important to",
    "i encourage you", "i urge you", "respect", "offensive", "not acceptable",
)  # fmt: skip
REDIRECT = (
    "instead", "if you have any other", "feel free to ask", "happy to help with",
    "glad to help with", "i'd be happy to", "i would be happy to", "consult", "professional",
    "seek help", "reach out", "hotline", "alternative",
)  # fmt: skip
PIVOT = ("however", "that said", "but i can", "but here", "here is", "here's", "here are")
FAMILIES = (APOLOGY, DECLINE, AI_IDENTITY, NO_ACCESS, JUDGEMENT, REDIRECT, PIVOT)
OPENING_CHARS = 120
CLOSING_CHARS = 200
# Where an answer starts with a decline, a string matcher calls it a refusal.
STARTS = (
    "sorry", "i'm sorry", "i am sorry", "i apologize", "i apologise", "no,", "no.",
    "i cannot", "i can't", "i can not", "i won't", "i will not", "i'm not able", "i am not able",
    "i'm unable", "i am unable", "as an ai", "unfortunately",
)  # fmt: skip
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+", re.MULTILINE)


def _has(text: str, phrases: Sequence[str]) -> float:
    return 1.0 if any(p in text for p in phrases) else 0.0


def marker_vector(response: str) -> list[float]:
    text = " ".join(response.translate(_QUOTES).lower().split())
    opening, closing = text[:OPENING_CHARS], text[-CLOSING_CHARS:]
    words = len(text.split())
    vector = [1.0 if text.startswith(STARTS) else 0.0]
    for family in FAMILIES:
        vector += [_has(opening, family), _has(closing, family), _has(text, family)]
    vector += [
        math.log1p(words) / 6.0,
        min(len(_LIST_ITEM.findall(response)), 10) / 10.0,
        1.0 if "```" in response else 0.0,
    ]
    return vector


MARKER_COUNT = len(marker_vector(""))


def marker_features(responses: Sequence[str]) -> np.ndarray:
    return np.array([marker_vector(r) for r in responses], dtype=np.float32).reshape(
        len(responses), MARKER_COUNT
    )
