"""Measurements: the benches behind `refusalkit bench …` and the attack / over-refusal suite
behind `refusalkit eval`.

    from refusalkit.evals import bench_classifiers
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.evals.audit import bench_audit as bench_audit
    from refusalkit.evals.bench import (
        bench_generate as bench_generate,
    )
    from refusalkit.evals.bench import (
        bench_overhead as bench_overhead,
    )
    from refusalkit.evals.bench import (
        request_of_tokens as request_of_tokens,
    )
    from refusalkit.evals.classifiers import bench_classifiers as bench_classifiers
    from refusalkit.evals.distil import distilled_fit as distilled_fit
    from refusalkit.evals.distil import xsafety_parallel as xsafety_parallel
    from refusalkit.evals.language import neutral_projection as neutral_projection
    from refusalkit.evals.load import bench_serve as bench_serve
    from refusalkit.evals.loso import NEVER_TUNED_ON as NEVER_TUNED_ON
    from refusalkit.evals.loso import FoldHead as FoldHead
    from refusalkit.evals.loso import LosoRow as LosoRow
    from refusalkit.evals.loso import features as features
    from refusalkit.evals.loso import fold_head as fold_head
    from refusalkit.evals.loso import leave_one_family_out as leave_one_family_out
    from refusalkit.evals.loso import leave_one_source_out as leave_one_source_out
    from refusalkit.evals.loso import left_out_by as left_out_by
    from refusalkit.evals.loso import loso_rows as loso_rows
    from refusalkit.evals.loso_bench import bench_loso as bench_loso
    from refusalkit.evals.parity import caught_in_translation as caught_in_translation
    from refusalkit.evals.parity import parity_requests as parity_requests
    from refusalkit.evals.quickstart import run_quickstart as run_quickstart
    from refusalkit.evals.replicas import bench_replicas as bench_replicas
    from refusalkit.evals.steer import bench_steer as bench_steer
    from refusalkit.evals.suite import Suite as Suite
    from refusalkit.evals.suite import run_suite as run_suite

_FACE = {
    "bench_audit": "refusalkit.evals.audit",
    "bench_generate": "refusalkit.evals.bench",
    "bench_overhead": "refusalkit.evals.bench",
    "request_of_tokens": "refusalkit.evals.bench",
    "bench_classifiers": "refusalkit.evals.classifiers",
    "distilled_fit": "refusalkit.evals.distil",
    "xsafety_parallel": "refusalkit.evals.distil",
    "neutral_projection": "refusalkit.evals.language",
    "bench_serve": "refusalkit.evals.load",
    "NEVER_TUNED_ON": "refusalkit.evals.loso",
    "FoldHead": "refusalkit.evals.loso",
    "LosoRow": "refusalkit.evals.loso",
    "fold_head": "refusalkit.evals.loso",
    "left_out_by": "refusalkit.evals.loso",
    "leave_one_family_out": "refusalkit.evals.loso",
    "bench_loso": "refusalkit.evals.loso_bench",
    "features": "refusalkit.evals.loso",
    "leave_one_source_out": "refusalkit.evals.loso",
    "loso_rows": "refusalkit.evals.loso",
    "caught_in_translation": "refusalkit.evals.parity",
    "parity_requests": "refusalkit.evals.parity",
    "run_quickstart": "refusalkit.evals.quickstart",
    "bench_replicas": "refusalkit.evals.replicas",
    "bench_steer": "refusalkit.evals.steer",
    "Suite": "refusalkit.evals.suite",
    "run_suite": "refusalkit.evals.suite",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
