"""`refusalkit audit`: stream a file through the refusal classifier, locally or on Ray Data."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from refusalkit.audit.classifier import AuditResult, RefusalClassifier
from refusalkit.audit.io import Fields, ResumableWriter, read_batches, turns_of
from refusalkit.errors import ConfigError, EndpointError, InvalidInputError

LEVEL_ORDER = {"compliance": 0, "partial_refusal": 1, "full_refusal": 2}
# Columns a report breaks results down by, when the input has them.
BREAKDOWN_FIELDS = ("source", "model", "dataset")


@dataclass
class AuditOptions:
    input: Path
    output: Path
    fields: Fields = field(default_factory=Fields)
    classifier_dir: Path | None = None
    engine: str = "local"
    ray_address: str | None = None
    batch_size: int = 256
    restart: bool = False
    progress: bool = True


@dataclass
class AuditSummary:
    rows: int = 0
    turns: int = 0
    refusals: int = 0
    empty: int = 0
    levels: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    groups: Counter = field(default_factory=Counter)
    by_field: dict[str, dict[str, Counter]] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def add(self, audited: dict) -> None:
        """Count one output row (input fields plus the audit's)."""
        self.rows += 1
        self.turns += audited.get("turns_audited", 1)
        self.refusals += bool(audited["refusal"])
        self.empty += bool(audited.get("empty"))
        self.levels[audited["refusal_level"]] += 1
        if audited["category"]:
            self.categories[audited["category"]] += 1
            self.groups[audited["group"]] += 1
        for name in BREAKDOWN_FIELDS:
            value = audited.get(name)
            if isinstance(value, str | int):
                counts = self.by_field.setdefault(name, {}).setdefault(str(value), Counter())
                counts["rows"] += 1
                counts["refusals"] += bool(audited["refusal"])

    def as_dict(self) -> dict[str, Any]:
        rate = round(self.refusals / self.rows, 4) if self.rows else None
        return {
            "rows": self.rows,
            "turns_audited": self.turns,
            "refusal_rate": rate,
            "refusals": self.refusals,
            "empty_responses": self.empty,
            "levels": dict(self.levels),
            "categories": dict(self.categories.most_common()),
            "groups": dict(self.groups),
            "by": {
                name: {value: dict(c) for value, c in values.items()}
                for name, values in self.by_field.items()
            },
            "elapsed_s": round(self.elapsed_s, 2),
            "rows_per_s": round(self.rows / self.elapsed_s, 1) if self.elapsed_s else None,
        }


def combine(results: list[AuditResult]) -> dict[str, Any]:
    """One output row's verdict from its turns: the most refusing turn decides."""
    if not results:
        return {
            "refusal": False,
            "refusal_level": "compliance",
            "refusal_score": 0.0,
            "category": None,
            "group": None,
            "turns_audited": 0,
        }
    worst = max(results, key=lambda r: (LEVEL_ORDER[r.refusal_level], r.refusal_score))
    out = worst.as_dict()
    if len(results) > 1:
        out["turns_audited"] = len(results)
        out["turn_levels"] = [r.refusal_level for r in results]
    return out


def audit_rows(
    classifier: RefusalClassifier, rows: list[dict], fields: Fields, first: int
) -> list[dict]:
    """Input rows with the audit's fields added, in order. `first` numbers rows in errors."""
    pairs: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for offset, row in enumerate(rows):
        turns = turns_of(row, fields, first + offset + 1)
        spans.append((len(pairs), len(pairs) + len(turns)))
        pairs += turns
    results = classifier.classify([p for p, _ in pairs], [r for _, r in pairs]) if pairs else []
    return [
        {**row, **combine(results[start:end])}
        for row, (start, end) in zip(rows, spans, strict=True)
    ]


def run_audit(options: AuditOptions) -> AuditSummary:
    started = time.perf_counter()
    if not options.input.exists():
        raise InvalidInputError(f"{options.input}: no such file or folder")
    signature = {
        "input": str(options.input.resolve()),
        "size": options.input.stat().st_size if options.input.is_file() else None,
        "fields": vars(options.fields),
        "classifier": str(options.classifier_dir or "default"),
    }
    classifier = RefusalClassifier(options.classifier_dir)
    writer = ResumableWriter(options.output, signature, options.restart)
    summary = AuditSummary()
    if writer.done:
        # Rows already written still count in the summary.
        for batch in read_batches(writer.partial, options.batch_size, fmt="jsonl"):
            for row in batch:
                summary.add(row)
    if options.engine == "ray":
        batches = _ray_batches(options, classifier, writer.done)
    else:
        batches = (
            audit_rows(classifier, batch, options.fields, writer.done + k * options.batch_size)
            for k, batch in enumerate(read_batches(options.input, options.batch_size, writer.done))
        )
    bar = None  # made after the first batch, so an error in row 1 prints alone
    try:
        for audited in batches:
            writer.write(audited)
            for row in audited:
                summary.add(row)
            if bar is None:
                bar = tqdm(
                    desc="auditing",
                    unit="row",
                    initial=writer.done - len(audited),
                    disable=not options.progress,
                )
            bar.update(len(audited))
    finally:
        if bar is not None:
            bar.close()
    writer.finish()
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _check_reachable(address: str) -> None:
    """Ray retries an unreachable address for minutes; a plain TCP connect fails in seconds."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ConfigError(f"--ray-address {address!r} is not HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as exc:
        raise EndpointError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; check --ray-address"
        ) from None


def _ray_batches(options: AuditOptions, classifier: RefusalClassifier, skip: int):
    """The same audit_rows over Ray Data, in input order."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'refusalkit[ray]'") from None
    if options.ray_address and options.ray_address != "auto":
        _check_reachable(options.ray_address)
    try:
        if not ray.is_initialized():
            ray.init(
                address=options.ray_address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise EndpointError(
            f"cannot reach the Ray cluster at {options.ray_address}: {exc}; check --ray-address"
        ) from None
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    fields = options.fields
    directory = classifier.directory

    class Auditor:
        def __init__(self) -> None:
            self.classifier = RefusalClassifier(directory, threads=1)

        def __call__(self, batch: dict) -> dict:
            rows = [json.loads(text) for text in batch["row"]]
            audited = audit_rows(self.classifier, rows, fields, 0)
            return {"row": [json.dumps(r, ensure_ascii=False, default=str) for r in audited]}

    # Rows travel as JSON text: columns would add keys a row lacks and turn None into NaN.
    for block in read_batches(options.input, options.batch_size * 8, skip):
        items = [{"row": json.dumps(r, ensure_ascii=False, default=str)} for r in block]
        dataset = ray.data.from_items(items).map_batches(
            Auditor, batch_size=options.batch_size, concurrency=1
        )
        for batch in dataset.iter_batches(batch_size=None):
            yield [json.loads(text) for text in batch["row"]]
