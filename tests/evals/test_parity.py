"""Harm caught in translation as in English: the hand-checked sample, its texts by language,
and the gap each language leaves."""

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from refusalkit.evals.distil import xsafety_parallel
from refusalkit.evals.parity import PARITY_TOPICS, SAMPLE, caught_in_translation, parity_requests


def _sample() -> list[dict]:
    text = resources.files("refusalkit.evals").joinpath("data", SAMPLE).read_text()
    return json.loads(text)["rows"]


def test_the_sample_is_52_distinct_requests_from_topics_distillation_leaves_out():
    rows = _sample()
    assert len({(r["topic"], r["row"]) for r in rows}) == len(rows) == 52
    assert {r["topic"] for r in rows} <= PARITY_TOPICS


def _xsafety(tmp_path: Path) -> Path:
    """Every sampled request in en, fr and ja (ja missing one), and an unrelated topic."""
    rows = []
    for lang in ("en", "fr", "ja"):
        for k, r in enumerate(_sample()):
            if lang != "ja" or k:
                rows.append({**r, "lang": lang, "prompt": f"{lang}-{r['topic']}-{r['row']}"})
        rows.append({"topic": "Insult", "row": 0, "lang": lang, "prompt": f"{lang}-insult"})
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "xsafety.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_requests_come_in_sample_order_and_a_language_missing_one_is_left_out(tmp_path):
    requests = parity_requests(_xsafety(tmp_path))
    assert set(requests) == {"en", "fr"}
    first = _sample()[0]
    assert requests["fr"][0] == f"fr-{first['topic']}-{first['row']}"
    assert len(requests["en"]) == 52


def test_distillation_for_the_bench_learns_no_translation_of_the_sampled_topics(tmp_path):
    shared = _xsafety(tmp_path)
    assert xsafety_parallel(shared, PARITY_TOPICS).targets == ["fr-insult", "ja-insult"]
    assert len(xsafety_parallel(shared).targets) > 2


@dataclass
class _Head:
    def flags(self, vectors: np.ndarray) -> np.ndarray:
        return vectors[:, 0] > 0


def test_parity_reports_each_languages_shortfall_against_english():
    # each text says whether the head flags it: "+" flagged, "-" not
    all_caught, three, one = ["+a", "+b", "+c", "+d"], ["+a", "+b", "+c", "-d"], ["+a"] + ["-"] * 3
    requests = {"en": all_caught, "fr": three, "de": one, "es": all_caught, "ja": all_caught}

    def embed(texts):
        return np.array([[1.0 if t.startswith("+") else -1.0] for t in texts])

    result = caught_in_translation(_Head(), embed, requests)  # type: ignore[arg-type]
    assert result["recall"] == {"en": 1.0, "fr": 0.75, "de": 0.25, "es": 1.0, "ja": 1.0}
    assert result["short_of_english"]["de"] == 0.75
    assert result["bar_languages_within"] is False
    requests["fr"] = requests["de"] = all_caught
    assert caught_in_translation(_Head(), embed, requests)["bar_languages_within"] is True  # type: ignore[arg-type]
