"""The project's own library of jailbreak-style augmentations, grouped in families.

Applied to harmful and harmless requests alike, so that a transform is never itself the signal.
"""

from __future__ import annotations

from refusalkit.synth.transforms import context, framing, injection, obfuscation, translation
from refusalkit.synth.transforms.base import Transform, TransformContext

ALL_TRANSFORMS: list[Transform] = [
    *framing.TRANSFORMS,
    *injection.TRANSFORMS,
    *obfuscation.TRANSFORMS,
    *context.TRANSFORMS,
    *translation.TRANSFORMS,
]
FAMILIES: list[str] = sorted({t.family for t in ALL_TRANSFORMS})


def by_family() -> dict[str, list[Transform]]:
    groups: dict[str, list[Transform]] = {}
    for transform in ALL_TRANSFORMS:
        groups.setdefault(transform.family, []).append(transform)
    return groups


def apply_random(
    prompt: str, context: TransformContext, families: list[str] | None = None
) -> tuple[str, Transform] | None:
    """Pick a family, then a usable transform in it; None when nothing usable applies."""
    groups = by_family()
    candidates = [f for f in (families or FAMILIES) if f in groups]
    context.rng.shuffle(candidates)
    for family in candidates:
        usable = [t for t in groups[family] if t.usable(context)]
        context.rng.shuffle(usable)
        for transform in usable:
            text = transform.apply(prompt, context)
            if text and text != prompt:
                return text, transform
    return None


__all__ = [
    "ALL_TRANSFORMS",
    "FAMILIES",
    "Transform",
    "TransformContext",
    "apply_random",
    "by_family",
]
