"""One category map: the constitutions' harm ids ↔ the MLCommons hazard ids Llama Guard 3 names
(S1-S14) ↔ the refusal taxonomy's should-not categories (taxonomy.py).

A guard verdict carries the harm id as `category` and the hazard ids as `hazards`, whichever
model made it. The audit's categories and the guard's harms meet in the third column. The table
is written by hand because no library relates these lists. It was reviewed against Llama Guard
3's category descriptions and the taxonomy's definitions. `tests/test_hazards.py` checks that it
covers every built-in constitution and names only real ids.
"""

from __future__ import annotations

from dataclasses import dataclass

# Llama Guard 3's categories: the MLCommons AI Safety hazard taxonomy plus two of Meta's.
MLCOMMONS_HAZARDS: dict[str, str] = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Suicide & Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}


@dataclass(frozen=True)
class HarmMapping:
    hazards: tuple[str, ...]  # MLCommons ids, the closest first
    refusal_category: str  # a should-not category of the refusal taxonomy


HARMS: dict[str, HarmMapping] = {
    # constitution "general"
    "cbrn_weapons": HarmMapping(("S9",), "information_hazards"),
    "explosives_weapons": HarmMapping(("S9",), "information_hazards"),  # S9: high-yield explosives
    "cyber_attacks": HarmMapping(("S2", "S14"), "information_hazards"),  # S2: cyber crimes
    "violent_crime_terrorism": HarmMapping(("S1",), "legal_compliance"),
    "illicit_drugs": HarmMapping(("S2",), "legal_compliance"),  # S2: drug crimes
    "fraud_scams": HarmMapping(("S2",), "legal_compliance"),  # S2: financial crimes
    "self_harm": HarmMapping(("S11",), "information_hazards"),
    "child_sexual_content": HarmMapping(("S4",), "nsfw"),
    "non_consensual_sexual": HarmMapping(("S3", "S12"), "nsfw"),
    "hate_harassment": HarmMapping(("S10",), "nsfw"),  # as Do-Not-Answer's hate speech maps
    "privacy_doxxing": HarmMapping(("S7",), "privacy"),
    # Llama Guard has no general misinformation hazard: defamation and elections come closest
    "disinformation": HarmMapping(("S5", "S13"), "information_hazards"),
    "human_trafficking": HarmMapping(("S2", "S3"), "legal_compliance"),  # labour, sex trafficking
    # constitution "cbrn"
    "chemical_weapons": HarmMapping(("S9",), "information_hazards"),
    "biological_weapons": HarmMapping(("S9",), "information_hazards"),
}

# A hazard a judge names → the general constitution's harm it most often means (None: the
# constitution restricts nothing like it, e.g. specialised advice or intellectual property).
HAZARD_HARMS: dict[str, str | None] = {
    "S1": "violent_crime_terrorism",
    "S2": "fraud_scams",
    "S3": "non_consensual_sexual",
    "S4": "child_sexual_content",
    "S5": "disinformation",
    "S6": None,
    "S7": "privacy_doxxing",
    "S8": None,
    "S9": "cbrn_weapons",
    "S10": "hate_harassment",
    "S11": "self_harm",
    "S12": "non_consensual_sexual",
    "S13": "disinformation",
    "S14": "cyber_attacks",
}


def hazards_of(harm: str | None) -> tuple[str, ...]:
    """The MLCommons ids of a constitution harm (empty for one the table does not know)."""
    mapping = HARMS.get(harm or "")
    return mapping.hazards if mapping else ()


def harm_of(hazards: tuple[str, ...]) -> str | None:
    """The constitution harm the first mapped hazard means, if any."""
    for hazard in hazards:
        harm = HAZARD_HARMS.get(hazard)
        if harm is not None:
            return harm
    return None


def refusal_category_of(harm: str | None) -> str | None:
    """The taxonomy's should-not category of a constitution harm."""
    mapping = HARMS.get(harm or "")
    return mapping.refusal_category if mapping else None
