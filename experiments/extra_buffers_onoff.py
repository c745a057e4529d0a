"""#37 (stop 36): llama.cpp extra buffers on vs off in one process: two backends of one GGUF,
`bench generate` interleaved (ABBA). Run: `extra_buffers_onoff.py [MODEL.gguf]`
(default: embedded)."""

import statistics
import sys
from pathlib import Path

from refusalkit.backends import LlamaCppBackend
from refusalkit.evals import bench_generate
from refusalkit.weights import embedded_gguf_path

path = Path(sys.argv[1]) if len(sys.argv) > 1 else embedded_gguf_path()
backends = {s: LlamaCppBackend(path, extra_buffers=s, n_threads=2) for s in ("on", "off")}
rates: dict[str, list[float]] = {"on": [], "off": []}
for round_ in range(4):
    for s in ("on", "off") if round_ % 2 == 0 else ("off", "on"):
        rates[s].append(bench_generate(backends[s], runs=5)["tokens_per_s"])
print(
    path.name,
    {s: (r, statistics.median(r)) for s, r in rates.items()},
    "ratio on/off",
    round(statistics.median(rates["on"]) / statistics.median(rates["off"]), 3),
)
