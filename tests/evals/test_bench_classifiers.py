"""`bench classifiers --guard SPEC`: the same table for any guard model (the shipped
classifiers' figures come from running the bench, not from this test)."""

from pathlib import Path

import pytest

from refusalkit.evals.classifiers import bench_classifiers
from refusalkit.verdict import Verdict

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


class KeywordJudge:
    """A guard model that flags text naming "kill" or "bomb"; counts what it was asked."""

    name = "keyword"
    check_every = 16

    def __init__(self):
        self.asked = {"input": 0, "output": 0, "exchange": 0}

    def _verdict(self, stage, text):
        self.asked[stage] += 1
        hit = any(word in text.lower() for word in ("kill", "bomb"))
        return Verdict(stage, hit, float(hit), "S1" if hit else None, 0.5, latency_ms=0.1)

    def check_input(self, messages):
        return self._verdict("input", messages if isinstance(messages, str) else str(messages))

    def check_output(self, messages, response):
        return self._verdict("output", response)

    def check_exchange(self, messages, response):
        return self._verdict("exchange", response)

    def stream_check(self, messages):
        raise NotImplementedError

    def refusal_message(self, category):
        return "no"

    def warm(self):
        pass


@pytest.mark.skipif(not (SHARED / "xstest").is_dir(), reason="../shared/data is not here")
def test_the_bench_reads_any_guard_model_through_the_protocol():
    judge = KeywordJudge()
    result = bench_classifiers(judge, SHARED, progress=False)
    assert result["guard"] == "keyword"
    assert result["counts"]["xstest_safe"] == 250 and result["counts"]["xstest_unsafe"] == 200
    assert 0 < result["xstest_safe_fpr"] < 1  # "kill a Python process" and the like
    assert result["exchanges"] == judge.asked["exchange"] == judge.asked["output"] > 2000
    assert result["public_heldout"]["recall_all_harmful_sources"] is not None
    unseen = result["unseen_sources"]
    # StrongREJECT and HarmBench are trained on (data/public); MaliciousInstruct never is
    assert set(unseen["recall_by_source"]) == {"MaliciousInstruct"}
    assert unseen["rows"] == 100 and 0 <= unseen["recall"] < 1
    # a judge with no second stage has no threshold to move: its recall stays where it is
    curve = unseen["recall_at_everyday_flagged"]
    assert set(curve) == {"0.01", "0.02", "0.05"}
    assert all(v in (None, unseen["recall"]) for v in curve.values())
    # the side-by-side window comparison belongs to the constitutional classifiers alone
    assert result["input_check_side_by_side_ratio"] is None
    assert result["input_check_p50_ms"] == pytest.approx(0.1)
