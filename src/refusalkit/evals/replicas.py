"""`refusalkit bench serve --replicas N`: N guard servers on loopback ports sharing one decision
log (PostgreSQL), streaming clients spread across them; per-replica errors, time to first token
and tokens/s, and whether the shared log holds one row per request."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from contextlib import ExitStack
from typing import Any

from refusalkit.config import load_settings
from refusalkit.errors import InvalidInputError
from refusalkit.evals.load import free_port, model_id, server_process, stream_load
from refusalkit.server.decision_log import DecisionLog

CHAT = "/v1/chat/completions"


def bench_replicas(
    replicas: int, decision_log: str, clients: int, per_client: int, max_tokens: int
) -> dict[str, Any]:
    if replicas < 2:
        raise InvalidInputError(f"--replicas {replicas}: a multi-replica run needs at least 2")
    if clients < replicas:
        raise InvalidInputError(f"--clients {clients} is fewer than --replicas {replicas}")
    # the log may be a team's shared one: open it with the retention its servers use
    server = load_settings().server
    log = DecisionLog(decision_log, False, server.log_retention_days, server.log_max_rows)
    started = time.time()
    key = secrets.token_hex(16)
    headers = {"Authorization": f"Bearer {key}"}
    # the replicas share this machine's cores: each llama.cpp gets its share
    threads = max(1, (os.cpu_count() or 1) // replicas)
    env = {
        **os.environ,
        "REFUSALKIT_API_KEYS": key,
        "REFUSALKIT_SERVER__DECISION_LOG": decision_log,
        "REFUSALKIT_N_THREADS": str(threads),
    }
    bases = []
    with ExitStack() as stack:
        for _ in range(replicas):
            port = free_port()
            base = f"http://127.0.0.1:{port}/v1"
            command = [sys.executable, "-m", "refusalkit.cli", "serve", "--host", "127.0.0.1",
                       "--port", str(port), "--log-level", "warning"]  # fmt: skip
            stack.enter_context(server_process(command, base, env))
            bases.append(base)
        model = model_id(bases[0], headers)
        shares = [clients // replicas + (i < clients % replicas) for i in range(replicas)]

        async def run_all() -> list[dict[str, Any]]:
            return list(
                await asyncio.gather(
                    *(
                        stream_load(base, model, headers, share, per_client, max_tokens)
                        for base, share in zip(bases, shares, strict=True)
                    )
                )
            )

        per_replica = asyncio.run(run_all())
    rows = log.rows(since=started)
    log.close()
    requests = sum(r["requests"] for r in per_replica)
    chat_rows = [row for row in rows if row["path"] == CHAT]
    return {
        "bench": "serve_replicas",
        "replicas": replicas,
        "decision_log": log.location,
        "clients": clients,
        "requests_per_client": per_client,
        "max_tokens": max_tokens,
        "llama_threads_per_replica": threads,
        "requests": requests,
        "errors": sum(r["errors"] for r in per_replica),
        "per_replica": [
            {
                "clients": share,
                **{
                    k: r[k]
                    for k in (
                        "requests",
                        "errors",
                        "error_examples",
                        "ttft_s",
                        "stream_tokens_per_s",
                        "aggregate_tokens_per_s",
                        "wall_s",
                    )
                },
            }
            for share, r in zip(shares, per_replica, strict=True)
        ],  # fmt: skip
        "aggregate_tokens_per_s": round(sum(r["aggregate_tokens_per_s"] for r in per_replica), 1),
        "log_chat_rows": len(chat_rows),
        "log_rows_equal_requests": len(chat_rows) == requests,
        "log_chat_rows_still_in_progress": sum(row["action"] == "in_progress" for row in chat_rows),
    }
