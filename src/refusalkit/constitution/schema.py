"""The constitution schema, validated with pydantic."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
# What the guard says when its safety check itself fails (no category to name).
CHECK_FAILED_REFUSAL = "I can't help with that: the safety check could not be completed."
DEFAULT_REFUSAL = (
    "I can't help with that: it falls under {title}, which this assistant does not assist with. "
    "I'm happy to help with a related, safe question instead."
)


class ConstitutionProblem(ValueError):
    """A cross-field problem that knows where in the document it lies."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class Category(BaseModel):
    """A restricted category: what exactly is not allowed."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN, description="Stable id, lower_snake_case")
    title: str = Field(min_length=1)
    description: str = Field(min_length=10, description="What exactly is covered")
    examples: list[str] = Field(min_length=1, description="Example user requests")

    @field_validator("examples")
    @classmethod
    def _examples_not_blank(cls, examples: list[str]) -> list[str]:
        for example in examples:
            if not example.strip():
                raise ValueError("examples must not be blank")
        return examples


class PermittedCategory(Category):
    """A benign neighbour that must stay allowed."""

    near: list[str] = Field(default_factory=list, description="Restricted ids it borders")


class Constitution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    restricted: list[Category] = Field(min_length=1)
    permitted: list[PermittedCategory] = Field(min_length=1)
    refusal_message: str = Field(
        default=DEFAULT_REFUSAL, description="Template; {title} and {id} name the category"
    )

    @model_validator(mode="after")
    def _ids_are_unique_and_near_resolves(self) -> Constitution:
        seen: set[str] = set()
        for group in ("restricted", "permitted"):
            for index, category in enumerate(getattr(self, group)):
                if category.id in seen:
                    raise ConstitutionProblem(
                        (group, index, "id"), f"category id {category.id!r} is used twice"
                    )
                seen.add(category.id)
        restricted = {c.id for c in self.restricted}
        for index, category in enumerate(self.permitted):
            for position, near in enumerate(category.near):
                if near not in restricted:
                    raise ConstitutionProblem(
                        ("permitted", index, "near", position),
                        f"{near!r} is not a restricted category id "
                        f"(known: {', '.join(sorted(restricted))})",
                    )
        try:
            self.refusal_message.format(title="x", id="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConstitutionProblem(
                ("refusal_message",), f"only {{title}} and {{id}} may be used (found {exc})"
            ) from None
        return self

    @property
    def categories(self) -> list[Category]:
        return [*self.restricted, *self.permitted]

    def category(self, category_id: str) -> Category:
        for category in self.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)

    def label_of(self, category_id: str) -> Literal["harmful", "harmless"]:
        return "harmful" if any(c.id == category_id for c in self.restricted) else "harmless"

    def refusal_for(self, category_id: str) -> str:
        category = self.category(category_id)
        return self.refusal_message.format(title=category.title, id=category.id)

    def digest(self) -> str:
        """A content hash: manifests and artifacts record which constitution made them."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
