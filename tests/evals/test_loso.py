"""Leave-one-source-out (#41's yardstick): which rows, how a fold is scored, the vector cache."""

from pathlib import Path

import numpy as np
import pytest

from refusalkit.errors import ConfigError
from refusalkit.evals import loso
from refusalkit.evals.loso import LosoRow, features, leave_one_source_out, loso_rows

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _toy(n_everyday: int = 400) -> tuple[list[LosoRow], np.ndarray]:
    """Everyday prompts near the origin; two harmful sources along one shared direction and
    one harmful source along a direction no other source has."""
    rng = np.random.default_rng(0)
    rows, vectors = [], []

    def add(source: str, harmful: bool, split: str, centre: np.ndarray, n: int) -> None:
        for i in range(n):
            rows.append(LosoRow(f"{source}-{split}-{i}", harmful, source, split))
            vectors.append(centre + rng.normal(0, 0.3, 4))

    origin = np.zeros(4)
    for split in ("train", "val", "test"):
        add("benign", False, split, origin, n_everyday)
    add("alike_a", True, "train", np.array([3.0, 0, 0, 0]), 150)
    add("alike_b", True, "train", np.array([3.0, 0, 0, 0]), 150)
    add("apart", True, "train", np.array([0, 0, 3.0, 0]), 150)
    return rows, np.array(vectors)


def test_a_source_is_caught_only_where_the_others_teach_its_kind_of_harm():
    rows, vectors = _toy()
    result = leave_one_source_out(rows, vectors, flagged=0.02)
    folds = result["folds"]
    assert set(folds) == {"alike_a", "alike_b", "apart"}  # harmful sources only
    assert folds["alike_a"]["recall"] > 0.95 and folds["alike_b"]["recall"] > 0.95
    assert folds["apart"]["recall"] < 0.2
    assert result["worst"] == "apart"
    assert result["mean_recall"] == pytest.approx(
        np.mean([f["recall"] for f in folds.values()]), abs=1e-4
    )
    for fold in folds.values():  # the budget is set on validation and holds on test
        assert fold["everyday_test_flagged"] <= 0.05


def test_vectors_are_embedded_once_and_come_back_in_the_texts_order(tmp_path, monkeypatch):
    embedded: list[str] = []

    def fake_encoder(name, classifiers_dir=None):
        def embed(texts):
            embedded.extend(texts)
            return np.array([[len(t), ord(t[0])] for t in texts], dtype=np.float32)

        return embed

    monkeypatch.setattr(loso, "encoder", fake_encoder)
    first = features("minilm", ["bb", "a", "ccc"], cache=tmp_path, progress=False)
    assert first.tolist() == [[2, 98], [1, 97], [3, 99]]
    again = features("minilm", ["ccc", "dddd", "a"], cache=tmp_path, progress=False)
    assert again.tolist() == [[3, 99], [4, 100], [1, 97]]
    assert sorted(embedded) == ["a", "bb", "ccc", "dddd"]  # "a" and "ccc" came from the cache


def test_rows_come_from_the_checkout_with_one_row_per_text():
    rows = loso_rows()
    sources = {r.source for r in rows if r.harmful}
    assert {"aart", "multijail", "do_not_answer", "gptfuzz", "synthetic"} <= sources
    assert len({r.text for r in rows}) == len(rows)
    assert any(r.source == "benign" and r.split == "val" for r in rows)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside the checkout")
def test_the_shared_folder_adds_sources_never_trained_on():
    sources = {r.source for r in loso_rows(SHARED) if r.harmful}
    assert sources >= loso.NEVER_TUNED_ON


def test_a_left_out_family_is_scored_on_both_its_harmful_and_benign_payloads():
    rows, vectors = _toy()
    rng = np.random.default_rng(1)
    template = np.array([0, 0, 0, 3.0])  # the family's wrapper, on benign and harmful alike
    extra, extra_vectors = [], []
    for family in ("seen", "unseen"):
        for harmful in (True, False):
            for i in range(60):
                centre = template + (np.array([3.0, 0, 0, 0]) if harmful else 0)
                extra.append(
                    LosoRow(f"{family}{harmful}{i}", harmful, "synthetic", "train", family)
                )
                extra_vectors.append(centre + rng.normal(0, 0.3, 4))
    rows, vectors = rows + extra, np.vstack([vectors, extra_vectors])
    result = loso.leave_one_family_out(rows, vectors, flagged=0.02)
    assert set(result["folds"]) == {"seen", "unseen"}  # "none" is no family
    fold = result["folds"]["unseen"]
    assert (fold["harmful"], fold["benign"]) == (60, 60)
    assert fold["recall"] > 0.9  # "seen" taught that the wrapper alone is not harm
    assert fold["benign_flagged"] < 0.1
    assert result["worst_benign_flagged"] == max(
        f["benign_flagged"] for f in result["folds"].values()
    )


def test_wrapped_rows_train_but_are_never_judged():
    rows, vectors = _toy()
    wrapped = [LosoRow(f"w{i}", True, "apart", "train", "wrap", added=True) for i in range(50)]
    far = np.tile([0, 0, 3.0, 0], (50, 1))  # the "apart" kind of harm, now taught by wrapped rows
    result = leave_one_source_out(rows + wrapped, np.vstack([vectors, far]))
    assert result["folds"]["apart"]["rows"] == 150  # judged: the unwrapped rows only
    families = loso.leave_one_family_out(rows + wrapped, np.vstack([vectors, far]))
    assert "wrap" not in families["folds"]  # a family of wrapped rows only is no fold


@pytest.mark.parametrize("head", ["logistic", "mlp"])
def test_a_row_weighted_zero_teaches_the_head_nothing(head):
    rows, vectors = _toy()
    taught = [LosoRow(f"t{i}", True, "extra", "train", added=True) for i in range(150)]
    far = np.tile([0, 0, 3.0, 0], (150, 1))  # teaches the "apart" kind of harm
    both, stacked = rows + taught, np.vstack([vectors, far])
    left_out = loso.left_out_by(source="apart")
    apart = stacked[[i for i, r in enumerate(both) if r.source == "apart"]]
    weighted = np.array([0.0 if r.added else 1.0 for r in both])
    assert loso.fold_head(both, stacked, left_out, head=head).flags(apart).mean() > 0.9
    unweighted = loso.fold_head(both, stacked, left_out, weights=weighted, head=head)
    assert unweighted.flags(apart).mean() < 0.2


def test_joined_views_stack_each_view_cached_on_its_own(tmp_path, monkeypatch):
    def fake_encoder(name, classifiers_dir=None):
        return lambda texts: np.array([[len(t)] if name == "minilm" else [-1, -2] for t in texts])

    monkeypatch.setattr(loso, "encoder", fake_encoder)
    both = features("minilm+e5", ["ab", "c"], cache=tmp_path, progress=False)
    assert both.tolist() == [[2, -1, -2], [1, -1, -2]]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{loso.E5_CACHE}.npz", "minilm.npz"]


def test_everyday_prompts_in_other_languages_are_counted_apart():
    rows, vectors = _toy()
    french = [LosoRow(f"fr{i}", False, "benign", "test", lang="fr") for i in range(20)]
    near_harm = np.tile([3.0, 0, 0, 0], (20, 1))  # everyday French that reads as harm
    result = leave_one_source_out(rows + french, np.vstack([vectors, near_harm]))
    assert result["everyday_test_other_languages"] == 20
    fold = result["folds"]["alike_a"]
    assert fold["everyday_test_other_languages_flagged"] == 1.0
    assert fold["everyday_test_flagged"] < 0.1  # 20 of 420 everyday test prompts


def test_an_mlp_head_catches_harm_a_linear_head_cannot_separate():
    """Harm at both ends of one axis, everyday prompts between: no single hyperplane."""
    rng = np.random.default_rng(0)
    rows, vectors = [], []
    for split in ("train", "val", "test"):
        for i in range(300):
            rows.append(LosoRow(f"everyday-{split}-{i}", False, "benign", split))
            vectors.append([rng.normal(0, 0.4), rng.normal(0, 1)])
    for source, centre in (("low", -3.0), ("high", 3.0), ("also_high", 3.0)):
        for i in range(150):
            rows.append(LosoRow(f"{source}-{i}", True, source, "train"))
            vectors.append([rng.normal(centre, 0.4), rng.normal(0, 1)])
    array = np.array(vectors)
    held = np.array([i for i, r in enumerate(rows) if r.harmful])
    linear = loso.fold_head(rows, array, lambda r: False)
    mlp = loso.fold_head(rows, array, lambda r: False, head="mlp")
    assert linear.flags(array[held]).mean() < 0.7
    assert mlp.flags(array[held]).mean() > 0.95


def test_an_unknown_head_is_a_config_error():
    rows = [LosoRow("a", True, "x", "train"), LosoRow("b", False, "benign", "val")]
    with pytest.raises(ConfigError, match="unknown head 'forest'; choose one of logistic, mlp"):
        loso.fold_head(rows, np.zeros((2, 2)), lambda r: False, head="forest")
