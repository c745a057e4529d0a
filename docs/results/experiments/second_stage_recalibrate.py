"""#21: recalibrate the second stage of a classifier directory (band and threshold) with
`cascade.calibrate_second_stage`, as `refusalkit train` does after tuning, without retraining
its adapter: how the shipped classifiers got the per-source look-alike budget.
Run: `second_stage_recalibrate.py [DIR]` (default: the shipped classifiers)."""

import json
import sys
from pathlib import Path

from shipped_rows import shipped_splits

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.artifacts import DEFAULT_DIR
from refusalkit.classifiers.training.second_stage import CascadeTargets, calibrate_second_stage

directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
clf = ConstitutionalClassifiers.load(directory)
splits, options = shipped_splits(clf)
val = splits["val"]
val = [r for r in val if r["stage"] == "input"]
assert clf.second_stage is not None, f"{directory} has no second stage"
before = clf.second_stage.band
targets = CascadeTargets(options.everyday_fpr, options.lookalike_fpr)
second, report = calibrate_second_stage(clf, clf.second_stage.adapter, val, targets)
second.save(directory)
metrics_path = directory / "metrics.json"
metrics = json.loads(metrics_path.read_text())
metrics["second_stage"] = {**metrics["second_stage"], **report}
metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
print(f"band before {before}\nband after  {second.band}\n{report}")
