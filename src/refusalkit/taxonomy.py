"""The 16-category refusal taxonomy ("Cannot or Should Not?", von Recum et al., 2024).

Ids are stable API: audit outputs, steering tokens and reports all use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Group = Literal["should_not", "cannot", "none"]


@dataclass(frozen=True)
class RefusalCategory:
    id: str
    name: str
    group: Group
    definition: str


CATEGORIES: tuple[RefusalCategory, ...] = (
    RefusalCategory("chain_of_command", "Chain of command", "should_not",
                    "The system or developer instructions forbid it."),
    RefusalCategory("legal_compliance", "Legal compliance", "should_not",
                    "It would facilitate illegal activity."),
    RefusalCategory("information_hazards", "Information hazards", "should_not",
                    "The information is dangerous: weapons, CBRN, self-harm methods, malware."),
    RefusalCategory("intellectual_property", "Intellectual property", "should_not",
                    "It would violate copyright or other intellectual-property rights."),
    RefusalCategory("privacy", "Privacy", "should_not",
                    "It would expose or misuse personal information."),
    RefusalCategory("nsfw", "NSFW", "should_not",
                    "It is sexually explicit, gory or otherwise not safe for work."),
    RefusalCategory("modalities", "Modalities", "cannot",
                    "The modality is unsupported: images, audio, browsing, actions."),
    RefusalCategory("skill_level", "Skill level", "cannot",
                    "The task exceeds the model's ability: length, precision, complexity."),
    RefusalCategory("invalid_premise", "Invalid premise", "cannot",
                    "The request rests on a false presupposition."),
    RefusalCategory("missing_context", "Missing context", "cannot",
                    "The request is underspecified or incomprehensible."),
    RefusalCategory("missing_identity", "Missing identity", "cannot",
                    "It asks for a human's feelings, body, experiences or identity."),
    RefusalCategory("subjectivity", "Subjectivity", "cannot",
                    "It asks for a personal opinion on a matter of taste or values."),
    RefusalCategory("knowledge_cutoff", "Knowledge cutoff", "cannot",
                    "It concerns events after the training data."),
    RefusalCategory("unknown_information", "Unknown information", "cannot",
                    "Nobody knows the answer: the future, unknowable facts."),
    RefusalCategory("training_data_limits", "Training data limits", "cannot",
                    "The information is too obscure, private or absent from the training data."),
    RefusalCategory("unclassified", "Unclassified", "none",
                    "A refusal that fits none of the other categories."),
)  # fmt: skip

BY_ID: dict[str, RefusalCategory] = {c.id: c for c in CATEGORIES}

# CoCoNot subcategory (lower case) → taxonomy id. "dangerous or sensitive topics" splits in the
# paper between information_hazards and legal_compliance; information_hazards is the default.
# CoCoNot's "misinformation" and "wildchats" have no single counterpart.
COCONOT_MAP: dict[str, str] = {
    "underspecified": "missing_context",
    "incomprehensible": "missing_context",
    "false presuppositions": "invalid_premise",
    "universal unknowns": "unknown_information",
    "subjective questions": "subjectivity",
    "input modality limitations": "modalities",
    "output modality limitations": "modalities",
    "style and length limitations": "skill_level",
    "temporal limitations": "knowledge_cutoff",
    "personal inquiry": "missing_identity",
    "offer advice, opinion or recommendations": "missing_identity",
    "privacy violations": "privacy",
    "copyright violations": "intellectual_property",
    "dangerous or sensitive topics": "information_hazards",
    "triggers for offensive language": "nsfw",
}


def category(category_id: str) -> RefusalCategory:
    try:
        return BY_ID[category_id]
    except KeyError:
        raise KeyError(
            f"unknown refusal category {category_id!r}; known: {', '.join(BY_ID)}"
        ) from None


def from_coconot(subcategory: str) -> str | None:
    """The taxonomy id for a CoCoNot subcategory, or None when it has no counterpart."""
    return COCONOT_MAP.get(subcategory.strip().lower())


def render_markdown() -> str:
    """docs/taxonomy.md, generated from this module (a test keeps the two equal)."""
    lines = [
        "# The refusal taxonomy",
        "",
        "Generated from `src/refusalkit/taxonomy.py`; ids are stable API.",
        "",
        "| id | name | group | a refusal because … |",
        "|---|---|---|---|",
    ]
    for c in CATEGORIES:
        lines.append(f"| `{c.id}` | {c.name} | {c.group} | {c.definition} |")
    lines += ["", "## CoCoNot subcategories", "", "| CoCoNot | taxonomy id |", "|---|---|"]
    lines += [f"| {name} | `{target}` |" for name, target in COCONOT_MAP.items()]
    return "\n".join(lines) + "\n"
