"""#23 experiment: the public mix weighted toward should-answer rows (not the shipped recipe)."""

import os
from pathlib import Path

from refusalkit.steer import data
from refusalkit.steer.data import SteerExample, build_examples
from refusalkit.steer.train import SteerTrainOptions, finish_training, train_steer

data.PUBLIC_REFUSE_CAP.update({"aart": 150, "multijail": 50, "do_not_answer": 250})
data.PUBLIC_RESPOND_CAP.update({"benign": 800, "or_bench_hard": 800, "cvalues_zh": 60})
out = Path("/tmp/aexp/steer-respond-bf16")
examples = build_examples(
    Path("data/external/coconot_pref.jsonl"),
    Path("data/steer/base_answers.jsonl"),
    seed=0,
    public=True,
)
print("examples", len(examples), flush=True)
options = SteerTrainOptions(out=out, epochs=2, seed=0, threads=os.cpu_count(), bf16=True)
result = train_steer(examples, options)
finish_training(out, [SteerExample(**v) for v in result["val"]])
print("meta", result["meta"]["examples"], result["meta"]["train_seconds"])
print("metrics", (out / "metrics.json").read_text())
