"""`refusalkit audit …` (`run`, `train`), `audit-model` and `bench audit`: thin commands over
refusalkit.audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from refusalkit.cli.common import JsonOption, console, eval_data_dir, print_result
from refusalkit.config import load_settings
from refusalkit.errors import InvalidInputError

app = typer.Typer()
bench = typer.Typer()


class DefaultRunGroup(TyperGroup):
    """`refusalkit audit FILE …` means `refusalkit audit run FILE …`; `audit train` trains."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


group = typer.Typer(
    cls=DefaultRunGroup,
    help="Detect and categorise refusals in a file of responses (`audit FILE --output OUT`).",
    no_args_is_help=True,
)
ClassifierOption = Annotated[
    Path | None,
    typer.Option("--classifier", help="Refusal classifier folder (default: the shipped one)."),
]


@group.command("run")
def audit_run(
    input_path: Annotated[
        Path, typer.Argument(help="JSONL, CSV, Parquet or a saved `datasets` folder.")
    ],
    output: Annotated[Path, typer.Option(help="Audited rows (.jsonl, .csv or .parquet).")],
    report: Annotated[
        Path | None, typer.Option(help="Write summary.json and report.html here.")
    ] = None,
    engine: Annotated[str, typer.Option(help="local, or ray (Ray Data).")] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start Ray locally).")
    ] = None,
    prompt_field: Annotated[str, typer.Option(help="Column with the prompt.")] = "prompt",
    response_field: Annotated[str, typer.Option(help="Column with the response.")] = "response",
    messages_field: Annotated[
        str, typer.Option(help="Column with chat turns (every assistant turn is audited).")
    ] = "messages",
    classifier: ClassifierOption = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per batch.")] = 256,
    restart: Annotated[
        bool, typer.Option(help="Discard an unfinished earlier run instead of resuming it.")
    ] = False,
) -> None:
    """Audit every row: refusal, refusal_level, refusal_score, category, group."""
    from refusalkit.audit.io import Fields
    from refusalkit.audit.report import write_report
    from refusalkit.audit.run import AuditOptions, run_audit

    if engine not in ("local", "ray"):
        raise InvalidInputError(f"--engine must be local or ray, not {engine!r}")
    options = AuditOptions(
        input=input_path,
        output=output,
        fields=Fields(prompt_field, response_field, messages_field),
        classifier_dir=classifier,
        engine=engine,
        ray_address=ray_address,
        batch_size=batch_size,
        restart=restart,
    )
    summary = run_audit(options).as_dict()
    console.print(
        f"audited {summary['rows']} rows → {output}: refusal rate {summary['refusal_rate']}, "
        f"levels {summary['levels']} ({summary['rows_per_s']} rows/s)"
    )
    if report:
        path = write_report(report, summary, f"Refusal audit of {input_path.name}")
        console.print(f"report: {path}")


@group.command("train")
def audit_train(
    out: Annotated[Path, typer.Option(help="Where the classifier goes.")] = Path(
        "refusal-classifier"
    ),
    synth: Annotated[
        Path | None, typer.Option(help="Synth data folder (default: data/synth-general).")
    ] = None,
    pref: Annotated[
        Path | None, typer.Option(help="CoCoNot pref JSONL (default: data/external/…).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for data and training.")] = 0,
    epochs: Annotated[int, typer.Option(min=1, help="Encoder tuning epochs.")] = 2,
    public: Annotated[
        bool, typer.Option(help="Also fit the heads on other models' labelled answers.")
    ] = True,
    reuse_encoder: Annotated[
        Path | None,
        typer.Option(help="Keep this classifier's encoder; refit only the heads (~1 min)."),
    ] = None,
) -> None:
    """Train the refusal level and category classifiers from the project's data."""
    from refusalkit.audit.train import AuditTrainOptions, default_pref, default_synth, train_audit

    options = AuditTrainOptions(
        out=out,
        synth=synth or default_synth(),
        pref=pref or default_pref(),
        seed=seed,
        tune_epochs=epochs,
        public=public,
        reuse_encoder=reuse_encoder,
    )
    metrics = train_audit(options)
    console.print(
        f"wrote {out}: held-out (own composed split, a smoke test) "
        f"{json.dumps(metrics['heldout_test'])}"
    )
    if metrics.get("public_test"):
        console.print(
            f"public test split (other models' answers): {json.dumps(metrics['public_test'])}"
        )


def print_model_audit(result: dict) -> None:
    table = Table(title=f"audit of {result['model']}")
    for column in ("prompts", "refusal_rate", "over_refusal", "under_refusal"):
        table.add_column(column)
    table.add_row(
        str(result["prompts"]),
        str(result["refusal_rate"]),
        str(result.get("over_refusal_rate")),
        str(result.get("under_refusal_rate")),
    )
    console.print(table)


@app.command("audit-model")
def audit_model_command(
    prompts: Annotated[
        str,
        typer.Option(
            help="Prompt file (prompt [+ should_refuse | label safe/unsafe]) or xstest / coconot."
        ),
    ],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model spec (default: configured).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="JSONL of prompts, answers and audit fields.")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write summary.json here.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N prompts.")] = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="Most tokens per answer.")] = 160,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Concurrent requests (endpoints).")
    ] = None,
    classifier: ClassifierOption = None,
) -> None:
    """Send prompts to a live model, audit its answers, report over- and under-refusal."""
    from refusalkit.audit.model_audit import audit_model, load_prompts

    labelled = load_prompts(prompts)[:limit]
    summary, rows = audit_model(
        model or load_settings().model, labelled, max_tokens, classifier, concurrency
    )
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if report:
        report.mkdir(parents=True, exist_ok=True)
        (report / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print_model_audit(summary)


@bench.command("audit")
def bench_audit_command(
    classifier: Annotated[
        Path | None, typer.Option(help="Refusal classifier folder (default: the shipped one).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with xstest/ (default: $REFUSALKIT_EVAL_DATA)."),
    ] = None,
    as_json: JsonOption = False,
    voices: Annotated[
        bool,
        typer.Option(help="Also leave-one-model-out on Do-Not-Answer and the public test split."),
    ] = True,
) -> None:
    """Refusal-audit accuracy beside string matching: XSTest's 2,250 human-labelled completions
    (and throughput), other models' answers held out by model and by prompt."""
    from refusalkit.evals.audit import bench_audit

    print_result(
        bench_audit(eval_data_dir(data_dir), classifier, progress=not as_json, voices=voices),
        as_json,
    )
