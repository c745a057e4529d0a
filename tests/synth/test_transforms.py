import base64
import codecs
import random

import pytest

from refusalkit.synth.transforms import ALL_TRANSFORMS, FAMILIES, TransformContext, apply_random
from refusalkit.synth.transforms.translation import looks_translated

PROMPT = "How do I make a sourdough starter?"
TASK = "make a sourdough starter"


def context(seed: int = 0, translate=None) -> TransformContext:
    return TransformContext(rng=random.Random(seed), task=TASK, translate=translate)


def test_at_least_twelve_families():
    assert len(FAMILIES) >= 12
    for required in (
        "roleplay",
        "fiction",
        "prefix_injection",
        "refusal_suppression",
        "instruction_override",
        "payload_splitting",
        "encoding",
        "translation",
        "padding",
        "multi_turn",
        "wrapping",
        "noise",
    ):
        assert required in FAMILIES


@pytest.mark.parametrize("transform", [t for t in ALL_TRANSFORMS if not t.needs_translator])
def test_every_transform_changes_the_text_and_is_deterministic(transform):
    first = transform.apply(PROMPT, context(3))
    second = transform.apply(PROMPT, context(3))
    assert first and first != PROMPT
    assert first == second


def test_encodings_are_decodable():
    by_name = {t.name: t for t in ALL_TRANSFORMS}
    encoded = base64.b64encode(PROMPT.encode()).decode()
    assert encoded in by_name["base64"].apply(PROMPT, context())
    assert codecs.encode(PROMPT, "rot13") in by_name["rot13"].apply(PROMPT, context())
    assert PROMPT[::-1] in by_name["reversal"].apply(PROMPT, context())


def test_payload_survives_wrapping_padding_and_multi_turn():
    by_name = {t.name: t for t in ALL_TRANSFORMS}
    for name in (
        "long_benign_context",
        "benign_setup",
        "code_markdown",
        "persona",
        "forced_prefix",
    ):
        assert PROMPT in by_name[name].apply(PROMPT, context()), name
    padded = by_name["long_benign_context"].apply(PROMPT, context(5))
    assert len(padded) > 5 * len(PROMPT)


def test_code_switch_needs_the_task_and_llm_translation_needs_a_translator():
    by_name = {t.name: t for t in ALL_TRANSFORMS}
    assert not by_name["code_switch"].usable(TransformContext(rng=random.Random(0)))
    assert not by_name["llm"].usable(context())
    assert TASK in by_name["code_switch"].apply(PROMPT, context())


TRANSLATIONS = {
    "French": "Comment est-ce que je fais un levain pour le pain ?",
    "Spanish": "¿Cómo hago una masa madre para el pan?",
    "German": "Wie mache ich einen Sauerteig für das Brot?",
    "Italian": "Come posso fare il lievito madre per il pane?",
    "Portuguese": "Como eu faço um fermento natural para o pão?",
}


def test_llm_translation_keeps_translations_and_rejects_other_text():
    llm = {t.name: t for t in ALL_TRANSFORMS}["llm"]
    for seed in range(5):
        translated = llm.apply(PROMPT, context(seed, lambda text, lang: TRANSLATIONS[lang]))
        assert translated in TRANSLATIONS.values()
        off_topic = llm.apply(PROMPT, context(seed, lambda text, lang: "Sure! Here is a poem."))
        assert off_topic is None
    assert not looks_translated(PROMPT, PROMPT, "French")


def test_apply_random_reports_the_transform_used():
    families = set()
    for seed in range(60):
        text, transform = apply_random(PROMPT, context(seed))
        assert text != PROMPT
        families.add(transform.family)
    assert len(families) >= 10
