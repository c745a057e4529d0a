"""The first stage's MLP input head: numpy inference matches what sklearn fitted, a projection
folds into it, a class missing from training is never chosen, and it round-trips through disk."""

import numpy as np

from refusalkit.classifiers.first_stage.heads import LinearHead, MlpHead, fit_mlp, load_head


def xor_rows(seed: int = 0, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
    return x, ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)


def test_mlp_learns_what_a_linear_head_cannot_and_round_trips(tmp_path):
    x, y = xor_rows()
    head = fit_mlp(x, y, ["a", "b"], seed=0)
    predicted = head.probabilities(x).argmax(1)
    assert (predicted == y).mean() > 0.9
    path = tmp_path / "head.npz"
    head.save(path)
    loaded = load_head(path)
    assert isinstance(loaded, MlpHead)
    assert np.allclose(loaded.probabilities(x), head.probabilities(x), atol=1e-6)
    LinearHead(np.ones((2, 4)), np.zeros(2), ["a", "b"]).save(path)
    assert isinstance(load_head(path), LinearHead)


def test_multiclass_matches_sklearn_and_absent_classes_get_nothing():
    from sklearn.neural_network import MLPClassifier

    x, y = xor_rows(1)
    labels = y + 2 * (x[:, 2] > 0.5)  # classes 0..3; class 4 never seen
    classes = ["p", "q", "r", "s", "never"]
    head = fit_mlp(x, labels, classes, seed=0)
    probs = head.probabilities(x)
    assert probs.shape == (len(x), 5)
    assert np.allclose(probs.sum(1), 1)
    assert probs[:, 4].max() == 0.0
    reference = MLPClassifier((256,), alpha=1e-3, early_stopping=True, random_state=0, max_iter=200)
    reference.fit(x, labels, np.ones(len(x)))
    assert np.allclose(probs[:, :4], reference.predict_proba(x), atol=1e-4)


def test_projection_folds_into_the_hidden_layer():
    x, y = xor_rows(2)
    # a direction the labels do not depend on, which the head must not read
    direction = np.array([0, 0, 1.0, 0], dtype=np.float32)
    projection = np.eye(4, dtype=np.float32) - np.outer(direction, direction)
    head = fit_mlp(x, y, ["a", "b"], seed=0, projection=projection)
    moved = x.copy()
    moved[:, 2] += 5.0
    assert np.allclose(head.probabilities(moved), head.probabilities(x), atol=1e-5)
    plain = fit_mlp(x, y, ["a", "b"], seed=0)
    assert not np.allclose(plain.probabilities(moved), plain.probabilities(x), atol=1e-3)


def test_rows_weighted_zero_teach_nothing():
    x, y = xor_rows(3)
    flipped = 1 - y
    weights = np.concatenate([np.ones(len(x)), np.zeros(len(x))])
    head = fit_mlp(np.vstack([x, x]), np.concatenate([y, flipped]), ["a", "b"], row_weight=weights)
    assert (head.probabilities(x).argmax(1) == y).mean() > 0.9
