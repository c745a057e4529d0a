"""Independence per category pair (#39): the categories that move together; the mass rule."""

import numpy as np

from refusalkit.steer.sweep import _independence, _pairs_explained, mass_rule

NAMES = ["a", "b", "c"]
# columns: respond, a, b, c. Category b's prompts give a's token some mass; c's prompts do not.
PROBS = np.array(
    [
        [0.10, 0.80, 0.05, 0.05],  # a
        [0.20, 0.70, 0.05, 0.05],  # a
        [0.60, 0.25, 0.10, 0.05],  # b: answered at 0.5, refused as a once a's threshold is 0.2
        [0.30, 0.05, 0.60, 0.05],  # b
        [0.90, 0.02, 0.03, 0.05],  # c
        [0.20, 0.00, 0.05, 0.75],  # c
    ]
)
CATEGORIES = np.array(["a", "a", "b", "b", "c", "c"])
DEFAULT = dict.fromkeys(NAMES, 0.5)


def paper_rule(thresholds):
    passing = PROBS[:, 1:] >= np.array([thresholds[n] for n in NAMES])
    return passing.any(axis=1)


def test_pairs_name_the_category_whose_prompts_move_and_why():
    moved = _independence(paper_rule, NAMES, CATEGORIES, DEFAULT)
    assert moved["pairs"]["a", "b"] == 0.5  # one of b's two prompts flips
    assert moved["pairs"]["a", "c"] == 0.0
    assert moved["worst"] == 0.5
    top = _pairs_explained(moved["pairs"], PROBS, NAMES, CATEGORIES)[0]
    assert (top["moved"], top["other"], top["max_change"]) == ("a", "b", 0.5)
    assert top["moved_token_mean_probability"] == 0.15
    assert top["moved_token_most_probable"] == 0.5


def test_the_mass_rule_reads_the_total_at_the_top_category_threshold():
    # row 2: total refusal mass 0.4, most probable token a; row 4: mass 0.1
    refused = mass_rule(PROBS, NAMES, {"a": 0.35, "b": 0.9, "c": 0.9})
    assert refused.tolist() == [True, True, True, False, False, False]
    assert mass_rule(PROBS, NAMES, dict.fromkeys(NAMES, 0.39))[2]
    assert not mass_rule(PROBS, NAMES, {"a": 0.41, "b": 0.0, "c": 0.0})[2]
