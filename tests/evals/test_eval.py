"""`refusalkit eval`: a tiny suite end to end on the embedded model (the quick suite's figures
come from `refusalkit eval --suite quick`, not from this test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refusalkit.backends.replay import ReplayBackend
from refusalkit.evals.suite import Suite, attack_cases, objectives, run_suite

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
TINY = Suite("tiny", 2, 3, 3, 12, 1, 24)
needs_data = pytest.mark.skipif(
    not (SHARED / "xstest").is_dir(), reason="../shared/data (XSTest, CoCoNot) is not here"
)


def test_attacks_cover_every_family_and_multi_turn():
    import random

    rng = random.Random(0)
    rows = objectives(ROOT / "data" / "synth-general", 3, rng)
    assert len({r["category"] for r in rows}) == 3  # spread over categories
    cases = attack_cases(rows, rng)
    groups = {c.group for c in cases}
    assert {"plain", "held_out_templates", "multi_turn_setup", "encoding", "roleplay"} <= groups
    multi = [c for c in cases if c.group == "multi_turn_setup"]
    assert all(len(c.messages) == 3 and c.messages[-1]["role"] == "user" for c in multi)


def test_replay_backend_streams_exactly_what_was_recorded():
    deltas = ["Hel", "lo", " there"]
    assert list(ReplayBackend(deltas).stream([{"role": "user", "content": "x"}])) == deltas


@needs_data
def test_tiny_suite_writes_metrics_report_and_resumes(tmp_path):
    out = tmp_path / "eval"
    metrics = run_suite(TINY, out, SHARED, data=ROOT / "data" / "synth-general", steering=False)
    for key in (
        "attack_success_rate",
        "over_refusal_rate",
        "refusal_audit_accuracy",
        "guard_overhead",
    ):
        assert key in metrics
    assert set(metrics["over_refusal_rate"]) == {"xstest_safe", "coconot_contrast"}
    assert metrics["refusal_audit_accuracy"]["binary"] > 0.5
    cases = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert sum(c["kind"] == "over_refusal" for c in cases) == 6
    attacks = [c for c in cases if c["kind"] == "attack"]
    assert attacks and any(c["guard_stage"] for c in attacks)  # the guard stops some attacks
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 4 and (out / "asr_by_family.png").is_file()
    generated = (out / ".work" / "generations.jsonl").read_text()
    again = run_suite(TINY, out, SHARED, data=ROOT / "data" / "synth-general", steering=False)
    assert (out / ".work" / "generations.jsonl").read_text() == generated  # all from the cache
    assert again["timings_s"]["generate_s"] < 5
    assert again["attack_success_rate"] == metrics["attack_success_rate"]


def test_external_results_import_garak_and_generic(tmp_path):
    from refusalkit.errors import InvalidInputError
    from refusalkit.evals.external import import_results

    garak = tmp_path / "garak.report.jsonl"
    rows = [
        {"entry_type": "start_run setup"},
        {"entry_type": "attempt", "probe_classname": "dan.Dan_11_0", "outputs": ["..."]},
        {
            "entry_type": "eval",
            "probe": "dan.Dan_11_0",
            "detector": "mitigation.MitigationBypass",
            "passed": 9,
            "total": 10,
        },
    ]
    garak.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    imported = import_results(garak)
    assert imported["tool"] == "garak"
    assert imported["by_attack"]["dan.Dan_11_0 / mitigation.MitigationBypass"] == {
        "attempts": 10,
        "attack_success_rate": 0.1,
    }
    generic = tmp_path / "pyrit.jsonl"
    generic.write_text(
        '{"attack": "crescendo", "success": true}\n{"attack": "crescendo", "success": false}\n'
    )
    assert import_results(generic)["by_attack"]["crescendo"]["attack_success_rate"] == 0.5
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"x": 1}\n')
    with pytest.raises(InvalidInputError, match="neither a garak report"):
        import_results(bad)
