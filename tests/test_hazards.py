"""The category map (hazards.py): constitution harms ↔ MLCommons hazards ↔ refusal taxonomy."""

from refusalkit.constitution import builtin_constitutions, load_constitution
from refusalkit.hazards import (
    HARMS,
    HAZARD_HARMS,
    MLCOMMONS_HAZARDS,
    harm_of,
    hazards_of,
    refusal_category_of,
)
from refusalkit.taxonomy import BY_ID
from refusalkit.verdict import Verdict


def test_every_built_in_harm_is_mapped_to_real_ids():
    harms = {c.id for name in builtin_constitutions() for c in load_constitution(name).restricted}
    assert harms <= set(HARMS), harms - set(HARMS)
    for harm, mapping in HARMS.items():
        assert mapping.hazards and set(mapping.hazards) <= set(MLCOMMONS_HAZARDS), harm
        assert BY_ID[mapping.refusal_category].group == "should_not", harm


def test_hazards_map_back_to_harms_that_name_them():
    assert set(HAZARD_HARMS) == set(MLCOMMONS_HAZARDS) == {f"S{i}" for i in range(1, 15)}
    for hazard, harm in HAZARD_HARMS.items():
        if harm is not None:
            assert hazard in hazards_of(harm), (hazard, harm)
    assert harm_of(("S6", "S9")) == "cbrn_weapons"  # the first hazard that means a harm
    assert harm_of(("S8",)) is None
    assert refusal_category_of("privacy_doxxing") == "privacy"


def test_a_flag_carries_the_hazards_of_its_harm_unless_a_judge_named_them():
    assert Verdict("input", True, 0.9, "explosives_weapons", 0.5).hazards == ("S9",)
    assert Verdict("input", False, 0.1, "explosives_weapons", 0.5).hazards == ()
    judged = Verdict("input", True, 1.0, "fraud_scams", 0.5, hazards=("S2", "S14"))
    assert judged.hazards == ("S2", "S14")
    assert judged.as_dict()["hazards"] == ["S2", "S14"]
    assert "hazards" not in Verdict("input", False, 0.1, None, 0.5).as_dict()
