"""`refusalkit audit train`: seeds + synth data → tuned encoder → level and category heads."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from refusalkit.audit.classifier import (
    RefusalClassifier,
    refusal_levels,
)
from refusalkit.audit.data import (
    LEVELS,
    AuditExample,
    build_examples,
    public_examples,
)
from refusalkit.audit.encoder import BatchEncoder, encoder_tokenizer, token_ids
from refusalkit.audit.heads import (
    fit_category_head,
    fit_level_head,
    head_rows,
    opening_cuts,
)
from refusalkit.audit.string_match import string_match_level
from refusalkit.classifiers.training.tune import TuneExample, TuneOptions, tune_encoder
from refusalkit.datasets.checkout import data_dir
from refusalkit.datasets.public import answer_rows
from refusalkit.datasets.voices import voice_rows
from refusalkit.errors import ConfigError
from refusalkit.jsonl import read_rows
from refusalkit.taxonomy import BY_ID, CATEGORIES

# Whether the heads fit refusal_voices' answers (three more models' voices); decided by the rule
# in docs/audit.md, and read by `bench audit`'s leave-one-model-out so it scores what ships.
TRAIN_ON_VOICES = False


def default_synth() -> Path:
    return data_dir() / "synth-general"


def default_pref() -> Path:
    return data_dir() / "external" / "coconot_pref.jsonl"


@dataclass
class AuditTrainOptions:
    out: Path
    synth: Path = field(default_factory=default_synth)
    pref: Path = field(default_factory=default_pref)
    public: bool = True  # other models' human-labelled answers (data/public) for the heads
    reuse_encoder: Path | None = None  # a classifier folder whose adapter to keep (heads only)
    seed: int = 0
    tune_epochs: int = 2
    progress: bool = True


def synth_rows(directory: Path) -> list[dict]:
    rows: list[dict] = []
    for split in ("train", "val", "test"):
        rows += read_rows(directory / f"{split}.jsonl")
    return [r for r in rows if r.get("stage") == "output"]


def composed_examples(options: AuditTrainOptions) -> tuple[list[AuditExample], list[AuditExample]]:
    return build_examples(synth_rows(options.synth), read_rows(options.pref), seed=options.seed)


def _tune(train: list[AuditExample], options: AuditTrainOptions) -> Path:
    """The encoder learns refusals from the composed examples only: public answers reach the
    heads alone, so refitting the heads without one model's answers is an honest test of that
    model's voice (leave_one_model_out)."""
    categories = [c.id for c in CATEGORIES]
    levels = list(LEVELS)
    tokenizer = encoder_tokenizer()  # the tuning windows need word pieces, not a model
    cuts = opening_cuts(train, options.seed)
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
    return tune_encoder(
        tune_examples,
        [len(levels), len(categories)],
        options.out,
        TuneOptions(epochs=options.tune_epochs, seed=options.seed, progress=options.progress),
    )


def train_audit(options: AuditTrainOptions) -> dict[str, Any]:
    started = time.perf_counter()
    train, test = composed_examples(options)
    public = (
        public_examples(answer_rows() + (voice_rows() if TRAIN_ON_VOICES else []))
        if options.public
        else {"train": [], "val": [], "test": []}
    )
    options.out.mkdir(parents=True, exist_ok=True)
    if options.reuse_encoder is not None:
        meta_path = options.reuse_encoder / "meta.json"
        if not meta_path.is_file():
            raise ConfigError(f"{options.reuse_encoder} holds no refusal classifier (no meta.json)")
        adapter = options.out / "encoder_adapter"
        source = options.reuse_encoder / json.loads(meta_path.read_text())["adapter"]
        if source.resolve() != adapter.resolve():
            shutil.rmtree(adapter, ignore_errors=True)
            shutil.copytree(source, adapter)
    else:
        adapter = _tune(train, options)
    encoder = BatchEncoder(adapter)
    rows = head_rows(encoder, train, public["train"] + public["val"], options.seed)
    fit_level_head(rows, options.seed).save(options.out / "level_head.npz")
    fit_category_head(rows, options.seed).save(options.out / "category_head.npz")
    meta = {
        "adapter": adapter.name,
        "threshold": 0.5,
        "markers": True,
        "encoder": "all-MiniLM-L6-v2 + LoRA, int8 ONNX",
        "encoder_tuned_on": "composed examples only (seeds, synth, CoCoNot pref)",
        "seed": options.seed,
        "train_examples": len(train) + len(public["train"]) + len(public["val"]),
        "test_examples": len(test),
    }
    (options.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    classifier = RefusalClassifier(options.out)
    metrics = {
        "heldout_test": evaluate(classifier, test),
        "public_test": evaluate(classifier, public["test"]) if public["test"] else None,
        "train_sources": dict(Counter(e.source for e in train + public["train"] + public["val"])),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    (options.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_card(options.out, meta, metrics)
    return metrics


DNA_MODELS = ("GPT4", "ChatGPT", "Claude", "llama2-7b-chat")
VOICE_MODELS = ("llama-2-7b-chat-hf", "gemma-2b-it", "qwen-1_8b-chat")
# Do-Not-Answer's and refusal_voices' Llama-2 answers come from one model: held out together.
MODEL_FAMILY = {"llama2-7b-chat": "llama-2-7b-chat", "llama-2-7b-chat-hf": "llama-2-7b-chat"}


def _family(model: str | None) -> str | None:
    return MODEL_FAMILY.get(model or "", model)


def leave_one_model_out(
    classifier: RefusalClassifier,
    composed: list[AuditExample],
    public: list[AuditExample],
    seed: int = 0,
    progress: bool = False,
    train_on_voices: bool = TRAIN_ON_VOICES,
) -> dict[str, Any]:
    """Refit the level head on `composed` and `public` without one model's answers (GPTFuzz's
    ChatGPT answers go with ChatGPT, both Llama-2 sources go together), then score that model's
    answers (Do-Not-Answer's for its four models, refusal_voices' for the three more); beside
    it, the XSTest string matcher on the same rows. The models answered the same questions: this
    tests a voice, not a topic. `train_on_voices`: the refusal_voices answers of the other models
    are fitted on too (by default as the shipped recipe does). Honest only for a classifier whose
    encoder never saw public answers (`encoder_tuned_on` in its meta.json); `honest` is false for
    others."""
    rows = head_rows(classifier.encoder, composed, public, seed)
    by_model: dict[str, Any] = {}
    models = [m for m in (*DNA_MODELS, *VOICE_MODELS) if any(e.model == m for e in public)]
    for model in tqdm(models, desc="leave one model out", disable=not progress):
        fitted = [
            _family(e.model) != _family(model) and (train_on_voices or e.source != "refusal_voices")
            for e in rows.examples
        ]
        head = fit_level_head(rows.subset(fitted), seed)
        source = "refusal_voices" if model in VOICE_MODELS else "do_not_answer"
        held = rows.subset([e.source == source and e.model == model for e in rows.examples])
        _, levels = refusal_levels(
            head.probabilities(held.level_x), head.classes, classifier.threshold
        )
        truth = [e.level for e in held.examples]
        matched = [string_match_level(e.response) for e in held.examples]
        by_model[model] = {
            "source": source,
            "answers": len(truth),
            "refusals": sum(t != "compliance" for t in truth),
            "binary_accuracy": binary_accuracy(levels, truth),
            "string_match_binary_accuracy": binary_accuracy(matched, truth),
            # Few answers per model comply; how many of them read as compliance:
            "compliance_read_as_compliance": _share(
                [p == "compliance" for p, t in zip(levels, truth, strict=True) if t == "compliance"]
            ),
        }
    return {
        "by_model": by_model,
        "honest": "encoder_tuned_on" in classifier.meta,
        "labels": "Do-Not-Answer action 0/4 → refusal, 2/5 → compliance; 1 and 3 left out; "
        "refusal_voices by refusal phrase, the rows read by hand as datasets/voices.VOICE_READ",
    }


def binary_accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float | None:
    """Share of answers where both levels agree on refusal (partial or full) or compliance."""
    return _share(
        [(p != "compliance") == (t != "compliance") for p, t in zip(predicted, truth, strict=True)]
    )


def _share(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def evaluate(classifier: RefusalClassifier, examples: list[AuditExample]) -> dict[str, Any]:
    """Binary and level accuracy; on refusals with a known category, category accuracy and
    macro-F1; on refusals with a known group (should-not / cannot), group accuracy."""
    from sklearn.metrics import f1_score

    results = classifier.classify([e.prompt for e in examples], [e.response for e in examples])
    pairs = list(zip(results, examples, strict=True))
    with_category = [(r, e) for r, e in pairs if e.category]
    with_group = [(r, e) for r, e in pairs if e.level != "compliance" and _group(e, BY_ID)]
    return {
        "examples": len(examples),
        "binary_accuracy": binary_accuracy(
            [r.refusal_level for r in results], [e.level for e in examples]
        ),
        "level_accuracy": _share([r.refusal_level == e.level for r, e in pairs]),
        "category_accuracy": _share([r.category == e.category for r, e in with_category]),
        "category_macro_f1": round(
            float(
                f1_score(
                    [e.category for _, e in with_category],
                    [r.category or "none" for r, _ in with_category],
                    average="macro",
                )
            ),
            4,
        )
        if with_category
        else None,
        "category_refusals": len(with_category),
        "group_accuracy": _share([r.group == _group(e, BY_ID) for r, e in with_group]),
        "group_refusals": len(with_group),
    }


def _group(example: AuditExample, by_id: dict) -> str | None:
    if example.category:
        return by_id[example.category].group
    return example.taxonomy_group


def write_card(out: Path, meta: dict, metrics: dict) -> None:
    test = metrics["heldout_test"]
    public = metrics.get("public_test") or {}
    lines = [
        "# Refusal classifier (refusal level + taxonomy category)",
        "",
        f"- encoder: {meta['encoder']}, tuned on {meta.get('encoder_tuned_on', 'composed data')}",
        "- level head: logistic regression on [opening, closing] of the response and what a "
        "keyword matcher sees (`audit/markers.py`); category head: linear softmax on "
        "[opening, closing, prompt end]",
        f"- training examples: {meta['train_examples']} ({metrics['train_sources']}); seed "
        f"{meta['seed']}",
        "- own held-out split (a smoke test: the project's own phrasing): refusals composed only "
        "from seed parts never used in training, the synth test split and 15% of CoCoNot `pref`: "
        f"binary {test['binary_accuracy']}, level {test['level_accuracy']}, category "
        f"macro-F1 {test['category_macro_f1']}",
    ]
    if public:
        lines.append(
            "- public test split (other models' answers, held out by prompt): binary "
            f"{public['binary_accuracy']}, level {public['level_accuracy']}, category accuracy "
            f"{public['category_accuracy']}, group accuracy {public['group_accuracy']}"
        )
    lines += [
        "",
        "Reproduce: `refusalkit audit train --out src/refusalkit/audit/artifacts` (~5 min on 2 "
        "cores). Figures on unseen data: `refusalkit bench audit --data-dir ../shared/data`.",
        "",
    ]
    (out / "card.md").write_text("\n".join(lines))
