"""Hand-written seed data that goes with a constitution (constitutions/seeds/NAME.yaml)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from refusalkit.errors import ConfigError


class CategorySeeds(BaseModel):
    tasks: list[str] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    answers: list[str] = Field(default_factory=list)


class Seeds(BaseModel):
    categories: dict[str, CategorySeeds] = Field(default_factory=dict)

    def for_category(self, category_id: str) -> CategorySeeds:
        return self.categories.get(category_id, CategorySeeds())


def seeds_path_for(constitution_path: Path) -> Path:
    return constitution_path.parent / "seeds" / constitution_path.name


def seed_files(path: Path) -> list[Path]:
    """seeds/NAME.yaml, then every seeds/NAME/*.yaml in name order."""
    folder = path.with_suffix("")
    extra = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return ([path] if path.is_file() else []) + extra


def load_seeds(path: Path | None, known_ids: set[str]) -> Seeds:
    """Seeds are optional; a seeds file that names unknown categories is a mistake."""
    merged = Seeds()
    for file in seed_files(path) if path is not None else []:
        seeds = _load_one(file)
        unknown = set(seeds.categories) - known_ids
        if unknown:
            raise ConfigError(
                f"{file}: seeds for categories the constitution lacks: {', '.join(sorted(unknown))}"
            )
        for category_id, more in seeds.categories.items():
            into = merged.categories.setdefault(category_id, CategorySeeds())
            for field in ("tasks", "prompts", "steps", "answers"):
                getattr(into, field).extend(getattr(more, field))
    return merged


def _load_one(path: Path) -> Seeds:
    try:
        return Seeds.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: invalid seeds file: {str(exc).splitlines()[0]}") from None
