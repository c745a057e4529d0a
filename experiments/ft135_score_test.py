"""#21 experiment: the tuned 135M model (`/tmp/ft/adapter_96_0.pt`) and the shipped cascade on
the public test split, read once after the validation rule passed."""

import numpy as np
import torch
from ft135_second_stage import build_model, load_items, score

from refusalkit.classifiers import ConstitutionalClassifiers

torch.set_num_threads(2)
tok, model = build_model()
model.load_state_dict(torch.load("/tmp/ft/adapter_96_0.pt"), strict=False)
model.eval()
items = load_items("test")
shipped = ConstitutionalClassifiers.load()
verdicts = [shipped.check_input(t) for t, _, _ in items]
np.savez(
    "/tmp/ft/scores_test.npz",
    p=score(tok, model, items, 96),
    y=np.array([label for _, label, _ in items]),
    src=np.array([s for _, _, s in items]),
    band=np.array([x.second_stage for x in verdicts]),
    flag=np.array([x.flagged for x in verdicts]),
)
print("done")
