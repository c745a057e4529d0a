"""#39 (2026-12-07): the refusal-mass rule (refuse where the refusal tokens' total probability
clears the threshold of the most probable one's category) against the paper's rule (a token
whose own probability clears its threshold), at the shipped default threshold, on validation
only: the public rows' validation split (AART, MultiJail to refuse; everyday, OR-Bench-Hard,
CValues to answer; 240 per source) and SelfAware's validation split. Run from the root."""

import json
import random

import numpy as np

from refusalkit.datasets import input_rows, selfaware_rows
from refusalkit.steer import SteerModel, f1, mass_rule

model = SteerModel()
rng = random.Random(0)
prompts: list[str] = []
should: list[bool] = []
by_source: dict[str, list[str]] = {}
for row in input_rows():
    if row["split"] == "val" and row["source"] != "do_not_answer":
        by_source.setdefault(row["source"], []).append(row["text"])
pools = {"public": [], "selfaware": []}  # type: dict[str, list[int]]
for source, texts in sorted(by_source.items()):
    for text in rng.sample(sorted(texts), min(240, len(texts))):
        pools["public"].append(len(prompts))
        prompts.append(text)
        should.append(source in ("aart", "multijail"))
for row in selfaware_rows():
    if row["split"] == "val":
        pools["selfaware"].append(len(prompts))
        prompts.append(row["prompt"])
        should.append(row["category"] is not None)
probs = model.probabilities(prompts)
names = model.threshold_names
refusal = probs[:, 1 : 1 + len(names)]


def decided(rule: str, threshold: float | None = None) -> np.ndarray:
    thresholds = model.thresholds() if threshold is None else dict.fromkeys(names, threshold)
    if rule == "paper":
        cut = np.array([thresholds[n] for n in names])
        return np.asarray((refusal >= cut).any(axis=1))
    return mass_rule(probs, names, thresholds)


def scores(refused: np.ndarray) -> dict:
    out = {}
    for pool, index in pools.items():
        r, t = refused[index], truth[index]
        out[pool] = {**f1(r, t), "should_answer_refused": round(float(r[~t].mean()), 4)}
    return out


truth = np.array(should)
for rule in ("paper", "refusal_mass"):
    print(rule, "default", json.dumps(scores(decided(rule))), flush=True)
# the same rule at one threshold for every category: recall against false refusals
for rule in ("paper", "refusal_mass"):
    for threshold in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        result = scores(decided(rule, threshold))
        row = {k: (v["recall"], v["should_answer_refused"]) for k, v in result.items()}
        print(rule, threshold, json.dumps(row))
