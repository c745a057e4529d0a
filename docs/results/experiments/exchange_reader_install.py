"""#21: install the adapter `exchange_reader_plain.py CARRY_OUTS ADAPTER train` wrote into a
classifier directory, calibrated as `refusalkit train` calibrates it (classifiers/exchange_reader/reader.py,
validation rows with the validation carry-outs). The driver trained with `tune_second_stage` on the
same texts, labels and seed that `train_exchange_reader` is given (classifiers/rows.reader_rows);
this checks that before installing (the texts' digest) and adds the reader's report to
metrics.json. Run: `exchange_reader_install.py ADAPTER [DIR]`."""

import hashlib
import json
import shutil
import sys
from pathlib import Path

from shipped_rows import shipped_splits

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.artifacts import DEFAULT_DIR
from refusalkit.classifiers.exchange_reader.reader import (
    ADAPTER_DIR,
    ExchangeReader,
    calibrate_exchange_reader,
    exchange_text,
)
from refusalkit.classifiers.training.rows import reader_rows

adapter = Path(sys.argv[1])
directory = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_DIR
clf = ConstitutionalClassifiers.load(directory)
splits, options = shipped_splits(clf)
carry_outs = [json.loads(line) for line in options.carry_outs.open(encoding="utf-8")]
# the driver's rows (exchange_reader_plain.py): the split's output rows, then its carry-outs
rows = [r for r in splits["train"] if r["stage"] == "output"]
rows += [r for r in carry_outs if r["split"] == "train"]
driver = [(f"{r['prompt'][:300]}\n\n{r['response']}", r["label"] != "harmless") for r in rows]
product_rows = [r for r in reader_rows(options, splits["train"], "train") if r["stage"] == "output"]
product = [
    (exchange_text(r["prompt"], r["response"]), r["label"] != "harmless") for r in product_rows
]
val = reader_rows(options, splits["val"], "val")
assert driver == product, "the driver and train_exchange_reader would train on different rows"
print("training rows", len(rows), hashlib.sha256(json.dumps(product).encode()).hexdigest()[:16])
target = directory / ADAPTER_DIR
shutil.rmtree(target, ignore_errors=True)
shutil.copytree(adapter, target, ignore=shutil.ignore_patterns("scores_*.json"))
reader, report = calibrate_exchange_reader(ExchangeReader(target, 0.0), val)
report["train_rows"] = len(rows)
reader.save(directory)
metrics_path = directory / "metrics.json"
metrics = json.loads(metrics_path.read_text())
metrics["exchange_reader"] = report
metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
print(report)
