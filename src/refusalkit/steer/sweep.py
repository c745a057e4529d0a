"""Refusal rate against threshold, per category, on CoCoNot eval (should refuse) vs contrast
(should answer): the steering curves, the F1 of the refuse decision, independence, and (where
XSTest is in the data folder) CoCoNot F1 against XSTest's safe prompts answered."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from refusalkit.datasets.eval_sets import coconot_by_category, xstest_prompts
from refusalkit.steer.curve import GRID, f1, operating_curve, plot_operating_curve
from refusalkit.steer.data import RESPOND
from refusalkit.steer.decode import SteerModel

# the range a category's threshold is moved across in the independence check
INDEPENDENCE_GRID = [0.05, 0.2, 0.5, 0.8, 0.95]


def _decisions(model: SteerModel, probs: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    return np.array([model.decide_from(row, thresholds).token != RESPOND for row in probs])


def sweep(
    model: SteerModel, data_dir: Path, out: Path | None = None, probs: np.ndarray | None = None
) -> dict:
    """`probs`: the model's probabilities on CoCoNot eval + contrast, if already computed."""
    unsafe, contrast = coconot_by_category(data_dir)
    rows = unsafe + contrast
    if probs is None:
        probs = model.probabilities([r["prompt"] for r in rows])
    should = np.array([r["should_refuse"] for r in rows])
    categories = np.array([r["category"] for r in rows])
    names = model.threshold_names
    default = model.thresholds()

    refused = _decisions(model, probs, default)
    result: dict = {
        "prompts": {"should_refuse": len(unsafe), "contrast": len(contrast)},
        "default_threshold": model.default_threshold,
        "default_thresholds": default,
        "default": {
            **f1(refused, should),
            "refusal_rate_should_refuse": round(float(refused[should].mean()), 4),
            "refusal_rate_contrast": round(float(refused[~should].mean()), 4),
        },
        "per_category_default": {},
    }
    for category in sorted(set(categories)):
        chosen = categories == category
        result["per_category_default"][category] = {
            "should_refuse_n": int((chosen & should).sum()),
            "refusal_rate_should_refuse": _rate(refused, chosen & should),
            "contrast_n": int((chosen & ~should).sum()),
            "refusal_rate_contrast": _rate(refused, chosen & ~should),
        }

    # all=P: every category moved together
    curve = []
    for value in GRID:
        decided = _decisions(model, probs, dict.fromkeys(names, value))
        curve.append(
            {
                "threshold": value,
                "refusal_rate_all": round(float(decided.mean()), 4),
                "refusal_rate_should_refuse": round(float(decided[should].mean()), 4),
                "refusal_rate_contrast": round(float(decided[~should].mean()), 4),
                **f1(decided, should),
            }
        )
    result["all_curve"] = curve

    # one category moved, the others at default: its own rate and the largest change elsewhere
    steerable = [n for n in names if n in set(categories)]

    def paper_rule(thresholds: dict[str, float]) -> np.ndarray:
        return _decisions(model, probs, thresholds)

    moved = _independence(paper_rule, steerable, categories, default)
    result["per_category_curves"] = moved["curves"]
    result["independence_max_other_change"] = moved["worst"]
    result["independence_pairs"] = _pairs_explained(moved["pairs"], probs, names, categories)
    # the lever #39 names: one threshold per category on the total refusal mass, read at the
    # most probable category, so a threshold moves only the prompts that category wins
    mass = _independence(lambda t: mass_rule(probs, names, t), steerable, categories, default)
    mass_refused = mass_rule(probs, names, default)
    result["independence_by_rule"] = {
        "paper": {"max_other_change": moved["worst"], **f1(refused, should)},
        "refusal_mass_at_top_category": {
            "max_other_change": mass["worst"],
            **f1(mass_refused, should),
            "pairs": _pairs_explained(mass["pairs"], probs, names, categories),
        },
    }
    # the trade between #39's two bars, where XSTest is there to read
    if (data_dir / "xstest" / "xstest_prompts.csv").is_file():
        safe = [p.prompt for p in xstest_prompts(data_dir) if p.safe]
        result["f1_vs_xstest_respond"] = operating_curve(
            names, default, probs, should, model.probabilities(safe)
        )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "sweep.json").write_text(json.dumps(result, indent=2) + "\n")
        _plot(result, out)
        if "f1_vs_xstest_respond" in result:
            label = f"{model.base.key}, {model.directory.name}"
            plot_operating_curve(result["f1_vs_xstest_respond"], out, label)
    return result


def mass_rule(probs: np.ndarray, names: list[str], thresholds: dict[str, float]) -> np.ndarray:
    """Refused where the refusal tokens' total probability clears the threshold of the most
    probable refusal token's category."""
    refusal = probs[:, 1 : 1 + len(names)]
    limits = np.array([thresholds[n] for n in names])
    return refusal.sum(axis=1) >= limits[refusal.argmax(axis=1)]


def _independence(
    decide: Callable[[dict[str, float]], np.ndarray],
    steerable: list[str],
    categories: np.ndarray,
    default: dict[str, float],
) -> dict:
    """Each category's threshold moved across INDEPENDENCE_GRID, the others at default: its own
    refusal rate, and for every other category the largest change of its rate."""
    refused = decide(default)
    curves: dict[str, list[dict]] = {}
    pairs: dict[tuple[str, str], float] = {}
    for name in steerable:
        points = []
        for value in INDEPENDENCE_GRID:
            decided = decide({**default, name: value})
            changes = {
                other: abs(
                    _rate(decided, categories == other) - _rate(refused, categories == other)
                )
                for other in steerable
                if other != name
            }
            for other, change in changes.items():
                pairs[name, other] = max(pairs.get((name, other), 0.0), change)
            points.append(
                {
                    "threshold": value,
                    "own_refusal_rate": _rate(decided, categories == name),
                    "max_other_change": round(max(changes.values(), default=0.0), 4),
                }
            )
        curves[name] = points
    worst = max(pairs.values(), default=0.0)
    return {"curves": curves, "pairs": pairs, "worst": round(worst, 4)}


PAIRS_SHOWN = 8


def _pairs_explained(
    pairs: dict[tuple[str, str], float],
    probs: np.ndarray,
    names: list[str],
    categories: np.ndarray,
) -> list[dict]:
    """The pairs that move together most, with what the moved category's token holds on the
    other category's prompts: its mean probability, and how often it is the most probable
    refusal token there."""
    shown = []
    top = probs[:, 1 : 1 + len(names)].argmax(axis=1)
    for (moved, other), change in sorted(pairs.items(), key=lambda kv: -kv[1])[:PAIRS_SHOWN]:
        chosen = categories == other
        k = names.index(moved)
        shown.append(
            {
                "moved": moved,
                "other": other,
                "max_change": round(change, 4),
                "other_prompts": int(chosen.sum()),
                "moved_token_mean_probability": round(float(probs[chosen, 1 + k].mean()), 4),
                "moved_token_most_probable": round(float((top[chosen] == k).mean()), 4),
            }
        )
    return shown


def _rate(decided: np.ndarray, chosen: np.ndarray) -> float:
    return round(float(decided[chosen].mean()), 4) if chosen.any() else float("nan")


def _plot(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = result["all_curve"]
    x = [p["threshold"] for p in curve]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(
        x, [p["refusal_rate_should_refuse"] for p in curve], "o-", label="CoCoNot eval (refuse)"
    )
    ax.plot(x, [p["refusal_rate_contrast"] for p in curve], "s-", label="contrast (answer)")
    ax.plot(x, [p["f1"] for p in curve], "^--", label="F1 of refusing")
    ax.set_xscale("logit")
    ax.set_xlabel("threshold for every category (all=P)")
    ax.set_ylabel("rate")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Refusal rate vs threshold")
    fig.tight_layout()
    fig.savefig(out / "all_threshold.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, points in result["per_category_curves"].items():
        ax.plot(
            [p["threshold"] for p in points],
            [p["own_refusal_rate"] for p in points],
            "o-",
            label=name,
        )
    ax.set_xlabel("that category's threshold (others at default)")
    ax.set_ylabel("refusal rate of its prompts")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Per-category steering")
    fig.tight_layout()
    fig.savefig(out / "per_category.png", dpi=110)
    plt.close(fig)
