"""What a refusal-token model is made of on disk, and the prompt its decision follows: shared
by training and decoding, so decoding never imports training."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from refusalkit.backends.base import Message

ADAPTER_DIR = "adapter"
TOKENIZER_DIR = "tokenizer"


def chat_prefix(tokenizer: Any, prompt: str | Sequence[Message]) -> list[int]:
    """The chat template up to the assistant's first token; `prompt` is text or messages."""
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "input_ids"):  # transformers 5 returns an encoding
        ids = ids["input_ids"]
    return list(ids)
