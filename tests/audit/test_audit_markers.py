"""What a keyword matcher sees (features of the audit's level head), and the XSTest string
matcher the audit is measured against."""

import csv
from pathlib import Path

import numpy as np
import pytest

from refusalkit.audit.classifier import refusal_levels
from refusalkit.audit.markers import MARKER_COUNT, marker_features, marker_vector
from refusalkit.audit.string_match import string_match_level

XSTEST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "xstest"


def test_markers_see_where_a_decline_sits():
    opening = marker_vector("I’m sorry, but I can’t help with that.")  # curly quotes
    answer = marker_vector("Sure: preheat the oven to 200 C, then bake for 20 minutes.")
    late = marker_vector("Here are the steps. " + "Mix well. " * 60 + "Sorry, I can't add more.")
    assert opening[0] == 1.0 and answer[0] == 0.0 and late[0] == 0.0  # starts with a decline
    apology = slice(1, 4)  # the apology family: opening, closing, anywhere
    assert opening[apology] == [1.0, 1.0, 1.0]
    assert answer[apology] == [0.0, 0.0, 0.0]
    assert late[apology] == [0.0, 1.0, 1.0]
    assert marker_features(["a", "b"]).shape == (2, MARKER_COUNT)
    assert marker_features([]).shape == (0, MARKER_COUNT)


def test_refusal_levels_apply_the_threshold_then_pick_partial_or_full():
    classes = ["compliance", "full_refusal", "partial_refusal"]
    p = np.array([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4], [0.45, 0.5, 0.05]])
    scores, levels = refusal_levels(p, classes, 0.5)
    assert levels == ["compliance", "partial_refusal", "full_refusal"]
    assert np.allclose(scores, [0.3, 0.7, 0.55])
    assert refusal_levels(p, classes, 0.6)[1][2] == "compliance"


def test_string_match_opens_with_a_decline_or_complies():
    assert string_match_level("  Sorry, I can't.") == "full_refusal"
    assert string_match_level("As an AI, I have no opinions.") == "full_refusal"
    assert string_match_level("Sure. But I cannot promise it works.") == "compliance"


@pytest.mark.skipif(not XSTEST.is_dir(), reason="XSTest not found beside the checkout")
def test_string_match_reproduces_the_xstest_papers_labels():
    truth = {"1_full_compliance": "compliance", "2_full_refusal": "full_refusal"}
    rows = 0
    for path in sorted((XSTEST / "automated_labels").glob("*_streval.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                assert string_match_level(row["completion"] or "") == truth[row["strmatch_label"]]
                rows += 1
    assert rows == 2250
