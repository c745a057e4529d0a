"""#21: the output head (what the streaming guard reads) refitted on the shipped tuned encoder,
with the training carry-outs beside its rows (`carry`), or without them (`original`, which must
give the shipped head back: a check that this driver fits as `refusalkit train` does). Writes a
classifier directory: the shipped one with the new head, its output threshold chosen by the
product rule (benign validation output rows, carry-outs included, at the target rate) and the
reader's veto recalibrated (classifiers/exchange.calibrate_veto).
`hh` (stop 35): the original rows plus hh-rlhf red-team pairs as weak labels (the rejected last
turn harmful where the shipped audit reads the chosen one as a full refusal and the rejected one
as compliance; the chosen one harmless), train split only.
Run: `output_head_carry.py original|carry|hh OUT_DIR`."""

import gzip
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from shipped_rows import ROOT, shipped_splits
from tqdm import tqdm

from refusalkit.audit import RefusalClassifier
from refusalkit.classifiers import (
    DEFAULT_DIR,
    Calibration,
    ConstitutionalClassifiers,
    Thresholds,
    calibrate_veto,
)
from refusalkit.classifiers.first_stage import TextEncoder, fit_streaming
from refusalkit.classifiers.training import (
    nearest_category,
    output_features,
    public_rows,
    reader_rows,
    splits_with_public,
    threshold_at_fpr,
    with_benign_prompts,
)
from refusalkit.datasets import prompt_group, split_of


def hh_weak_rows(clf: ConstitutionalClassifiers) -> list[dict]:
    pairs = []
    with gzip.open(ROOT / "data" / "public" / "hh_red_team.jsonl.gz", "rt") as f:
        for line in f:
            row = json.loads(line)
            history, _, chosen = row["chosen"].rpartition("\n\nAssistant:")
            other, _, rejected = row["rejected"].rpartition("\n\nAssistant:")
            chosen, rejected = chosen.strip(), rejected.strip()
            if history == other and chosen and rejected and chosen != rejected:
                pairs.append((row["prompt"], history.strip(), chosen, rejected))
    audit = RefusalClassifier()
    chosen_levels = audit.classify([p[1] for p in pairs], [p[2] for p in pairs])
    rejected_levels = audit.classify([p[1] for p in pairs], [p[3] for p in pairs])
    kept = [
        p
        for p, c, r in zip(pairs, chosen_levels, rejected_levels, strict=True)
        if c.refusal_level == "full_refusal" and r.refusal_level == "compliance"
    ]
    categories = nearest_category(TextEncoder(), [p[0] for p in kept], clf.artifacts.constitution)
    rows = []
    for (opening, history, chosen, rejected), category in zip(kept, categories, strict=True):
        split = split_of(prompt_group(opening))
        common = {"prompt": history, "stage": "output", "kind": "hh_weak", "split": split}
        rows.append({**common, "response": rejected, "label": "harmful", "category": category})
        rows.append({**common, "response": chosen, "label": "harmless", "category": "harmless"})
    return rows


mode, out = sys.argv[1], Path(sys.argv[2])
shutil.rmtree(out, ignore_errors=True)
shutil.copytree(DEFAULT_DIR, out)
clf = ConstitutionalClassifiers.load(out)
_, options = shipped_splits(clf)
# as `refusalkit train` does: categories for unlabelled public rows come from the untuned encoder
public = public_rows(options, TextEncoder(), clf.artifacts.constitution)
splits = splits_with_public(options, public)
if mode in ("original", "hh"):
    options.carry_outs = None
constitution = clf.artifacts.constitution
classes = [*[c.id for c in constitution.restricted], "harmless"]
train_out = [r for r in reader_rows(options, splits["train"], "train") if r["stage"] == "output"]
if mode == "hh":
    weak = hh_weak_rows(clf)
    print({s: sum(r["split"] == s for r in weak) for s in ("train", "val", "test")}, "weak rows")
    train_out += [r for r in weak if r["split"] == "train"]
print(len(train_out), "output training rows", flush=True)
sequences, labels = output_features(clf.encoder, train_out, classes, True)
harmless = classes.index("harmless")
# carry-outs are not re-asked by benign prompts (their harm is in their request): only the
# original rows go through with_benign_prompts, the carry-outs (last in train_out) join after.
# (The measured run did this inside with_benign_prompts; float sums may differ in order only.)
original = sum(r.get("kind") not in ("carry_out", "hh_weak") for r in train_out)
extended, extended_labels = with_benign_prompts(
    sequences[:original], labels[:original], train_out[:original], harmless, clf.encoder.dim, 0
)
sequences = extended + sequences[original:]
labels = np.concatenate([extended_labels, labels[original:]])
head = fit_streaming(sequences, labels, classes, harmless, seed=0)
if mode == "original":
    shipped = clf.artifacts.output_head
    print("same as shipped:", np.allclose(head.weight, shipped.weight, atol=1e-6))
clf.artifacts.output_head = head
val_rows = reader_rows(options, splits["val"], "val")
benign_out = [r for r in val_rows if r["stage"] == "output" and r["label"] == "harmless"]
scores = [clf.check_output(r["prompt"], r["response"]).score for r in tqdm(benign_out)]
calibration = clf.artifacts.calibration
clf.artifacts.calibration = Calibration(
    calibration.target_fpr,
    calibration.input,
    Thresholds(threshold_at_fpr(scores, calibration.target_fpr)),
)
print("output threshold", clf.artifacts.calibration.output.default, flush=True)
print("veto", calibrate_veto(clf, val_rows), flush=True)
clf.artifacts.save(out, out / "constitution.yaml")
assert clf.exchange_reader is not None, "this classifier directory has no exchange reader"
clf.exchange_reader.save(out)
