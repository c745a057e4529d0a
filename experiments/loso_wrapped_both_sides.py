"""#41 step 4 (2026-12-07): human-written payloads wrapped in the synth's jailbreak families, on
both sides, judged by leave-one-family-out. Everyday prompts (train split) and AART requests
are wrapped in a random usable transform of each family; a wrapped row keeps its payload's
source, so leaving AART out also leaves out its wrapped rows, and the folds judge unwrapped
rows only. Frozen features, tuned encoder and base MiniLM. ~3 min the first time.
Run from the root: `loso_wrapped_both_sides.py [PER_FAMILY_BENIGN]`."""

import json
import random
import sys
from pathlib import Path

import numpy as np

from refusalkit.evals import (
    LosoRow,
    features,
    leave_one_family_out,
    leave_one_source_out,
    loso_rows,
)
from refusalkit.synth.transforms import TransformContext, by_family

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BENIGN = int(sys.argv[1]) if len(sys.argv) > 1 else 200
HARMFUL = BENIGN // 2

rows = loso_rows(SHARED)
rng = random.Random(0)
everyday = sorted(r.text for r in rows if r.source == "benign" and r.split == "train")
aart = sorted(r.text for r in rows if r.source == "aart")
wrapped: list[LosoRow] = []
for family, transforms in sorted(by_family().items()):
    context = TransformContext(rng=rng)
    usable = [t for t in transforms if t.usable(context)]
    if not usable:
        continue
    for payloads, harmful, source, n in (
        (everyday, False, "benign", BENIGN),
        (aart, True, "aart", HARMFUL),
    ):
        for payload in rng.sample(payloads, n):
            text = rng.choice(usable).apply(payload, context)
            if text and text != payload:
                wrapped.append(LosoRow(text, harmful, source, "train", family, added=True))
print(f"{len(wrapped)} wrapped rows", flush=True)
for encoder in ("tuned", "minilm"):
    base = features(encoder, [r.text for r in rows], progress=False)
    extra = features(encoder, [r.text for r in wrapped], progress=False)
    for name, chosen, vectors in (
        ("synthetic only", rows, base),
        ("+ wrapped public payloads", rows + wrapped, np.vstack([base, extra])),
    ):
        families = leave_one_family_out(chosen, vectors)
        sources = leave_one_source_out(chosen, vectors)
        cells = {f: (v["recall"], v["benign_flagged"]) for f, v in families["folds"].items()}
        print(
            f"{encoder}, {name}: family mean recall {families['mean_recall']}, "
            f"source mean {sources['mean_recall']} (worst {sources['worst']} "
            f"{sources['worst_recall']}); (recall, benign flagged) {json.dumps(cells)}",
            flush=True,
        )
