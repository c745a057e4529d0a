"""One row of a synthetic dataset, and how its classifier text is rendered."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel

Stage = Literal["input", "output"]
Label = Literal["harmful", "harmless"]
Source = Literal["generator", "seed", "template", "imported"]
Split = Literal["train", "val", "test"]
Kind = Literal["request", "compliance", "refusal", "partial", "helpful"]


def exchange_text(prompt: str, response: str) -> str:
    """What the output classifier reads: the response in the context of its prompt."""
    return f"User: {prompt}\n\nAssistant: {response}"


class Row(BaseModel):
    id: str
    stage: Stage
    text: str
    prompt: str
    response: str | None = None
    label: Label
    category: str
    transform: str = "none"
    transform_family: str = "none"
    source: Source
    split: Split = "train"
    #: rows sharing a group are paraphrases of one request: a split never separates them
    group: str
    kind: Kind = "request"


def row_id(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]
