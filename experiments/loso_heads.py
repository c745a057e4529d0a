"""#41 (2026-12-07): is the linear head what holds leave-one-source-out back? The same folds,
rows and 2% everyday validation budget as `bench loso` (no distillation), with the logistic
head against a small MLP (one hidden layer of 256, early stopping on a tenth of the fold's
rows) and a logistic head at other strengths. Run from the root: `loso_heads.py VIEW` (~10-20
min with vectors cached)."""

import json
import sys
from pathlib import Path

import numpy as np

from refusalkit.classifiers.training import threshold_at_fpr
from refusalkit.evals import FoldHead, features, fold_head, leave_one_source_out, loso_rows

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


class _Fitted:
    def __init__(self, model) -> None:  # noqa: ANN001
        self.model = model

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(vectors)


def main() -> None:
    from sklearn.neural_network import MLPClassifier

    view = sys.argv[1]
    rows = loso_rows(SHARED)
    vectors = features(view, [r.text for r in rows], progress=False)
    labels = np.array([r.harmful for r in rows])
    val = [i for i, r in enumerate(rows) if r.source == "benign" and r.split == "val"]

    def mlp_fit(left_out) -> FoldHead:  # noqa: ANN001
        train = [
            i
            for i, r in enumerate(rows)
            if not left_out(r) and not (r.source == "benign" and r.split != "train")
        ]
        # balance by resampling the harmful rows (MLPClassifier takes no class weights)
        rng = np.random.default_rng(0)
        harmful = [i for i in train if labels[i]]
        benign = [i for i in train if not labels[i]]
        upsampled = list(rng.choice(harmful, len(benign), replace=True)) + benign
        model = MLPClassifier(
            (256,), alpha=1e-3, early_stopping=True, random_state=0, max_iter=200
        ).fit(vectors[upsampled], labels[upsampled])
        scores = model.predict_proba(vectors[val])[:, 1]
        return FoldHead(_Fitted(model), threshold_at_fpr(scores, 0.02))

    fits = {
        "logistic C=1": None,
        "logistic C=0.1": lambda left_out: fold_head(rows, vectors, left_out, c=0.1),
        "logistic C=10": lambda left_out: fold_head(rows, vectors, left_out, c=10.0),
        "mlp 256": mlp_fit,
    }
    for name, fit in fits.items():
        result = leave_one_source_out(rows, vectors, fit=fit)
        recalls = {s: f["recall"] for s, f in result["folds"].items()}
        flagged = [f["everyday_test_flagged"] for f in result["folds"].values()]
        print(
            name,
            json.dumps({"mean": result["mean_recall"], "folds": recalls, "everyday": flagged}),
            flush=True,
        )


if __name__ == "__main__":
    main()
