"""Reading audit inputs (JSONL, CSV, Parquet, a saved `datasets` folder) in batches, and
writing outputs that can be resumed after a crash."""

from __future__ import annotations

import csv
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from refusalkit.errors import ConfigError, InvalidInputError
from refusalkit.jsonl import chunked, json_lines

FORMATS = ("jsonl", "csv", "parquet", "datasets")


@dataclass(frozen=True)
class Fields:
    prompt: str = "prompt"
    response: str = "response"
    messages: str = "messages"


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
            return "datasets"
        raise InvalidInputError(
            f"{path} is a folder but not a saved `datasets` dataset (no dataset_info.json)"
        )
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InvalidInputError(
        f"{path}: unknown input format {suffix or '(no suffix)'}; use .jsonl, .csv, .parquet or "
        "a saved `datasets` folder"
    )


def read_batches(
    path: Path, batch_size: int, skip: int = 0, fmt: str | None = None
) -> Iterator[list[dict]]:
    """Rows in file order, `batch_size` at a time, after skipping `skip` rows."""
    rows = _rows(path, fmt or detect_format(path))
    yield from chunked(itertools.islice(rows, skip, None), batch_size)


def _rows(path: Path, fmt: str) -> Iterator[dict]:
    if fmt == "jsonl":
        for number, row in json_lines(path):
            if not isinstance(row, dict):
                raise InvalidInputError(f"{path}:{number}: a row must be a JSON object")
            yield row
    elif fmt == "csv":
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                yield from csv.DictReader(handle, delimiter=delimiter)
        except UnicodeDecodeError:
            raise InvalidInputError(f"{path}: not UTF-8 text") from None
        except csv.Error as exc:
            raise InvalidInputError(f"{path}: corrupt CSV ({exc})") from None
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
            for record_batch in parquet.iter_batches(batch_size=1024):
                yield from record_batch.to_pylist()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInputError(f"{path}: corrupt Parquet file ({exc})") from None
    else:
        from datasets import DatasetDict, load_from_disk

        dataset = load_from_disk(str(path))
        if isinstance(dataset, DatasetDict):
            raise InvalidInputError(
                f"{path} holds several splits ({', '.join(dataset)}); point at one split's folder"
            )
        yield from dataset


def turns_of(row: dict, fields: Fields, number: int) -> list[tuple[str, str]]:
    """(prompt, response) pairs to audit in one row: one pair, or every assistant turn."""
    if fields.response in row:
        prompt = row.get(fields.prompt, "")
        response = row[fields.response]
        for name, value in ((fields.prompt, prompt), (fields.response, response)):
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(
                    f"row {number}: `{name}` must be text, not {type(value).__name__}"
                )
        return [(prompt or "", response or "")]
    if fields.messages in row:
        messages = row[fields.messages]
        if isinstance(messages, str):
            try:
                messages = json.loads(messages)
            except json.JSONDecodeError:
                raise InvalidInputError(f"row {number}: `{fields.messages}` is not JSON") from None
        if not isinstance(messages, list):
            raise InvalidInputError(f"row {number}: `{fields.messages}` must be a list of turns")
        pairs: list[tuple[str, str]] = []
        last_user = ""
        for turn in messages:
            if not isinstance(turn, dict) or not isinstance(turn.get("content"), str):
                raise InvalidInputError(
                    f"row {number}: each turn needs a `role` and a text `content`"
                )
            if turn.get("role") == "user":
                last_user = turn["content"]
            elif turn.get("role") == "assistant":
                pairs.append((last_user, turn["content"]))
        return pairs
    raise InvalidInputError(
        f"row {number} has no `{fields.response}` or `{fields.messages}` field (found: "
        f"{', '.join(row) or 'nothing'}); name yours with --response-field or --messages-field"
    )


class ResumableWriter:
    """Appends JSONL rows to OUT.partial with a marker of how many input rows are done.

    A crash leaves both behind; the next run with the same input and options continues from
    the marker. On finish the partial file becomes OUT (converted to CSV/Parquet by suffix).
    """

    def __init__(self, out: Path, signature: dict, restart: bool) -> None:
        self.out = out
        self.partial = out.with_name(out.name + ".partial")
        self.marker = out.with_name(out.name + ".progress.json")
        self.signature = signature
        self.done = 0
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot write {out}: {exc.strerror}") from None
        if self.marker.is_file() and not restart:
            state = json.loads(self.marker.read_text())
            if state.get("signature") != signature:
                raise ConfigError(
                    f"{self.partial} is from a run with other input or options; pass --restart "
                    "to discard it"
                )
            self.done = int(state["rows_done"])
            self._truncate_to(int(state["bytes"]))
        else:
            self.partial.write_bytes(b"")
            self._save_marker(0)

    def _truncate_to(self, size: int) -> None:
        with self.partial.open("r+b") as handle:
            handle.truncate(size)  # drop a half-written batch past the marker

    def _save_marker(self, size: int) -> None:
        state = {"signature": self.signature, "rows_done": self.done, "bytes": size}
        temporary = self.marker.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.marker)

    def write(self, rows: list[dict]) -> None:
        with self.partial.open("ab") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, default=str).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            size = handle.tell()
        self.done += len(rows)
        self._save_marker(size)

    def finish(self) -> None:
        suffix = self.out.suffix.lower()
        if suffix in (".parquet", ".pq"):
            _jsonl_to_parquet(self.partial, self.out)
            self.partial.unlink()
        elif suffix in (".csv", ".tsv"):
            _jsonl_to_csv(self.partial, self.out, "\t" if suffix == ".tsv" else ",")
            self.partial.unlink()
        else:
            os.replace(self.partial, self.out)
        self.marker.unlink(missing_ok=True)


def _jsonl_chunks(path: Path, size: int = 10_000) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            chunk.append(json.loads(line))
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _jsonl_to_parquet(source: Path, target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for chunk in _jsonl_chunks(source):
            table = pa.Table.from_pylist(chunk)
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()


def _jsonl_to_csv(source: Path, target: Path, delimiter: str) -> None:
    writer = None
    with target.open("w", encoding="utf-8", newline="") as handle:
        for chunk in _jsonl_chunks(source):
            for row in chunk:
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(row), delimiter=delimiter)
                    writer.writeheader()
                writer.writerow(
                    {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()}
                )
