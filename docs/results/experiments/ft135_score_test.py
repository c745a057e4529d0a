"""#21 experiment: SmolLM2-135M (first 12 layers) LoRA-tuned with a classification head, as a
second-stage input classifier. Data as /tmp/probe_feats.py (public + synth input rows)."""

import json
import random
import sys
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from refusalkit.classifiers.constitutional import ConstitutionalClassifiers
from refusalkit.config import load_settings
from refusalkit.datasets.eval_sets import xstest_prompts
from refusalkit.datasets.public import input_rows
from refusalkit.models import embedded_hf_path

torch.set_num_threads(2)
torch.manual_seed(0)
MAXLEN = int(sys.argv[1]) if len(sys.argv) > 1 else 96
LIMIT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
rng = random.Random(0)
rows = input_rows()


def synth(split):
    return [json.loads(l) for l in open(f"/work/main/data/synth-general/{split}.jsonl")]


data = {}
for split in ("train", "val", "test"):
    pub = [r for r in rows if r["split"] == split]
    if split == "never":  # every row of each split is scored
        everyday = [r for r in pub if r["source"] == "benign"]
        rng.shuffle(everyday)
        pub = [r for r in pub if r["source"] != "benign"] + everyday[:2000]
    syn = [r for r in synth(split) if r["stage"] == "input"]
    items = [(r["text"], int(r["label"] == "harmful"), r["source"]) for r in pub]
    items += [
        (r["prompt"], int(r["label"] == "harmful"), "synth:" + r["transform_family"]) for r in syn
    ]
    data[split] = items
xs = xstest_prompts(Path("/work/shared/data"))
data["xstest"] = [(p.prompt, int(not p.safe), "xstest:" + p.type) for p in xs]
path = embedded_hf_path(load_settings().cache_dir)
tok = AutoTokenizer.from_pretrained(path)
tok.padding_side = "right"
if tok.pad_token is None:
    tok.pad_token = tok.eos_token
lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
base = lm.model
base.layers = base.layers[:12]
base.config.num_hidden_layers = 12


class Clf(torch.nn.Module):
    def __init__(self, base):
        super().__init__()
        self.base = base
        self.head = torch.nn.Linear(576, 1)

    def forward(self, ids, mask):
        h = self.base(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return self.head((h * m).sum(1) / m.sum(1)).squeeze(-1)


cfg = LoraConfig(
    r=16,
    lora_alpha=32,
    lora_dropout=0.05,
    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
)
base = get_peft_model(base, cfg)
model = Clf(base)


def encode(texts):
    chat = [
        tok.apply_chat_template(
            [{"role": "user", "content": t}], add_generation_prompt=True, tokenize=False
        )
        for t in texts
    ]
    return [
        tok(c, add_special_tokens=False, truncation=True, max_length=MAXLEN)["input_ids"]
        for c in chat
    ]


def batches(enc, bs, shuffle):
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


sd = torch.load("/tmp/ft/adapter_96_0.pt")
missing = model.load_state_dict(sd, strict=False)
model.eval()


def score(items):
    e = encode([t for t, _, _ in items])
    out = np.zeros(len(items), np.float32)
    with torch.no_grad():
        for idx, ids, mask in batches(e, 32, False):
            out[idx] = torch.sigmoid(model(ids, mask)).numpy()
    return out


items = data["test"]
c = ConstitutionalClassifiers.load()
v = [c.check_input(t) for t, _, _ in items]
np.savez(
    "/tmp/ft/scores_test.npz",
    p=score(items),
    y=np.array([l for _, l, _ in items]),
    src=np.array([s for _, _, s in items]),
    band=np.array([x.second_stage for x in v]),
    flag=np.array([x.flagged for x in v]),
)
print("done")
