"""#21: what the MPNet second stage would cost at run time: the encoder exported to ONNX (as
`models.encoder_onnx_path` exports MiniLM), int8 weights, one input at 96 and 200 tokens on 2
threads, against the eager PyTorch float32 pass; medians of 20 runs after 3 warm-ups, one
process. Run: `mpnet_onnx_latency.py MODEL_DIR`."""

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel, AutoTokenizer

torch.set_num_threads(2)
model_dir = sys.argv[1]
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir).eval()
tmp = Path(tempfile.mkdtemp())
example = (torch.ones((1, 16), dtype=torch.long), torch.ones((1, 16), dtype=torch.long))
axes = {0: "batch", 1: "tokens"}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch.onnx.export(
        model,
        example,
        str(tmp / "fp32.onnx"),
        input_names=["input_ids", "attention_mask"],
        output_names=["hidden"],
        opset_version=17,
        dynamo=False,
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
    )
quantize_dynamic(str(tmp / "fp32.onnx"), str(tmp / "int8.onnx"), weight_type=QuantType.QInt8)
options = ort.SessionOptions()
options.intra_op_num_threads = 2
session = ort.InferenceSession(str(tmp / "int8.onnx"), options, providers=["CPUExecutionProvider"])


def median_ms(run, runs=20):
    for _ in range(3):
        run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


for n in (96, 200):
    ids = tok("word " * 400, truncation=True, max_length=n, return_tensors="pt")
    feed = {
        k: v.numpy().astype(np.int64)
        for k, v in ids.items()
        if k in ("input_ids", "attention_mask")
    }
    with torch.no_grad():
        eager = median_ms(lambda ids=ids: model(**ids))
    onnx = median_ms(lambda feed=feed: session.run(None, feed))
    print(f"{n} tokens: torch fp32 {eager} ms, onnx int8 {onnx} ms")
