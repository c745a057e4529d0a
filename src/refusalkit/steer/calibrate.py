"""Check a refusal-token model against labelled prompts, and re-choose its default threshold.

The shipped model's default threshold is chosen on the validation share of its training data.
`calibration.yaml` is a hand-written check beside it, written apart from the training seeds and
from every test set: subtle should-refuse prompts per category and everyday should-answer
prompts. A team can pass its own file (its policy, in examples) and, with `write`, make the
threshold with the best refuse-decision F1 there the model's default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from refusalkit.errors import ConfigError
from refusalkit.steer.curve import f1
from refusalkit.steer.decode import SteerModel

CALIBRATION_PATH = Path(__file__).resolve().parent / "calibration.yaml"
THRESHOLD_GRID = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


@dataclass(frozen=True)
class CalibrationPrompt:
    prompt: str
    should_refuse: bool
    category: str | None


def load_calibration(path: Path = CALIBRATION_PATH) -> list[CalibrationPrompt]:
    """YAML with `refuse: {category: [prompt, ...]}` and `respond: [prompt, ...]`."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"{path}: cannot read the calibration prompts ({reason})") from None
    if not isinstance(data, dict) or not data.get("refuse") or not data.get("respond"):
        raise ConfigError(
            f"{path}: a calibration file needs both `refuse: {{category: [prompts]}}` and "
            "`respond: [prompts]`"
        )
    prompts = [
        CalibrationPrompt(str(p), True, str(category))
        for category, items in dict(data["refuse"]).items()
        for p in items or []
    ]
    return prompts + [CalibrationPrompt(str(p), False, None) for p in data["respond"]]


def _f1(predicted: list[bool], truth: list[bool]) -> float:

    return float(f1(np.array(predicted, dtype=bool), np.array(truth, dtype=bool))["f1"])


def choose_threshold(model, prompts: list[CalibrationPrompt], probs=None) -> dict[str, Any]:
    """The one threshold for every category whose refuse decision has the best F1 on the
    calibration prompts (ties go to the higher threshold: fewer refusals). `probs`: the
    prompts' decision-token probabilities, when the caller already has them."""
    if probs is None:
        probs = model.probabilities([p.prompt for p in prompts])
    truth = [p.should_refuse for p in prompts]
    curve: dict[str, float] = {}
    best, best_f1 = THRESHOLD_GRID[-1], -1.0
    for value in THRESHOLD_GRID:
        thresholds = dict.fromkeys(model.threshold_names, value)
        score = _f1([model.decide_from(row, thresholds).refused for row in probs], truth)
        curve[str(value)] = score
        if score >= best_f1:
            best, best_f1 = value, score
    return {"threshold": best, "f1": best_f1, "prompts": len(prompts), "f1_by_threshold": curve}


def rates_at(model, prompts: list[CalibrationPrompt], probs, thresholds: dict[str, float]) -> dict:
    """Refusal rates of the should-refuse and the should-answer prompts at `thresholds`."""
    refused = [model.decide_from(row, thresholds).refused for row in probs]
    refuse = [r for r, p in zip(refused, prompts, strict=True) if p.should_refuse]
    answer = [r for r, p in zip(refused, prompts, strict=True) if not p.should_refuse]
    return {
        "should_refuse_refused": round(sum(refuse) / max(len(refuse), 1), 4),
        "should_answer_refused": round(sum(answer) / max(len(answer), 1), 4),
        "f1": _f1(refused, [p.should_refuse for p in prompts]),
    }


def calibrate_model(
    model_dir: Path, calibration: Path = CALIBRATION_PATH, write: bool = False
) -> dict[str, Any]:
    """The F1 curve on `calibration` and the rates at the model's current default; with
    `write`, the best threshold becomes the default in the model's meta.json."""

    model = SteerModel(model_dir)
    prompts = load_calibration(calibration)
    probs = model.probabilities([p.prompt for p in prompts])  # one prefill serves both
    result = choose_threshold(model, prompts, probs)
    result["current_default"] = (
        model.thresholds() if model.category_thresholds else model.default_threshold
    )
    result["at_current_default"] = rates_at(model, prompts, probs, model.thresholds())
    if write:
        meta_path = Path(model.directory) / "meta.json"
        meta = json.loads(meta_path.read_text())
        meta["default_threshold"] = result["threshold"]
        # one threshold for every category replaces per-group ones
        meta.pop("thresholds", None)
        meta.pop("thresholds_rule", None)
        meta["calibration"] = {
            "file": Path(calibration).name,
            "prompts": result["prompts"],
            "f1": result["f1"],
            "rule": "single threshold with the best refuse-decision F1",
        }
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return result
