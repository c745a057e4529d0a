"""#22 experiment: does a larger encoder read refusals in unseen voices better? all-mpnet-base-v2
with LoRA r=16 and a 3-way level head (compliance / partial / full refusal) on the response's
first 128 tokens, trained on the audit's composed train split plus the public answers' train
split (1 epoch, seed 0, at most 8,000 composed rows). Scores the public val split (the rule),
then, read once, XSTest's 2,250 completions. Run: `mpnet_audit.py MODEL_DIR`."""

import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from ft135_second_stage import batches, rng
from mpnet_second_stage import LORA_MODULES, Clf, encode
from peft import LoraConfig, get_peft_model
from transformers import AutoModel, AutoTokenizer

from refusalkit.audit import (
    AuditTrainOptions,
    RefusalClassifier,
    composed_examples,
    public_examples,
)
from refusalkit.datasets import answer_rows, xstest_completions

LEVELS = ["compliance", "partial_refusal", "full_refusal"]
MAXLEN, BATCH = 128, 16


def predict(tok, model, texts):
    out = np.zeros(len(texts), dtype=int)
    with torch.no_grad():
        for idx, ids, mask in batches(tok, encode(tok, texts, MAXLEN), 32, False):
            out[idx] = model(ids, mask).argmax(-1).numpy()
    return [LEVELS[k] for k in out]


def report(name, predicted, truth):
    binary = np.mean(
        [(p != "compliance") == (t != "compliance") for p, t in zip(predicted, truth, strict=True)]
    )
    level = np.mean([p == t for p, t in zip(predicted, truth, strict=True)])
    print(f"{name}: n {len(truth)} binary {binary:.4f} three-level {level:.4f}", flush=True)


def main(model_dir):
    composed, _ = composed_examples(AuditTrainOptions(out=Path("/tmp/unused"), progress=False))
    composed = rng.sample(composed, min(8000, len(composed)))
    public = public_examples(answer_rows())
    train = composed + public["train"]
    texts = [e.response for e in train]
    y = torch.tensor([LEVELS.index(e.level) for e in train])
    tok = AutoTokenizer.from_pretrained(model_dir)
    base = get_peft_model(
        AutoModel.from_pretrained(model_dir),
        LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=LORA_MODULES),
    )
    model = Clf(base, len(LEVELS))
    counts = torch.bincount(y, minlength=len(LEVELS)).float()
    lossf = torch.nn.CrossEntropyLoss(weight=counts.sum() / (len(LEVELS) * counts))
    opt = torch.optim.AdamW(
        [
            {"params": [p for p in base.parameters() if p.requires_grad], "lr": 5e-4},
            {"params": model.head.parameters(), "lr": 1e-3},
        ]
    )
    steps = math.ceil(len(texts) / BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[5e-4, 1e-3], total_steps=steps, pct_start=0.1
    )
    model.train()
    started = time.time()
    for step, (idx, ids, mask) in enumerate(batches(tok, encode(tok, texts, MAXLEN), BATCH, True)):
        loss = lossf(model(ids, mask), y[idx])
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % 50 == 0:
            print(
                f"step {step}/{steps} loss {loss.item():.3f} {time.time() - started:.0f}s",
                flush=True,
            )
    print(f"trained {len(texts)} rows in {time.time() - started:.0f}s", flush=True)
    model.eval()
    val = public["val"]
    report("public val", predict(tok, model, [e.response for e in val]), [e.level for e in val])
    shipped = RefusalClassifier().classify([e.prompt for e in val], [e.response for e in val])
    report("shipped audit, public val", [r.refusal_level for r in shipped], [e.level for e in val])
    torch.save(
        {k: v for k, v in model.state_dict().items() if "lora" in k or k.startswith("head")},
        "/tmp/ft/mpnet_audit.pt",
    )
    if len(sys.argv) > 2 and sys.argv[2] == "xstest":
        rows = xstest_completions(Path(__file__).resolve().parents[2] / "shared" / "data")
        rows = [r for r in rows if r.completion.strip()]
        truth = ["compliance" if r.label == "full_compliance" else r.label for r in rows]
        report("xstest", predict(tok, model, [r.completion for r in rows]), truth)


if __name__ == "__main__":
    torch.set_num_threads(2)
    torch.manual_seed(0)
    main(sys.argv[1])
