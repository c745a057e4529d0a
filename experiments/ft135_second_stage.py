"""#21 experiment: SmolLM2-135M (first 12 layers) LoRA-tuned with a classification head, as a
second-stage input classifier. Data as the frozen probe of the same day (public + synth input
rows). Run: `ft135_second_stage.py MAXLEN LIMIT`; the other ft135_* drivers import from here."""

import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from refusalkit.config import load_settings
from refusalkit.datasets import input_rows, xstest_prompts
from refusalkit.weights import embedded_hf_path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
LORA_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
rng = random.Random(0)  # one stream, drawn in the order of the measured run


def load_items(split, everyday_cap=None):
    """(text, 1 if harmful, source) for one split: public input rows, then synthetic ones."""
    pub = [r for r in input_rows() if r["split"] == split]
    if everyday_cap is not None:
        everyday = [r for r in pub if r["source"] == "benign"]
        rng.shuffle(everyday)
        pub = [r for r in pub if r["source"] != "benign"] + everyday[:everyday_cap]
    with (ROOT / "data" / "synth-general" / f"{split}.jsonl").open() as handle:
        syn = [r for r in map(json.loads, handle) if r["stage"] == "input"]
    items = [(r["text"], int(r["label"] == "harmful"), r["source"]) for r in pub]
    items += [
        (r["prompt"], int(r["label"] == "harmful"), "synth:" + r["transform_family"]) for r in syn
    ]
    return items


def xstest_items():
    return [(p.prompt, int(not p.safe), "xstest:" + p.type) for p in xstest_prompts(SHARED)]


class Clf(torch.nn.Module):
    def __init__(self, base):
        super().__init__()
        self.base = base
        self.head = torch.nn.Linear(576, 1)

    def forward(self, ids, mask):
        h = self.base(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return self.head((h * m).sum(1) / m.sum(1)).squeeze(-1)


def build_model():
    """(tokenizer, classifier): the first 12 layers with fresh LoRA adapters and head."""
    path = embedded_hf_path(load_settings().cache_dir)
    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = "right"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    base = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).model
    base.layers = base.layers[:12]
    base.config.num_hidden_layers = 12
    config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=LORA_MODULES)
    return tok, Clf(get_peft_model(base, config))


def encode(tok, texts, maxlen):
    chat = [
        tok.apply_chat_template(
            [{"role": "user", "content": t}], add_generation_prompt=True, tokenize=False
        )
        for t in texts
    ]
    return [
        tok(c, add_special_tokens=False, truncation=True, max_length=maxlen)["input_ids"]
        for c in chat
    ]


def batches(tok, enc, bs, shuffle):
    order = sorted(range(len(enc)), key=lambda i: (len(enc[i]), rng.random()))
    bl = [order[i : i + bs] for i in range(0, len(order), bs)]
    if shuffle:
        rng.shuffle(bl)
    for idx in bl:
        w = max(len(enc[i]) for i in idx)
        ids = torch.full((len(idx), w), tok.pad_token_id)
        mask = torch.zeros((len(idx), w), dtype=torch.long)
        for r, i in enumerate(idx):
            ids[r, : len(enc[i])] = torch.tensor(enc[i])
            mask[r, : len(enc[i])] = 1
        yield idx, ids, mask


def score(tok, model, items, maxlen):
    e = encode(tok, [t for t, _, _ in items], maxlen)
    out = np.zeros(len(items), np.float32)
    with torch.no_grad():
        for idx, ids, mask in batches(tok, e, 32, False):
            out[idx] = torch.sigmoid(model(ids, mask)).numpy()
    return out


def main(maxlen, limit):
    data = {"train": load_items("train", everyday_cap=2000), "val": load_items("val")}
    data["xstest"] = xstest_items()
    tok, model = build_model()
    train = data["train"]
    if limit:
        train = rng.sample(train, limit)
    enc = encode(tok, [t for t, _, _ in train], maxlen)
    y = torch.tensor([label for _, label, _ in train], dtype=torch.float32)
    pos_w = (len(y) - y.sum()) / y.sum()
    adapters = [
        p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head")
    ]
    opt = torch.optim.AdamW(
        [{"params": adapters, "lr": 3e-4}, {"params": model.head.parameters(), "lr": 1e-3}],
        weight_decay=0.0,
    )
    steps = math.ceil(len(enc) / 16)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[3e-4, 1e-3], total_steps=steps, pct_start=0.1
    )
    lossf = torch.nn.BCEWithLogitsLoss(pos_weight=pos_w)
    model.train()
    t0 = time.time()
    for s, (idx, ids, mask) in enumerate(batches(tok, enc, 16, True)):
        loss = lossf(model(ids, mask), y[idx])
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        if s % 50 == 0:
            print(f"step {s}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
    print(f"trained {len(enc)} rows in {time.time() - t0:.0f}s", flush=True)
    model.eval()
    for split in ("val", "xstest"):
        items = data[split]
        np.savez(
            f"/tmp/ft/scores_{split}_{maxlen}_{limit}.npz",
            p=score(tok, model, items, maxlen),
            y=np.array([label for _, label, _ in items]),
            src=np.array([s for _, _, s in items]),
        )
        print("scored", split, flush=True)
    torch.save(
        {k: v for k, v in model.state_dict().items() if "lora" in k or k.startswith("head")},
        f"/tmp/ft/adapter_{maxlen}_{limit}.pt",
    )


if __name__ == "__main__":
    torch.set_num_threads(2)
    torch.manual_seed(0)
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 96, int(sys.argv[2]) if len(sys.argv) > 2 else 0
    )
