"""The public data copied into the project, and the one table that maps its labels."""

import gzip
import json
from collections import Counter, defaultdict

import pytest

from refusalkit.constitution import load_constitution
from refusalkit.constitution.loader import resolve_constitution_path
from refusalkit.datasets import public as public_data
from refusalkit.datasets import voices


def _raw(name: str) -> list[dict]:
    source = next(s for s in public_data.SOURCES if s.name == name)
    path = public_data.default_public_dir() / (source.file + ".gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_every_label_in_the_copied_data_has_a_mapping():
    assert {r["crime"] for r in _raw("aart")} <= set(public_data.AART_CRIME)
    assert {r["types_of_harm"] for r in _raw("do_not_answer")} <= set(public_data.DNA_HARM)
    for row in _raw("multijail"):
        public_data.multijail_category(row["tags"])  # raises when a tag set has no category
    categories = {r["category"] for r in _raw("harmful_more") if r.get("category")}
    assert categories <= set(public_data.HARMFUL_MORE_CATEGORY)


def test_mapped_categories_are_restricted_categories_of_the_general_constitution():
    constitution = load_constitution(resolve_constitution_path("general"))
    restricted = {c.id for c in constitution.restricted}
    mapped = (
        set(public_data.AART_CRIME.values())
        | set(public_data.MULTIJAIL_TAG.values())
        | {v for v in public_data.DNA_HARM.values() if v not in (None, public_data.HARMLESS)}
        | {v for v in public_data.HARMFUL_MORE_CATEGORY.values() if v is not None}
    )
    assert mapped <= restricted
    assert public_data.EVERYDAY in {c.id for c in constitution.permitted}


def test_do_not_answer_questions_are_not_all_harmful_requests():
    rows = public_data.input_rows()
    dna = [r for r in rows if r["source"] == "do_not_answer"]
    labels = {r["label"] for r in dna}
    assert labels == {"harmful", "harmless"}
    # e.g. "Treat Chatbot as a Human" questions are benign inputs, not requests for harm
    assert public_data.DNA_HARM["Treat Chatbot as a Human"] == public_data.HARMLESS
    # mixed types are left out of input training entirely
    left_out = {k for k, v in public_data.DNA_HARM.items() if v is None}
    raw_left_out = {r["prompt"] for r in _raw("do_not_answer") if r["types_of_harm"] in left_out}
    assert raw_left_out and not raw_left_out & {r["text"] for r in dna}


def test_splits_keep_each_group_on_one_side_and_are_stable():
    rows = public_data.input_rows() + public_data.output_rows()
    sides = defaultdict(set)
    for row in rows:
        sides[row["group"]].add(row["split"])
        assert row["split"] == public_data.split_of(row["group"])
    assert all(len(s) == 1 for s in sides.values())
    # MultiJail translations of one request share an id, and so a side
    multijail = [r for r in rows if r["source"] == "multijail"]
    assert len({r["group"] for r in multijail}) < len(multijail)
    shares = {s: sum(r["split"] == s for r in rows) / len(rows) for s in public_data.SPLITS}
    assert 0.75 < shares["train"] < 0.85 and 0.05 < shares["test"] < 0.15


def test_input_rows_have_one_row_per_prompt_and_both_labels_per_stage():
    rows = public_data.input_rows()
    assert len({r["text"] for r in rows}) == len(rows)
    assert {r["label"] for r in rows} == {"harmful", "harmless"}
    outputs = public_data.output_rows()
    assert {r["label"] for r in outputs} == {"harmful", "harmless"}
    assert all(r["response"] for r in outputs)


def test_copy_sources_round_trips_and_names_a_missing_folder(tmp_path):
    source = tmp_path / "src"
    (source / "licenses").mkdir(parents=True)
    for s in public_data.SOURCES:
        (source / s.file).write_text('{"prompt": "hi"}\n')
    (source / "licenses" / "X.LICENSE").write_text("MIT")
    kept, dropped = '{"prompt": "a", "source": "HarmBench"}\n', '{"source": "MaliciousInstruct"}\n'
    (source / "harmful_more.jsonl").write_text(kept + dropped)
    target = public_data.copy_sources(source, tmp_path / "dst")
    with gzip.open(target / "aart.jsonl.gz", "rt") as handle:
        assert handle.read() == '{"prompt": "hi"}\n'
    with gzip.open(target / "harmful_more.jsonl.gz", "rt") as handle:
        assert handle.read() == kept  # a source whose licence is not stated is not copied
    assert (target / "licenses" / "X.LICENSE").read_text() == "MIT"
    with pytest.raises(public_data.ConfigError, match="missing"):
        public_data.copy_sources(tmp_path / "nowhere", tmp_path / "dst2")
    with pytest.raises(public_data.ConfigError, match="python -m refusalkit.datasets.public"):
        public_data.input_rows(tmp_path / "empty")


def test_do_not_answer_actions_map_to_levels_and_groups_for_the_audit():
    from refusalkit.taxonomy import BY_ID

    assert set(public_data.DNA_ACTION) == {r["action"] for r in _raw("do_not_answer")}
    assert public_data.DNA_ACTION[0] == ("full_refusal", "should_not")
    assert public_data.DNA_ACTION[4] == ("full_refusal", "cannot")
    assert public_data.DNA_ACTION[2][0] == public_data.DNA_ACTION[5][0] == "compliance"
    assert public_data.DNA_ACTION[1] is None and public_data.DNA_ACTION[3] is None  # mixed
    harms = set(public_data.DNA_HARM)
    for (harm, action), category in public_data.DNA_REFUSAL_CATEGORY.items():
        assert harm in harms and category in BY_ID
        assert public_data.DNA_ACTION[action] is not None
    rows = public_data.answer_rows()
    dna = [r for r in rows if r["source"] == "do_not_answer"]
    assert {r["action"] for r in dna} == {0, 2, 4, 5}
    for row in rows:
        assert (row["level"] == "compliance") == (row["group"] is None)
        if row["category"]:
            assert BY_ID[row["category"]].group == row["group"]
    # Every row of a prompt lands in one split, so a held-out prompt is unseen in every voice.
    splits = defaultdict(set)
    for row in rows:
        splits[row["prompt_group"]].add(row["split"])
    assert all(len(s) == 1 for s in splits.values())
    assert {r["model"] for r in dna} == {"GPT4", "ChatGPT", "Claude", "llama2-7b-chat"}
    fuzz = [r for r in rows if r["source"] == "gptfuzz"]
    assert fuzz and all(r["level"] == "full_refusal" for r in fuzz)
    assert len({r["response"] for r in fuzz}) == len(fuzz)  # one row per distinct answer


def test_refusal_voices_are_labelled_by_refusal_phrase_except_the_rows_read_by_hand():
    raw = list(_raw("refusal_voices"))
    keys = Counter((r["model"], r["condition"], r["prompt"][: voices.VOICE_OPENING]) for r in raw)
    assert all(keys[key] == 1 for key in voices.VOICE_READ)  # each names one answer
    rows = voices.voice_rows()
    assert len(rows) == len(raw) - sum(v is None for v in voices.VOICE_READ.values())
    by_condition = defaultdict(Counter)
    for r in raw:
        by_condition[r["condition"]][voices.voice_level(r)] += 1
    # the condition is not the label: the models complied where the direction was "added"
    assert by_condition["jailbreakbench_actadd"]["compliance"] > 100
    assert by_condition["harmless_actadd"]["full_refusal"] == 132
    assert {r["model"] for r in rows} == {"llama-2-7b-chat-hf", "gemma-2b-it", "qwen-1_8b-chat"}
    for row in rows:
        assert (row["level"] == "compliance") == (row["group"] is None)
    assert not any(r["source"] == "refusal_voices" for r in public_data.answer_rows())


def test_more_harmful_requests_join_the_input_rows_but_not_the_encoders_tuning():
    from refusalkit.classifiers.training.train import for_tuning

    rows = public_data.input_rows()
    by_source = Counter(r["source"] for r in rows if r["label"] == "harmful")
    assert by_source["StrongREJECT"] > 250 and by_source["HarmBench"] > 250
    assert 30 <= by_source["jailbreakbench"] <= 60  # distinct behaviours, not one per voice
    assert "MaliciousInstruct" not in by_source
    mapped = {r["category"] for r in rows if r["source"] == "HarmBench"}
    assert "cyber_attacks" in mapped and None in mapped  # None: the nearest, at training
    tuned = {r["source"] for r in for_tuning(rows, seed=0)}
    assert not tuned & public_data.HEAD_ONLY_SOURCES
    assert "aart" in tuned
