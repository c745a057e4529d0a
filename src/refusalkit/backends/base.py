"""The one interface every generation backend implements."""

from __future__ import annotations

import abc
import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from tqdm.auto import tqdm

from refusalkit.errors import InvalidInputError

Role = Literal["system", "user", "assistant"]
ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})


class Message(TypedDict):
    role: Role
    content: str


@dataclass
class GenerationParams:
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = 0
    stop: list[str] = field(default_factory=list)
    # None leaves it to the backend: 1.1 in-process (small models loop without it, and it is
    # llama.cpp server's default); nothing is sent to HTTP endpoints, which may reject the field.
    repeat_penalty: float | None = None
    # Keep generating past end-of-sequence: benchmarks need fixed-length outputs.
    ignore_eos: bool = False

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise InvalidInputError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if not 0.0 <= self.temperature <= 2.0:
            raise InvalidInputError(f"temperature must be in [0, 2], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidInputError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.repeat_penalty is not None and not 0.5 <= self.repeat_penalty <= 2.0:
            raise InvalidInputError(
                f"repeat_penalty must be in [0.5, 2], got {self.repeat_penalty}"
            )


LOCAL_REPEAT_PENALTY = 1.1


def user_message(prompt: str) -> list[Message]:
    return [{"role": "user", "content": prompt}]


def validate_messages(messages: Sequence[Message], judged_turn: bool = False) -> list[Message]:
    """Reject what no backend can answer, with a message that says what is wrong.
    `judged_turn`: the conversation may end with the assistant's turn, for a judge (such as
    Llama Guard) that reads it; the server and the guard always want the user's turn last."""
    if not messages:
        raise InvalidInputError("messages are empty: give at least one user message")
    checked: list[Message] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise InvalidInputError(f"message {index} needs 'role' and 'content' fields")
        if message["role"] not in ROLES:
            raise InvalidInputError(
                f"message {index} has role {message['role']!r}; use one of "
                + ", ".join(sorted(ROLES))
            )
        if not isinstance(message["content"], str):
            raise InvalidInputError(f"message {index} content must be text")
        checked.append({"role": message["role"], "content": message["content"]})
    if checked[-1]["role"] != "user" and not (judged_turn and checked[-1]["role"] == "assistant"):
        raise InvalidInputError("the last message must come from the user")
    if not checked[-1]["content"].strip():
        raise InvalidInputError("the prompt is empty: give some text to answer")
    return checked


class TextStream(Iterator[str]):
    """Text deltas from a backend. `cancel()` stops the upstream generation, not just reading.

    A backend passes a producer `produce(stream) -> Iterator[str]`; the producer checks
    `stream.cancel_requested` between tokens (so a cancel from another thread is honoured),
    and records `completion_tokens` and `finish_reason` on the stream as it goes.
    """

    def __init__(self, produce: Callable[[TextStream], Iterator[str]]) -> None:
        self.cancel_requested = threading.Event()
        self.finish_reason: str | None = None
        self.completion_tokens = 0
        # A refusal-token model's decision (token and probabilities), for the decision log.
        self.refusal_decision: dict | None = None
        self._done = False
        self._deltas = produce(self)

    @property
    def cancelled(self) -> bool:
        return self.cancel_requested.is_set()

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        if self._done or self.cancelled:
            self._finish()
            raise StopIteration
        try:
            return next(self._deltas)
        except StopIteration:
            self._done = True
            raise

    def cancel(self) -> None:
        """Stop generating now; safe to call from any thread, and more than once."""
        if self._done:
            return
        self.cancel_requested.set()
        if self.finish_reason is None:
            self.finish_reason = "cancelled"
        self._finish()

    def _finish(self) -> None:
        self._done = True
        with contextlib.suppress(ValueError):  # "generator already executing": it sees the flag
            self._deltas.close()  # type: ignore[attr-defined]

    def text(self) -> str:
        return "".join(self)

    def __enter__(self) -> TextStream:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.cancel()


class Backend(abc.ABC):
    """chat → text; stream → cancellable deltas; batch for synthesis; token counting."""

    spec: str
    #: how many requests this backend serves usefully at once (threads for batch generation)
    default_concurrency: int = 1
    #: whether `with_refusal_thresholds` works (a refusal-token model)
    supports_refusal_thresholds: bool = False

    @property
    @abc.abstractmethod
    def model_name(self) -> str: ...

    @abc.abstractmethod
    def stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> TextStream:
        """Start generating; iterate the result for text deltas."""

    @abc.abstractmethod
    def count_tokens(self, text: str) -> int: ...

    def chat(self, messages: Sequence[Message], params: GenerationParams | None = None) -> str:
        with self.stream(messages, params) as deltas:
            return deltas.text()

    def generate_batch(
        self,
        conversations: Sequence[Sequence[Message]],
        params: GenerationParams | None = None,
        concurrency: int | None = None,
        progress: bool = False,
    ) -> list[str]:
        """Answers in input order; requests run `concurrency` at a time."""
        workers = max(1, concurrency or self.default_concurrency)
        for conversation in conversations:
            validate_messages(conversation, judged_turn=True)
        bar = tqdm(total=len(conversations), desc="generating", disable=not progress, unit="req")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(self.chat, conv, params) for conv in conversations]
            results: list[str] = []
            for future in futures:
                results.append(future.result())
                bar.update(1)
        bar.close()
        return results

    def with_refusal_thresholds(self, thresholds: Mapping[str, float]) -> Backend:
        """The same model deciding refusals at other per-category thresholds."""
        raise InvalidInputError(
            f"{self.spec!r} takes no refusal thresholds: only a refusal-token model (steer) does"
        )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release model memory or connections."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
