"""The `refusalkit` command: a thin view over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

try:  # typer >= 0.20 ships its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from refusalkit.cli_audit import audit_app, audit_model_command
from refusalkit.cli_server import bench_serve_command, serve_command
from refusalkit.cli_steer import bench_steer_command, steer_app
from refusalkit.errors import InvalidInputError, RefusalkitError

app = typer.Typer(
    name="refusalkit",
    help="Build, steer and audit the refusals of large language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ClassifiersOption = Annotated[
    Path | None,
    typer.Option(help="Classifier directory from `refusalkit train` (default: shipped ones)."),
]
bench_app = typer.Typer(help="Speed benchmarks (medians of several runs).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(audit_app, name="audit")
app.command("audit-model")(audit_model_command)
app.command("serve")(serve_command)
app.add_typer(steer_app, name="steer")
bench_app.command("steer")(bench_steer_command)
bench_app.command("serve")(bench_serve_command)

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


@app.command()
def chat(
    prompt: Annotated[
        str | None, typer.Option("--prompt", "-p", help="Answer this and exit; omit for a REPL.")
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="Most tokens to generate.", min=1)] = 256,
    temperature: Annotated[float, typer.Option(help="0 decodes greedily.", min=0, max=2)] = 0.0,
    system: Annotated[str | None, typer.Option(help="A system message to start with.")] = None,
    model: ModelOption = None,
    guard: Annotated[
        bool, typer.Option("--guard", help="Check input and streamed output with the guard.")
    ] = False,
    classifiers: ClassifiersOption = None,
) -> None:
    """Chat with a model: one answer with --prompt, else an interactive session."""
    from refusalkit.backends import GenerationParams, Message, load_backend

    if prompt is not None and not prompt.strip():
        raise InvalidInputError("--prompt is empty: give some text to answer")
    params = GenerationParams(max_tokens=max_tokens, temperature=temperature)
    history: list[Message] = [{"role": "system", "content": system}] if system else []
    guard_runtime = None
    if guard:
        from refusalkit.guard import Guard

        guard_runtime = Guard.load(classifiers)
    backend = load_backend(model)

    def answer(messages: list[Message]) -> str:
        if guard_runtime is None:
            stream = backend.stream(messages, params)
        else:
            stream = guard_runtime.stream(backend, messages, params)
        parts = []
        for delta in stream:
            parts.append(delta)
            sys.stdout.write(delta)
            sys.stdout.flush()
        sys.stdout.write("\n")
        if guard_runtime is not None and stream.blocked:
            err_console.print(
                f"[yellow]guard: blocked at {stream.stage} ({stream.category}, "
                f"score {stream.verdicts[-1].score:.3f})[/]"
            )
        return "".join(parts)

    if prompt is not None:
        answer([*history, {"role": "user", "content": prompt}])
        return
    err_console.print(f"[dim]{backend.spec} — /reset clears the history, /exit or Ctrl-D quits[/]")
    while True:
        try:
            line = input("you> ")
        except EOFError:
            sys.stdout.write("\n")
            return
        if line.strip() in {"/exit", "/quit"}:
            return
        if line.strip() == "/reset":
            history = history[:1] if system else []
            continue
        if not line.strip():
            continue
        history.append({"role": "user", "content": line})
        history.append({"role": "assistant", "content": answer(history)})


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
) -> None:
    """Train the input and streaming output classifiers for a constitution."""
    from refusalkit.classifiers.train import TrainOptions, train
    from refusalkit.datasets.public import default_public_dir

    if data is None:
        from refusalkit.synth import SynthOptions, synthesize

        data = out / "data"
        synthesize(SynthOptions(constitution, n=n, out=data, seed=seed, resume=True))
    options = TrainOptions(
        constitution, data, out, seed=seed, target_fpr=target_fpr, tune=tune, tune_epochs=epochs,
        public=default_public_dir() if public else None,
    )  # fmt: skip
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
) -> None:
    """Score rows: prompts with the input classifier, prompt+response with the output one."""
    from refusalkit.classifiers import ConstitutionalClassifiers
    from refusalkit.classifiers.io import classify_file

    count = classify_file(input_path, output, ConstitutionalClassifiers.load(classifiers))
    console.print(f"classified {count} rows → {output}")


@app.command()
def models() -> None:
    """List the embedded models, where they resolved from, and the cache."""
    from refusalkit.config import load_settings
    from refusalkit.models import describe_models

    settings = load_settings()
    # plain lines, not a table: paths stay whole and greppable at any width
    for row in describe_models(settings.cache_dir):
        print(f"{row.role}: {row.name}")
        print(f"  package:  {row.package}")
        print(f"  location: {row.location}")
        print(f"  status:   {row.status}")
    print(f"cache dir: {settings.cache_dir}  (set cache_dir or REFUSALKIT_CACHE_DIR)")
    print(f"default model spec: {settings.model}")


@app.command()
def quickstart(
    model: ModelOption = None,
    max_tokens: Annotated[int, typer.Option(min=1)] = 64,
    out: Annotated[Path, typer.Option(help="Where the small report goes.")] = Path(
        "refusalkit-quickstart"
    ),
) -> None:
    """A short tour on the embedded defaults: guarded vs unguarded answers, audited, reported."""
    from refusalkit.evals.quickstart import run_quickstart

    run_quickstart(out, model, max_tokens, console)


@app.command()
def synth(
    constitution: Annotated[
        str, typer.Option(help="A constitution YAML file, or a shipped one: general, cbrn.")
    ],
    n: Annotated[int, typer.Option("--n", min=1, help="Rows to make (input + output).")],
    out: Annotated[Path, typer.Option(help="Directory for train/val/test JSONL + manifest.")],
    generator: Annotated[
        str | None, typer.Option(help="Model spec of the generator (default: the configured).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Concurrent generator requests (endpoints).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for every random choice.")] = 0,
    resume: Annotated[bool, typer.Option(help="Continue a run in --out.")] = False,
    benign: Annotated[
        list[Path] | None,
        typer.Option(help="JSONL of benign `prompt`s (+ `response`/`chosen`), added as harmless."),
    ] = None,
    query_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of requests the generator writes.")
    ] = 0.15,
    answer_share: Annotated[
        float, typer.Option(min=0.0, max=0.55, help="Share of answers the generator writes.")
    ] = 0.3,
) -> None:
    """Turn a constitution into a labelled, augmented dataset for the classifiers."""
    from refusalkit.synth import SynthOptions, synthesize

    options = SynthOptions(
        constitution=constitution,
        n=n,
        out=out,
        generator=generator,
        concurrency=concurrency,
        seed=seed,
        resume=resume,
        benign=list(benign or []),
        query_generator_share=query_share,
        answer_generator_share=answer_share,
    )
    report = synthesize(options)
    manifest = report.manifest
    counts = manifest["counts"]
    console.print(
        f"wrote {report.rows} rows to {report.out} "
        f"(train {counts['split'].get('train', 0)}, val {counts['split'].get('val', 0)}, "
        f"test {counts['split'].get('test', 0)}); held-out families: "
        f"{', '.join(manifest['heldout_families'])}"
    )
    stats = manifest["generator_stats"]
    if stats["failures"]:
        err_console.print(
            f"[yellow]{stats['failures']} generator requests failed after retries "
            f"({stats['last_error']}); their rows are missing: rerun with --resume[/]"
        )
    console.print(f"{report.rows_per_min:.0f} rows/min ({report.elapsed_s:.0f}s)")


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
    from refusalkit.errors import ConfigError
    from refusalkit.evals.suite import SUITES, run_suite

    if suite not in SUITES:
        raise ConfigError(f"unknown suite {suite!r}; use one of {', '.join(SUITES)}")
    metrics = run_suite(
        SUITES[suite],
        out,
        _eval_data_dir(data_dir),
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


@bench_app.command("generate")
def bench_generate(
    model: ModelOption = None,
    runs: Annotated[int, typer.Option(min=3, help="Timed runs after one warm-up.")] = 5,
    max_tokens: Annotated[int, typer.Option(min=2, help="Tokens per run.")] = 128,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line on stdout.")] = False,
) -> None:
    """Single-stream decode speed: median tokens/s of several runs after a warm-up."""
    from refusalkit.backends import load_backend
    from refusalkit.evals.bench import bench_generate as run_bench

    backend = load_backend(model)
    result = run_bench(backend, runs=runs, max_tokens=max_tokens)
    if as_json:
        print(json.dumps(result))
        return
    console.print(
        f"{result['model']} ({result['model_name']}): {result['tokens_per_s']} tokens/s decode, "
        f"{result['e2e_tokens_per_s']} end to end, time to first token {result['ttft_s']}s "
        f"(median of {result['runs']} runs of {result['max_tokens']} tokens)"
    )


@bench_app.command("overhead")
def bench_overhead(
    runs: Annotated[int, typer.Option(min=3, help="Timed runs of each, interleaved.")] = 5,
    max_tokens: Annotated[int, typer.Option(min=16, help="Tokens per run.")] = 128,
    classifiers: ClassifiersOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line on stdout.")] = False,
) -> None:
    """Guard overhead on the embedded generator: guarded vs unguarded tokens/s, same run."""
    from refusalkit.backends import load_backend
    from refusalkit.evals.bench import bench_overhead as run_bench
    from refusalkit.guard import Guard

    result = run_bench(load_backend("embedded"), Guard.load(classifiers), runs, max_tokens)
    if as_json:
        print(json.dumps(result))
        return
    console.print(
        f"unguarded {result['unguarded_tokens_per_s']} tokens/s, guarded "
        f"{result['guarded_tokens_per_s']} tokens/s: overhead {result['overhead']:.3f}; "
        f"input check p50 {result['input_check_p50_ms']} ms"
    )


@bench_app.command("classifiers")
def bench_classifiers_command(
    classifiers: ClassifiersOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with xstest/ and coconot/ (default: $REFUSALKIT_EVAL_DATA)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line on stdout.")] = False,
) -> None:
    """Classifier accuracy on data never trained on: XSTest, CoCoNot, held-out jailbreaks."""
    from refusalkit.classifiers import ConstitutionalClassifiers
    from refusalkit.evals.classifiers import bench_classifiers

    directory = _eval_data_dir(data_dir)
    _print_result(
        bench_classifiers(ConstitutionalClassifiers.load(classifiers), directory), as_json
    )


@bench_app.command("audit")
def bench_audit_command(
    classifier: Annotated[
        Path | None, typer.Option(help="Refusal classifier folder (default: the shipped one).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with xstest/ (default: $REFUSALKIT_EVAL_DATA)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line on stdout.")] = False,
    voices: Annotated[
        bool,
        typer.Option(help="Also leave-one-model-out on Do-Not-Answer and the public test split."),
    ] = True,
) -> None:
    """Refusal-audit accuracy beside string matching: XSTest's 2,250 human-labelled completions
    (and throughput), other models' answers held out by model and by prompt."""
    from refusalkit.evals.audit import bench_audit

    _print_result(
        bench_audit(_eval_data_dir(data_dir), classifier, progress=not as_json, voices=voices),
        as_json,
    )


def _eval_data_dir(data_dir: Path | None) -> Path:
    from refusalkit.datasets.eval_sets import default_data_dir
    from refusalkit.errors import ConfigError

    directory = data_dir or default_data_dir()
    if directory is None:
        raise ConfigError("no evaluation data found: pass --data-dir or set REFUSALKIT_EVAL_DATA")
    return directory


def _print_result(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    console.print_json(json.dumps(result))


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and a non-zero exit, no traceback."""
    try:
        app(args=argv, standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError:
        pass  # typer has printed the help
    except click_exceptions.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "refusalkit"
        _fail(f"{exc.format_message()} (see '{command} --help')", 2)
    except click_exceptions.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except RefusalkitError as exc:
        _fail(str(exc), exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("aborted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
