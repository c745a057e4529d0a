"""SelfAware's questions for the refusal-token model: one reviewed table of cannot categories."""

from collections import Counter

import pytest

from refusalkit.datasets.selfaware import (
    DEFAULT_CATEGORY,
    SELFAWARE_RULES,
    selfaware_category,
    selfaware_rows,
)
from refusalkit.steer.data import STEER_CATEGORIES
from refusalkit.taxonomy import BY_ID


@pytest.mark.parametrize(
    ("question", "category"),
    [
        ("Would you rather be able to fly or be invisible?", "subjectivity"),
        ("Is it right to kill in the name of protecting your loved ones?", "subjectivity"),
        (
            "Paul had 3 toys. If he received several more, how many toys does he have now?",
            "missing_context",
        ),
        ("How did you arrive at this point in your life?", "missing_identity"),
        ("Who built Stonehenge?", DEFAULT_CATEGORY),
        ("Will humans destroy themselves?", DEFAULT_CATEGORY),
    ],
)
def test_the_table_names_each_kind_of_unanswerable_question(question, category):
    assert selfaware_category(question) == category


def test_every_category_in_the_table_is_a_cannot_category_the_model_steers():
    for category in {c for _, c in SELFAWARE_RULES} | {DEFAULT_CATEGORY}:
        assert BY_ID[category].group == "cannot"
        assert category in STEER_CATEGORIES


def test_rows_keep_self_contained_questions_and_split_by_question():
    rows = selfaware_rows()
    categories = Counter(r["category"] for r in rows)
    # 1,030 unanswerable questions; of the answerable, TriviaQA's and HotpotQA's (850), not SQuAD's
    assert sum(n for c, n in categories.items() if c is not None) == 1030
    assert categories[None] == 850
    assert not any("Who served his dinner" in r["prompt"] for r in rows)
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    assert Counter(r["split"] for r in rows)["train"] > 0.7 * len(rows)


def test_selfaware_joins_the_steer_mix_only_when_switched_on(monkeypatch):
    import random

    from refusalkit.steer import data

    def examples(on: bool) -> list:
        monkeypatch.setattr(data, "TRAIN_ON_SELFAWARE", on)
        return data.public_examples(random.Random(0))

    off, on = examples(False), examples(True)
    assert not any(e.source == "selfaware" for e in off)
    added = [e for e in on if e.source == "selfaware"]
    assert len(added) == sum(data.SELFAWARE_CAP.values())
    assert {e.token for e in added} - {data.RESPOND} <= set(data.STEER_CATEGORIES)
    assert [e for e in on if e.source != "selfaware"] == off  # the other draws are unchanged
    monkeypatch.setattr(data, "TRAIN_ON_SELFAWARE", False)
    assert data.public_examples(random.Random(0), selfaware=True) == on  # `steer train --selfaware`


def test_bench_reads_selfaware_test_split_once_a_model_trained_on_it(tmp_path):
    import json
    from types import SimpleNamespace

    from refusalkit.datasets.public import prompt_group, split_of
    from refusalkit.evals.steer import _selfaware

    questions = [f"What will question {i} be answered with?" for i in range(200)]
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "selfaware.jsonl").write_text(
        "".join(
            json.dumps({"prompt": q, "answerable": i % 2 == 0}) + "\n"
            for i, q in enumerate(questions)
        )
    )
    seen: list[str] = []

    def decide(prompts):
        seen.extend(prompts)
        return [SimpleNamespace(refused=False, token="[respond]") for _ in prompts]

    def read(sources: dict) -> dict | None:
        seen.clear()
        return _selfaware(SimpleNamespace(meta={"sources": sources}, decide=decide), tmp_path, 0)

    untouched = read({"benign": 10})
    assert untouched is not None and len(seen) == 200 and untouched["split"].startswith("all")
    trained = read({"selfaware": 800})
    test = {q for q in questions if split_of(prompt_group(q)) == "test"}
    assert trained is not None and trained["split"] == "test"
    assert seen and set(seen) == test
