"""`refusalkit steer …` and `bench steer`: thin commands over refusalkit.steer."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from refusalkit.cli.common import JsonOption, console, eval_data_dir, print_result
from refusalkit.errors import ConfigError
from refusalkit.steer.bases import DEFAULT_BASE, GENERATOR_BASES, generator_base
from refusalkit.steer.decode import SteerModel
from refusalkit.steer.train import (
    CANNOT_WEIGHT,
    CATEGORY_MARGIN,
    DECISION_SMOOTHING,
    LORA_MODULES,
)

bench = typer.Typer()


group = typer.Typer(
    help="Refusal tokens: a model whose per-category refusal rates are set at inference.",
    no_args_is_help=True,
)
ModelDirOption = Annotated[
    Path | None,
    typer.Option("--model-dir", help="Refusal-token model folder (default: the shipped one)."),
]
ThresholdOption = Annotated[
    list[str] | None,
    typer.Option("--threshold", "-t", help="CATEGORY=P (repeatable); all=P sets every category."),
]


def _load(
    model_dir: Path | None, thresholds: list[str] | None
) -> tuple[SteerModel, dict[str, float]]:

    from refusalkit.steer.decode import parse_thresholds

    model = SteerModel(model_dir)
    return model, parse_thresholds(thresholds or [], model.threshold_names)


@group.command("decide")
def decide(
    input_path: Annotated[Path, typer.Argument(help="JSONL rows with a prompt field.")],
    output: Annotated[
        Path, typer.Option(help="JSONL: each row plus token, p_refuse, category_probs.")
    ],
    threshold: ThresholdOption = None,
    model_dir: ModelDirOption = None,
) -> None:
    """Prefill only: which token each prompt gets (respond or a category), with probabilities."""
    from refusalkit.steer.io import decide_file

    started = time.perf_counter()
    model, thresholds = _load(model_dir, threshold)
    count = decide_file(input_path, output, model, thresholds)
    elapsed = time.perf_counter() - started
    console.print(f"decided {count} prompts → {output} ({count / elapsed:.1f} prompts/s)")


@group.command("chat")
def chat(
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The prompt to answer.")],
    threshold: ThresholdOption = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="Most tokens after the decision.")] = 128,
    model_dir: ModelDirOption = None,
) -> None:
    """Answer one prompt: show the decision token, its probabilities, then the answer."""
    model, thresholds = _load(model_dir, threshold)
    decision, text = model.generate(prompt, thresholds, max_tokens)
    top = sorted(decision.category_probs.items(), key=lambda kv: -kv[1])[:3]
    shown = ", ".join(f"{k} {v:.3f}" for k, v in top)
    console.print(
        f"[bold][{decision.token}][/bold]  p_refuse {decision.p_refuse:.3f}  (top: {shown})",
        highlight=False,
    )
    print(text)


@group.command("sweep")
def sweep_command(
    out: Annotated[Path, typer.Option(help="Folder for sweep.json and the PNG plots.")],
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder with coconot/, and xstest/ for the F1-vs-XSTest curve "
            "(default: $REFUSALKIT_EVAL_DATA)."
        ),
    ] = None,
    model_dir: ModelDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refusal rate vs threshold per category on CoCoNot eval vs contrast, F1, plots."""
    from refusalkit.steer.sweep import sweep

    result = sweep(SteerModel(model_dir), eval_data_dir(data_dir), out)
    if as_json:
        print(json.dumps(result))
        return
    default = result["default"]
    console.print(
        f"F1 {default['f1']} (precision {default['precision']}, recall {default['recall']}) at "
        f"default thresholds; independence: max change elsewhere "
        f"{result['independence_max_other_change']}; wrote {out}/sweep.json and plots"
    )


@group.command("calibrate")
def calibrate(
    model_dir: ModelDirOption = None,
    calibration: Annotated[
        Path | None,
        typer.Option(help="YAML: `refuse: {category: [prompts]}` and `respond: [prompts]`."),
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Make the best threshold the model's default.")
    ] = False,
) -> None:
    """Refusal rates on labelled prompts, and the default threshold they would choose."""
    from refusalkit.steer.calibrate import CALIBRATION_PATH, calibrate_model
    from refusalkit.steer.decode import DEFAULT_DIR

    directory = model_dir or DEFAULT_DIR
    result = calibrate_model(directory, calibration or CALIBRATION_PATH, write=write)
    now = result["at_current_default"]
    console.print(
        f"at the current default ({result['current_default']}): should-refuse prompts refused "
        f"{now['should_refuse_refused']:.1%}, should-answer prompts refused "
        f"{now['should_answer_refused']:.1%}, F1 {now['f1']}"
    )
    console.print(f"F1 by threshold: {result['f1_by_threshold']}")
    verb = "is now" if write else "would be (pass --write to set it)"
    console.print(
        f"best threshold {result['threshold']} (F1 {result['f1']} on {result['prompts']} "
        f"prompts) {verb} the default of {directory}"
    )


@group.command("thresholds")
def thresholds_command(
    model_dir: ModelDirOption = None,
    write: Annotated[
        bool, typer.Option("--write", help="Record them in the model's meta.json.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Default thresholds per taxonomy group (should-not, cannot), chosen on the train split's
    public rows the model did not learn from: the best should-refuse recall within an everyday
    false-refusal budget."""
    from refusalkit.steer.decode import DEFAULT_DIR
    from refusalkit.steer.thresholds import set_group_thresholds

    print_result(set_group_thresholds(model_dir or DEFAULT_DIR, write=write), as_json)


@group.command("train")
def train(
    out: Annotated[Path, typer.Option(help="Where the adapter, tokenizer and meta go.")],
    pref: Annotated[
        Path | None,
        typer.Option(help="CoCoNot pref JSONL (default: data/external/coconot_pref.jsonl)."),
    ] = None,
    answers_cache: Annotated[
        Path | None,
        typer.Option(
            help="Cache of the base model's own answers, resumable "
            "(default: data/steer/base_answers.jsonl)."
        ),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 2,
    seed: Annotated[int, typer.Option()] = 0,
    single_token: Annotated[
        bool, typer.Option("--single-token", help="One [refuse] token instead of one per category.")
    ] = False,
    rank: Annotated[int, typer.Option(min=1, help="LoRA rank.")] = 32,
    lora_modules: Annotated[
        str, typer.Option(help="Comma-separated module names that get LoRA adapters.")
    ] = ",".join(LORA_MODULES),
    device: Annotated[str, typer.Option(help="cpu, or cuda on a GPU machine.")] = "cpu",
    smoothing: Annotated[
        float,
        typer.Option(
            min=0.0, max=0.5, help="Share of the decision target spread over all decision tokens."
        ),
    ] = DECISION_SMOOTHING,
    public: Annotated[
        bool,
        typer.Option(help="Add public rows (data/public): harmful requests, everyday prompts."),
    ] = True,
    bf16: Annotated[
        bool,
        typer.Option(
            help="bf16 autocast: ~2x faster on CPUs with avx512_bf16, slower without; other "
            "numbers (the shipped model trained in float32)."
        ),
    ] = False,
    selfaware: Annotated[
        bool | None,
        typer.Option(
            "--selfaware/--no-selfaware",
            help="Add SelfAware's questions (unanswerable → a cannot category, answerable → "
            "respond) to the public rows (default: steer.data.TRAIN_ON_SELFAWARE).",
        ),
    ] = None,
    base: Annotated[
        str,
        typer.Option(
            help="Base model: " + " or ".join(GENERATOR_BASES) + " (both embedded, from PyPI)."
        ),
    ] = DEFAULT_BASE,
    premises: Annotated[
        bool | None,
        typer.Option(
            "--premises/--no-premises",
            help="Add Do-Not-Answer's false-premise questions (refuted by most models) as "
            "invalid_premise refusals (default: steer.data.TRAIN_ON_PREMISES).",
        ),
    ] = None,
    cannot_weight: Annotated[
        float,
        typer.Option(help="Decision-loss weight of rows refused for a 'cannot' category."),
    ] = CANNOT_WEIGHT,
    category_margin: Annotated[
        float,
        typer.Option(
            help="Logit margin of the gold category token over the next category (0: off)."
        ),
    ] = CATEGORY_MARGIN,
    group_thresholds: Annotated[
        bool,
        typer.Option(
            help="Then choose default thresholds per taxonomy group (should-not, cannot) on "
            "held-out public rows, as `steer thresholds` does (the shipped model's recipe)."
        ),
    ] = True,
) -> None:
    """Fine-tune a small base model (LoRA + new token embeddings) to emit a decision token first."""
    from refusalkit.datasets.checkout import data_dir
    from refusalkit.steer.data import SteerExample, build_examples
    from refusalkit.steer.train import SteerTrainOptions, finish_training, train_steer

    generator_base(base)  # an unknown name fails before any data is read
    pref = pref or data_dir() / "external" / "coconot_pref.jsonl"
    answers_cache = answers_cache or data_dir() / "steer" / "base_answers.jsonl"
    if not pref.is_file():
        raise ConfigError(f"{pref} does not exist; pass --pref FILE (CoCoNot pref JSONL)")
    examples = build_examples(
        pref, answers_cache, seed=seed, public=public, selfaware=selfaware, premises=premises
    )
    modules = tuple(m.strip() for m in lora_modules.split(",") if m.strip())
    if not modules:
        raise ConfigError("--lora-modules is empty; name at least one module, e.g. q_proj")
    options = SteerTrainOptions(
        out=out,
        epochs=epochs,
        seed=seed,
        single_token=single_token,
        threads=os.cpu_count(),
        rank=rank,
        target_modules=modules,
        device=device,
        decision_smoothing=smoothing,
        bf16=bf16,
        base=base,
        cannot_weight=cannot_weight,
        category_margin=category_margin,
    )
    result = train_steer(examples, options)
    meta = result["meta"]

    finish_training(out, [SteerExample(**v) for v in result["val"]])
    metrics = json.loads((out / "metrics.json").read_text())
    if group_thresholds:
        from refusalkit.steer.thresholds import set_group_thresholds

        chosen = set_group_thresholds(out, [e.prompt for e in examples])
        console.print(f"default thresholds per group: {chosen['thresholds']}")
    console.print(
        f"trained on {meta['examples']['train']} examples in {meta['train_seconds']} s → {out}; "
        f"validation: {metrics}"
    )


@bench.command("steer")
def bench_steer_command(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with coconot/ and xstest/ (default: $REFUSALKIT_EVAL_DATA)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write sweep.json and plots here.")] = None,
    model_dir: ModelDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refusal-token figures: CoCoNot F1 and steering, decide speed, helpfulness, base model."""
    from refusalkit.evals.steer import bench_steer

    result = bench_steer(SteerModel(model_dir), eval_data_dir(data_dir), out)
    if out is None:  # the curves are long; they go to OUT/sweep.json when asked for
        result["sweep"].pop("per_category_curves", None)
    print_result(result, as_json)
