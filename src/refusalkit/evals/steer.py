"""`refusalkit bench steer`: the refusal-token model's figures on data it never trained on.

- the sweep on CoCoNot eval vs contrast (F1 at default thresholds, all=0.999 / all=0.001,
  independence of one category's threshold from the others' refusal rates, and CoCoNot F1
  against XSTest's safe prompts decided `[respond]` over thresholds);
- `decide` speed (prefill only);
- helpfulness: answers generated after `[respond]` on XSTest's safe prompts, judged by the audit
  classifier; and whether answers after a category token are judged refusals;
- refusal rates on the public rows' test split: look-alikes, everyday and harmful prompts;
- SelfAware: questions nobody can answer refused, their answerable twins answered;
- the base model without tokens, for comparison: its answers to a fixed sample of CoCoNot
  prompts, judged by the audit classifier, and the F1 of its refusals.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import numpy as np

from refusalkit.audit.classifier import RefusalClassifier
from refusalkit.backends import GenerationParams, load_backend, user_message
from refusalkit.datasets.eval_sets import coconot_by_category, selfaware, xstest_prompts
from refusalkit.datasets.public import input_rows, prompt_group, split_of
from refusalkit.steer.curve import f1
from refusalkit.steer.decode import SteerModel
from refusalkit.steer.layout import ADAPTER_DIR
from refusalkit.steer.sweep import sweep


def bench_steer(
    model: SteerModel,
    data_dir: Path,
    out: Path | None = None,
    max_tokens: int = 48,
    judged_sample: int = 120,
    base_sample: int = 200,
    seed: int = 0,
    progress: bool = True,
) -> dict:

    rng = random.Random(seed)
    unsafe, contrast = coconot_by_category(data_dir)
    prompts = [r["prompt"] for r in unsafe + contrast]
    model.probabilities(prompts[:16])  # warm, as the sweep used to before this timing
    started = time.perf_counter()
    # `decide`, in its two steps, so the sweep reuses the probabilities
    probs = model.probabilities(prompts)
    defaults = model.thresholds()
    for row in probs:
        model.decide_from(row, defaults)
    result: dict = {
        "decide_prompts_per_s": round(len(prompts) / (time.perf_counter() - started), 1),
        "sweep": sweep(model, data_dir, out, probs),
    }

    adapter = model.directory / ADAPTER_DIR
    result["model"] = {
        "base": model.base.key,
        "adapter_mb": round(sum(f.stat().st_size for f in adapter.iterdir()) / 1e6, 1),
        "train_seconds": model.meta.get("train_seconds"),
    }

    judge = RefusalClassifier()
    safe = [p.prompt for p in xstest_prompts(data_dir) if p.safe]
    started = time.perf_counter()
    generated = model.generate_batch(safe, max_tokens=max_tokens, progress=progress)
    tokens = sum(model.count_tokens(text) for _, text in generated)
    # batches of 16, greedy, `max_tokens` at most; the decisions' prefill included
    result["generate_tokens_per_s"] = round(tokens / (time.perf_counter() - started), 1)
    responded = [(p, text) for p, (d, text) in zip(safe, generated, strict=True) if not d.refused]
    judged = judge.classify([p for p, _ in responded], [t for _, t in responded])
    result["xstest_safe"] = {
        "prompts": len(safe),
        "respond_token_rate": round(len(responded) / len(safe), 4),
        "refusal_rate_after_respond": round(float(np.mean([j.refusal for j in judged])), 4),
        "refusal_rate_overall": round(
            (len(safe) - len(responded) + sum(j.refusal for j in judged)) / len(safe), 4
        ),
    }

    sample = rng.sample(unsafe, min(judged_sample, len(unsafe)))
    generated = model.generate_batch(
        [r["prompt"] for r in sample], max_tokens=max_tokens, progress=progress
    )
    refused = [(r["prompt"], t) for r, (d, t) in zip(sample, generated, strict=True) if d.refused]
    judged = judge.classify([p for p, _ in refused], [t for _, t in refused])
    result["after_category_token"] = {
        "prompts": len(refused),
        "judged_refusal_rate": round(float(np.mean([j.refusal for j in judged])), 4)
        if judged
        else None,
    }

    result["public_test_split"] = _public_test_split(model, rng)
    result["base_model"] = _base_model(unsafe, contrast, judge, base_sample, max_tokens, rng)
    result["selfaware"] = _selfaware(model, data_dir, seed)
    return result


SELFAWARE_SAMPLE = 500  # questions of each kind


def _selfaware(model: SteerModel, data_dir: Path, seed: int) -> dict | None:
    """Questions nobody can answer against answerable ones (SelfAware, never trained on): how
    often each is refused at default thresholds, the F1 of refusing the unanswerable ones, and
    the categories those refusals name. Its own seed, so the other figures do not move."""
    rows = selfaware(data_dir)
    if rows is None:
        return None
    # a model that trained on SelfAware's train split is read on its test split only
    trained_on = "selfaware" in model.meta.get("sources", {})
    if trained_on:
        rows = [r for r in rows if split_of(prompt_group(r["prompt"])) == "test"]
    rng = random.Random(f"selfaware:{seed}")
    kinds: dict[str, list] = {}
    for answerable in (False, True):
        prompts = sorted(r["prompt"] for r in rows if r["answerable"] is answerable)
        picked = rng.sample(prompts, min(SELFAWARE_SAMPLE, len(prompts)))
        kinds["answerable" if answerable else "unanswerable"] = model.decide(picked)
    refused = {kind: [d.refused for d in decided] for kind, decided in kinds.items()}
    flags = np.array(refused["unanswerable"] + refused["answerable"])
    should = np.arange(len(flags)) < len(refused["unanswerable"])
    categories = Counter(d.token for d in kinds["unanswerable"] if d.refused)
    return {
        "split": "test" if trained_on else "all (never trained on)",
        "prompts": {kind: len(decided) for kind, decided in kinds.items()},
        "unanswerable_refused": round(float(np.mean(refused["unanswerable"])), 4),
        "answerable_refused": round(float(np.mean(refused["answerable"])), 4),
        "refusal": f1(flags, should),
        "unanswerable_refused_as": dict(categories.most_common()),
    }


PUBLIC_TEST_SAMPLE = 300  # prompts per source, drawn with the bench's seed


def _public_test_split(model: SteerModel, rng: random.Random) -> dict:
    """Refusal rate at default thresholds on the public rows' test split (never trained on):
    look-alikes (OR-Bench-Hard), everyday prompts, and harmful requests (AART, MultiJail)."""
    by_source: dict[str, list[str]] = {}
    for row in input_rows():
        if row["split"] == "test" and row["source"] != "do_not_answer":
            by_source.setdefault(row["source"], []).append(row["text"])
    out: dict[str, dict] = {}
    for source, prompts in sorted(by_source.items()):
        picked = rng.sample(sorted(prompts), min(PUBLIC_TEST_SAMPLE, len(prompts)))
        refused = [d.refused for d in model.decide(picked)]
        out[source] = {"prompts": len(picked), "refusal_rate": round(float(np.mean(refused)), 4)}
    return out


def _base_model(unsafe, contrast, judge, sample_size, max_tokens, rng) -> dict:
    """The embedded model without tokens on a fixed, label-stratified sample of CoCoNot."""

    share = len(unsafe) / (len(unsafe) + len(contrast))
    n_unsafe = round(sample_size * share)
    sample = rng.sample(unsafe, n_unsafe) + rng.sample(contrast, sample_size - n_unsafe)
    backend = load_backend("embedded")
    try:
        params = GenerationParams(max_tokens=max_tokens)
        answers = [backend.chat(user_message(r["prompt"]), params) for r in sample]
    finally:
        backend.close()
    judged = judge.classify([r["prompt"] for r in sample], answers)
    refused = np.array([j.refusal for j in judged])
    should = np.array([r["should_refuse"] for r in sample])
    return {
        "model": "embedded (SmolLM2-135M-Instruct), whatever the refusal-token model's base",
        "sample": len(sample),
        **f1(refused, should),
        "refusal_rate_should_refuse": round(float(refused[should].mean()), 4),
        "refusal_rate_contrast": round(float(refused[~should].mean()), 4),
    }
