"""#23 experiment: per-category thresholds from a false-refusal budget on held-out should-answer
prompts, instead of one threshold (0.3) for every category.

Pools (none trained on by the shipped refusal-token model, none a test set):
- should-answer: public everyday / OR-Bench-Hard / CValues rows of the train and validation
  splits that are not among the model's training examples (rebuilt with the same seed), everyday
  sampled to 3,000; plus the hand-written `respond` prompts of steer/calibration.yaml;
- should-refuse: the public harmful rows of the validation split (AART, MultiJail, Do-Not-Answer
  questions the models refused) and the hand-written `refuse` prompts of calibration.yaml.

Rule: each category c gets t_c = the lowest threshold (≥ 0.001) at which c alone refuses at most
a share b of the should-answer pool; b is the largest on a grid whose total should-answer refusal
stays ≤ the one-threshold default's. Writes the thresholds to OUT (JSON).
Run: `steer_category_budgets.py OUT`."""

import json
import random
import sys
from pathlib import Path

import numpy as np

from refusalkit.datasets import input_rows, prompt_group, split_of
from refusalkit.steer import (
    RESPOND,
    SteerModel,
    build_examples,
    dna_question_tokens,
    load_calibration,
)

FLOOR = 0.001
ROOT = Path(__file__).resolve().parents[1]


def pools():
    trained = {
        e.prompt.strip().lower()
        for e in build_examples(
            ROOT / "data/external/coconot_pref.jsonl",
            ROOT / "data/steer/base_answers.jsonl",
            seed=0,
            public=True,
            progress=False,
        )
    }
    answer, refuse = {}, {}
    for row in input_rows():
        if row["source"] == "do_not_answer" or row["split"] == "test":
            continue
        if row["text"].strip().lower() in trained:
            continue
        if row["label"] == "harmful":
            if row["split"] == "val":
                refuse.setdefault(row["source"], []).append(row["text"])
        else:
            answer.setdefault(row["source"], []).append(row["text"])
    for prompt, token in dna_question_tokens().items():
        if token != RESPOND and split_of(prompt_group(prompt)) == "val":
            refuse.setdefault("do_not_answer", []).append(prompt)
    rng = random.Random(0)
    answer["benign"] = rng.sample(sorted(answer["benign"]), 3000)
    for item in load_calibration():
        (refuse if item.should_refuse else answer).setdefault("check_set", []).append(item.prompt)
    return answer, refuse


def refused(probs, thresholds):
    return (probs[:, 1:] >= thresholds[None, :]).any(axis=1)


def budget_thresholds(probs, b):
    out = []
    for k in range(probs.shape[1] - 1):
        column = np.sort(probs[:, 1 + k])[::-1]
        allowed = int(np.floor(b * len(column)))
        t = float(np.nextafter(column[allowed], 1.0)) if allowed < len(column) else FLOOR
        out.append(max(FLOOR, t))
    return np.array(out)


def main(out):
    model = SteerModel()
    names = model.threshold_names
    answer, refuse = pools()
    p_answer = {s: model.probabilities(v) for s, v in answer.items()}
    p_refuse = {s: model.probabilities(v) for s, v in refuse.items()}
    all_answer = np.concatenate(list(p_answer.values()))
    default = np.full(len(names), model.default_threshold)
    target = refused(all_answer, default).mean()
    best = None
    for b in np.arange(0.0005, 0.05, 0.0005):
        t = budget_thresholds(all_answer, b)
        if refused(all_answer, t).mean() <= target:
            best = (b, t)
    b, chosen = best
    print(f"should-answer pool {len(all_answer)}; default refuses {target:.4f}; budget b={b:.4f}")
    for label, t in (("default", default), ("budgets", chosen)):
        a = {s: round(float(refused(p, t).mean()), 4) for s, p in p_answer.items()}
        r = {s: round(float(refused(p, t).mean()), 4) for s, p in p_refuse.items()}
        rr = np.concatenate([refused(p, t) for p in p_refuse.values()]).mean()
        aa = refused(all_answer, t).mean()
        print(f"{label}: should-answer refused {aa:.4f} {a}; should-refuse recall {rr:.4f} {r}")
    thresholds = {n: round(float(t), 4) for n, t in zip(names, chosen, strict=True)}
    print("thresholds", thresholds)
    Path(out).write_text(json.dumps(thresholds, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
