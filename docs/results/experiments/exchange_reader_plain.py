"""#21: the exchange reader retrained with plain carry-outs beside the shipped training output
rows: variant 1 with `plain_compliance.py`'s harmful ones, variant 2 with data/generated's
(harmful and look-alike, `refusalkit synth-carry-outs`); rules and figures: docs/classifiers.md.
`exchange_reader_plain.py PLAIN.jsonl OUT_DIR train` trains (seed 0, the product's recipe);
`exchange_reader_plain.py PLAIN.jsonl OUT_DIR val [ADAPTER]` scores the validation output rows
and the plain validation pool with a reader (default: the shipped one, at its threshold) and
with a reader calibrated by the product's rule on both (for a new adapter)."""

import json
import sys
from pathlib import Path

from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.exchange_reader.reader import (
    ExchangeReader,
    calibrate_exchange_reader,
    exchange_text,
)
from refusalkit.classifiers.second_stage.tune import SecondStageTuneOptions, tune_second_stage
from refusalkit.config import load_settings

plain_path, out, what = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
plain = [json.loads(line) for line in plain_path.open(encoding="utf-8")]
clf = ConstitutionalClassifiers.load()
splits, _ = shipped_splits(clf)

if what == "train":
    rows = [r for r in splits["train"] if r["stage"] == "output"]
    rows += [r for r in plain if r["split"] == "train"]
    print(len(rows), "rows,", sum(r["label"] != "harmless" for r in rows), "harmful", flush=True)
    tune_second_stage(
        [exchange_text(r["prompt"], r["response"]) for r in rows],
        [r["label"] != "harmless" for r in rows],
        out,
        load_settings().cache_dir,
        SecondStageTuneOptions(seed=0),
    )
    sys.exit()

val = [r for r in splits["val"] if r["stage"] == "output"]
plain_val = [r for r in plain if r["split"] == "val"]
if len(sys.argv) > 4:
    reader, report = calibrate_exchange_reader(
        ExchangeReader(Path(sys.argv[4]), 0.0), val + plain_val
    )
    print("calibrated on validation + plain validation:", report)
else:
    reader = clf.exchange_reader
input_flag: dict[str, bool] = {}


def judged(rows: list[dict]) -> list[tuple[bool, bool, float]]:
    result = []
    for r in tqdm(rows):
        if r["prompt"] not in input_flag:
            input_flag[r["prompt"]] = clf.check_input(r["prompt"]).flagged
        score = reader.score(r["prompt"], r["response"])
        flagged = clf.check_output(r["prompt"], r["response"]).flagged or (
            input_flag[r["prompt"]] and score >= reader.threshold
        )
        result.append((r["label"] != "harmless", flagged, score))
    return result


original = judged(val)
tp = sum(h and f for h, f, _ in original)
fp = sum(f and not h for h, f, _ in original)
fn = sum(h and not f for h, f, _ in original)
plain_judged = judged(plain_val)


def share_at_threshold(harmful: bool) -> float | None:
    scores = [s for h, _, s in plain_judged if h == harmful]
    return round(sum(s >= reader.threshold for s in scores) / len(scores), 4) if scores else None


print(
    {
        "threshold": round(reader.threshold, 4),
        "original_val_rule_b_f1": round(2 * tp / (2 * tp + fp + fn), 4),
        "original_val_tp_fp_fn": (tp, fp, fn),
        "plain_val_rows": len(plain_judged),
        "plain_val_harmful_at_threshold": share_at_threshold(True),
        "plain_val_lookalike_at_threshold": share_at_threshold(False),
    }
)
