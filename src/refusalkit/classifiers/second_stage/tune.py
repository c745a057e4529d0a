"""Tuning the second stage: LoRA on all-mpnet-base-v2 with a linear head, binary harmful/harmless.

peft adds the adapters; the loop is hand-written because the model is a pooled encoder with a
one-logit head, which transformers' Trainer has no class for. Measured before it shipped
(docs/classifiers.md): in the first stage's band it lifts validation recall 0.767 → 0.925.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from refusalkit.classifiers.second_stage.reader import HEAD_FILE, MAX_TOKENS
from refusalkit.weights import SECOND_ENCODER_NAME, normalise_adapter_config, second_encoder_path

# every attention and feed-forward projection of MPNet's layers
LORA_MODULES = ["q", "k", "v", "o", "intermediate.dense", "output.dense"]


@dataclass
class SecondStageTuneOptions:
    rank: int = 16
    epochs: int = 1
    batch_size: int = 16
    encoder_lr: float = 5e-4
    head_lr: float = 1e-3
    seed: int = 0
    progress: bool = True


def _batches(
    encoded: Sequence[list[int]], size: int, rng: random.Random, pad_id: int
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """Batches of similar length (less padding), in a seeded random order."""
    order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i]), rng.random()))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(groups)
    for group in groups:
        width = max(len(encoded[i]) for i in group)
        ids = np.full((len(group), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(group), width), dtype=np.int64)
        for row, index in enumerate(group):
            ids[row, : len(encoded[index])] = encoded[index]
            mask[row, : len(encoded[index])] = 1
        yield group, ids, mask


def tune_second_stage(
    texts: Sequence[str],
    harmful: Sequence[bool],
    out: Path,
    cache_dir: Path,
    options: SecondStageTuneOptions,
) -> Path:
    """Train the adapter and head; write them to `out` (adapter files + HEAD_FILE)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from tqdm.auto import tqdm
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(options.seed)
    rng = random.Random(options.seed)
    base_path = second_encoder_path(cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(base_path, local_files_only=True)
    config = LoraConfig(
        r=options.rank,
        lora_alpha=2 * options.rank,
        lora_dropout=0.05,
        target_modules=LORA_MODULES,
    )
    encoder = get_peft_model(AutoModel.from_pretrained(base_path, local_files_only=True), config)
    head = torch.nn.Linear(encoder.config.hidden_size, 1)

    def logits(ids: np.ndarray, mask: np.ndarray) -> torch.Tensor:
        attention = torch.from_numpy(mask)
        hidden = encoder(input_ids=torch.from_numpy(ids), attention_mask=attention)[0]
        weights = attention.unsqueeze(-1).float()
        return head((hidden * weights).sum(1) / weights.sum(1)).squeeze(-1)

    encoded = [
        tokenizer(t, truncation=True, max_length=MAX_TOKENS, verbose=False)["input_ids"]
        for t in texts
    ]
    labels = torch.tensor([float(h) for h in harmful])
    positives = float(labels.sum())
    if positives == 0 or positives == len(labels):
        raise ValueError("the second stage needs both harmful and harmless rows to train")
    groups: list[dict[str, Any]] = [
        {"params": [p for p in encoder.parameters() if p.requires_grad]},
        {"params": list(head.parameters())},
    ]
    optimizer = torch.optim.AdamW(groups, weight_decay=0.01)
    steps = options.epochs * math.ceil(len(encoded) / options.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=[options.encoder_lr, options.head_lr],
        total_steps=steps,
        pct_start=0.1,
    )
    loss_fn = torch.nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor((len(labels) - positives) / positives)
    )
    encoder.train()
    with tqdm(total=steps, desc="second stage", disable=not options.progress) as bar:
        for _ in range(options.epochs):
            for group, ids, mask in _batches(
                encoded, options.batch_size, rng, tokenizer.pad_token_id
            ):
                loss = loss_fn(logits(ids, mask), labels[group])
                loss.backward()
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.set_postfix(loss=f"{loss.item():.3f}")
                bar.update()
    out.mkdir(parents=True, exist_ok=True)
    encoder.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # peft's model-card template, nothing measured
    normalise_adapter_config(out, SECOND_ENCODER_NAME)
    np.savez(
        out / HEAD_FILE,
        weight=head.weight.detach().numpy().reshape(-1).astype(np.float32),
        bias=head.bias.detach().numpy().astype(np.float32),
    )
    return out
