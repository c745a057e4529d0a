"""#21: sets the exchange reader's content veto (`veto`, `content_sure`) of a classifier
directory with the code `refusalkit train` runs (classifiers/exchange.calibrate_veto, on the
validation output rows with their carry-outs), without retraining anything, and adds its report
to metrics.json and the card. The rule it was adopted under: docs/classifiers.md.
Run: `exchange_veto_install.py [DIR]`."""

import json
import sys
from collections import Counter
from pathlib import Path

from shipped_rows import shipped_splits

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.artifacts import DEFAULT_DIR
from refusalkit.classifiers.exchange import calibrate_veto
from refusalkit.classifiers.training.card import write_card
from refusalkit.classifiers.training.rows import reader_rows

directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
clf = ConstitutionalClassifiers.load(directory)
splits, options = shipped_splits(clf)
report = calibrate_veto(clf, reader_rows(options, splits["val"], "val"))
clf.exchange_reader.save(directory)
metrics_path = directory / "metrics.json"
metrics = json.loads(metrics_path.read_text())
metrics["exchange_reader"]["veto"] = report
metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
counts = Counter(r["stage"] for r in splits["train"])
write_card(directory, clf.artifacts.meta, metrics, options, counts)
print(report)
