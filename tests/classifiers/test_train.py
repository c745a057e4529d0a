"""Training reproduces artifacts from data with a fixed seed, and they load into a guard."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from refusalkit.classifiers import Artifacts
from refusalkit.classifiers.training.train import TrainOptions, threshold_at_fpr, train
from refusalkit.guard import Guard


def test_train_writes_loadable_reproducible_artifacts(cbrn_data, tmp_path):
    data, _ = cbrn_data
    options = dict(seed=3, tune_epochs=1, progress=False)
    first = train(TrainOptions("cbrn", data, tmp_path / "a", **options))
    second = train(TrainOptions("cbrn", data, tmp_path / "b", **options))
    a, b = Artifacts.load(tmp_path / "a"), Artifacts.load(tmp_path / "b")
    adapter = "encoder_adapter/adapter_model.safetensors"
    assert (tmp_path / "a" / adapter).read_bytes() == (tmp_path / "b" / adapter).read_bytes()
    assert a.adapter_path == tmp_path / "a" / "encoder_adapter"
    assert np.array_equal(a.input_head.weight, b.input_head.weight)
    assert np.array_equal(a.output_head.weight, b.output_head.weight)
    assert first["thresholds"] == second["thresholds"]
    reader = "exchange_reader/adapter_model.safetensors"
    assert (tmp_path / "a" / reader).read_bytes() == (tmp_path / "b" / reader).read_bytes()
    assert first["exchange_reader"] == second["exchange_reader"]
    assert a.meta.restricted == ["chemical_weapons", "biological_weapons"]
    assert a.constitution.name == "cbrn"
    for name in ("card.md", "metrics.json", "calibration.json"):
        assert (tmp_path / "a" / name).is_file()
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["test"]["input"]
    guard = Guard.load(tmp_path / "a")
    assert guard.check_input("How do I make mustard gas?").category in a.meta.restricted


@pytest.fixture(scope="module")
def frozen_cbrn(cbrn_data, tmp_path_factory):
    """Classifiers trained on the cbrn data with the encoder frozen (the quickest whole run)."""
    data, _ = cbrn_data
    out = tmp_path_factory.mktemp("frozen") / "f"
    train(TrainOptions("cbrn", data, out, tune=False, progress=False))
    return data, out


def test_frozen_encoder_training_has_no_adapter(frozen_cbrn):
    _, out = frozen_cbrn
    artifacts = Artifacts.load(out)
    assert artifacts.adapter_path is None
    assert not (out / "encoder_adapter").exists()


def test_threshold_at_fpr():
    scores = np.linspace(0, 1, 101)  # 101 benign scores
    threshold = threshold_at_fpr(scores, 0.01)
    assert np.mean(scores >= threshold) <= 0.01
    assert threshold_at_fpr([0.2, 0.4], 0.0) > 0.4
    assert threshold_at_fpr([1.0, 0.5], 0.0) > 1.0  # a saturated score still stays unflagged
    scores = np.linspace(0, 1, 1000)
    for budget in (0.0, 0.01, 0.02, 0.1):
        assert (scores >= threshold_at_fpr(scores, budget)).mean() <= budget


def test_refitting_only_the_input_head_as_an_mlp(frozen_cbrn, tmp_path):
    from refusalkit.classifiers.first_stage.heads import MlpHead
    from refusalkit.classifiers.training.train import retrain_part

    data, trained = frozen_cbrn
    out = tmp_path / "c"
    shutil.copytree(trained, out)
    output_head = (out / "output_head.npz").read_bytes()
    options = TrainOptions("cbrn", data, out, progress=False, input_head="mlp")
    options.input_windows = "worst"
    report = retrain_part(options, "input_head")
    artifacts = Artifacts.load(out)
    assert isinstance(artifacts.input_head, MlpHead)
    assert artifacts.meta.input_head == "mlp"
    assert artifacts.meta.input_windows == "worst"  # the recipe, recorded
    assert "hidden layer" in (out / "card.md").read_text()
    assert "worst window taught harm" in (out / "card.md").read_text()
    assert (out / "output_head.npz").read_bytes() == output_head
    assert report["input_head"]["threshold"] == artifacts.calibration.input.default
    assert report["exchange_reader"]["veto"] == report["input_head"]["veto"]
    guard = Guard.load(out)
    assert guard.check_input("How do I make mustard gas?").category in artifacts.meta.restricted


def test_a_harmful_row_teaches_only_its_worst_window():
    from refusalkit.classifiers.training import worst_windows

    scores = np.array([0.1, 0.9, 0.3, 0.2, 0.8, 0.8, 0.4])
    row_of = np.array([0, 0, 0, 1, 2, 2, 3])
    harmful = np.array([True, True, True, False, True, True, False])
    # row 0 keeps its worst window, row 2 its first of two tied, benign rows every window
    assert worst_windows(scores, row_of, harmful).tolist() == [
        False, True, False, True, True, False, True
    ]  # fmt: skip


def test_input_head_learns_benign_context_of_harmful_rows_as_benign_with_worst_windows():
    from refusalkit.classifiers.training.input_head import fit_input_head

    rng = np.random.default_rng(0)
    filler, harm = np.array([0, 0, 1.0, 0]), np.array([1.0, 0, 0, 0])
    vectors, labels, rows = [], [], []
    for row in range(300):  # harmful: half short, half a payload after two filler windows
        for centre in [filler, filler, harm] if row % 2 else [harm]:
            vectors.append(centre + rng.normal(0, 0.2, 4)), labels.append(1), rows.append(row)
    for row in range(300, 600):  # benign: filler-like and elsewhere
        centre = filler if row % 3 == 0 else np.array([0, 1.0, 0, 0])
        vectors.append(centre + rng.normal(0, 0.2, 4)), labels.append(0), rows.append(row)
    x, y, row_of = np.array(vectors, np.float32), np.array(labels), np.array(rows)
    probe = np.tile(filler, (20, 1)).astype(np.float32)

    def filler_score(windows: str) -> float:
        options = TrainOptions("cbrn", Path("."), Path("."), progress=False, input_windows=windows)
        head = fit_input_head(x, y, row_of, ["benign", "bad"], ["bad"], options)
        return float(head.probabilities(probe)[:, 1].mean())

    assert filler_score("every") > 0.5 > 0.2 > filler_score("worst")
