"""The seam every guard model plugs into: the constitutional classifiers, a Llama Guard-style
judge on any backend, or a plugin. The guard, the server and the benches call these methods and
nothing else, so any model that has them can stand behind refusalkit's streaming guard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from refusalkit.backends.base import Message
from refusalkit.verdict import Verdict


class StreamCheck(Protocol):
    """Checks one growing response; once flagged, it stays flagged."""

    def observe(self, response_so_far: str) -> Verdict: ...

    def verdict(self) -> Verdict: ...


@runtime_checkable
class GuardModel(Protocol):
    name: str
    check_every: int  # tokens the streaming guard holds back between two stream checks

    def check_input(self, messages: Sequence[Message] | str) -> Verdict:
        """The request (a prompt, or the whole conversation so far)."""
        ...

    def stream_check(self, messages: Sequence[Message] | str) -> StreamCheck:
        """A checker for the response to these messages, fed as it streams."""
        ...

    def check_output(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        """A whole response's content, as the stream check would have read it."""
        ...

    def check_exchange(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        """A finished exchange: is this answer to this request harmful?"""
        ...

    def refusal_message(self, category: str | None) -> str:
        """What the guard says instead of a flagged response (None: the check failed)."""
        ...

    def warm(self) -> None:
        """Load what the first check would load, so the first request is not slow."""
        ...
