"""`refusalkit bench serve`: concurrent streaming clients on loopback, guarded vs direct.

Both servers run as their own processes, one after the other (never at once: they would share
two cores), and get the same prompts from the same client code.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from refusalkit.errors import EndpointError
from refusalkit.evals.traffic import benign_traffic
from refusalkit.weights import embedded_gguf_path

START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def llama_server_command(port: int, alias: str, threads: int) -> list[str]:
    """llama-cpp-python's server (through `refusalkit.backends.llama_server`, for the CPU path) on
    a loopback port, serving the embedded GGUF. Requests queue as the guard's do (the server's
    default interrupts the running one)."""
    return [
        sys.executable, "-m", "refusalkit.backends.llama_server",
        "--model", str(embedded_gguf_path()), "--model_alias", alias, "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", "4096",
        "--n_threads", str(threads), "--n_threads_batch", str(threads),
        "--interrupt_requests", "False",
    ]  # fmt: skip


def benign_prompts() -> list[str]:
    return [row["prompt"] for row in benign_traffic()]


@contextmanager
def server_process(command: list[str], base_url: str, env: dict[str, str] | None = None):
    """Start a server, wait until /v1/models answers, stop it afterwards."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    headers = {"Authorization": f"Bearer {env['REFUSALKIT_API_KEYS']}"} if env else {}
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise EndpointError(f"{command[2]} server exited while starting:\n{tail}")
            try:
                if httpx.get(f"{base_url}/models", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise EndpointError(f"server at {base_url} did not start in {START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass
class StreamResult:
    ok: bool
    ttft_s: float = 0.0
    total_s: float = 0.0
    tokens: int = 0
    stream_tokens_per_s: float = 0.0
    finish_reason: str | None = None
    error: str | None = None


async def _one_stream(
    client: httpx.AsyncClient, base_url: str, model: str, prompt: str, max_tokens: int
) -> StreamResult:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first_at = None
    first_chars = 0
    text = ""
    chunks = 0
    usage_tokens = None
    finish = None
    try:
        async with client.stream("POST", f"{base_url}/chat/completions", json=body) as response:
            if response.status_code != 200:
                await response.aread()
                return StreamResult(False, error=f"HTTP {response.status_code}: {response.text}")
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                payload = json.loads(data)
                if "error" in payload:
                    return StreamResult(False, error=str(payload["error"]))
                if payload.get("usage"):
                    usage_tokens = payload["usage"].get("completion_tokens")
                for choice in payload.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        chunks += 1
                        if first_at is None:
                            first_at = time.perf_counter()
                            first_chars = len(content)
                        text += content
                    finish = choice.get("finish_reason") or finish
    except httpx.HTTPError as exc:
        return StreamResult(False, error=f"{type(exc).__name__}: {exc}")
    ended = time.perf_counter()
    tokens = usage_tokens if usage_tokens is not None else chunks
    if first_at is None:
        return StreamResult(False, error="no content", total_s=ended - started)
    # Tokens after the first chunk, over the time after it (the guard releases several at once).
    after_first = tokens * (1 - first_chars / max(len(text), 1))
    rate = after_first / (ended - first_at) if ended > first_at else 0.0
    return StreamResult(True, first_at - started, ended - started, tokens, rate, finish)


def _percentiles(values: list[float], digits: int = 3) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan")}
    return {
        "p50": round(float(np.percentile(values, 50)), digits),
        "p95": round(float(np.percentile(values, 95)), digits),
    }


async def stream_load(
    base_url: str, model: str, headers: dict[str, str], clients: int, per_client: int,
    max_tokens: int,
) -> dict[str, Any]:  # fmt: skip
    prompts = benign_prompts()
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(headers=headers, timeout=600, limits=limits) as client:

        async def worker(index: int) -> list[StreamResult]:
            results = []
            for turn in range(per_client):
                prompt = prompts[(index * per_client + turn) % len(prompts)]
                results.append(await _one_stream(client, base_url, model, prompt, max_tokens))
            return results

        started = time.perf_counter()
        nested = await asyncio.gather(*(worker(i) for i in range(clients)))
        wall = time.perf_counter() - started
    results = [r for group in nested for r in group]
    good = [r for r in results if r.ok]
    errors = [r.error for r in results if not r.ok]
    return {
        "requests": len(results),
        "errors": len(errors),
        "error_examples": errors[:3],
        "ttft_s": _percentiles([r.ttft_s for r in good]),
        "stream_tokens_per_s": _percentiles([r.stream_tokens_per_s for r in good], 1),
        "completion_tokens": sum(r.tokens for r in good),
        "aggregate_tokens_per_s": round(sum(r.tokens for r in good) / wall, 1),
        "content_filter": sum(r.finish_reason == "content_filter" for r in good),
        "wall_s": round(wall, 2),
    }


async def _classify_load(
    base_url: str, headers: dict[str, str], clients: int, count: int
) -> dict[str, Any]:
    prompts = benign_prompts()
    latencies: list[float] = []
    errors: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    async with httpx.AsyncClient(headers=headers, timeout=120) as client:
        for prompt in prompts[:clients]:  # warm-up, not timed
            await client.post(f"{base_url}/classify", json={"inputs": [{"prompt": prompt}]})

        async def worker() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                body = {"inputs": [{"prompt": prompts[index % len(prompts)]}]}
                started = time.perf_counter()
                try:
                    response = await client.post(f"{base_url}/classify", json=body)
                    if response.status_code != 200:
                        errors.append(f"HTTP {response.status_code}")
                        continue
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                    continue
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    return {
        "requests": count,
        "errors": len(errors),
        "latency_ms": {k: round(v * 1000, 1) for k, v in _percentiles(latencies, 4).items()},
        "requests_per_s": round(len(latencies) / wall, 1),
        "concurrency": clients,
    }


def model_id(base_url: str, headers: dict[str, str]) -> str:
    response = httpx.get(f"{base_url}/models", headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()["data"][0]["id"]


def _load_guarded(
    base: str, headers: dict[str, str], clients: int, per_client: int, max_tokens: int,
    classify_requests: int,
) -> dict[str, Any]:  # fmt: skip
    """Streaming clients against a guard server, then /v1/classify at the same concurrency."""
    model = model_id(base, headers)
    result = {
        "guarded": asyncio.run(stream_load(base, model, headers, clients, per_client, max_tokens))
    }
    if classify_requests:
        result["classify"] = asyncio.run(_classify_load(base, headers, clients, classify_requests))
    return result


def bench_serve(
    clients: int = 16,
    requests_per_client: int = 2,
    max_tokens: int = 48,
    classify_requests: int = 320,
    url: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "clients": clients,
        "requests_per_client": requests_per_client,
        "max_tokens": max_tokens,
        "cpu_count": os.cpu_count(),
    }
    if url:
        base = url.rstrip("/")
        key = os.environ.get("REFUSALKIT_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        result.update(
            _load_guarded(
                base, headers, clients, requests_per_client, max_tokens, classify_requests
            )
        )
        return result

    port = free_port()
    direct = llama_server_command(port, "direct", os.cpu_count() or 1)
    base = f"http://127.0.0.1:{port}/v1"
    with server_process(direct, base):
        result["direct"] = asyncio.run(
            stream_load(base, "direct", {}, clients, requests_per_client, max_tokens)
        )

    port = free_port()
    key = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ)
        env.update(
            REFUSALKIT_API_KEYS=key,
            REFUSALKIT_SERVER__LOG_PATH=str(Path(scratch) / "decisions.sqlite3"),
        )
        guarded = [
            sys.executable,
            "-m",
            "refusalkit.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        base = f"http://127.0.0.1:{port}/v1"
        headers = {"Authorization": f"Bearer {key}"}
        with server_process(guarded, base, env):
            result.update(
                _load_guarded(
                    base, headers, clients, requests_per_client, max_tokens, classify_requests
                )
            )
    direct_rate = result["direct"]["aggregate_tokens_per_s"]
    if direct_rate:
        result["aggregate_throughput_ratio"] = round(
            result["guarded"]["aggregate_tokens_per_s"] / direct_rate, 3
        )
    return result
