"""`llamaguard:MODEL_SPEC`: a judge that speaks Llama Guard 3's format over any backend.

The conversation goes to the model as chat messages; the model's own chat template turns them
into Llama Guard's task prompt (as vLLM, transformers and Llama Guard's GGUF files do). Its
answer is parsed: `safe`, or `unsafe` and a line of MLCommons hazard ids (`S1,S10`). Any other
answer is an error, which the guard treats as a failed check (fail closed).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from refusalkit.backends.base import Backend, GenerationParams, Message
from refusalkit.config import Settings
from refusalkit.constitution.schema import CHECK_FAILED_REFUSAL
from refusalkit.errors import ConfigError
from refusalkit.hazards import MLCOMMONS_HAZARDS, harm_of, hazards_of
from refusalkit.verdict import Verdict

# Greedy and unpenalised: the hazard ids the answer names also appear in the task prompt.
JUDGE_PARAMS = GenerationParams(max_tokens=24, temperature=0.0, seed=0, repeat_penalty=1.0)
# Each stream check is one generation by the judge: check every 64 tokens, not every 16.
STREAM_CHECK_EVERY = 64
REFUSAL = "I can't help with that: it was judged unsafe ({hazards})."
_HAZARD_ID = re.compile(r"^S(\d{1,2})$")


class JudgeAnswerError(ValueError):
    """The judge answered something other than Llama Guard's format."""


def parse_answer(text: str) -> tuple[bool, tuple[str, ...]]:
    """(unsafe, hazard ids) from a Llama Guard answer: `safe`, or `unsafe` then `S1,S10`."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines or lines[0].lower() not in ("safe", "unsafe"):
        raise JudgeAnswerError(f"the judge answered {text[:80]!r}, not 'safe' or 'unsafe'")
    if lines[0].lower() == "safe":
        return False, ()
    hazards: list[str] = []
    for part in (lines[1] if len(lines) > 1 else "").split(","):
        hazard = part.strip().upper()
        if not hazard:
            continue
        if not _HAZARD_ID.match(hazard):
            raise JudgeAnswerError(f"the judge named {part.strip()!r}, not a hazard id like S1")
        hazards.append(hazard)
    return True, tuple(hazards)


def conversation(messages: Sequence[Message] | str, response: str | None = None) -> list[Message]:
    """The turns Llama Guard reads: user and assistant turns (system prompts are the deployer's,
    not the user's), then the response to judge, if any."""
    if isinstance(messages, str):
        turns: list[Message] = [{"role": "user", "content": messages}]
    else:
        turns = [m for m in messages if m["role"] in ("user", "assistant")]
    if response is not None:
        turns = [*turns, {"role": "assistant", "content": response}]
    return turns


@dataclass
class LlamaGuardJudge:
    backend: Backend
    name: str = "llamaguard"
    check_every: int = STREAM_CHECK_EVERY

    def judge(self, turns: list[Message], stage: str) -> Verdict:
        started = time.perf_counter()
        unsafe, hazards = parse_answer(self.backend.chat(turns, JUDGE_PARAMS))
        # the category is the constitution's harm the hazards mean (hazards.py), else the id
        category = harm_of(hazards) or (hazards[0] if hazards else None)
        return Verdict(
            stage,
            unsafe,
            1.0 if unsafe else 0.0,
            category,
            0.5,
            (time.perf_counter() - started) * 1000,
            hazards=hazards,
        )

    def check_input(self, messages: Sequence[Message] | str) -> Verdict:
        return self.judge(conversation(messages), "input")

    def stream_check(self, messages: Sequence[Message] | str) -> JudgeStream:
        return JudgeStream(self, conversation(messages))

    def check_output(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return self.judge(conversation(messages, response), "output")

    def check_exchange(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return self.judge(conversation(messages, response), "exchange")

    def refusal_message(self, category: str | None) -> str:
        if category is None:
            return CHECK_FAILED_REFUSAL
        named = hazards_of(category) or (category,)
        return REFUSAL.format(hazards=MLCOMMONS_HAZARDS.get(named[0], category))

    def warm(self) -> None:
        """Nothing to load here: the backend holds the model."""


@dataclass
class JudgeStream:
    judge: LlamaGuardJudge
    turns: list[Message]
    last: Verdict = field(default_factory=lambda: Verdict("output", False, 0.0, None, 0.5))

    def observe(self, response_so_far: str) -> Verdict:
        if not self.last.flagged:  # once flagged, stays flagged
            self.last = self.judge.judge(
                [*self.turns, {"role": "assistant", "content": response_so_far}], "output"
            )
        return self.last

    def verdict(self) -> Verdict:
        return self.last


def from_spec(spec: str, argument: str, settings: Settings) -> LlamaGuardJudge:
    """`llamaguard:MODEL_SPEC`, MODEL_SPEC any backend spec (an endpoint, `hf:`, `gguf:`)."""
    from refusalkit.backends import load_backend

    if not argument:
        raise ConfigError(
            f"guard spec {spec!r} names no model: use llamaguard:MODEL_SPEC, e.g. "
            "llamaguard:http://localhost:8000/v1#meta-llama/Llama-Guard-3-8B"
        )
    return LlamaGuardJudge(load_backend(argument, settings))
