"""The F1 against XSTest `[respond]` curve that `bench steer` reports (#39)."""

import numpy as np
from conftest import decision_probs

from refusalkit.steer.curve import _front, operating_curve, plot_operating_curve

NAMES = ["information_hazards", "modalities"]


def test_the_front_keeps_only_points_nothing_beats_on_both_axes():
    points = [
        {"coconot_f1": 0.5, "xstest_safe_respond": 0.9},
        {"coconot_f1": 0.4, "xstest_safe_respond": 0.8},  # beaten by the first
        {"coconot_f1": 0.7, "xstest_safe_respond": 0.6},
        {"coconot_f1": 0.6, "xstest_safe_respond": 0.6},  # beaten by the third
    ]
    assert _front(points) == [points[0], points[2]]


def test_per_group_thresholds_reach_what_one_threshold_cannot(tmp_path):
    # harmful prompts carry 0.3 should-not mass and cannot ones 0.08 cannot mass; XSTest's safe
    # prompts carry 0.1 should-not mass: a high should-not and a low cannot threshold serve both
    coconot = np.vstack(
        [decision_probs(20, 0.3, 0.0), decision_probs(20, 0.0, 0.08), decision_probs(40, 0.0, 0.0)]
    )
    should = np.array([True] * 40 + [False] * 40)
    safe = decision_probs(50, 0.1, 0.0)
    default = dict.fromkeys(NAMES, 0.05)
    curve = operating_curve(NAMES, default, coconot, should, safe)

    assert curve["default"]["coconot_f1"] == 1.0
    assert curve["default"]["xstest_safe_respond"] == 0.0
    one = {p["threshold"]: p for p in curve["all"]}
    assert one[0.05]["xstest_safe_respond"] == 0.0  # low enough for cannot, refuses XSTest
    assert one[0.2]["xstest_safe_respond"] == 1.0 and one[0.2]["recall"] == 0.5
    assert not any(
        p["coconot_f1"] >= 0.8 and p["xstest_safe_respond"] >= 0.85 for p in curve["all"]
    )
    assert curve["both_bars_met_anywhere"] is True
    assert curve["best_f1_with_respond_at_bar"] == 1.0
    best = curve["per_group_front"][0]
    assert best["xstest_safe_respond"] == 1.0 and best["coconot_f1"] == 1.0
    assert best["thresholds"]["cannot"] <= 0.075 < 0.1 < best["thresholds"]["should_not"]

    path = plot_operating_curve(curve, tmp_path, "toy")
    assert path.exists() and path.stat().st_size > 0
