"""Reading a user's JSONL file line by line, with errors that name the file and the line."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from refusalkit.errors import ConfigError, InvalidInputError


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value) for every non-blank line; callers check the value's shape."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInputError(f"{path}:{number}: not UTF-8 text") from None
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{path}:{number}: not JSON ({exc.msg})") from None


def read_rows(path: Path, fix: str = "") -> list[dict]:
    """Every JSON object in a JSONL file; a missing file is an error that says how to make it."""
    if not path.is_file():
        raise ConfigError(f"{path} is missing" + (f"; {fix}" if fix else ""))
    return [row for _, row in json_lines(path) if isinstance(row, dict)]


def chunked(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    """Rows in order, `size` at a time (the last chunk may be shorter)."""
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextlib.contextmanager
def atomic_jsonl(output: Path) -> Iterator[TextIO]:
    """Write OUT.tmp, rename it to OUT on success: a failure never leaves a half-written OUT."""
    temporary = output.with_name(output.name + ".tmp")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("w", encoding="utf-8") as sink:
            yield sink
        os.replace(temporary, output)
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)
