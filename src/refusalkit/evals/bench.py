"""Speed benchmarks: medians over repeated runs after a warm-up."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

from refusalkit.backends import Backend, GenerationParams, user_message

BENCH_PROMPT = (
    "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle."
)


@dataclass
class StreamTiming:
    completion_tokens: int
    ttft_s: float
    total_s: float

    @property
    def decode_tokens_per_s(self) -> float:
        """Tokens after the first, over the time after the first: the decode rate alone."""
        decode_s = self.total_s - self.ttft_s
        return (self.completion_tokens - 1) / decode_s if decode_s > 0 else 0.0

    @property
    def e2e_tokens_per_s(self) -> float:
        return self.completion_tokens / self.total_s if self.total_s > 0 else 0.0


def time_stream(backend: Backend, prompt: str, params: GenerationParams) -> StreamTiming:
    start = time.perf_counter()
    first: float | None = None
    with backend.stream(user_message(prompt), params) as stream:
        for _ in stream:
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return StreamTiming(stream.completion_tokens, (first or end) - start, end - start)


def bench_generate(
    backend: Backend, runs: int = 5, max_tokens: int = 128, prompt: str = BENCH_PROMPT
) -> dict[str, object]:
    """Single-stream generation speed; `tokens_per_s` is the median decode rate."""
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0, ignore_eos=True)
    time_stream(backend, prompt, GenerationParams(max_tokens=16, ignore_eos=True))  # warm-up
    timings = [time_stream(backend, prompt, params) for _ in range(max(1, runs))]
    return {
        "bench": "generate",
        "model": backend.spec,
        "model_name": backend.model_name,
        "tokens_per_s": round(statistics.median(t.decode_tokens_per_s for t in timings), 2),
        "e2e_tokens_per_s": round(statistics.median(t.e2e_tokens_per_s for t in timings), 2),
        "ttft_s": round(statistics.median(t.ttft_s for t in timings), 4),
        "runs": len(timings),
        "max_tokens": max_tokens,
        "timings": [asdict(t) for t in timings],
    }
