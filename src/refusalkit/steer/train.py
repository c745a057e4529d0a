"""`refusalkit steer train`: LoRA plus the new token embeddings on an embedded base model
(SmolLM2-135M-Instruct by default, or Gemma 3 270M), on CPU.

Each example is the chat prompt, then one decision token ([respond] or a category's refusal
token), then the first tokens of its answer. The loss is the decision token's cross-entropy plus
half the answer's, so the model learns to decide first and to answer in the right voice after.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from refusalkit.config import load_settings
from refusalkit.steer.bases import (
    DEFAULT_BASE,
    base_hf_path,
    base_licence_files,
    generator_base,
)
from refusalkit.steer.checkpoint import (
    Progress,
    drop_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from refusalkit.steer.data import RESPOND, STEER_CATEGORIES, SteerExample, data_digest
from refusalkit.steer.decode import SteerModel
from refusalkit.steer.layout import ADAPTER_DIR, TOKENIZER_DIR, chat_prefix
from refusalkit.steer.tokens import (
    REFUSE_TOKEN,
    RESPOND_TOKEN,
    category_token,
    choice_tokens,
    decision_tokens,
)
from refusalkit.taxonomy import BY_ID
from refusalkit.weights import normalise_adapter_config

# attention and MLP: on a GPU, rank 64 here beat attention-only LoRA at every epoch count tried
LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# 0.02 / 14 decision tokens ≈ 0.0014 each in the target: just above all=0.001, so the lowest
# threshold of the steering range still reaches nearly every prompt (docs/steer.md)
DECISION_SMOOTHING = 0.02
# New rows start at the embedding of a word that already means the same thing.
INIT_WORDS = {"respond": "Sure", "refuse": "Sorry"}
CANNOT_WEIGHT = 1.0  # 2.0 tried 2026-12-07: did not pass the shipping rule (docs/results/steer.md)
CATEGORY_MARGIN = 0.0  # off; 2.0 (gold ≥ e^2 ≈ 7x the next category) tried 2026-12-07, not shipped
MARGIN_LOSS_WEIGHT = 0.5


@dataclass
class SteerTrainOptions:
    out: Path
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 3e-4
    rank: int = 32
    target_modules: tuple[str, ...] = LORA_MODULES
    max_prompt_tokens: int = 128
    max_answer_tokens: int = 40
    val_share: float = 0.1
    # share of the decision target spread over every decision token: keeps each token's
    # probability above ~smoothing/K, so thresholds near 0 still reach every prompt
    decision_smoothing: float = DECISION_SMOOTHING
    seed: int = 0
    single_token: bool = False  # one [refuse] for every category (the paper's simpler variant)
    threads: int | None = None
    device: str = "cpu"  # e.g. "cuda": the same recipe on a GPU (other kernels, other numbers)
    # bf16 autocast of the forward pass: 2.2x faster per step on a CPU with avx512_bf16
    # (docs/steer.md); weights and optimizer stay float32, the numbers differ from a float32 run
    bf16: bool = False
    progress: bool = True
    base: str = DEFAULT_BASE  # a key of steer.bases.GENERATOR_BASES
    checkpoint_every: int = 25  # batches between checkpoints (OUT/checkpoint); 0: none
    # decision-loss weight of rows whose token is a "cannot" category: their public rows are
    # few beside the everyday prompts, and CoCoNot's cannot requests were mostly answered (#39)
    cannot_weight: float = CANNOT_WEIGHT
    # hinge on the gold category token's logit over the next category's: one category's
    # threshold should not move another's refusals (independence, #39); 0 turns it off
    category_margin: float = CATEGORY_MARGIN


def target_token(example: SteerExample, single_token: bool) -> str:
    if example.token == RESPOND:
        return RESPOND_TOKEN
    return REFUSE_TOKEN if single_token else category_token(example.token)


def _encode(tokenizer, example: SteerExample, options: SteerTrainOptions) -> tuple[list[int], int]:
    """Token ids and the index of the decision token (its label position)."""
    prefix = chat_prefix(tokenizer, example.prompt)
    if len(prefix) > options.max_prompt_tokens:  # keep the template's head and the prompt's end
        prefix = prefix[:8] + prefix[-(options.max_prompt_tokens - 8) :]
    decision = tokenizer.convert_tokens_to_ids(target_token(example, options.single_token))
    if not example.answer:  # a decision-only row: nothing after the token is learned
        return [*prefix, decision], len(prefix)
    answer = tokenizer(example.answer, add_special_tokens=False)["input_ids"]
    answer = answer[: options.max_answer_tokens]
    end = tokenizer.convert_tokens_to_ids(generator_base(options.base).turn_end)
    return [*prefix, decision, *answer, end], len(prefix)


def _is_cannot(token: str) -> bool:
    return token in BY_ID and BY_ID[token].group == "cannot"


def _batches(encoded: list, batch_size: int, rng: random.Random) -> list[list]:
    """Similar lengths together (less padding), batches in random order."""
    order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i][0]), rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(encoded: list, indices: list[int], pad_id: int):
    import torch

    width = max(len(encoded[i][0]) for i in indices)
    ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    decision_at = torch.zeros(len(indices), dtype=torch.long)
    for row, i in enumerate(indices):
        tokens, position = encoded[i]
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
        decision_at[row] = position
    return ids, mask, decision_at


def decision_cross_entropy(logits, targets, choice_ids, smoothing: float, weights=None):
    """Cross-entropy of the decision token, its target smoothed over the decision tokens only
    (torch's `label_smoothing` would spread it over the whole vocabulary); `weights` per row
    give a weighted mean."""
    import torch.nn.functional as F

    log_p = F.log_softmax(logits, dim=-1)
    per_row = -log_p.gather(1, targets[:, None]).squeeze(1)
    if smoothing:
        per_row = (1 - smoothing) * per_row + smoothing * -log_p[:, choice_ids].mean(dim=1)
    if weights is None:
        return per_row.mean()
    return (weights * per_row).sum() / weights.sum()


def category_margin_loss(logits, targets, category_ids, margin: float):
    """Mean hinge max(0, margin − (gold − best other category)) over the rows whose target is
    a category token; rows deciding [respond] add nothing. Hand-written: no library loss
    compares one class's logit with a chosen subset of the others."""
    import torch

    columns = logits[:, category_ids]
    gold = targets[:, None] == category_ids[None, :]
    rows = gold.any(dim=1)
    if not bool(rows.any()) or len(category_ids) < 2:
        return logits.new_zeros(())
    gold_logit = columns[rows][gold[rows]]
    others = columns[rows].masked_fill(gold[rows], float("-inf")).max(dim=1).values
    return torch.relu(margin - (gold_logit - others)).mean()


def _loss(
    model,
    ids,
    mask,
    decision_at,
    choice_ids=None,
    smoothing: float = 0.0,
    weights=None,
    margin: float = 0.0,
):
    """(loss, decision loss). The category margin reads the choices after [respond]."""
    import torch
    import torch.nn.functional as F

    # The output layer runs only from the first position a loss reads: over whole prompts,
    # Gemma's 262k-row output layer would cost more than the rest of the model.
    first = int(decision_at.min()) - 1
    logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=ids.shape[1] - first).logits
    rows = torch.arange(ids.shape[0], device=ids.device)
    # logits[:, j] is position first + j; the logits one position before a token predict it
    decision_logits = logits[rows, decision_at - 1 - first]
    decision_loss = decision_cross_entropy(
        decision_logits, ids[rows, decision_at], choice_ids, smoothing, weights
    )
    if margin and choice_ids is not None:
        decision_loss = decision_loss + MARGIN_LOSS_WEIGHT * category_margin_loss(
            decision_logits, ids[rows, decision_at], choice_ids[1:], margin
        )
    predicted = logits[:, :-1]
    targets = ids[:, first + 1 :].clone()
    answer_mask = mask[:, first + 1 :].clone()
    positions = first + torch.arange(targets.shape[1], device=ids.device)[None, :]
    answer_mask[positions < decision_at[:, None]] = 0  # the answer: after the decision token
    targets[answer_mask == 0] = -100
    if not bool(answer_mask.any()):  # a batch of decision-only rows
        return decision_loss, decision_loss
    answer_loss = F.cross_entropy(
        predicted.reshape(-1, predicted.shape[-1]), targets.reshape(-1), ignore_index=-100
    )
    return decision_loss + 0.5 * answer_loss, decision_loss


def split_examples(
    examples: list[SteerExample], val_share: float, rng: random.Random
) -> tuple[list[SteerExample], list[SteerExample]]:
    """(train, val); `rng` is the training run's, fresh from its seed."""
    shuffled = list(examples)
    rng.shuffle(shuffled)
    n_val = int(len(shuffled) * val_share)
    return shuffled[n_val:], shuffled[:n_val]


def validation_metrics(model, val: list[SteerExample]) -> dict:
    """Decision accuracy on the held-out share of the training data (not a test set)."""
    decisions = model.decide([e.prompt for e in val])
    refuse_true = [e.token != RESPOND for e in val]
    refuse_pred = [d.refused for d in decisions]
    refusals = [(e, d) for e, d in zip(val, decisions, strict=True) if e.token != RESPOND]
    return {
        "val_examples": len(val),
        "refuse_decision_accuracy": round(
            sum(t == p for t, p in zip(refuse_true, refuse_pred, strict=True)) / max(len(val), 1), 4
        ),
        "category_accuracy_on_refusals": round(
            sum(d.token == e.token for e, d in refusals) / max(len(refusals), 1), 4
        ),
    }


THRESHOLD_GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def choose_default_threshold(model, val: list[SteerExample]) -> float:
    """The one threshold for every category that decides refuse/respond best on validation.

    Probability mass of a refusal is often split across neighbouring categories, so the
    best single threshold is well below 0.5; it is chosen here, on the held-out share of the
    training data, never on a test set. Ties go to the higher threshold (fewer refusals).
    """
    probs = model.probabilities([e.prompt for e in val])
    truth = [e.token != RESPOND for e in val]
    best, best_accuracy = THRESHOLD_GRID[-1], -1.0
    for value in THRESHOLD_GRID:
        thresholds = dict.fromkeys(model.threshold_names, value)
        predicted = [model.decide_from(row, thresholds).refused for row in probs]
        accuracy = sum(p == t for p, t in zip(predicted, truth, strict=True)) / max(len(val), 1)
        if accuracy >= best_accuracy:
            best, best_accuracy = value, accuracy
    return best


RUN_SETTINGS_NOT_FINGERPRINTED = ("out", "progress", "threads", "checkpoint_every")


def _settings(options: SteerTrainOptions) -> dict:
    kept = {k: v for k, v in asdict(options).items() if k not in RUN_SETTINGS_NOT_FINGERPRINTED}
    return json.loads(json.dumps(kept, default=str))


def _fingerprint(examples: list[SteerExample], options: SteerTrainOptions) -> dict:
    """What must match for a checkpoint to resume this run."""
    return {"data_digest": data_digest(examples), **_settings(options)}


def train_steer(examples: list[SteerExample], options: SteerTrainOptions) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    torch.manual_seed(options.seed)
    if options.threads:
        torch.set_num_threads(options.threads)
    rng = random.Random(options.seed)
    chosen = generator_base(options.base)
    base = base_hf_path(load_settings().cache_dir, chosen.key)
    # transformers and peft objects are typed loosely: their stubs disagree with how they are used
    tokenizer: Any = AutoTokenizer.from_pretrained(base)
    new_tokens = decision_tokens(STEER_CATEGORIES)
    tokenizer.add_special_tokens({"additional_special_tokens": new_tokens})
    model: Any = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    new_ids = tokenizer.convert_tokens_to_ids(new_tokens)
    choices = choice_tokens(STEER_CATEGORIES, options.single_token)  # what a decision reads
    choice_ids = torch.tensor(tokenizer.convert_tokens_to_ids(choices), device=options.device)
    embeddings = model.get_input_embeddings().weight
    with torch.no_grad():
        for token, token_id in zip(new_tokens, new_ids, strict=True):
            word = INIT_WORDS["respond" if token == RESPOND_TOKEN else "refuse"]
            word_ids = tokenizer(word, add_special_tokens=False)["input_ids"]
            embeddings[token_id] = embeddings[word_ids].mean(0)
    config = LoraConfig(
        r=options.rank,
        lora_alpha=2 * options.rank,
        lora_dropout=0.0,
        target_modules=list(options.target_modules),
        trainable_token_indices={"embed_tokens": new_ids},
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config).to(options.device)

    train, val = split_examples(examples, options.val_share, rng)
    encoded = [_encode(tokenizer, e, options) for e in train]
    row_weights = torch.tensor(
        [options.cannot_weight if _is_cannot(e.token) else 1.0 for e in train],
        device=options.device,
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    steps_per_epoch = math.ceil(len(encoded) / options.batch_size)
    total_steps = steps_per_epoch * options.epochs
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=options.learning_rate
    )
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=options.learning_rate, total_steps=total_steps, pct_start=0.1
    )
    device_type = torch.device(options.device).type
    fingerprint = _fingerprint(examples, options)
    # an option added after a checkpoint was written matches it at its default
    defaults = _settings(SteerTrainOptions(out=options.out))
    at = load_checkpoint(options.out, fingerprint, model, optimizer, scheduler, defaults)
    at = at or Progress()
    model.train()
    bar = tqdm(total=total_steps, desc="steer train", unit="batch", disable=not options.progress)
    bar.update(at.epoch * steps_per_epoch + at.done)
    for epoch in range(at.epoch, options.epochs):
        if epoch == at.epoch and at.epoch_rng is not None:  # resumed part-way through it
            rng.setstate(at.epoch_rng)
        else:
            at = Progress(epoch, 0, rng.getstate(), at.seconds)
        batches = _batches(encoded, options.batch_size, rng)
        for indices in batches[at.done :]:
            ids, mask, decision_at = (
                t.to(options.device) for t in _collate(encoded, indices, pad_id)
            )
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=options.bf16):
                loss, decision_loss = _loss(
                    model,
                    ids,
                    mask,
                    decision_at,
                    choice_ids,
                    options.decision_smoothing,
                    row_weights[indices],
                    0.0 if options.single_token else options.category_margin,
                )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", decision=f"{decision_loss.item():.3f}")
            at.done += 1
            if options.checkpoint_every and at.done % options.checkpoint_every == 0:
                spent = at.seconds + time.perf_counter() - started
                save_checkpoint(
                    options.out,
                    fingerprint,
                    model,
                    optimizer,
                    scheduler,
                    replace(at, seconds=spent),
                )
    bar.close()
    model.eval()
    # float16 halves the adapter on disk (the size budget); loading casts it back to float32
    model.to("cpu", dtype=torch.float16)

    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    # the token rows travel as trainable_tokens_delta; the full embedding is the base model's
    model.save_pretrained(out / ADAPTER_DIR, save_embedding_layers=False)
    (out / ADAPTER_DIR / "README.md").unlink(missing_ok=True)  # peft's generated card
    normalise_adapter_config(out / ADAPTER_DIR, chosen.hf_cache_name)
    tokenizer.save_pretrained(out / TOKENIZER_DIR)
    for name, content in base_licence_files(chosen).items():
        (out / name).write_bytes(content)
    meta = {
        "base": chosen.key,
        "base_model": chosen.name,
        "categories": list(STEER_CATEGORIES),
        "mode": "single" if options.single_token else "categories",
        "tokens": new_tokens,
        "default_threshold": 0.5,
        "seed": options.seed,
        "epochs": options.epochs,
        "rank": options.rank,
        "target_modules": list(options.target_modules),
        "adapter_dtype": "float16",
        "learning_rate": options.learning_rate,
        "decision_smoothing": options.decision_smoothing,
        "cannot_weight": options.cannot_weight,
        "category_margin": options.category_margin,
        "bf16": options.bf16,
        "examples": {
            "train": len(train),
            "val": len(val),
            "data_digest": fingerprint["data_digest"],
        },
        # which sources it learned from: a bench must not read a trained-on source's train split
        "sources": dict(sorted(Counter(e.source for e in train).items())),
        # over every sitting of a resumed run
        "train_seconds": round(at.seconds + time.perf_counter() - started, 1),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    drop_checkpoint(out)
    return {"meta": meta, "val": [e.as_dict() for e in val]}


def finish_training(out: Path, val: list[SteerExample]) -> dict:
    """Pick the default threshold on validation, then record validation metrics beside it."""
    model = SteerModel(out)
    meta_path = out / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["default_threshold"] = choose_default_threshold(model, val)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    model.default_threshold = meta["default_threshold"]
    metrics = {"default_threshold": meta["default_threshold"], **validation_metrics(model, val)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
