"""card.md: what a trained classifier directory holds, how it was calibrated, and its figures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from refusalkit.classifiers.artifacts import Meta
from refusalkit.classifiers.second_stage.reader import MAX_TOKENS
from refusalkit.classifiers.training.options import TrainOptions
from refusalkit.datasets.checkout import checkout_root
from refusalkit.weights import SECOND_ENCODER_NAME

INPUT_HEAD_NAMES = {"linear": "linear softmax", "mlp": "softmax over one hidden layer of 256 ReLU"}


def _shown(path: Path) -> str:
    """A path as the card shows it: relative to the checkout when inside it (no machine paths)."""
    root = checkout_root()
    return str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)


def write_card(
    out: Path, meta: Meta, metrics: dict, options: TrainOptions, counts: Counter
) -> None:
    test = metrics["test"]
    second = metrics.get("second_stage")
    lines = [
        f"# Constitutional classifiers: {meta.constitution}",
        "",
        f"- constitution hash: `{meta.constitution_hash}`",
        f"- encoder: {meta.encoder}; heads: {INPUT_HEAD_NAMES[meta.input_head]} (input), "
        "linear streaming head "
        "trained towards max-so-far on [prompt, window, prompt ⊙ window] (output)",
        f"- data: `{meta.data}` ({counts['input']} input and {counts['output']} output train rows)"
        + (f" plus the public rows in `{_shown(options.public)}`" if options.public else ""),
        f"- seed: {meta.seed}",
        f"- input windows: {meta.input_window.size} tokens, stride {meta.input_window.stride} "
        f"(a harmful row's {'worst window' if meta.input_windows == 'worst' else 'every window'}"
        " taught harm); "
        f"output: last {meta.output_window.size} response tokens every {meta.check_every}",
        "",
        "## Operating point (chosen on validation rows only)",
        "",
    ]
    if options.public:
        lines.append(
            f"- input, first stage: threshold {metrics['thresholds']['input']:.4f}, the lowest "
            f"that flags ≤ {options.everyday_fpr:.0%} of everyday validation prompts and "
            f"≤ {options.lookalike_fpr:.0%} of look-alike ones"
        )
    else:
        lines.append(
            f"- input: threshold {metrics['thresholds']['input']:.4f} "
            f"(≤ {options.target_fpr:.0%} of benign validation rows flagged)"
        )
    if second:
        low, high = second["band"]
        lines.append(
            f"- input, second stage ({second.get('encoder', 'all-mpnet-base-v2')}, inputs of "
            f"≤ {MAX_TOKENS} tokens): reads first-stage scores in [{low}, {high}), flags at "
            f"{second['threshold']}; validation share reaching it: benign "
            f"{second['val_benign_share_in_band']}, harmful {second['val_harmful_share_in_band']}"
        )
    lines.append(
        f"- output: threshold {metrics['thresholds']['output']:.4f} "
        f"(≤ {options.target_fpr:.0%} of benign validation exchanges flagged)"
    )
    reader = metrics.get("exchange_reader")
    if reader:
        harmful, harmless = reader["val_harmful_at_threshold"], reader["val_harmless_at_threshold"]
        lines.append(
            f"- finished exchanges: a flagged request is carried out when the exchange reader "
            f"({SECOND_ENCODER_NAME} + LoRA, request with answer, {MAX_TOKENS} tokens) scores "
            f"≥ {reader['threshold']:.4f}, reached by "
            + (f"{harmful:.0%}" if harmful is not None else "– (none in validation)")
            + " of harmful validation exchanges and "
            + (f"{harmless:.1%}" if harmless is not None else "– (none in validation)")
            + " of harmless ones"
        )
        veto = reader.get("veto") or {}
        if veto.get("veto") is not None:
            which = (
                "any content flag"
                if veto["content_sure"] >= 1.0
                else f"a content flag with output score under {veto['content_sure']:.4f}"
            )
            lines.append(
                f"- finished exchanges: {which} is dropped when the reader scores the pair under "
                f"{veto['veto']:.4f} (validation F1 {veto['val_f1_without']} → "
                f"{veto['val_f1_with']}; the streaming guard keeps every content flag)"
            )
    lines += [
        "",
        "## Held-out synthetic test split (a smoke test: the project's own templates)",
        "",
        "| stage | recall | false-positive rate | accuracy |",
        "|---|---|---|---|",
    ]
    for stage in ("input", "output"):
        s = test[stage]
        lines.append(f"| {stage} | {s['recall']} | {s['fpr']} | {s['accuracy']} |")
    if metrics.get("public_test"):
        lines += [
            "",
            "## Held-out public test split (sources trained on, prompts never seen)",
            "",
            "| stage | recall | false-positive rate |",
            "|---|---|---|",
        ]
        for stage in ("input", "output"):
            s = metrics["public_test"][stage]
            lines.append(f"| {stage} | {s['recall']} | {s['fpr']} |")
        lines += ["", "Figures on sets never trained on: `refusalkit bench classifiers`."]
    lines += [
        "",
        "Reproduce: `refusalkit train --constitution "
        f"{meta.constitution} --data {meta.data} --seed {meta.seed}"
        + ("" if options.public else " --no-public")
        + "`.",
        "",
    ]
    (out / "card.md").write_text("\n".join(lines))
