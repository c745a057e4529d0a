"""`refusalkit serve` and `bench serve`: thin commands over refusalkit.server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from refusalkit.cli.common import GuardOption, JsonOption, console, guard_spec, print_result
from refusalkit.config import load_settings
from refusalkit.errors import ConfigError

app = typer.Typer()
bench = typer.Typer()


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    upstream: Annotated[
        str | None,
        typer.Option(
            help="Model spec to guard: embedded (default), gguf:/path, hf:/path, "
            "http://host:port/v1[#model], or an endpoint name from refusalkit.toml."
        ),
    ] = None,
    classifiers: Annotated[
        Path | None,
        typer.Option(help="Classifier directory from `refusalkit train` (default: shipped ones)."),
    ] = None,
    guard: GuardOption = None,
    audit_classifier: Annotated[
        Path | None, typer.Option(help="Refusal classifier for /v1/audit (default: shipped).")
    ] = None,
    upstream_timeout: Annotated[
        float | None, typer.Option(min=0.1, help="Seconds to wait on an HTTP upstream.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve an OpenAI-compatible, guarded /v1/chat/completions (and classify, audit, metrics)."""
    from refusalkit.server.serve import build_state, run

    settings = load_settings(timeout_s=upstream_timeout)
    state = build_state(upstream, guard_spec(guard, classifiers), audit_classifier, settings)
    auth = "on" if state.api_keys else "off (set REFUSALKIT_API_KEYS to require keys)"
    console.print(
        f"guarding {state.backend.spec} as model {state.model_id!r} with "
        f"{state.guard.model.name} on http://{host}:{port} "
        f"· playground http://{host}:{port}/ · auth {auth} · log {state.decisions.location}"
    )
    run(state, host, port, log_level)


@bench.command("serve")
def bench_serve_command(
    clients: Annotated[int, typer.Option(min=1, help="Concurrent streaming clients.")] = 16,
    requests_per_client: Annotated[int, typer.Option(min=1, help="Requests per client.")] = 2,
    max_tokens: Annotated[int, typer.Option(min=1, help="Tokens per answer.")] = 48,
    classify_requests: Annotated[
        int, typer.Option(min=0, help="/v1/classify requests (at the same concurrency).")
    ] = 320,
    url: Annotated[
        str | None,
        typer.Option(help="Load an already running guard server instead (no comparison)."),
    ] = None,
    replicas: Annotated[
        int,
        typer.Option(
            min=1, help="Guard servers sharing one decision log (needs 2+ and --decision-log)."
        ),
    ] = 1,
    decision_log: Annotated[
        str | None,
        typer.Option(help="The shared log for --replicas: postgresql://USER:PASSWORD@HOST/DB."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Load test on loopback: guarded server vs a direct llama.cpp server, in one run; or, with
    --replicas N, N guard servers sharing one PostgreSQL decision log."""
    from refusalkit.evals.load import bench_serve
    from refusalkit.evals.replicas import bench_replicas

    if replicas > 1:
        if not decision_log:
            raise ConfigError("--replicas needs --decision-log postgresql://… (the shared log)")
        result = bench_replicas(replicas, decision_log, clients, requests_per_client, max_tokens)
    else:
        result = bench_serve(clients, requests_per_client, max_tokens, classify_requests, url)
    print_result(result, as_json)
