"""`refusalkit eval`: the evaluation suite in one run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from refusalkit.cli.common import ClassifiersOption, ModelOption, console, eval_data_dir
from refusalkit.errors import ConfigError

app = typer.Typer()


@app.command("eval")
def eval_command(
    out: Annotated[Path, typer.Option(help="Folder for metrics.json, report.html, cases.jsonl.")],
    suite: Annotated[str, typer.Option(help="quick (≤ 10 min here) or full.")] = "quick",
    model: ModelOption = None,
    classifiers: ClassifiersOption = None,
    constitution: Annotated[str, typer.Option(help="Constitution of the objectives.")] = "general",
    data: Annotated[
        Path | None,
        typer.Option(help="Synth data with the harmful objectives (default data/synth-C)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with xstest/ and coconot/ (default: $REFUSALKIT_EVAL_DATA)."),
    ] = None,
    external: Annotated[
        list[Path] | None,
        typer.Option("--import", help="A garak report.jsonl or attack/success JSONL to include."),
    ] = None,
) -> None:
    """Attack success, over-refusal, audit accuracy, guard overhead and steering, in one run."""
    from refusalkit.evals.suite import SUITES, run_suite

    if suite not in SUITES:
        raise ConfigError(f"unknown suite {suite!r}; use one of {', '.join(SUITES)}")
    metrics = run_suite(
        SUITES[suite],
        out,
        eval_data_dir(data_dir),
        model,
        classifiers,
        constitution,
        data,
        external=external or [],
    )
    asr = metrics["attack_success_rate"]
    console.print(
        f"attack success {asr['unguarded']} → {asr['guarded']} guarded; over-refusal "
        + ", ".join(
            f"{k} {v['unguarded']} → {v['guarded']}"
            for k, v in metrics["over_refusal_rate"].items()
        )
        + f"; audit accuracy {metrics['refusal_audit_accuracy']['binary']}; guard overhead "
        f"{metrics['guard_overhead']}; {metrics['timings_s']['total_s']} s\n"
        f"report: {out / 'report.html'}"
    )
