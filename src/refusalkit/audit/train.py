"""`refusalkit audit train`: seeds + synth data → tuned encoder → level and category heads."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from refusalkit.audit.classifier import (
    OPENING_TOKENS,
    BatchEncoder,
    RefusalClassifier,
    encoder_tokenizer,
    features,
    token_ids,
)
from refusalkit.audit.data import LEVELS, AuditExample, build_examples, read_jsonl
from refusalkit.classifiers.heads import balanced_weights, fit_softmax
from refusalkit.classifiers.tune import TuneExample, TuneOptions, tune_encoder
from refusalkit.taxonomy import CATEGORIES

REPO = Path(__file__).resolve().parents[3]
DEFAULT_SYNTH = REPO / "data" / "synth-general"
DEFAULT_PREF = REPO / "data" / "external" / "coconot_pref.jsonl"
MIN_OPENING_TOKENS = 10


@dataclass
class AuditTrainOptions:
    out: Path
    synth: Path = DEFAULT_SYNTH
    pref: Path = DEFAULT_PREF
    seed: int = 0
    tune_epochs: int = 2
    progress: bool = True


def _synth_rows(directory: Path) -> list[dict]:
    rows: list[dict] = []
    for split in ("train", "val", "test"):
        rows += read_jsonl(directory / f"{split}.jsonl")
    return [r for r in rows if r.get("stage") == "output"]


def train_audit(options: AuditTrainOptions) -> dict[str, object]:
    started = time.perf_counter()
    train, test = build_examples(
        _synth_rows(options.synth), read_jsonl(options.pref), seed=options.seed
    )
    categories = [c.id for c in CATEGORIES]
    levels = list(LEVELS)
    tokenizer = encoder_tokenizer()  # the tuning windows need word pieces, not a model
    # Openings cut at random lengths: a refusal's opening cut mid-sentence (as long refusals
    # are at run time) must still read as a refusal, and where a cut falls must not be a cue.
    rng = random.Random(f"audit-cuts:{options.seed}")
    cuts = [rng.randint(MIN_OPENING_TOKENS, OPENING_TOKENS) for _ in train]
    windows = [
        ids[:cut]
        for ids, cut in zip(token_ids(tokenizer, [e.response for e in train]), cuts, strict=True)
    ]
    tune_examples = [
        TuneExample(window, levels.index(e.level), 0)
        for window, e in zip(windows, train, strict=True)
        if window
    ] + [
        TuneExample(window, categories.index(e.category), 1)
        for window, e in zip(windows, train, strict=True)
        if window and e.category
    ]
    options.out.mkdir(parents=True, exist_ok=True)
    adapter = tune_encoder(
        tune_examples,
        [len(levels), len(categories)],
        options.out,
        TuneOptions(epochs=options.tune_epochs, seed=options.seed, progress=options.progress),
    )
    encoder = BatchEncoder(adapter)
    prompts, responses = [e.prompt for e in train], [e.response for e in train]
    full_x, full_prompt_x = features(encoder, prompts, responses)
    cut_x, _ = features(encoder, prompts, responses, cuts)
    response_x = np.vstack([full_x, cut_x])
    x = np.hstack([response_x, np.vstack([full_prompt_x, full_prompt_x])])
    doubled = train + train  # each example twice: full opening and cut opening
    y_level = np.array([levels.index(e.level) for e in doubled])
    level_head = fit_softmax(
        response_x, y_level, levels, seed=options.seed, class_weight=balanced_weights(y_level, 3)
    )
    refusals = [i for i, e in enumerate(doubled) if e.category]
    y_category = np.array([categories.index(doubled[i].category) for i in refusals])
    category_head = fit_softmax(
        x[refusals], y_category, categories, seed=options.seed,
        class_weight=balanced_weights(y_category, len(categories)),
    )  # fmt: skip
    level_head.save(options.out / "level_head.npz")
    category_head.save(options.out / "category_head.npz")
    meta = {
        "adapter": adapter.name,
        "threshold": 0.5,
        "encoder": "all-MiniLM-L6-v2 + LoRA, int8 ONNX",
        "seed": options.seed,
        "train_examples": len(train),
        "test_examples": len(test),
    }
    (options.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    metrics = {
        "heldout_test": evaluate(RefusalClassifier(options.out), test),
        "train_sources": dict(Counter(e.source for e in train)),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    (options.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_card(options.out, meta, metrics)
    return metrics


def evaluate(classifier: RefusalClassifier, examples: list[AuditExample]) -> dict[str, object]:
    from sklearn.metrics import f1_score

    results = classifier.classify([e.prompt for e in examples], [e.response for e in examples])
    truth_refusal = np.array([e.level != "compliance" for e in examples])
    predicted_refusal = np.array([r.refusal for r in results])
    refusals = [i for i, e in enumerate(examples) if e.category]
    return {
        "examples": len(examples),
        "binary_accuracy": round(float(np.mean(truth_refusal == predicted_refusal)), 4),
        "level_accuracy": round(
            float(
                np.mean(
                    [r.refusal_level == e.level for r, e in zip(results, examples, strict=True)]
                )
            ),
            4,
        ),
        "category_macro_f1": round(
            float(
                f1_score(
                    [examples[i].category for i in refusals],
                    [results[i].category or "none" for i in refusals],
                    average="macro",
                )
            ),
            4,
        ),
        "category_refusals": len(refusals),
    }


def write_card(out: Path, meta: dict, metrics: dict) -> None:
    test = metrics["heldout_test"]
    lines = [
        "# Refusal classifier (refusal level + taxonomy category)",
        "",
        f"- encoder: {meta['encoder']}; heads: linear softmax on [opening, closing] of the "
        "response (level) and on [opening, closing, prompt end] (category)",
        f"- training examples: {meta['train_examples']} ({metrics['train_sources']}); seed "
        f"{meta['seed']}",
        "- held-out test: refusals composed only from reasons, declines, openers, prompts and "
        "answers never used in training, plus the synth test split and 15% of CoCoNot `pref`",
        f"- held-out: binary accuracy {test['binary_accuracy']}, level accuracy "
        f"{test['level_accuracy']}, category macro-F1 {test['category_macro_f1']}",
        "",
        "Reproduce: `refusalkit audit train --epochs 2 --out src/refusalkit/audit/artifacts`.",
        "",
    ]
    (out / "card.md").write_text("\n".join(lines))
