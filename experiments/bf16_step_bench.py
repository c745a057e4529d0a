import statistics
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from refusalkit.config import load_settings
from refusalkit.weights import embedded_hf_path

torch.set_num_threads(2)
torch.manual_seed(0)
base = AutoModelForCausalLM.from_pretrained(
    embedded_hf_path(load_settings().cache_dir), dtype=torch.float32
)
m = get_peft_model(
    base,
    LoraConfig(
        r=32,
        lora_alpha=64,
        target_modules=[
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ],
    ),
)
ids = torch.randint(100, 40000, (16, 100))
opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-4)


def step(bf16):
    t = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = m(input_ids=ids, labels=ids).loss
    loss.backward()
    opt.step()
    opt.zero_grad()
    return time.perf_counter() - t


step(False)
step(True)
res: dict[bool, list[float]] = {False: [], True: []}
for _ in range(5):
    for b in (False, True):
        res[b].append(step(b))
fp32, bf16 = statistics.median(res[False]), statistics.median(res[True])
print(f"fp32 median {fp32:.2f} s, bf16 autocast median {bf16:.2f} s, ratio {bf16 / fp32:.2f}")
