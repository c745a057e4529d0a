"""Loading constitutions from YAML, with errors that point at the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from refusalkit.constitution.schema import Constitution, ConstitutionProblem
from refusalkit.errors import ConfigError

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "constitutions"


def builtin_constitutions() -> dict[str, Path]:
    """Shipped constitutions by name (`general`, `cbrn`)."""
    return {path.stem: path for path in sorted(BUILTIN_DIR.glob("*.yaml"))}


def resolve_constitution_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    builtin = builtin_constitutions()
    if str(name_or_path) in builtin:
        return builtin[str(name_or_path)]
    raise ConfigError(
        f"constitution {str(name_or_path)!r} is neither a file nor a shipped constitution "
        f"({', '.join(builtin)})"
    )


def load_constitution(name_or_path: str | Path) -> Constitution:
    """A shipped constitution by name, or a YAML file; problems are `file:line: field: problem`."""
    path = resolve_constitution_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{line} invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the file must be a mapping with name, restricted, permitted")
    try:
        return Constitution.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc: tuple[Any, ...] = tuple(error["loc"])
        message = error["msg"]
        inner = (error.get("ctx") or {}).get("error")
        if isinstance(inner, ConstitutionProblem):
            loc, message = inner.loc, inner.message
        field = ".".join(str(part) for part in loc) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{path}:{_line_of(root, loc)}: {field}: {message}{more}") from None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The line of the deepest YAML node on the error's path.

    pydantic reports paths, yaml keeps line marks on nodes; no library joins the two.
    """
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
