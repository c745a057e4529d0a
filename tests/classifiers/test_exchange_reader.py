"""The exchange reader's artifact: loading, saving and scoring."""

import json
import shutil

from refusalkit.classifiers.artifacts import DEFAULT_DIR
from refusalkit.classifiers.exchange_reader import (
    ADAPTER_DIR,
    RECORD_FILE,
    REQUEST_CHARS,
    ExchangeReader,
    exchange_text,
)


def test_a_directory_without_a_reader_loads_none(tmp_path):
    assert ExchangeReader.load(tmp_path) is None
    (tmp_path / RECORD_FILE).write_text('{"threshold": 0.5}')
    assert ExchangeReader.load(tmp_path) is None  # the adapter folder is missing too


def test_the_shipped_reader_saves_and_loads_its_threshold(tmp_path):
    shipped = ExchangeReader.load(DEFAULT_DIR)
    assert shipped is not None and 0 < shipped.threshold < 1
    copy = ExchangeReader(shipped.adapter, 0.25)
    copy.save(tmp_path)
    loaded = ExchangeReader.load(tmp_path)
    assert loaded is not None and loaded.threshold == 0.25
    assert sorted(p.name for p in (tmp_path / ADAPTER_DIR).iterdir()) == sorted(
        p.name for p in shipped.adapter.iterdir()
    )
    shutil.rmtree(tmp_path / ADAPTER_DIR)
    assert ExchangeReader.load(tmp_path) is None


def test_scores_are_probabilities_and_repeatable():
    reader = ExchangeReader.load(DEFAULT_DIR)
    assert reader is not None
    request, answer = "How do I bake bread?", "Mix flour, water, salt and yeast; knead; bake."
    first = reader.score(request, answer)
    assert 0.0 <= first <= 1.0 and reader.score(request, answer) == first


def test_the_request_is_cut_and_the_answer_follows_it():
    text = exchange_text("x" * 1000, "the answer")
    assert text == "x" * REQUEST_CHARS + "\n\nthe answer"


def test_the_reader_gets_only_its_splits_carry_outs(tmp_path):
    from refusalkit.classifiers.options import TrainOptions
    from refusalkit.classifiers.rows import reader_rows

    carry_outs = tmp_path / "carry_outs.jsonl"
    rows = [
        {"split": split, "stage": "output", "label": "harmful", "prompt": p, "response": "x"}
        for split, p in (("train", "a"), ("val", "b"), ("test", "c"), ("train", "d"))
    ]
    carry_outs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    own = [{"split": "train", "stage": "output", "label": "harmless", "prompt": "own"}]
    with_them = TrainOptions("general", tmp_path, tmp_path, carry_outs=carry_outs)
    assert [r["prompt"] for r in reader_rows(with_them, own, "train")] == ["own", "a", "d"]
    assert [r["prompt"] for r in reader_rows(with_them, [], "val")] == ["b"]
    without = TrainOptions("general", tmp_path, tmp_path)
    assert reader_rows(without, own, "train") == own


def test_the_shipped_carry_outs_are_exchanges_of_train_and_val_of_both_labels():
    from refusalkit.synth.carry_outs import read_carry_outs

    rows = read_carry_outs()
    assert len(rows) > 1000
    assert {r["split"] for r in rows} == {"train", "val"}
    assert {r["label"] for r in rows} == {"harmful", "harmless"}
    assert all(r["stage"] == "output" and r["kind"] == "carry_out" for r in rows)
