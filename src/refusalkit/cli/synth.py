"""`refusalkit synth`: a constitution into labelled, augmented data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from refusalkit.cli.common import console, err_console

app = typer.Typer()


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


@app.command("synth-carry-outs")
def synth_carry_outs(
    data: Annotated[
        Path | None,
        typer.Option(help="Synthetic data from `refusalkit synth` (default: data/synth-general)."),
    ] = None,
    constitution: Annotated[str, typer.Option(help="The constitution of --data.")] = "general",
    out: Annotated[
        Path | None, typer.Option(help="JSONL to write (default: data/generated/carry_outs.jsonl).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the choice of requests and prefixes.")] = 0,
) -> None:
    """The embedded SmolLM2's plain answers to harmful and look-alike requests, for the exchange
    reader (`refusalkit train` reads the shipped file). Resumes a run cut short."""
    from refusalkit.classifiers.first_stage.encoder import TextEncoder
    from refusalkit.classifiers.training.options import TrainOptions
    from refusalkit.classifiers.training.rows import public_rows, splits_with_public
    from refusalkit.constitution import load_constitution
    from refusalkit.constitution.loader import resolve_constitution_path
    from refusalkit.datasets.checkout import data_dir
    from refusalkit.datasets.public import default_public_dir
    from refusalkit.synth.carry_outs import (
        PER_SPLIT,
        carry_out_requests,
        carry_outs_file,
        write_carry_outs,
    )

    data = data or data_dir() / "synth-general"
    options = TrainOptions(constitution, data, Path("."), seed=seed, public=default_public_dir())
    loaded = load_constitution(resolve_constitution_path(constitution))
    splits = splits_with_public(options, public_rows(options, TextEncoder(), loaded))
    target = out or carry_outs_file()
    rows = write_carry_outs(carry_out_requests(splits, PER_SPLIT, seed), target)
    kept = {split: sum(r["split"] == split for r in rows) for split in PER_SPLIT}
    console.print(f"wrote {len(rows)} carry-outs to {target} ({kept}; refusals dropped)")
