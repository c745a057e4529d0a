"""#39 (2026-12-07): `decide` speed of the shipped refusal-token model and another one (e.g. a
Gemma 3 270M run), alternately in one process after a warm-up, on CoCoNot's 1,380 prompts.
Run from the root: `steer_speed_bases.py OTHER_MODEL_DIR`."""

import sys
import time
from pathlib import Path

from refusalkit.datasets import coconot_by_category
from refusalkit.steer import SteerModel

unsafe, contrast = coconot_by_category(Path(__file__).resolve().parents[2] / "shared" / "data")
prompts = [r["prompt"] for r in unsafe + contrast]
models = {"shipped": SteerModel(), sys.argv[1]: SteerModel(sys.argv[1])}
for model in models.values():
    model.decide(prompts[:16])
for name in list(models) * 2:
    started = time.perf_counter()
    models[name].decide(prompts)
    print(name, round(len(prompts) / (time.perf_counter() - started), 1), "prompts/s", flush=True)
