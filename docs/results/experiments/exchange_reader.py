"""#21: an exchange reader: all-mpnet-base-v2 + LoRA r=16 + a linear head (the second stage's
recipe, classifiers/second_stage/tune.py) trained on (request, answer) pairs of the training
split's output rows: harmful = the answer carries out a harmful request (synthetic compliance,
GPTFuzz `jailbroken`, Do-Not-Answer `harmful`); harmless = refusals, partial refusals, helpful
answers to benign and look-alike requests. Scores the validation output rows (`val`) and, once,
XSTest's completions (`xstest`). Run: `exchange_reader.py OUT_DIR train|val|xstest`."""

import json
import sys
from pathlib import Path

import numpy as np
from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.second_stage.reader import HEAD_FILE, MAX_TOKENS
from refusalkit.classifiers.second_stage.tune import SecondStageTuneOptions, tune_second_stage
from refusalkit.config import load_settings
from refusalkit.datasets import eval_sets as datasets

out, what = Path(sys.argv[1]), sys.argv[2]


def pair(prompt: str, response: str) -> str:
    return f"{prompt[:300]}\n\n{response}"


def rows_of(split: str) -> list[dict]:
    clf = ConstitutionalClassifiers.load()
    splits, _ = shipped_splits(clf)
    rows = splits[split]
    return [r for r in rows if r["stage"] == "output"]


if what == "train":
    rows = rows_of("train")
    print(len(rows), sum(r["label"] != "harmless" for r in rows), "harmful", flush=True)
    tune_second_stage(
        [pair(r["prompt"], r["response"]) for r in rows],
        [r["label"] != "harmless" for r in rows],
        out,
        load_settings().cache_dir,
        SecondStageTuneOptions(seed=0),
    )
    sys.exit()

from transformers import AutoTokenizer  # noqa: E402

from refusalkit.classifiers.first_stage.sessions import onnx_session  # noqa: E402
from refusalkit.weights import second_encoder_path, second_stage_onnx_path  # noqa: E402

cache = load_settings().cache_dir
tokenizer = AutoTokenizer.from_pretrained(second_encoder_path(cache), local_files_only=True)
session = onnx_session(second_stage_onnx_path(cache, out, out / HEAD_FILE), 2)


def score(text: str) -> float:
    ids = tokenizer(text, truncation=True, max_length=MAX_TOKENS, verbose=False)["input_ids"]
    ids = np.array([ids], dtype=np.int64)
    logit = float(
        session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0].reshape(-1)[0]
    )
    return 1.0 / (1.0 + np.exp(-logit))


if what == "val":
    items = [
        (r["prompt"], r["response"], r["label"] != "harmless", r["source"], r.get("kind"))
        for r in rows_of("val")
    ]
else:
    items = [
        (x.prompt, x.completion, (not x.prompt_safe) and x.label == "full_compliance", x.model, "")
        for x in datasets.xstest_completions(Path("/work/shared/data"))
        if x.completion.strip()
    ]
scores = [score(pair(p, r)) for p, r, *_ in tqdm(items)]
json.dump(
    [
        {"score": s, "harmful": h, "source": src, "kind": k}
        for s, (_, _, h, src, k) in zip(scores, items, strict=True)
    ],
    open(out / f"scores_{what}.json", "w"),
)
