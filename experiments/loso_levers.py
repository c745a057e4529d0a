"""#41, 2026-12-07: what the leave-one-source-out yardstick says of two data levers, on frozen
features (base MiniLM and the shipped tuned encoder): the everyday prompts sampled to 5,000
(as the shipped tuning does) against all of them, and the sources never trained on
(harmful_more, refusal_voices) taken out of every fold's training. ~6 min the first time
(vectors cached in cache_dir/loso)."""

from pathlib import Path

from refusalkit.evals import NEVER_TUNED_ON, features, leave_one_source_out, loso_rows

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

for cap in (5000, None):
    rows = loso_rows(SHARED, everyday_cap=cap)
    for encoder in ("minilm", "tuned"):
        vectors = features(encoder, [r.text for r in rows], progress=False)
        variants = {"all sources": list(range(len(rows)))}
        if cap is None:
            variants["without harmful_more, refusal_voices"] = [
                i
                for i, r in enumerate(rows)
                if r.source not in NEVER_TUNED_ON and r.source != "alpaca"
            ]
        for name, keep in variants.items():
            result = leave_one_source_out([rows[i] for i in keep], vectors[keep])
            recalls = {k: f["recall"] for k, f in result["folds"].items()}
            print(f"everyday cap {cap}, {encoder}, {name}: mean {result['mean_recall']} {recalls}")
