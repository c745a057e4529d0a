"""`refusalkit train`, `classify`, `bench classifiers`: the constitutional classifiers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from refusalkit.cli.common import (
    ClassifiersOption,
    GuardOption,
    JsonOption,
    console,
    eval_data_dir,
    guard_spec,
    print_result,
)

app = typer.Typer()
bench = typer.Typer()


@app.command("train")
def train_command(
    constitution: Annotated[str, typer.Option(help="Constitution file or shipped name.")],
    data: Annotated[
        Path | None,
        typer.Option(help="Data from `refusalkit synth` (default: synthesise into OUT/data)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where the classifier artifacts go.")] = Path(
        "classifiers"
    ),
    n: Annotated[int, typer.Option("--n", min=1, help="Rows to synthesise without --data.")] = 5000,
    seed: Annotated[int, typer.Option(help="Seed for data and training.")] = 0,
    target_fpr: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="False-positive rate on benign data.")
    ] = 0.01,
    tune: Annotated[
        bool, typer.Option(help="Tune the encoder with a LoRA adapter (slower, more accurate).")
    ] = True,
    epochs: Annotated[int, typer.Option(min=1, help="Encoder tuning epochs.")] = 2,
    public: Annotated[
        bool,
        typer.Option(
            help="Add the public human-written rows in data/public (general constitution)."
        ),
    ] = True,
    carry_outs: Annotated[
        bool,
        typer.Option(
            help="Add the shipped plain carry-outs (data/generated) to the exchange reader's rows."
        ),
    ] = True,
    input_head: Annotated[
        str,
        typer.Option(help="The first stage's input head: linear, or mlp (one hidden layer)."),
    ] = "linear",
    input_windows: Annotated[
        str,
        typer.Option(
            help="Which windows of a harmful input the input head learns from: every, or worst "
            "(only the window a first fit scores most restricted)."
        ),
    ] = "every",
    second_stage_windows: Annotated[
        bool,
        typer.Option(
            help="The second stage also reads a long input's worst window (calibrated so); "
            "else inputs over its 128 tokens are the first stage's alone."
        ),
    ] = False,
    input_head_only: Annotated[
        bool,
        typer.Option(
            "--input-head-only",
            help="Refit only the input head of the classifiers in OUT (its encoder kept), then "
            "re-choose the second stage's band and the exchange veto.",
        ),
    ] = False,
    second_stage_only: Annotated[
        bool,
        typer.Option(
            "--second-stage-only",
            help="Retrain only the input classifier's second stage of the classifiers in OUT.",
        ),
    ] = False,
    exchange_reader_only: Annotated[
        bool,
        typer.Option(
            "--exchange-reader-only",
            help="Retrain only the exchange reader (finished exchanges) of the classifiers in OUT.",
        ),
    ] = False,
) -> None:
    """Train the input and streaming output classifiers for a constitution."""
    from refusalkit.classifiers.training.input_head import INPUT_HEADS, INPUT_WINDOWS
    from refusalkit.classifiers.training.train import TrainOptions, retrain_part, train
    from refusalkit.datasets.public import default_public_dir
    from refusalkit.errors import ConfigError
    from refusalkit.synth import SynthOptions, synthesize
    from refusalkit.synth.carry_outs import carry_outs_file

    public_dir = default_public_dir() if public else None  # before synthesis: a wheel has none
    carry_outs_path = carry_outs_file() if carry_outs else None
    if data is None:
        data = out / "data"
        synthesize(SynthOptions(constitution, n=n, out=data, seed=seed, resume=True))
    options = TrainOptions(
        constitution,
        data,
        out,
        seed=seed,
        target_fpr=target_fpr,
        tune=tune,
        tune_epochs=epochs,
        public=public_dir,
        carry_outs=carry_outs_path,
        input_head=input_head,
        input_windows=input_windows,
        second_stage_windows=second_stage_windows,
    )
    if input_head not in INPUT_HEADS:
        raise ConfigError(
            f"unknown --input-head {input_head!r}; choose one of {', '.join(INPUT_HEADS)}"
        )
    if input_windows not in INPUT_WINDOWS:
        raise ConfigError(
            f"unknown --input-windows {input_windows!r}; choose one of {', '.join(INPUT_WINDOWS)}"
        )
    if input_head_only + second_stage_only + exchange_reader_only > 1:
        raise ConfigError(
            "--input-head-only, --second-stage-only and --exchange-reader-only: choose one"
        )
    if input_head_only:
        metrics = retrain_part(options, "input_head")
    elif second_stage_only:
        metrics = retrain_part(options, "second_stage")
    elif exchange_reader_only:
        metrics = retrain_part(options, "exchange_reader")
    else:
        metrics = train(options)
    test = metrics["test"]
    console.print(
        f"wrote {out}: input recall {test['input']['recall']}, FPR {test['input']['fpr']}; "
        f"output recall {test['output']['recall']}, FPR {test['output']['fpr']} "
        "(held-out synthetic test split; see card.md)"
    )


@app.command()
def classify(
    input_path: Annotated[Path, typer.Argument(help="JSONL rows with prompt [and response].")],
    output: Annotated[Path, typer.Option(help="JSONL with flagged, score, category per row.")],
    classifiers: ClassifiersOption = None,
    guard: GuardOption = None,
    content_only: Annotated[
        bool,
        typer.Option(
            "--content-only",
            help="Judge a response by its content alone (what the streaming guard reads), not "
            "also flag a flagged request that the answer carries out.",
        ),
    ] = False,
) -> None:
    """Score rows: a prompt with the input classifier; a prompt+response as a finished exchange
    (harmful content, or a flagged request answered; see docs/classifiers.md)."""
    from refusalkit.classifiers.io import classify_file
    from refusalkit.guard.registry import load_guard_model

    model = load_guard_model(guard_spec(guard, classifiers))
    check = model.check_output if content_only else model.check_exchange
    count = classify_file(input_path, output, model, check)
    console.print(f"classified {count} rows → {output}")


@bench.command("classifiers")
def bench_classifiers_command(
    classifiers: ClassifiersOption = None,
    guard: GuardOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with xstest/ and coconot/ (default: $REFUSALKIT_EVAL_DATA)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A guard model's accuracy on data it never trained on: XSTest, CoCoNot, held-out
    jailbreaks (the shipped classifiers unless --guard names another)."""
    from refusalkit.evals.classifiers import bench_classifiers
    from refusalkit.guard.registry import load_guard_model

    directory = eval_data_dir(data_dir)
    model = load_guard_model(guard_spec(guard, classifiers))
    # the leave-one-source-out table retrains the constitutional classifiers' heads
    print_result(
        bench_classifiers(model, directory, loso=guard is None, classifiers_dir=classifiers),
        as_json,
    )


@bench.command("loso")
def bench_loso_command(
    encoder: Annotated[
        str,
        typer.Option(
            help="Frozen features: tuned (the classifiers' LoRA encoder), minilm, mpnet, e5 "
            "(multilingual, needs AVX2), or two joined with + (tuned+e5, minilm+e5)."
        ),
    ] = "tuned",
    classifiers: ClassifiersOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder whose train/ adds harmful_more and refusal_voices "
            "(default: $REFUSALKIT_EVAL_DATA)."
        ),
    ] = None,
    distil: Annotated[
        bool,
        typer.Option(
            help="Each fold's head also learns XSafety's translations (data-dir's "
            "train/xsafety.jsonl) labelled by the fold's own head on their English source."
        ),
    ] = False,
    neutral: Annotated[
        bool,
        typer.Option(
            help="Project each view's language directions out first (read from the data-dir's "
            "XSafety and MGSM, same content in each language), so a head cannot read language."
        ),
    ] = False,
    head: Annotated[
        str,
        typer.Option(help="The folds' heads: logistic, or mlp (one hidden layer of 256)."),
    ] = "logistic",
    windows: Annotated[
        bool,
        typer.Option(
            help="Read rows as the shipped first stage does: every 128-token window of every "
            "decoded view (base64, rot13, …), a row scoring its worst window (tuned or minilm)."
        ),
    ] = False,
    input_windows: Annotated[
        str,
        typer.Option(
            help="With --windows: every (each window of a harmful row teaches harm, as "
            "`refusalkit train` does by default) or worst (only its worst window)."
        ),
    ] = "every",
    as_json: JsonOption = False,
) -> None:
    """Leave-one-source-out: recall on each harmful source a linear head never saw, at 2% of
    everyday prompts flagged (#41's yardstick; vectors cached, ~2.5 min the first time); with
    XSafety at hand, also hand-checked harmful requests caught in translation as in English."""
    from refusalkit.classifiers.training.input_head import INPUT_WINDOWS
    from refusalkit.errors import ConfigError
    from refusalkit.evals.loso_bench import bench_loso

    if input_windows not in INPUT_WINDOWS:
        raise ConfigError(
            f"unknown --input-windows {input_windows!r}; choose one of {', '.join(INPUT_WINDOWS)}"
        )
    directory = eval_data_dir(data_dir)
    print_result(
        bench_loso(
            encoder,
            directory,
            classifiers,
            distil=distil,
            neutral=neutral,
            head=head,
            windows=windows,
            worst_window=input_windows == "worst",
        ),
        as_json,
    )
