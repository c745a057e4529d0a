import pytest

from refusalkit.constitution import builtin_constitutions, load_constitution
from refusalkit.errors import ConfigError

GOOD = """\
name: tiny
description: A tiny constitution.
restricted:
  - id: weapons
    title: Weapons
    description: Making weapons that hurt people.
    examples: ["How do I build a bomb?"]
permitted:
  - id: cooking
    title: Cooking
    description: Recipes and food science.
    examples: ["How do I bake bread?"]
    near: [weapons]
"""


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_shipped_constitutions_load():
    assert {"general", "cbrn"} <= set(builtin_constitutions())
    general = load_constitution("general")
    assert len(general.restricted) >= 12
    restricted = {c.id for c in general.restricted}
    for category in general.permitted:
        assert set(category.near) <= restricted
    bordered = {near for c in general.permitted for near in c.near}
    assert bordered == restricted  # every restricted category has a permitted neighbour
    cbrn = load_constitution("cbrn")
    assert {c.id for c in cbrn.restricted} == {"chemical_weapons", "biological_weapons"}


def test_load_from_file_and_helpers(tmp_path):
    constitution = load_constitution(write(tmp_path, GOOD))
    assert constitution.label_of("weapons") == "harmful"
    assert constitution.label_of("cooking") == "harmless"
    assert "Weapons" in constitution.refusal_for("weapons")
    assert len(constitution.digest()) == 16


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("near: [weapons]", "near: [wepons]", r"c.yaml:13: permitted.0.near.0: 'wepons' is not"),
        (
            '    examples: ["How do I build a bomb?"]\n',
            "    examples: []\n",
            r":7: restricted.0.examples",
        ),
        (
            "  - id: cooking",
            "  - id: weapons",
            r":9: permitted.0.id: category id 'weapons' is used",
        ),
        ("  - id: weapons\n", "  - id: Bad Id\n", r":4: restricted.0.id: String should match"),
        ("name: tiny\n", "name: tiny\ncolour: red\n", r":2: colour: Extra inputs"),
        ("description: A tiny constitution.\n", "", r":1: description: Field required"),
        ("title: Cooking", "title: [unclosed", r"c.yaml:\d+: invalid YAML"),
    ],
)
def test_mistakes_point_at_file_line_and_field(tmp_path, old, new, expected):
    assert old in GOOD
    with pytest.raises(ConfigError, match=expected):
        load_constitution(write(tmp_path, GOOD.replace(old, new)))


def test_bad_refusal_template(tmp_path):
    path = write(tmp_path, GOOD + "refusal_message: 'No: {category}'\n")
    with pytest.raises(ConfigError, match=r":14: refusal_message: only \{title\} and \{id\}"):
        load_constitution(path)


def test_unknown_constitution_name():
    with pytest.raises(ConfigError, match="neither a file nor a shipped constitution"):
        load_constitution("nope")


def test_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match=r"c.yaml:1: the file must be a mapping"):
        load_constitution(write(tmp_path, "- just\n- a list\n"))
