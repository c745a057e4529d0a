"""Speed benchmarks: medians over repeated runs after a warm-up."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

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
) -> dict[str, Any]:
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


OVERHEAD_PROMPT = "Write a long, friendly guide to growing tomatoes on a balcony."


def bench_overhead(backend: Backend, guard, runs: int = 5, max_tokens: int = 128) -> dict[str, Any]:
    """Guarded vs unguarded decode on one backend, interleaved so drift hits both alike."""
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0, ignore_eos=True)
    messages = user_message(OVERHEAD_PROMPT)

    def unguarded() -> float:
        start = time.perf_counter()
        with backend.stream(messages, params) as stream:
            for _ in stream:
                pass
        return stream.completion_tokens / (time.perf_counter() - start)

    def guarded() -> float:
        start = time.perf_counter()
        stream = guard.stream(backend, messages, params)
        for _ in stream:
            pass
        if stream.blocked:
            raise RuntimeError(f"the guard blocked the benign benchmark prompt ({stream.category})")
        return stream.upstream_tokens / (time.perf_counter() - start)

    unguarded(), guarded()  # warm-up
    plain: list[float] = []
    checked: list[float] = []
    for _ in range(max(1, runs)):
        plain.append(unguarded())
        checked.append(guarded())
    prompt_200, tokens = request_of_tokens(200)
    latencies = [guard.check_input(prompt_200).latency_ms for _ in range(21)]
    unguarded_tps = statistics.median(plain)
    guarded_tps = statistics.median(checked)
    return {
        "bench": "overhead",
        "model": backend.spec,
        "unguarded_tokens_per_s": round(unguarded_tps, 2),
        "guarded_tokens_per_s": round(guarded_tps, 2),
        "overhead": round(1 - guarded_tps / unguarded_tps, 4),
        "input_check_p50_ms": round(statistics.median(latencies), 2),
        "input_check_tokens": tokens,
        "check_every": guard.check_every,
        "runs": runs,
        "max_tokens": max_tokens,
    }


def request_of_tokens(tokens: int) -> tuple[str, int]:
    """A realistic request of `tokens` all-MiniLM-L6-v2 word pieces (the shipped classifiers'
    encoder), whatever guard model reads it; and its length in those word pieces."""
    from refusalkit.audit.encoder import encoder_tokenizer, token_ids

    pieces = encoder_tokenizer()
    base = " ".join(["Please summarise this paragraph about balcony gardening and tomatoes."] * 40)
    text = pieces.backend.decode(token_ids(pieces, [base])[0][:tokens])
    return text, len(token_ids(pieces, [text])[0])
