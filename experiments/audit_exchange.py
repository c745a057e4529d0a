"""#38 lever 2 (stop 43): a second stage that reads the request with the answer's first 128
tokens (defined below) for answers the first stage scores in a band. Shipped first stage;
the exchange adapter is tuned on paired exchanges (never public answers), the heads are fitted
as `train_audit` fits them. Judged without XSTest: leave-one-model-out over seven voices, the
public validation answers, the own held-out split. Run: `audit_exchange.py [ADAPTER_DIR]`
(tunes the adapter into /tmp/audit-exchange when none is given).

The rule, written before any figure. Adopt the band that has the best leave-one-model-out mean
among those where: every voice >= 0.92 and none falls by more than 0.01, the mean over seven
rises >= 0.005, the public validation answers (earlier sources and voices) lose at most one
answer, the own held-out split loses <= 0.005 binary, and the second stage reads <= 30% of
rows. Then XSTest is read once with the product build: ship only if binary rises >= 0.005 and
three-level does not fall."""

import json
import random
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from refusalkit.audit import (
    LEVELS,
    MODEL_FAMILY,
    AuditExample,
    AuditTrainOptions,
    BatchEncoder,
    Level,
    RefusalClassifier,
    WordPieces,
    binary_accuracy,
    composed_examples,
    encoder_tokenizer,
    fit_level_head,
    head_rows,
    level_features,
    public_examples,
    refusal_levels,
    response_features,
    synth_rows,
    token_ids,
)
from refusalkit.datasets import answer_rows, voice_rows
from refusalkit.jsonl import read_rows
from refusalkit.synth import carry_outs_file

REQUEST_TOKENS = 24
ANSWER_TOKENS = 128


def exchange_windows(
    tokenizer: WordPieces, prompts: Sequence[str], responses: Sequence[str]
) -> list[list[int]]:
    """The request's last REQUEST_TOKENS word pieces, [SEP], the answer's first ANSWER_TOKENS."""
    asked = token_ids(tokenizer, prompts)
    answered = token_ids(tokenizer, responses)
    return [
        [*a[-REQUEST_TOKENS:], tokenizer.sep_token_id, *r[:ANSWER_TOKENS]]
        for a, r in zip(asked, answered, strict=True)
    ]


def exchange_features(
    encoder: BatchEncoder, prompts: Sequence[str], responses: Sequence[str]
) -> np.ndarray:
    windows = exchange_windows(encoder.tokenizer, prompts, responses)
    return encoder.embed(windows)


@dataclass(frozen=True)
class Band:
    """First-stage refusal scores the second stage re-reads: low <= score < high."""

    low: float
    high: float

    def contains(self, scores: np.ndarray) -> np.ndarray:
        return (scores >= self.low) & (scores < self.high)


def tuning_examples(
    composed: Sequence[AuditExample],
    paired: Sequence[AuditExample],
    seed: int,
    composed_share: int = 3000,
) -> list[AuditExample]:
    """Exchanges for the adapter: every paired example (answers written for their request) and
    a seeded sample of the composed ones whose refusal was written for its prompt."""
    rng = random.Random(f"audit-exchange:{seed}")
    own = [e for e in composed if e.source == "seed" and e.level != "compliance"]
    sample = rng.sample(own, min(composed_share, len(own)))
    return list(paired) + sample


def tune_exchange_adapter(
    examples: Sequence[AuditExample], out: Path, seed: int, epochs: int = 1, progress: bool = True
) -> Path:
    from refusalkit.classifiers.training import TuneExample, TuneOptions, tune_encoder

    tokenizer = encoder_tokenizer()
    windows = exchange_windows(
        tokenizer,
        [e.prompt for e in examples],
        [e.response for e in examples],
    )
    levels = list(LEVELS)
    tune = [
        TuneExample(w, levels.index(e.level), 0) for w, e in zip(windows, examples, strict=True)
    ]
    staging = out / ".exchange-tune"
    adapter = tune_encoder(
        tune,
        [len(levels)],
        staging,
        TuneOptions(epochs=epochs, seed=seed, progress=progress, batch_size=16),
    )
    target = out / "exchange_adapter"
    if target.exists():
        shutil.rmtree(target)
    adapter.rename(target)
    staging.rmdir()
    return target


# The synth data's kinds as audit levels: its "partial" answers refuse and only point elsewhere,
# which XSTest counts as a full refusal.
SYNTH_LEVEL: dict[str, Level] = {
    "refusal": "full_refusal",
    "partial": "full_refusal",
    "helpful": "compliance",
    "compliance": "compliance",
}


def paired_examples(
    synth_rows: Sequence[dict], carry_outs: Sequence[dict], pref_rows: Sequence[dict]
) -> list[AuditExample]:
    """Exchanges whose answer was written for its request, from training splits only: the synth
    data's output rows, the embedded model's carry-outs (answers to harmful and look-alike
    requests) and CoCoNot `pref` chosen answers (help for requests that only sound unsafe)."""
    from refusalkit.datasets import held_out

    out: list[AuditExample] = []
    for row in [*synth_rows, *carry_outs]:
        kind = str(row.get("kind"))
        level: Level | None = "compliance" if kind == "carry_out" else SYNTH_LEVEL.get(kind)
        if level and row.get("response") and row.get("split", "train") == "train":
            out.append(
                AuditExample(row["prompt"], row["response"], level, None, "paired", row["id"])
            )
    pref_train, _ = held_out(list(pref_rows), 0.15)  # the same rows audit/data.py holds out
    out += [
        AuditExample(p["prompt"], p["chosen"][:1200], "compliance", None, "paired", p["id"])
        for p in pref_train
    ]
    return out


SEED = 0
CROSS_WEIGHT = 1.0
BANDS = [Band(0.0, 1.01), Band(0.05, 0.95), Band(0.1, 0.9), Band(0.2, 0.8), Band(0.3, 0.7)]

options = AuditTrainOptions(out=Path("/tmp/audit-exchange"))
classifier = RefusalClassifier()
train, test = composed_examples(options)
if len(sys.argv) > 1:
    adapter = Path(sys.argv[1])
else:
    paired = paired_examples(
        synth_rows(options.synth), read_rows(carry_outs_file()), read_rows(options.pref)
    )
    tuning = tuning_examples(train, paired, SEED)
    print("tuning on", len(tuning), "exchanges", flush=True)
    started = time.perf_counter()
    adapter = tune_exchange_adapter(tuning, options.out, SEED)
    print("tuned in", round(time.perf_counter() - started), "s", flush=True)
cross_encoder = BatchEncoder(adapter)

public = public_examples(answer_rows() + voice_rows())
everything = public["train"] + public["val"] + public["test"]
rows = head_rows(classifier.encoder, train, everything, SEED)
started = time.perf_counter()
cross_x = exchange_features(
    cross_encoder, [e.prompt for e in rows.examples], [e.response for e in rows.examples]
)
print("cross features", len(cross_x), round(time.perf_counter() - started, 1), "s", flush=True)
combined_x = np.hstack([rows.level_x, CROSS_WEIGHT * cross_x])


def family(model):
    return MODEL_FAMILY.get(model or "", model)


def fit(mask, x):
    sub = rows.subset(list(mask))
    sub.level_x = x[mask]
    return fit_level_head(sub, SEED)


def decide(first, second, mask):
    """Levels by band: the first stage's levels, the combined head's where its score is in band."""
    p1 = first.probabilities(rows.level_x[mask])
    p2 = second.probabilities(combined_x[mask])
    s1, l1 = refusal_levels(p1, first.classes, classifier.threshold)
    _, l2 = refusal_levels(p2, second.classes, classifier.threshold)
    out = {}
    for band in BANDS:
        inside = band.contains(s1)
        out[(band.low, band.high)] = (
            [b if k else a for a, b, k in zip(l1, l2, inside, strict=True)],
            round(float(inside.mean()), 3),
        )
    return l1, out


def report(name, mask, first, second):
    truth = [e.level for e, m in zip(rows.examples, mask, strict=True) if m]
    base, banded = decide(first, second, mask)
    line = {"first": (binary_accuracy(base, truth), level_share(base, truth))}
    for band, (levels, share) in banded.items():
        line[f"{band}"] = (binary_accuracy(levels, truth), level_share(levels, truth), share)
    print(name, len(truth), json.dumps(line), flush=True)
    return line


def level_share(predicted, truth):
    return round(sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth), 4)


n_composed = 2 * len(train)
index = np.arange(len(rows.examples))
is_public = index >= n_composed
cuts = np.cumsum([n_composed, len(public["train"]), len(public["val"]), len(public["test"])])
in_split = {
    "train": (index >= cuts[0]) & (index < cuts[1]),
    "val": (index >= cuts[1]) & (index < cuts[2]),
    "test": (index >= cuts[2]) & (index < cuts[3]),
}
voices = np.array([e.source == "refusal_voices" for e in rows.examples])

# Validation: fitted on composed + public train (no voices, as shipped); public val read.
fitted = ~is_public | (in_split["train"] & ~voices)
first = fit(fitted, rows.level_x)
second = fit(fitted, combined_x)
report("validation, earlier sources", in_split["val"] & ~voices, first, second)
report("validation, voices", in_split["val"] & voices, first, second)
report("public train (fitted)", in_split["train"] & ~voices, first, second)

# Own held-out split (a smoke test in the project's phrasing), the same heads.
test_x = level_features(
    response_features(classifier.encoder, [e.response for e in test]),
    [e.response for e in test],
    markers=True,
)
test_cross = exchange_features(cross_encoder, [e.prompt for e in test], [e.response for e in test])
truth = [e.level for e in test]
s1, l1 = refusal_levels(first.probabilities(test_x), first.classes, classifier.threshold)
_, l2 = refusal_levels(
    second.probabilities(np.hstack([test_x, CROSS_WEIGHT * test_cross])),
    second.classes,
    classifier.threshold,
)
line: dict[str, tuple] = {"first": (binary_accuracy(l1, truth), level_share(l1, truth))}
for band in BANDS:
    inside = band.contains(s1)
    levels = [b if k else a for a, b, k in zip(l1, l2, inside, strict=True)]
    line[str((band.low, band.high))] = (
        binary_accuracy(levels, truth),
        level_share(levels, truth),
        round(float(inside.mean()), 3),
    )
print("own held-out", len(truth), json.dumps(line), flush=True)

# Leave one model out: both heads refitted without the model (Llama-2 sources together).
for model in (
    "GPT4",
    "ChatGPT",
    "Claude",
    "llama2-7b-chat",
    "llama-2-7b-chat-hf",
    "gemma-2b-it",
    "qwen-1_8b-chat",
):
    keep = np.array(
        [
            (not p or (family(e.model) != family(model) and e.source != "refusal_voices"))
            for e, p in zip(rows.examples, is_public, strict=True)
        ]
    )
    source = (
        "refusal_voices"
        if model in ("llama-2-7b-chat-hf", "gemma-2b-it", "qwen-1_8b-chat")
        else "do_not_answer"
    )
    held = np.array([e.model == model and e.source == source for e in rows.examples])
    report(f"LOMO {model}", held, fit(keep, rows.level_x), fit(keep, combined_x))
