"""A backend that streams recorded deltas, so a guarded run sees exactly what a model produced
(the eval suite and the demo replay recorded answers through the guard)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from refusalkit.backends.base import Backend, GenerationParams, Message, TextStream


class ReplayBackend(Backend):
    """Streams recorded deltas: the guarded run sees exactly what the model produced."""

    spec = "replay"

    def __init__(self, deltas: list[str]) -> None:
        self.deltas = deltas

    @property
    def model_name(self) -> str:
        return "replay"

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> TextStream:
        def produce(stream: TextStream) -> Iterator[str]:
            for delta in self.deltas:
                if stream.cancelled:
                    return
                stream.completion_tokens += 1
                yield delta
            stream.finish_reason = "stop"

        return TextStream(produce)
