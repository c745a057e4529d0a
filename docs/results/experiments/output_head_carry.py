"""#21: the output head (what the streaming guard reads) refitted on the shipped tuned encoder,
with the training carry-outs beside its rows (`carry`), or without them (`original`, which must
give the shipped head back: a check that this driver fits as `refusalkit train` does). Writes a
classifier directory: the shipped one with the new head, its output threshold chosen by the
product rule (benign validation output rows, carry-outs included, at the target rate) and the
reader's veto recalibrated (classifiers/exchange.calibrate_veto).
Run: `output_head_carry.py original|carry OUT_DIR`."""

import shutil
import sys
from pathlib import Path

import numpy as np
from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.artifacts import DEFAULT_DIR, Calibration, Thresholds
from refusalkit.classifiers.encoder import TextEncoder
from refusalkit.classifiers.exchange import calibrate_veto
from refusalkit.classifiers.heads import fit_streaming
from refusalkit.classifiers.rows import public_rows, reader_rows, splits_with_public
from refusalkit.classifiers.train import output_features, threshold_at_fpr, with_benign_prompts

mode, out = sys.argv[1], Path(sys.argv[2])
shutil.rmtree(out, ignore_errors=True)
shutil.copytree(DEFAULT_DIR, out)
clf = ConstitutionalClassifiers.load(out)
_, options = shipped_splits(clf)
# as `refusalkit train` does: categories for unlabelled public rows come from the untuned encoder
public = public_rows(options, TextEncoder(), clf.artifacts.constitution)
splits = splits_with_public(options, public)
if mode == "original":
    options.carry_outs = None
constitution = clf.artifacts.constitution
classes = [*[c.id for c in constitution.restricted], "harmless"]
train_out = [r for r in reader_rows(options, splits["train"], "train") if r["stage"] == "output"]
print(len(train_out), "output training rows", flush=True)
sequences, labels = output_features(clf.encoder, train_out, classes, True)
harmless = classes.index("harmless")
# carry-outs are not re-asked by benign prompts (their harm is in their request): only the
# original rows go through with_benign_prompts, the carry-outs (last in train_out) join after.
# (The measured run did this inside with_benign_prompts; float sums may differ in order only.)
original = sum(r.get("kind") != "carry_out" for r in train_out)
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
clf.exchange_reader.save(out)
