"""Decoding with refusal tokens: one prefill gives every decision token's probability;
per-category thresholds pick the token; generation continues from it.

Rule (as in the paper): a category's token is emitted when its probability clears the category's
threshold (the most probable of those that do); otherwise `[respond]`. Probabilities are the
softmax over the decision tokens only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from refusalkit.backends.base import Message, validate_messages
from refusalkit.config import load_settings
from refusalkit.errors import InvalidInputError, ModelNotFoundError
from refusalkit.steer.bases import DEFAULT_BASE, base_hf_path, generator_base
from refusalkit.steer.data import RESPOND
from refusalkit.steer.layout import ADAPTER_DIR, TOKENIZER_DIR, chat_prefix
from refusalkit.steer.tokens import REFUSE_TOKEN, RESPOND_TOKEN, category_token, choice_tokens

DEFAULT_DIR = Path(__file__).resolve().parent / "artifacts"
MAX_PROMPT_TOKENS = 512


@dataclass
class Decision:
    token: str  # "respond" or a category id ("refuse" for the single-token model)
    p_refuse: float
    category_probs: dict[str, float] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.token != RESPOND

    def as_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "p_refuse": round(self.p_refuse, 6),
            "category_probs": {k: round(v, 6) for k, v in self.category_probs.items()},
        }


def parse_thresholds(items: Sequence[str], categories: Sequence[str]) -> dict[str, float]:
    """`CAT=P` strings (and `all=P`) → a threshold per category; unknown names are errors."""
    thresholds: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = -1.0  # reported just below
        if not sep or not 0.0 <= number <= 1.0:
            raise InvalidInputError(f"threshold {item!r}: write CATEGORY=P with P in [0, 1]")
        if name == "all":
            thresholds.update(dict.fromkeys(categories, number))
        elif name in categories:
            thresholds[name] = number
        else:
            raise InvalidInputError(
                f"threshold {item!r}: unknown category {name!r}; use all or one of "
                + ", ".join(categories)
            )
    return thresholds


def _common_prefix(sequences: list[list[int]]) -> int:
    """Length of the prefix all share, leaving every sequence at least one token of its own."""
    shortest = min(len(s) for s in sequences)
    first = sequences[0]
    length = 0
    while length < shortest - 1 and all(s[length] == first[length] for s in sequences):
        length += 1
    return length


class SteerModel:
    """A base model (meta.json's `base`) + the refusal-token adapter, merged, on the CPU (or
    `device`)."""

    def __init__(
        self, directory: Path | str | None = None, threads: int | None = None, device: str = "cpu"
    ) -> None:
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.directory = Path(directory) if directory else DEFAULT_DIR
        meta_path = self.directory / "meta.json"
        if not meta_path.is_file():
            raise ModelNotFoundError(
                f"{self.directory} holds no refusal-token model (no meta.json); train one with "
                "`refusalkit steer train --out DIR` or leave the option out"
            )
        self.meta = json.loads(meta_path.read_text())
        if threads:
            torch.set_num_threads(threads)
        self.device = device
        self.base = generator_base(self.meta.get("base", DEFAULT_BASE))
        self.tokenizer: Any = AutoTokenizer.from_pretrained(self.directory / TOKENIZER_DIR)
        # the token that ends an answer
        self.turn_end = cast(int, self.tokenizer.convert_tokens_to_ids(self.base.turn_end))
        base = AutoModelForCausalLM.from_pretrained(
            base_hf_path(load_settings().cache_dir, self.base.key), dtype=torch.float32
        )
        base.resize_token_embeddings(len(self.tokenizer), mean_resizing=False)
        model = PeftModel.from_pretrained(base, self.directory / ADAPTER_DIR)
        self.model: Any = model.merge_and_unload().to(device).eval()
        self.single = self.meta.get("mode") == "single"
        self.categories: list[str] = list(self.meta["categories"])
        # the choices: respond, then one refusal per category (or the one [refuse])
        self.labels = [RESPOND, *(["refuse"] if self.single else self.categories)]
        self.token_ids: Any = self.tokenizer.convert_tokens_to_ids(
            choice_tokens(self.categories, self.single)
        )
        self.default_threshold = float(self.meta.get("default_threshold", 0.5))
        # per-category defaults (steer/thresholds.py) override the one default where present
        self.category_thresholds = {
            str(k): float(v) for k, v in self.meta.get("thresholds", {}).items()
        }

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @property
    def threshold_names(self) -> list[str]:
        return self.labels[1:]

    def thresholds(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        values = dict.fromkeys(self.threshold_names, self.default_threshold)
        values.update((k, v) for k, v in self.category_thresholds.items() if k in values)
        for name, value in (overrides or {}).items():
            if name not in values:
                raise InvalidInputError(
                    f"unknown steering category {name!r}; use one of {', '.join(values)}"
                )
            values[name] = float(value)
        return values

    def _prefix(self, prompt: str | Sequence[Message]) -> list[int]:
        """Token ids of the chat up to the decision position; `prompt` is text or messages."""
        if isinstance(prompt, str):
            if not prompt.strip():
                raise InvalidInputError("the prompt is empty: give some text")
        else:
            prompt = validate_messages(prompt)
        ids = chat_prefix(self.tokenizer, prompt)
        return ids if len(ids) <= MAX_PROMPT_TOKENS else ids[:8] + ids[-(MAX_PROMPT_TOKENS - 8) :]

    def probabilities(
        self, prompts: Sequence[str | Sequence[Message]], batch_size: int = 32
    ) -> np.ndarray:
        """[n, 1 + choices]: softmax over the decision tokens at the first answer position.

        Every prompt starts with the same chat-template block (system prompt and all), so its
        keys and values are computed once and shared; each batch runs only the rest, right-
        padded, and reads the hidden state at each row's last token. Only the decision tokens'
        rows of the output layer are applied.
        """
        import copy

        import torch

        encoded = [self._prefix(p) for p in prompts]
        out = np.zeros((len(prompts), len(self.token_ids)), dtype=np.float64)
        if not encoded:
            return out
        shared = _common_prefix(encoded)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        pad = self.tokenizer.pad_token_id or 0
        decision_rows = self.model.get_output_embeddings().weight[self.token_ids]
        body = self.model.model
        with torch.inference_mode():
            prefix_cache = None
            if shared:
                prefix_out = body(
                    input_ids=torch.tensor([encoded[0][:shared]], device=self.device),
                    use_cache=True,
                )
                prefix_cache = getattr(prefix_out, "cache", None) or prefix_out.past_key_values
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                rests = [encoded[i][shared:] for i in batch]
                width = max(len(r) for r in rests)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), shared + width), dtype=torch.long)
                mask[:, :shared] = 1
                for row, rest in enumerate(rests):
                    ids[row, : len(rest)] = torch.tensor(rest)
                    mask[row, shared : shared + len(rest)] = 1
                cache = None
                if prefix_cache is not None:
                    cache = copy.deepcopy(prefix_cache)
                    cache.batch_repeat_interleave(len(batch))
                hidden = body(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    position_ids=(shared + torch.arange(width))[None, :]
                    .expand(len(batch), -1)
                    .to(self.device),
                    cache=cache,
                    use_cache=cache is not None,
                ).last_hidden_state
                last = torch.tensor([len(r) - 1 for r in rests], device=self.device)
                rows = hidden[torch.arange(len(batch), device=self.device), last]
                logits = rows @ decision_rows.T
                out[batch] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def decide_from(self, probs: np.ndarray, thresholds: Mapping[str, float]) -> Decision:
        names = self.threshold_names
        passing = [k for k, name in enumerate(names) if probs[1 + k] >= thresholds[name]]
        token = names[max(passing, key=lambda k: probs[1 + k])] if passing else RESPOND
        return Decision(
            token,
            float(1.0 - probs[0]),
            {name: float(probs[1 + k]) for k, name in enumerate(names)},
        )

    def decide(
        self,
        prompts: Sequence[str | Sequence[Message]],
        thresholds: Mapping[str, float] | None = None,
    ) -> list[Decision]:
        values = self.thresholds(thresholds)
        return [self.decide_from(row, values) for row in self.probabilities(prompts)]

    def generate(
        self,
        prompt: str,
        thresholds: Mapping[str, float] | None = None,
        max_tokens: int = 128,
    ) -> tuple[Decision, str]:
        """Decide, then generate greedily after the chosen token; returns the answer text."""
        import torch

        decision = self.decide([prompt], thresholds)[0]
        token = (
            RESPOND_TOKEN
            if not decision.refused
            else (REFUSE_TOKEN if self.single else category_token(decision.token))
        )
        ids = [*self._prefix(prompt), self.tokenizer.convert_tokens_to_ids(token)]
        with torch.inference_mode():
            output = self.model.generate(
                torch.tensor([ids], device=self.device),
                attention_mask=torch.ones((1, len(ids)), dtype=torch.long, device=self.device),
                max_new_tokens=max_tokens,
                do_sample=False,
                repetition_penalty=1.1,
                eos_token_id=self.turn_end,
                pad_token_id=self.tokenizer.pad_token_id or 0,
            )
        text = self.tokenizer.decode(output[0, len(ids) :], skip_special_tokens=True)
        return decision, text.strip()

    def generate_batch(
        self,
        prompts: Sequence[str],
        thresholds: Mapping[str, float] | None = None,
        max_tokens: int = 64,
        batch_size: int = 16,
        progress: bool = False,
    ) -> list[tuple[Decision, str]]:
        """Many prompts at once (left-padded batches): for evaluations."""
        import torch
        from tqdm.auto import tqdm

        decisions = self.decide(prompts, thresholds)
        sequences = []
        for prompt, decision in zip(prompts, decisions, strict=True):
            token = (
                RESPOND_TOKEN
                if not decision.refused
                else (REFUSE_TOKEN if self.single else category_token(decision.token))
            )
            sequences.append([*self._prefix(prompt), self.tokenizer.convert_tokens_to_ids(token)])
        texts = [""] * len(prompts)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        pad = self.tokenizer.pad_token_id or 0
        end = self.turn_end
        bar = tqdm(total=len(prompts), desc="generating", unit="prompt", disable=not progress)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                width = max(len(sequences[i]) for i in batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    ids[row, width - len(sequences[i]) :] = torch.tensor(sequences[i])
                    mask[row, width - len(sequences[i]) :] = 1
                output = self.model.generate(
                    ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    max_new_tokens=max_tokens,
                    do_sample=False,
                    repetition_penalty=1.1,
                    eos_token_id=end,
                    pad_token_id=pad,
                )
                for row, i in enumerate(batch):
                    texts[i] = self.tokenizer.decode(
                        output[row, width:], skip_special_tokens=True
                    ).strip()
                bar.update(len(batch))
        bar.close()
        return list(zip(decisions, texts, strict=True))
