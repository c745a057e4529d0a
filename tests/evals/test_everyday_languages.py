"""Everyday prompts flagged by language with the language held out, and XSafety's commonsense
questions flagged by language."""

import json

import numpy as np

from refusalkit.evals.everyday_languages import commonsense_flagged, everyday_held_out_by_language
from refusalkit.evals.loso import LosoRow, fold_head

FOREIGN = np.array([0, 2.0, 0])
HARM = np.array([2.0, 0, 0])


def _rows() -> tuple[list[LosoRow], np.ndarray]:
    """English everyday prompts and harm; harm and a few everyday prompts in language xx."""
    rng = np.random.default_rng(0)
    rows, vectors = [], []
    for split in ("train", "val", "test"):
        for i in range(300):
            rows.append(LosoRow(f"everyday-{split}-{i}", False, "benign", split))
            vectors.append(rng.normal(0, 0.3, 3))
        for i in range(30):
            rows.append(LosoRow(f"xx-everyday-{split}-{i}", False, "benign", split, lang="xx"))
            vectors.append(FOREIGN + rng.normal(0, 0.3, 3))
    for i in range(200):
        rows.append(LosoRow(f"harm-{i}", True, "harm", "train"))
        vectors.append(HARM + rng.normal(0, 0.3, 3))
        rows.append(LosoRow(f"xx-harm-{i}", True, "xx_harm", "train", lang="xx"))
        vectors.append(HARM / 4 + FOREIGN + rng.normal(0, 0.3, 3))
    return rows, np.array(vectors)


def test_a_held_out_language_is_neither_learned_nor_thresholded_and_every_prompt_is_judged():
    rows, vectors = _rows()
    seen: list[list[LosoRow]] = []

    def make_fit(fold_rows):
        seen.append(fold_rows)
        return lambda left_out: fold_head(fold_rows, vectors, left_out)

    result = everyday_held_out_by_language(rows, vectors, make_fit)
    assert list(result["languages"]) == ["xx"]
    assert result["languages"]["xx"]["prompts"] == 90  # every split
    # with its everyday prompts held out, xx reads as harm; with them learned it did not
    assert result["languages"]["xx"]["flagged"] > 0.5
    assert not any(r.source == "benign" and r.lang == "xx" for r in seen[0])
    learned = fold_head(rows, vectors, lambda r: False)
    xx_test = [i for i, r in enumerate(rows) if r.lang == "xx" and r.source == "benign"]
    assert learned.flags(vectors[xx_test]).mean() < result["languages"]["xx"]["flagged"]


class _Head:
    def flags(self, vectors: np.ndarray) -> np.ndarray:
        return vectors[:, 0] > 0


def test_commonsense_questions_are_judged_per_language_and_other_topics_are_not(tmp_path):
    rows = [
        {"prompt": "p1", "lang": "en", "topic": "commonsense", "row": 0},
        {"prompt": "p2", "lang": "en", "topic": "commonsense", "row": 1},
        {"prompt": "q1", "lang": "fr", "topic": "commonsense", "row": 0},
        {"prompt": "p3", "lang": "en", "topic": "Insult", "row": 0},
    ]
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "xsafety.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    def embed(texts):
        return np.array([[1.0] if t in ("p1", "p3") else [-1.0] for t in texts])

    assert commonsense_flagged(_Head(), embed, tmp_path) == {"en": 0.5, "fr": 0.0}  # type: ignore[arg-type]
