"""`refusalkit chat`, `models`, `quickstart`, `bench generate`, `bench overhead`: talking to a
model, with or without the guard."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from refusalkit.cli.common import ClassifiersOption, JsonOption, ModelOption, console, err_console
from refusalkit.config import load_settings
from refusalkit.errors import InvalidInputError

app = typer.Typer()
bench = typer.Typer()


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
    from refusalkit.backends import GenerationParams, Message, TextStream, load_backend
    from refusalkit.guard import Guard, GuardedStream

    if prompt is not None and not prompt.strip():
        raise InvalidInputError("--prompt is empty: give some text to answer")
    params = GenerationParams(max_tokens=max_tokens, temperature=temperature)
    history: list[Message] = [{"role": "system", "content": system}] if system else []
    guard_runtime = None
    if guard:
        guard_runtime = Guard.load(classifiers)
    backend = load_backend(model)

    def answer(messages: list[Message]) -> str:
        stream: TextStream | GuardedStream = (
            backend.stream(messages, params)
            if guard_runtime is None
            else guard_runtime.stream(backend, messages, params)
        )
        parts = []
        for delta in stream:
            parts.append(delta)
            sys.stdout.write(delta)
            sys.stdout.flush()
        sys.stdout.write("\n")
        if isinstance(stream, GuardedStream) and stream.blocked:
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


@app.command()
def models() -> None:
    """List the embedded models, where they resolved from, the cache, and llama.cpp's CPU path."""
    from refusalkit.backends.llama_cpu import choose_extra_buffers
    from refusalkit.weights import describe_models

    settings = load_settings()
    # plain lines, not a table: paths stay whole and greppable at any width
    for row in describe_models(settings.cache_dir):
        print(f"{row.role}: {row.name}")
        print(f"  package:  {row.package}")
        print(f"  location: {row.location}")
        print(f"  status:   {row.status}")
    print(f"cache dir: {settings.cache_dir}  (set cache_dir or REFUSALKIT_CACHE_DIR)")
    print(f"default model spec: {settings.model}")
    choice = choose_extra_buffers(settings.llama_extra_buffers)
    print(f"llama.cpp CPU: host {' '.join(choice.host_flags) or '(no listed flags)'}")
    print(f"  build {' '.join(choice.llama_features) or '(llama-cpp-python not importable)'}")
    print(f"  {choice.describe()}; auto|on|off via REFUSALKIT_LLAMA_EXTRA_BUFFERS")


@app.command("prune-cache")
def prune_cache(
    keep: Annotated[
        list[Path] | None,
        typer.Option(help="A classifier or audit folder whose graphs stay (repeatable)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List, delete nothing.")] = False,
) -> None:
    """Delete cached graphs built for adapters that are neither shipped nor under --keep
    (retraining leaves one behind per run); base weights are never touched."""
    from refusalkit.audit.classifier import DEFAULT_DIR as AUDIT_DIR
    from refusalkit.classifiers.artifacts import DEFAULT_DIR as CLASSIFIERS_DIR
    from refusalkit.weights import prune_adapter_graphs

    for folder in keep or []:
        if not folder.is_dir():
            raise InvalidInputError(f"--keep {folder}: no such folder")
    cache = load_settings().cache_dir
    kept = [CLASSIFIERS_DIR, AUDIT_DIR, *(keep or [])]
    stale = prune_adapter_graphs(cache, kept, dry_run=True)
    size = sum(p.stat().st_size for p in stale)
    if not dry_run:
        prune_adapter_graphs(cache, kept)
    for path in stale:
        print(path)
    verb = "would delete" if dry_run else "deleted"
    print(f"{verb} {len(stale)} cached graph(s) in {cache} ({size / 2**20:.0f} MiB)")


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


@bench.command("generate")
def bench_generate(
    model: ModelOption = None,
    runs: Annotated[int, typer.Option(min=3, help="Timed runs after one warm-up.")] = 5,
    max_tokens: Annotated[int, typer.Option(min=2, help="Tokens per run.")] = 128,
    as_json: JsonOption = False,
) -> None:
    """Single-stream decode speed: median tokens/s of several runs after a warm-up."""
    from refusalkit.backends import load_backend
    from refusalkit.evals.bench import bench_generate as run_bench_generate

    backend = load_backend(model)
    result = run_bench_generate(backend, runs=runs, max_tokens=max_tokens)
    if as_json:
        print(json.dumps(result))
        return
    console.print(
        f"{result['model']} ({result['model_name']}): {result['tokens_per_s']} tokens/s decode, "
        f"{result['e2e_tokens_per_s']} end to end, time to first token {result['ttft_s']}s "
        f"(median of {result['runs']} runs of {result['max_tokens']} tokens)"
    )


@bench.command("overhead")
def bench_overhead(
    runs: Annotated[int, typer.Option(min=3, help="Timed runs of each, interleaved.")] = 5,
    max_tokens: Annotated[int, typer.Option(min=16, help="Tokens per run.")] = 128,
    classifiers: ClassifiersOption = None,
    as_json: JsonOption = False,
) -> None:
    """Guard overhead on the embedded generator: guarded vs unguarded tokens/s, same run."""
    from refusalkit.backends import load_backend
    from refusalkit.evals.bench import bench_overhead as run_bench_overhead
    from refusalkit.guard import Guard

    result = run_bench_overhead(load_backend("embedded"), Guard.load(classifiers), runs, max_tokens)
    if as_json:
        print(json.dumps(result))
        return
    console.print(
        f"unguarded {result['unguarded_tokens_per_s']} tokens/s, guarded "
        f"{result['guarded_tokens_per_s']} tokens/s: overhead {result['overhead']:.3f}; "
        f"input check p50 {result['input_check_p50_ms']} ms"
    )
