"""#21: the finished-exchange check (classifiers/exchange.py, as shipped in a classifier
directory) on validation only: F1 on the validation output rows (1), on them with the validation
carry-outs (1)+(2), and recall on the harmful answers of (1) re-asked by everyday validation
requests (3). Run: `exchange_check_val.py [DIR]`."""

import sys
from pathlib import Path

from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.classifiers import DEFAULT_DIR, ConstitutionalClassifiers, ExchangeCheck
from refusalkit.classifiers.exchange_reader import re_asked
from refusalkit.jsonl import read_rows

directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
clf = ConstitutionalClassifiers.load(directory)
splits, options = shipped_splits(clf)
val = [r for r in splits["val"] if r["stage"] == "output"]
assert options.carry_outs is not None
carry_outs = [r for r in read_rows(options.carry_outs, "") if r["split"] == "val"]
check = ExchangeCheck(clf)


def judged(rows: list[dict], desc: str) -> list[tuple[bool, bool]]:
    return [
        (r["label"] == "harmful", check.check(r["prompt"], r["response"]).flagged)
        for r in tqdm(rows, desc=desc)
    ]


def f1(pairs: list[tuple[bool, bool]]) -> tuple[float, tuple[int, int, int]]:
    tp = sum(t and g for t, g in pairs)
    fp = sum(g and not t for t, g in pairs)
    fn = sum(t and not g for t, g in pairs)
    return round(2 * tp / (2 * tp + fp + fn), 4), (tp, fp, fn)


one, two = judged(val, "val"), judged(carry_outs, "carry-outs")
three = judged(re_asked(val, 0), "re-asked")
reader = clf.exchange_reader
assert reader is not None, "this classifier directory has no exchange reader"
print(
    {
        "dir": str(directory),
        "threshold": round(reader.threshold, 4),
        "veto": reader.veto,
        "content_sure": reader.content_sure,
        "f1_1_and_2": f1(one + two),
        "f1_1": f1(one),
        "recall_3": round(sum(g for _, g in three) / len(three), 4),
    }
)
