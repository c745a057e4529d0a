"""#22 experiment (stop 35): a level head that also reads the prompt. Shipped encoder, heads
refitted as `train_audit` fits them; judged without XSTest: leave-one-model-out on Do-Not-Answer,
the public validation answers (heads fitted on composed train + public train only) and the
project's own held-out composed split. Variants: `base` (the shipped features), `P1` (+ the
prompt's vector), `P2` (+ prompt vector * opening vector). `cv`: base against P1 by 5-fold
cross-validation over the public train + validation answers (folds by the answer's group).
Run: `audit_prompt_level.py [cv]`."""

import hashlib
import sys
from pathlib import Path

import numpy as np

from refusalkit.audit import (
    DNA_MODELS,
    AuditTrainOptions,
    HeadRows,
    RefusalClassifier,
    binary_accuracy,
    composed_examples,
    features,
    fit_level_head,
    head_rows,
    level_features,
    public_examples,
    refusal_levels,
)
from refusalkit.datasets import answer_rows

SEED = 0
classifier = RefusalClassifier()
encoder = classifier.encoder
train, test = composed_examples(AuditTrainOptions(out=Path("/tmp/unused")))
public = public_examples(answer_rows())
rows = head_rows(encoder, train, public["train"] + public["val"], SEED)
is_val = np.array([False] * (2 * len(train) + len(public["train"])) + [True] * len(public["val"]))
dim = encoder.dim if hasattr(encoder, "dim") else 384
response_x = rows.category_x[:, : 2 * dim]
prompt_x = rows.category_x[:, 2 * dim :]
opening = response_x[:, :dim]

test_response_x, test_prompt_x = features(
    encoder, [e.prompt for e in test], [e.response for e in test]
)
test_level_x = level_features(test_response_x, [e.response for e in test], markers=True)


def variant(name: str, level_x, prompts, openings):
    if name == "base":
        return level_x
    if name == "P1":
        return np.hstack([level_x, prompts])
    return np.hstack([level_x, prompts * openings])


def with_x(x: np.ndarray, keep: np.ndarray) -> HeadRows:
    index = np.flatnonzero(keep)
    return HeadRows([rows.examples[i] for i in index], x[index], rows.category_x[index])


def score(head, x: np.ndarray, truth: list[str]) -> float | None:
    _, levels = refusal_levels(head.probabilities(x), head.classes, classifier.threshold)
    return binary_accuracy(levels, truth)


def cross_validated() -> None:
    public_rows = np.array([bool(e.model) or e.source == "gptfuzz" for e in rows.examples])
    public_rows &= np.arange(len(rows.examples)) >= 2 * len(train)
    fold = np.array(
        [int(hashlib.sha256(e.group.encode()).hexdigest()[:8], 16) % 5 for e in rows.examples]
    )
    for name in ("base", "P1"):
        x = variant(name, rows.level_x, prompt_x, opening)
        predicted: dict[int, str] = {}
        for k in range(5):
            held = public_rows & (fold == k)
            head = fit_level_head(with_x(x, ~held), SEED)
            _, levels = refusal_levels(head.probabilities(x[held]), head.classes, 0.5)
            predicted.update(zip(np.flatnonzero(held).tolist(), levels, strict=True))
        index = sorted(predicted)
        truth = [rows.examples[i].level for i in index]
        guess = [predicted[i] for i in index]
        level = sum(g == t for g, t in zip(guess, truth, strict=True)) / len(truth)
        print(
            f"{name}: 5-fold public answers {len(truth)}: binary {binary_accuracy(guess, truth)}"
            f" three-level {level:.4f}",
            flush=True,
        )


if sys.argv[1:] == ["cv"]:
    cross_validated()
    sys.exit()
every = np.ones(len(rows.examples), bool)
for name in ("base", "P1", "P2"):
    x = variant(name, rows.level_x, prompt_x, opening)
    lomo = {}
    for model in DNA_MODELS:
        held = np.array([e.source == "do_not_answer" and e.model == model for e in rows.examples])
        head = fit_level_head(with_x(x, np.array([e.model != model for e in rows.examples])), SEED)
        lomo[model] = score(head, x[held], [rows.examples[i].level for i in np.flatnonzero(held)])
    head = fit_level_head(with_x(x, ~is_val), SEED)
    public_val = score(head, x[is_val], [rows.examples[i].level for i in np.flatnonzero(is_val)])
    full = fit_level_head(with_x(x, every), SEED)
    own = score(
        full,
        variant(name, test_level_x, test_prompt_x, test_response_x[:, :dim]),
        [e.level for e in test],
    )
    mean = round(float(np.mean(list(lomo.values()))), 4)
    print(
        f"{name}: LOMO {lomo} mean {mean}; public val {public_val}; own held-out {own}", flush=True
    )
