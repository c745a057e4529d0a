"""Default thresholds per taxonomy group, chosen on held-out public rows (#39)."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import decision_probs

from refusalkit.steer.thresholds import (
    BUDGET,
    GRID,
    category_groups,
    choose_group_thresholds,
    threshold_pool,
)

NAMES = ["information_hazards", "modalities"]


def test_groups_follow_the_taxonomy():
    assert category_groups(["privacy", "subjectivity", "nsfw"]) == {
        "should_not": ["privacy", "nsfw"],
        "cannot": ["subjectivity"],
    }
    assert category_groups(["refuse"]) == {"refuse": ["refuse"]}


def test_each_group_gets_its_own_threshold_within_the_everyday_budget():
    # a tenth of everyday prompts carry 0.12 harm mass: the should-not group must sit above it,
    # while the unanswerable questions' small cannot mass wants the cannot group low
    everyday = np.vstack([decision_probs(10, 0.12, 0.0), decision_probs(90, 0.0, 0.01)])
    probs = {
        "benign": everyday,
        "aart": decision_probs(50, 0.35, 0.0),
        "selfaware_unanswerable": decision_probs(50, 0.0, 0.06),
        "selfaware_answerable": decision_probs(50, 0.0, 0.02),
    }
    result = choose_group_thresholds(NAMES, probs)
    chosen = result["thresholds"]
    # ties go to the higher threshold: every should-not value in (0.12, 0.35] catches AART
    assert chosen == {"information_hazards": 0.3, "modalities": 0.05}
    assert result["within_budget"] is True
    assert result["pool_refused"]["benign"] <= BUDGET["benign"]
    assert result["pool_refused"]["selfaware_unanswerable"] == 1.0


def test_nothing_within_budget_falls_back_to_the_highest_thresholds():
    probs = {"benign": decision_probs(20, 0.9, 0.0), "aart": decision_probs(5, 0.9, 0.0)}
    result = choose_group_thresholds(NAMES, probs)
    assert result["within_budget"] is False
    assert set(result["thresholds"].values()) == {GRID[-1]}


def test_the_pool_leaves_out_trained_prompts_and_other_splits():
    from refusalkit.datasets import input_rows

    first = threshold_pool([], seed=0)
    trained = first["benign"][:100] + first["aart"][:20]
    pool = threshold_pool(trained, seed=0)
    assert not set(trained) & {p for prompts in pool.values() for p in prompts}
    held_out = {r["text"] for r in input_rows() if r["split"] != "train"}
    assert not held_out & {p for prompts in pool.values() for p in prompts}
    assert len(pool["benign"]) == 1500 and pool["selfaware_unanswerable"]


@pytest.fixture
def model_copy(tmp_path):
    from refusalkit.steer.decode import DEFAULT_DIR

    shutil.copytree(DEFAULT_DIR, tmp_path / "model")
    return tmp_path / "model"


def test_per_category_defaults_in_meta_override_the_one_default(model_copy):
    from refusalkit.steer.decode import SteerModel

    meta = json.loads((model_copy / "meta.json").read_text())
    meta["thresholds"] = {"privacy": 0.05, "subjectivity": 0.4}
    (model_copy / "meta.json").write_text(json.dumps(meta))
    model = SteerModel(model_copy)
    values = model.thresholds()
    assert values["privacy"] == 0.05 and values["subjectivity"] == 0.4
    assert values["nsfw"] == meta["default_threshold"]
    assert set(model.thresholds({"privacy": 0.9}).values()) >= {0.9, 0.4}


def test_thresholds_cli_refuses_a_model_whose_training_data_changed(model_copy):
    meta = json.loads((model_copy / "meta.json").read_text())
    meta["examples"]["data_digest"] = "0" * 16
    (model_copy / "meta.json").write_text(json.dumps(meta))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "refusalkit.cli",
            "steer",
            "thresholds",
            "--model-dir",
            str(model_copy),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert "training data differs" in message and "steer train" in message
    assert "Traceback" not in result.stderr
