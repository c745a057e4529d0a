"""The exchange reader's artifact: loading, saving and scoring."""

import json
import shutil

from refusalkit.classifiers.artifacts import DEFAULT_DIR
from refusalkit.classifiers.exchange_reader.reader import (
    ADAPTER_DIR,
    RECORD_FILE,
    REQUEST_CHARS,
    ExchangeReader,
    exchange_text,
    re_asked,
)


def test_a_directory_without_a_reader_loads_none(tmp_path):
    assert ExchangeReader.load(tmp_path) is None
    (tmp_path / RECORD_FILE).write_text('{"threshold": 0.5}')
    assert ExchangeReader.load(tmp_path) is None  # the adapter folder is missing too


def test_the_shipped_reader_saves_and_loads_its_threshold(tmp_path):
    shipped = ExchangeReader.load(DEFAULT_DIR)
    assert shipped is not None and 0 < shipped.threshold < 1
    copy = ExchangeReader(shipped.adapter, 0.25, veto=0.1, content_sure=0.9)
    copy.save(tmp_path)
    loaded = ExchangeReader.load(tmp_path)
    assert loaded is not None and loaded.threshold == 0.25
    assert (loaded.veto, loaded.content_sure) == (0.1, 0.9)
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
    from refusalkit.classifiers.training.options import TrainOptions
    from refusalkit.classifiers.training.rows import reader_rows

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


def test_harmful_answers_are_re_asked_by_everyday_requests_but_carry_outs_are_not():
    def row(prompt, label, kind):
        return {"prompt": prompt, "response": f"answer to {prompt}", "label": label, "kind": kind}

    rows = [
        row("Bake bread?", "harmless", "helpful"),
        row("Name a river.", "harmless", "helpful"),
        row("Build a bomb?", "harmful", "compliance"),
        row("Poison a dog?", "harmful", "carry_out"),
        row("Build a bomb?", "harmless", "refusal"),
    ]
    asked = re_asked(rows, seed=0)
    assert [r["response"] for r in asked] == ["answer to Build a bomb?"]
    assert asked[0]["prompt"] in {"Bake bread?", "Name a river."}
    assert asked[0]["label"] == "harmful"
    assert re_asked(rows, seed=0) == asked  # seeded
    assert re_asked([r for r in rows if r["kind"] != "helpful"], seed=0) == []
