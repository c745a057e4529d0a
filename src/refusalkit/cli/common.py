"""What every command module shares: consoles, common options, the eval-data folder, output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from refusalkit.datasets.eval_sets import default_data_dir
from refusalkit.errors import ConfigError

console = Console()
err_console = Console(stderr=True)

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model spec: embedded, gguf:/path, hf:/path, hf:embedded, "
        "http://host:port/v1[#model], or an endpoint name from refusalkit.toml. "
        "Default: the configured model.",
    ),
]
ClassifiersOption = Annotated[
    Path | None,
    typer.Option(help="Classifier directory from `refusalkit train` (default: shipped ones)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON line on stdout.")]
GuardOption = Annotated[
    str | None,
    typer.Option(
        help="Guard model spec: constitutional (default), constitutional:DIR, "
        "llamaguard:MODEL_SPEC, cascade:FIRST,SECOND (docs/guard-models.md)."
    ),
]


def guard_spec(guard: str | None, classifiers: Path | None) -> str | None:
    """One guard model spec from `--guard` or `--classifiers DIR` (not both)."""
    if guard and classifiers:
        raise ConfigError("give --guard or --classifiers, not both (--guard constitutional:DIR)")
    return guard or (f"constitutional:{classifiers}" if classifiers else None)


def eval_data_dir(data_dir: Path | None) -> Path:
    directory = data_dir or default_data_dir()
    if directory is None:
        raise ConfigError("no evaluation data found: pass --data-dir or set REFUSALKIT_EVAL_DATA")
    return directory


def print_result(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    console.print_json(json.dumps(result))
