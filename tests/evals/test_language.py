"""Language-neutral views: a language read off parallel text is projected out, and a head that
can no longer see it stops flagging everyday prompts in a language whose only training rows
are harmful."""

import json
from pathlib import Path

import numpy as np
import pytest

from refusalkit.errors import ConfigError
from refusalkit.evals.language import (
    language_directions,
    neutral_projection,
    parallel_groups,
    projection_without,
)
from refusalkit.evals.loso import LosoRow, leave_one_source_out

FOREIGN = np.array([0, 0, 0, 2.0])  # where a foreign language moves any text
HARM = np.array([2.0, 0, 0, 0])


def test_the_projection_removes_the_directions_and_keeps_what_is_orthogonal():
    directions = np.array([[1.0, 1, 0, 0], [0, 0, 0, 3]])
    project = projection_without(directions)
    assert np.allclose(directions @ project, 0, atol=1e-6)
    kept = np.array([1.0, -1, 2, 0])
    assert np.allclose(kept @ project, kept, atol=1e-6)


def test_language_directions_are_centroid_offsets_from_english():
    vectors = {"en": np.array([[0.0, 1], [0, 3]]), "fr": np.array([[1.0, 2], [1, 2]])}
    assert np.allclose(language_directions(vectors), [[1.0, 0]])


def _rows() -> tuple[list[LosoRow], np.ndarray]:
    """English everyday prompts, English harm from two sources, and a third source of harm in
    another language: the only foreign rows the head learns from are harmful."""
    rng = np.random.default_rng(0)
    rows, vectors = [], []
    for split in ("train", "val", "test"):
        for i in range(300):
            rows.append(LosoRow(f"everyday-{split}-{i}", False, "benign", split))
            vectors.append(rng.normal(0, 0.3, 4))
        # everyday prompts in the foreign language: a few to learn from, as in the public rows
        for i in range(40 if split == "test" else 5):
            rows.append(LosoRow(f"foreign-everyday-{split}-{i}", False, "benign", split, lang="xx"))
            vectors.append(FOREIGN + rng.normal(0, 0.3, 4))
    # an English view reads little of the foreign harm but its language
    for source, at in (("english_a", HARM), ("english_b", HARM), ("foreign", HARM / 4 + FOREIGN)):
        for i in range(150):
            rows.append(LosoRow(f"{source}-{i}", True, source, "train"))
            vectors.append(at + rng.normal(0, 0.3, 4))
    return rows, np.array(vectors)


def test_a_neutral_view_stops_flagging_everyday_prompts_for_their_language():
    rows, vectors = _rows()
    plain = leave_one_source_out(rows, vectors, sources=["english_a"])
    project = projection_without(language_directions({"en": np.zeros((1, 4)), "xx": FOREIGN[None]}))
    neutral = leave_one_source_out(rows, vectors @ project, sources=["english_a"])
    assert plain["folds"]["english_a"]["everyday_test_other_languages_flagged"] > 0.2
    assert neutral["folds"]["english_a"]["everyday_test_other_languages_flagged"] <= 0.05
    assert neutral["folds"]["english_a"]["recall"] > 0.9


def _xsafety(tmp_path: Path) -> Path:
    train = tmp_path / "train"
    train.mkdir()
    rows = [
        {"prompt": p, "lang": lang, "topic": "Insult", "row": i}
        for lang, prompts in (("en", ["You fool.", "Go away."]), ("fr", ["Idiot.", "Va-t'en."]))
        for i, p in enumerate(prompts)
    ]
    (train / "xsafety.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_parallel_groups_read_xsafety_and_the_projects_mgsm_train_split(tmp_path):
    groups = parallel_groups(_xsafety(tmp_path))
    assert groups["xsafety"] == {"en": ["You fool.", "Go away."], "fr": ["Idiot.", "Va-t'en."]}
    assert {"en", "sw", "ja"} <= set(groups["mgsm"])
    assert all(len(texts) < 60 for texts in groups["mgsm"].values())  # train split only


def test_a_neutral_view_without_xsafety_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="xsafety.jsonl is missing; pass --data-dir"):
        neutral_projection("minilm", tmp_path)
