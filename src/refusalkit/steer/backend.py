"""The refusal-token model as a generation backend (`steer` or `steer:/path` model specs), so the
guard server and chat can serve it; per-request thresholds come with `with_refusal_thresholds`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from refusalkit.backends.base import (
    Backend,
    GenerationParams,
    Message,
    TextStream,
    validate_messages,
)
from refusalkit.backends.hf import stream_generate
from refusalkit.backends.registry import local_path
from refusalkit.config import Settings
from refusalkit.steer.decode import SteerModel
from refusalkit.steer.tokens import REFUSE_TOKEN, RESPOND_TOKEN, category_token


class SteerBackend(Backend):
    """Streams the answer after the decision token; `stream.refusal_decision` tells which token."""

    supports_refusal_thresholds = True

    def __init__(
        self,
        model: SteerModel | None = None,
        directory: Path | None = None,
        spec: str = "steer",
        thresholds: Mapping[str, float] | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        self.model = model or SteerModel(directory)
        self.spec = spec
        self.thresholds = self.model.thresholds(thresholds)
        self._lock = lock or threading.Lock()  # one generation at a time: torch uses every core

    @property
    def model_name(self) -> str:
        return f"{self.model.base.key}-refusal-tokens"

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def with_refusal_thresholds(self, thresholds: Mapping[str, float]) -> SteerBackend:
        """The same model under other thresholds (validated: unknown names are errors)."""
        return SteerBackend(
            self.model,
            spec=self.spec,
            thresholds={**self.thresholds, **thresholds},
            lock=self._lock,
        )

    def stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> TextStream:
        import torch

        checked = validate_messages(messages)
        params = params or GenerationParams()
        model = self.model

        def produce(stream: TextStream) -> Iterator[str]:
            with self._lock:
                decision = model.decide([checked], self.thresholds)[0]
                stream.refusal_decision = decision.as_dict()
                if not decision.refused:
                    token = RESPOND_TOKEN
                else:
                    token = REFUSE_TOKEN if model.single else category_token(decision.token)
                ids = [*model._prefix(checked), model.tokenizer.convert_tokens_to_ids(token)]
                inputs = {
                    "input_ids": torch.tensor([ids], device=model.device),
                    "attention_mask": torch.ones(
                        (1, len(ids)), dtype=torch.long, device=model.device
                    ),
                }
                kwargs = {
                    "max_new_tokens": params.max_tokens,
                    "do_sample": params.temperature > 0,
                    "repetition_penalty": params.repeat_penalty or 1.1,
                    "eos_token_id": model.turn_end,
                    "pad_token_id": model.tokenizer.pad_token_id or 0,
                }
                if params.temperature > 0:
                    kwargs.update(temperature=params.temperature, top_p=params.top_p)
                yield from stream_generate(
                    stream, model.model, model.tokenizer, inputs, kwargs, params.seed
                )

        return TextStream(produce)


def from_spec(spec: str, argument: str, settings: Settings) -> SteerBackend:
    """`steer` (the shipped model) or `steer:/path/to/model-dir` (one `steer train` wrote);
    registered under the `refusalkit.backends` entry points."""
    return SteerBackend(directory=local_path(spec, argument) if argument else None, spec=spec)
