"""#21: add the exchange gate to a classifier directory trained before it existed, computed as
`refusalkit train` computes it (classifiers/train.py `exchange_gate`) on the same validation
rows. Run: `exchange_gate_set.py [DIR]` (default: the shipped classifiers)."""

import json
import sys
from pathlib import Path

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.artifacts import DEFAULT_DIR
from refusalkit.classifiers.options import TrainOptions
from refusalkit.classifiers.train import exchange_gate, public_rows, read_split
from refusalkit.datasets.public import default_public_dir

ROOT = Path(__file__).resolve().parents[3]
directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
clf = ConstitutionalClassifiers.load(directory)
constitution = clf.artifacts.constitution
known = {c.id for c in constitution.categories} | {"harmless"}
options = TrainOptions("general", ROOT / "data" / "synth-general", ROOT)
options.public = default_public_dir()
public = public_rows(options, clf.encoder, constitution, known)
val = read_split(options.data, "val") + [r for r in public if r["split"] == "val"]
harmful = [r for r in val if r["stage"] == "output" and r["label"] != "harmless"]
gate = exchange_gate([clf.check_output(r["prompt"], r["response"]).score for r in harmful])
path = directory / "calibration.json"
calibration = json.loads(path.read_text())
calibration["exchange_gate"] = gate
path.write_text(json.dumps(calibration, indent=2) + "\n")
print(f"{path}: exchange_gate {gate:.6f} from {len(harmful)} harmful validation answers")
