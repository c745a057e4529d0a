"""The input classifier's second stage: which inputs reach it, and how its threshold is chosen."""

import numpy as np
import pytest

from refusalkit.classifiers.cascade import CascadeTargets, choose_band
from refusalkit.classifiers.heads import LinearHead
from refusalkit.classifiers.second_stage import Band, SecondStage, fit_second_stage


def _rows(labels_sources):
    return [
        {"label": label, "source": source, "text": "a short prompt"}
        for label, source in labels_sources
    ]


def test_band_and_threshold_keep_both_benign_pools_under_their_targets():
    rng = np.random.default_rng(0)
    n = 400
    rows = _rows(
        [("harmful", "aart")] * n
        + [("harmless", "benign")] * n
        + [("harmless", "or_bench_hard")] * n
    )
    first = np.concatenate(
        [rng.uniform(0.3, 1, n), rng.uniform(0, 0.6, n), rng.uniform(0.2, 0.9, n)]
    )
    second = np.concatenate(
        [rng.uniform(0.4, 1, n), rng.uniform(0, 0.5, n), rng.uniform(0, 0.8, n)]
    )
    band = choose_band(first, second, rows, 0.7, CascadeTargets(0.02, 0.05, 0.97, 0.002))
    assert band.low <= 0.7 <= band.high
    assert band.low == pytest.approx(np.quantile(first[:n], 0.03))
    flagged = (first >= band.high) | (
        (first >= band.low) & (first < band.high) & (second >= band.threshold)
    )
    assert flagged[n : 2 * n].mean() <= 0.02
    assert flagged[2 * n :].mean() <= 0.05
    # the threshold is the smallest that does so: one step lower breaks a target
    lower = (first >= band.high) | (
        (first >= band.low) & (first < band.high) & (second >= np.nextafter(band.threshold, 0))
    )
    assert lower[n : 2 * n].mean() > 0.02 or lower[2 * n :].mean() > 0.05


def test_second_stage_head_is_a_two_class_logistic_regression_that_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    head = fit_second_stage(x, y)
    probs = head.probabilities(x)[:, 1]
    assert ((probs > 0.5) == y).mean() > 0.95
    stage = SecondStage(head, Band(0.1, 0.9, 0.42))
    stage.save(tmp_path)
    loaded = SecondStage.load(tmp_path)
    assert loaded.band == Band(0.1, 0.9, 0.42)
    assert np.allclose(loaded.head.probabilities(x), head.probabilities(x))
    assert SecondStage.load(tmp_path / "elsewhere") is None


def test_check_input_routes_only_band_scores_to_the_second_stage():
    from refusalkit.classifiers import ConstitutionalClassifiers

    classifiers = ConstitutionalClassifiers.load()
    text = "Write a short poem about the sea."
    first, _, _ = classifiers.first_stage(classifiers.input_features(text))
    dim = classifiers.encoder.dim + 512
    always_harmful = LinearHead(
        np.zeros((2, dim), np.float32), np.array([0.0, 10.0], np.float32), ["harmless", "harmful"]
    )
    classifiers.second_stage = SecondStage(always_harmful, Band(first - 0.01, first + 0.01, 0.5))
    inside = classifiers.check_input(text)
    assert inside.second_stage and inside.flagged and inside.threshold == 0.5
    classifiers.second_stage = SecondStage(always_harmful, Band(first + 0.01, first + 0.02, 0.5))
    outside = classifiers.check_input(text)
    assert not outside.second_stage and outside.score == pytest.approx(first)


def test_recall_at_fpr_moves_only_the_second_stage_threshold():
    from refusalkit.classifiers.constitutional import Verdict
    from refusalkit.evals.classifiers import recall_at_fpr

    def v(score, flagged=False, second=True):
        return Verdict("input", flagged, score, None, 0.5, 0.0, second)

    # 100 safe prompts: one flagged outright by the first stage, the rest scored by stage two
    safe = [v(1.0, True, False)] + [v(i / 100) for i in range(99)]
    unsafe = [v(0.985), v(0.975), v(0.945), v(0.5), v(0.9, True, False), v(0.1, False, False)]
    curve = recall_at_fpr(safe, unsafe, (0.01, 0.02, 0.05))
    assert curve["0.01"] == round(2 / 6, 4)  # no safe prompt may pass stage two: above 0.98
    assert curve["0.02"] == 0.5  # one may (0.98): above 0.97
    assert curve["0.05"] == round(4 / 6, 4)  # four may (down to 0.95): above 0.94
    assert recall_at_fpr([v(1.0, True, False)] * 3, unsafe, (0.01,))["0.01"] is None


def test_long_inputs_are_decided_by_the_first_stage():
    from refusalkit.classifiers.second_stage import MAX_CHARS

    band = Band(0.2, 0.9, 0.5)
    assert band.contains(0.5, "short")
    assert not band.contains(0.5, "x" * (MAX_CHARS + 1))
    # calibration counts a long benign row in the band as the first stage decides it
    rows = [{"label": "harmless", "source": "benign", "text": "x" * (MAX_CHARS + 1)}] + [
        {"label": "harmless", "source": "benign", "text": "short"} for _ in range(99)
    ]
    first = np.array([0.8] + [0.1] * 99)
    second = np.concatenate([[0.0], np.linspace(0, 0.5, 99)])
    chosen = choose_band(first, second, rows, 0.7, CascadeTargets(0.01, 0.05, 0.97, 0.002))
    # the long row, flagged by the first stage, already spends the 1% budget
    assert (second[1:] >= chosen.threshold).sum() == 0
