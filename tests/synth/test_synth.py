"""The synth pipeline end to end on the embedded generator, plus its parts."""

import json
import os

import numpy as np
import pytest
from conftest import free_port

from refusalkit.errors import ConfigError, EndpointError, InvalidInputError
from refusalkit.synth import SynthOptions, synthesize
from refusalkit.synth.dedup import drop_exact, drop_near
from refusalkit.synth.rows import Row
from refusalkit.synth.splits import assign_splits, pick_heldout_families
from refusalkit.synth.transforms import FAMILIES

FIELDS = {
    "id",
    "stage",
    "text",
    "prompt",
    "response",
    "label",
    "category",
    "transform",
    "source",
    "split",
}


def read_rows(out):
    rows = []
    for split in ("train", "val", "test"):
        with open(out / f"{split}.jsonl") as handle:
            rows += [json.loads(line) for line in handle]
    return rows


@pytest.fixture(scope="module")
def cbrn_run(cbrn_data):
    return cbrn_data


def test_rows_have_the_documented_fields(cbrn_run):
    out, report = cbrn_run
    rows = read_rows(out)
    assert len(rows) == report.rows
    assert 45 <= len(rows) <= 60
    for row in rows:
        assert set(row) >= FIELDS
        assert row["label"] in {"harmful", "harmless"}
        assert row["source"] in {"generator", "seed", "template"}
        if row["stage"] == "input":
            assert row["text"] == row["prompt"] and row["response"] is None
        else:
            assert row["response"] and row["prompt"] in row["text"]
            assert row["response"] in row["text"]
    assert {r["stage"] for r in rows} == {"input", "output"}
    assert {r["label"] for r in rows} == {"harmful", "harmless"}
    restricted = {"chemical_weapons", "biological_weapons"}
    for row in rows:
        if row["stage"] == "input":
            assert (row["label"] == "harmful") == (row["category"] in restricted)
        if row["label"] == "harmful":
            assert row["category"] in restricted


def test_manifest_counts_and_provenance(cbrn_run):
    out, report = cbrn_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"] == report.rows
    assert manifest["generator"] == "embedded"
    assert manifest["seed"] == 0
    assert len(manifest["constitution_hash"]) == 16
    assert sum(manifest["counts"]["split"].values()) == report.rows
    assert manifest["generator_stats"]["calls"] > 0
    assert 0 <= manifest["dedup"]["near_duplicate_rate"] < 1
    assert report.rows_per_min > 0


def test_heldout_families_never_reach_train(cbrn_run):
    out, _ = cbrn_run
    manifest = json.loads((out / "manifest.json").read_text())
    heldout = set(manifest["heldout_families"])
    assert len(heldout) == 2
    for row in read_rows(out):
        if row["transform_family"] in heldout:
            assert row["split"] != "train"


def test_resume_reuses_generations_and_reproduces_the_rows(cbrn_run, tmp_path):
    out, report = cbrn_run
    before = read_rows(out)
    again = synthesize(
        SynthOptions("cbrn", n=60, out=out, generator="embedded", resume=True, progress=False)
    )
    assert again.manifest["generator_stats"]["calls"] == 0
    assert again.manifest["generator_stats"]["cached"] > 0
    assert read_rows(out) == before
    assert again.rows == report.rows


def test_existing_run_needs_resume_and_same_settings(cbrn_run):
    out, _ = cbrn_run
    with pytest.raises(ConfigError, match="already holds a synth run; pass --resume"):
        synthesize(SynthOptions("cbrn", n=60, out=out, generator="embedded", progress=False))
    with pytest.raises(ConfigError, match=r"different settings \(n\)"):
        synthesize(
            SynthOptions("cbrn", n=70, out=out, generator="embedded", resume=True, progress=False)
        )


def test_n_smaller_than_categories(tmp_path):
    with pytest.raises(InvalidInputError, match="smaller than the constitution's 7 categories"):
        synthesize(SynthOptions("cbrn", n=3, out=tmp_path / "x", generator="embedded"))


def test_unwritable_out_dir(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(ConfigError, match="cannot write to"):
            synthesize(SynthOptions("cbrn", n=10, out=locked / "out", generator="embedded"))
    finally:
        os.chmod(locked, 0o700)


def test_file_in_place_of_out_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot write to"):
        synthesize(SynthOptions("cbrn", n=10, out=blocker / "out", generator="embedded"))


def test_dead_generator_is_reported_and_the_run_resumable(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1#m"
    options = SynthOptions("cbrn", n=30, out=tmp_path / "o", generator=url, progress=False)
    with pytest.raises(EndpointError, match="failed 5 times in a row.*rerun with --resume"):
        synthesize(options)
    assert (tmp_path / "o" / ".work" / "plan.json").is_file()


def make_row(index: int, text: str, transform: str = "none", group: str | None = None) -> Row:
    return Row(
        id=str(index),
        stage="input",
        text=text,
        prompt=text,
        label="harmless",
        category="c",
        transform=transform,
        transform_family=transform,
        source="seed",
        group=group or str(index),
    )


def test_exact_and_near_duplicates():
    rows = [
        make_row(0, "How do I bake bread?"),
        make_row(1, "how do i bake bread"),
        make_row(2, "How do I bake a loaf?", transform="noise"),
        make_row(3, "Something else entirely"),
        make_row(4, "Almost the same as zero"),
    ]
    kept, removed = drop_exact(rows)
    assert removed == 1 and [r.id for r in kept] == ["0", "2", "3", "4"]
    vectors = np.array([[1, 0], [1, 0], [0, 1], [0.999, 0.0447]], dtype=float)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    kept, removed = drop_near(kept, vectors, threshold=0.95)
    # row 2 is near row 0 but under another transform: augmentation, kept
    assert removed == 1 and [r.id for r in kept] == ["0", "2", "3"]


def test_splits_keep_groups_whole():
    rows = [make_row(i, f"t{i}", group=f"g{i % 7}") for i in range(200)]
    split_of = {}
    for row in assign_splits(rows, [], seed=1):
        assert split_of.setdefault(row.group, row.split) == row.split
    heldout = pick_heldout_families(FAMILIES, 2, seed=1)
    assert heldout == pick_heldout_families(FAMILIES, 2, seed=1)
    assert len(set(heldout)) == 2 and "none" not in heldout
    rows = [make_row(i, f"t{i}", transform=heldout[0]) for i in range(50)]
    assert {r.split for r in assign_splits(rows, heldout, seed=1)} == {"val", "test"}


def test_benign_import_adds_harmless_rows_on_top_of_n(tmp_path):
    benign = tmp_path / "benign.jsonl"
    records = [
        {"prompt": "How do chlorine tablets keep a pool clean?"},
        {
            "prompt": "Why is bleach dangerous to mix with vinegar?",
            "chosen": "It releases chlorine.",
        },
        {"prompt": "What does a lab safety officer do?", "response": "They keep labs safe."},
    ]
    benign.write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    out = tmp_path / "o"
    options = SynthOptions(
        "cbrn", n=14, out=out, generator="embedded", benign=[benign], progress=False
    )
    report = synthesize(options)
    imported = [r for r in read_rows(out) if r["source"] == "imported"]
    assert {r["stage"] for r in imported} == {"input", "output"}
    assert sum(r["stage"] == "input" for r in imported) == 3
    assert sum(r["stage"] == "output" for r in imported) == 2
    assert all(r["label"] == "harmless" for r in imported)
    assert {r["category"] for r in imported} == {"everyday_requests"}
    assert report.rows == len(read_rows(out)) <= 14 + 5
    assert report.manifest["counts"]["source"]["imported"] == 5


def test_bad_benign_files_fail_before_any_generation(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/v1#m"

    def run(text: str | None):
        path = tmp_path / "b.jsonl"
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text)
        out = tmp_path / f"o{len(list(tmp_path.iterdir()))}"
        synthesize(SynthOptions("cbrn", n=10, out=out, generator=dead, benign=[path]))

    with pytest.raises(ConfigError, match="no such file"):
        run(None)
    with pytest.raises(InvalidInputError, match=r"b.jsonl:2: not JSON"):
        run('{"prompt": "fine"}\n{oops\n')
    with pytest.raises(
        InvalidInputError, match=r"b.jsonl:1: needs a text `prompt` \(found: text\)"
    ):
        run('{"text": "no prompt field"}\n')


def test_seed_files_merge_from_the_seeds_folder(tmp_path):
    from refusalkit.synth.seeds import load_seeds

    (tmp_path / "seeds" / "c").mkdir(parents=True)
    (tmp_path / "seeds" / "c.yaml").write_text("categories:\n  a:\n    prompts: [one]\n")
    (tmp_path / "seeds" / "c" / "more.yaml").write_text(
        "categories:\n  a:\n    prompts: [two]\n  b:\n    tasks: [three]\n"
    )
    seeds = load_seeds(tmp_path / "seeds" / "c.yaml", {"a", "b"})
    assert seeds.for_category("a").prompts == ["one", "two"]
    assert seeds.for_category("b").tasks == ["three"]
    with pytest.raises(ConfigError, match=r"more.yaml: seeds for categories .* lacks: b"):
        load_seeds(tmp_path / "seeds" / "c.yaml", {"a"})
