import json
from pathlib import Path

import pytest

from refusalkit import taxonomy

ROOT = Path(__file__).resolve().parents[1]


def test_sixteen_categories_with_stable_ids_and_groups():
    assert len(taxonomy.CATEGORIES) == 16
    assert len(taxonomy.BY_ID) == 16
    groups = {c.id: c.group for c in taxonomy.CATEGORIES}
    assert [k for k, g in groups.items() if g == "should_not"] == [
        "chain_of_command",
        "legal_compliance",
        "information_hazards",
        "intellectual_property",
        "privacy",
        "nsfw",
    ]
    assert sum(g == "cannot" for g in groups.values()) == 9
    assert groups["unclassified"] == "none"


def test_unknown_id_names_the_known_ones():
    with pytest.raises(KeyError, match="known: chain_of_command"):
        taxonomy.category("nope")


def test_coconot_mapping_targets_exist():
    assert set(taxonomy.COCONOT_MAP.values()) <= set(taxonomy.BY_ID)
    assert taxonomy.from_coconot("False presuppositions") == "invalid_premise"
    assert taxonomy.from_coconot("wildchats") is None


def test_coconot_eval_subcategories_are_covered_where_the_design_says():
    path = ROOT.parent / "shared" / "data" / "coconot" / "coconot_eval.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared evaluation data is not beside this checkout)")
    with path.open() as handle:
        subcategories = {json.loads(line)["subcategory"] for line in handle}
    unmapped = {s for s in subcategories if taxonomy.from_coconot(s) is None}
    assert unmapped == {"misinformation", "wildchats"}


def test_docs_are_generated_from_the_module():
    assert (ROOT / "docs" / "taxonomy.md").read_text() == taxonomy.render_markdown()
