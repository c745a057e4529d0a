"""What a transform is: a named rewrite of a request, in a family of related attacks."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TransformContext:
    """What a transform may know about the request beyond its text."""

    rng: random.Random
    task: str | None = None  # the verb phrase, for rows made from the grammar
    translate: Callable[[str, str], str | None] | None = None  # (text, language) -> text


@dataclass(frozen=True)
class Transform:
    family: str
    name: str
    apply: Callable[[str, TransformContext], str | None] = field(repr=False)
    #: whether the transform needs the grammar's task or a translating generator
    needs_task: bool = False
    needs_translator: bool = False

    def usable(self, context: TransformContext) -> bool:
        if self.needs_task and not context.task:
            return False
        return not (self.needs_translator and context.translate is None)


def template_wrapper(templates: list[str]) -> Callable[[str, TransformContext], str]:
    """A transform that puts the request into one of `templates` ({p} marks where)."""

    def apply(prompt: str, context: TransformContext) -> str:
        return context.rng.choice(templates).format(p=prompt)

    return apply
