"""#21 experiment: the fine-tuned 12-layer encoder (`/tmp/ft/mpnet_clf.pt`) and the shipped
cascade on the public test split, read once after the validation rule passed, summarised at the
band threshold chosen on validation. Run: `mpnet_score_test.py MODEL_DIR T_BAND [LORA_RANK]`."""

import sys

import numpy as np
import torch
from ft135_second_stage import load_items
from mpnet_second_stage import LORA_MODULES, Clf, score
from peft import LoraConfig, get_peft_model
from transformers import AutoModel, AutoTokenizer

from refusalkit.classifiers import ConstitutionalClassifiers

torch.set_num_threads(2)
model_dir, t_band = sys.argv[1], float(sys.argv[2])
rank = int(sys.argv[3]) if len(sys.argv) > 3 else 0
tok = AutoTokenizer.from_pretrained(model_dir)
base = AutoModel.from_pretrained(model_dir)
if rank:
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05, target_modules=LORA_MODULES)
    base = get_peft_model(base, config)
model = Clf(base)
tag = f"mpnet_lora{rank}" if rank else "mpnet"
model.load_state_dict(torch.load(f"/tmp/ft/{tag}_clf.pt"), strict=not rank)
model.eval()
items = load_items("test")
shipped = ConstitutionalClassifiers.load()
verdicts = [shipped.check_input(t) for t, _, _ in items]
p = score(tok, model, items)
y = np.array([label for _, label, _ in items])
src = np.array([s for _, _, s in items])
band = np.array([x.second_stage for x in verdicts])
flag = np.array([x.flagged for x in verdicts])
cascade = np.where(band, p >= t_band, flag)
public_harmful = np.isin(src, ["aart", "multijail", "do_not_answer"]) & (y == 1)
for name, f in (("shipped", flag), ("cascade mpnet", cascade)):
    by = {
        g: round(float(f[(src == g) & (y == 1)].mean()), 3)
        for g in ("aart", "multijail", "do_not_answer")
    }
    by["or_bench_hard"] = round(float(f[src == "or_bench_hard"].mean()), 3)
    print(
        f"{name}: public harmful recall {f[public_harmful].mean():.3f} "
        f"everyday flagged {f[src == 'benign'].mean():.3f} {by}"
    )
