"""A finished exchange (request + whole answer), judged as a harmful exchange or not.

The output classifier reads content: it stops harmful text whatever the request looked like, but
it misses answers that carry out a harmful request in plain words. A finished exchange is also
harmful when the input classifier flags the request and the exchange reader (the request read
with its answer, classifiers/exchange_reader/reader.py) scores the pair at or above its
threshold. An answer to a look-alike request the input classifier flagged (how to kill a Python
process) or a refusal passes the reader. Each model keeps its own shipped operating point.
Classifiers trained without a reader are judged on content alone. The streaming guard does not
need this rule: it never generates an answer to a flagged request.

The reader also reads what the content flag flags, as the input's second stage reads the first
stage's band: a content flag whose output score is under `content_sure` is dropped when the
reader scores the pair under `veto` (a refusal, an answer to a look-alike). Both are chosen on
validation by `calibrate_veto`; the streaming guard keeps the content flag as it is. A vetoed
flag comes back unflagged with stage "exchange", the reader's score and the veto as threshold.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from refusalkit.backends.base import Message
from refusalkit.classifiers.constitutional import ConstitutionalClassifiers, Verdict
from refusalkit.classifiers.exchange_reader.reader import ExchangeReader, re_asked

ANSWERED_STAGE = "exchange"  # Verdict.stage when a flagged request was carried out
# `veto`: the reader score this share of the content-flagged harmful validation answers reach.
VETO_KEEPS_HARMFUL = 0.99
# `content_sure` may cost at most this much recall on harmful validation answers re-asked by
# everyday requests (a harmful answer must be stopped whatever the request looked like).
VETO_RECALL_LOSS = 0.01
CONTENT_SURE_STEPS = 20


class ExchangeCheck:
    def __init__(self, classifiers: ConstitutionalClassifiers) -> None:
        self.classifiers = classifiers

    def check(self, messages: Sequence[Message] | str, response: str) -> Verdict:
        return self.check_with_content(messages, response)[0]

    def check_with_content(
        self, messages: Sequence[Message] | str, response: str
    ) -> tuple[Verdict, Verdict]:
        """The exchange's verdict, and the output classifier's own (what the streaming guard
        reads), from one pass of the output classifier."""
        started = time.perf_counter()
        content_alone = self.classifiers.check_output(messages, response)
        return self._judge(messages, response, replace(content_alone), started), content_alone

    def _judge(
        self, messages: Sequence[Message] | str, response: str, content: Verdict, started: float
    ) -> Verdict:
        reader = self.classifiers.exchange_reader
        if reader is None:
            return content
        prompt = messages if isinstance(messages, str) else _last_user(messages)
        score: float | None = None
        if content.flagged:
            veto = _veto_for(reader, content.score)
            if veto is None:
                return content
            score = reader.score(prompt, response)
            if score >= veto:
                return content
            # unflagged, and saying why: the reader's score under the veto
            content = Verdict(ANSWERED_STAGE, False, score, content.category, veto)
        request = self.classifiers.check_input(messages)
        if request.flagged:
            score = reader.score(prompt, response) if score is None else score
            if score >= reader.threshold:
                return Verdict(
                    ANSWERED_STAGE,
                    True,
                    score,
                    request.category,
                    reader.threshold,
                    (time.perf_counter() - started) * 1000,
                    request.second_stage,
                )
        content.latency_ms = (time.perf_counter() - started) * 1000
        return content


def _veto_for(reader: ExchangeReader, content_score: float) -> float | None:
    """The reader score a content flag of this output score must reach to stand, or None when
    the flag stands regardless (no veto calibrated, or the output classifier is sure)."""
    if reader.veto is None or reader.content_sure is None or content_score >= reader.content_sure:
        return None
    return reader.veto


def _last_user(messages: Sequence[Message]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


class _Read(NamedTuple):
    """What the finished-exchange check reads of one validation answer."""

    harmful: bool
    content_score: float
    content_flag: bool
    input_flag: bool
    reader_score: float


def calibrate_veto(
    classifiers: ConstitutionalClassifiers,
    val_rows: Sequence[dict],
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Choose the reader's `veto` and `content_sure` on the validation output rows (with their
    carry-outs): `veto` keeps VETO_KEEPS_HARMFUL of the harmful answers the content flag
    flags; `content_sure` is the highest step between the output threshold and 1 at which
    harmful answers re-asked by everyday validation requests lose at most VETO_RECALL_LOSS of
    recall. Sets both on `classifiers.exchange_reader`."""
    from tqdm.auto import tqdm

    reader = classifiers.exchange_reader
    if reader is None:
        raise ValueError("calibrate_veto needs classifiers with an exchange reader")
    val = [r for r in val_rows if r["stage"] == "output"]
    re_asked_val = re_asked(val, seed)
    if not re_asked_val:
        reader.veto = reader.content_sure = None
        return {"veto": None, "content_sure": None, "why": "no everyday or harmful validation rows"}
    input_flags: dict[str, bool] = {}

    def read(rows: list[dict], desc: str) -> list[_Read]:
        read_rows = []
        for r in tqdm(rows, desc=f"exchange veto: {desc}", disable=not progress):
            if r["prompt"] not in input_flags:
                input_flags[r["prompt"]] = classifiers.check_input(r["prompt"]).flagged
            content = classifiers.check_output(r["prompt"], r["response"])
            read_rows.append(
                _Read(
                    r["label"] == "harmful",
                    content.score,
                    content.flagged,
                    input_flags[r["prompt"]],
                    reader.score(r["prompt"], r["response"]),
                )
            )
        return read_rows

    scored, re_scored = read(val, "val"), read(re_asked_val, "re-asked")
    flagged_harmful = [r.reader_score for r in scored if r.harmful and r.content_flag]
    if not flagged_harmful:
        reader.veto = reader.content_sure = None
        return {"veto": None, "content_sure": None, "why": "no content-flagged harmful rows"}
    veto = float(np.quantile(flagged_harmful, 1 - VETO_KEEPS_HARMFUL, method="lower"))
    output_threshold = classifiers.artifacts.calibration.output.default

    def judge(r: _Read, sure: float | None) -> bool:
        kept = r.content_flag and (
            sure is None or r.content_score >= sure or r.reader_score >= veto
        )
        return kept or (r.input_flag and r.reader_score >= reader.threshold)

    def recall(rows: list[_Read], sure: float | None) -> float:
        return sum(judge(r, sure) for r in rows) / len(rows)

    floor = recall(re_scored, None) - VETO_RECALL_LOSS
    sure = output_threshold
    for step in range(1, CONTENT_SURE_STEPS + 1):
        candidate = output_threshold + step * (1 - output_threshold) / CONTENT_SURE_STEPS
        if recall(re_scored, candidate) < floor:
            break
        sure = candidate
    reader.veto, reader.content_sure = veto, sure
    return {
        "veto": round(veto, 4),
        "content_sure": round(sure, 4),
        "val_f1_without": _f1([(r.harmful, judge(r, None)) for r in scored]),
        "val_f1_with": _f1([(r.harmful, judge(r, sure)) for r in scored]),
        "re_asked_recall_without": round(recall(re_scored, None), 4),
        "re_asked_recall_with": round(recall(re_scored, sure), 4),
    }


def _f1(truth_guess: Sequence[tuple[bool, bool]]) -> float:
    tp = sum(t and g for t, g in truth_guess)
    wrong = sum(t != g for t, g in truth_guess)
    return round(2 * tp / (2 * tp + wrong), 4) if tp else 0.0


__all__ = ["ANSWERED_STAGE", "ExchangeCheck", "calibrate_veto"]
