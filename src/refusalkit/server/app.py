"""The guard server: an OpenAI-compatible proxy whose every answer passes the guard.

Generation and classifiers are blocking calls; each step runs in a worker thread and the event
loop only moves bytes, so one slow stream never stalls the others' I/O. This module holds the
routes; `exchange` runs a chat completion, `middleware` wraps every request, `errors` answers
failures as OpenAI does, `state` is what the server holds.
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST

from refusalkit.backends.base import Message
from refusalkit.errors import InvalidInputError
from refusalkit.server.errors import ApiError, install_error_handlers
from refusalkit.server.exchange import Exchange, last_user, start_exchange, to_messages
from refusalkit.server.schemas import AuditRequest, ChatCompletionRequest, ClassifyRequest
from refusalkit.server.state import ServerState

__all__ = ["create_app"]


def create_app(state: ServerState) -> FastAPI:
    app = FastAPI(
        title="refusalkit guard server",
        description="OpenAI-compatible chat completions, checked by constitutional classifiers.",
        version="0.1.0",
    )
    app.state.server = state

    install_error_handlers(app)

    valid_keys = state.api_keys | state.policy_keys  # a policy key is an API key with more rights

    def authorize(request: Request) -> str | None:
        if not valid_keys:
            return None
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise ApiError(
                401,
                "missing API key: send 'Authorization: Bearer KEY' (keys come from "
                "REFUSALKIT_API_KEYS)",
                code="invalid_api_key",
            )
        if key.strip() not in valid_keys:
            raise ApiError(401, "invalid API key", code="invalid_api_key")
        return key.strip()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def playground() -> HTMLResponse:
        page = resources.files("refusalkit.server").joinpath("playground.html").read_text("utf-8")
        return HTMLResponse(page)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": state.model_id,
            "upstream": state.backend.spec,
            "guard": state.guard.model.name,
            "constitution": state.guard.constitution.name if state.guard.constitution else None,
            "action": state.guard.action,
            "auth": bool(valid_keys),
        }

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    async def list_models(_: str | None = Depends(authorize)) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": state.model_id, "object": "model", "created": 0, "owned_by": "refusalkit"}
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(
        body: ChatCompletionRequest, request: Request, key: str | None = Depends(authorize)
    ) -> JSONResponse | StreamingResponse:
        started = time.perf_counter()
        request_id: str = request.state.request_id
        guarded = start_exchange(state, body, key)
        state.decisions.update(request_id, model=body.model, prompt=last_user(body.messages))
        request.state.decided = True
        exchange = Exchange(state, guarded, request_id, body.model, started)
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(
                exchange.sse(include_usage),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return await exchange.complete()

    def check_batch(size: int, field: str) -> None:
        if size > state.config.max_batch:
            raise ApiError(
                400,
                f"{size} {field}; the limit is {state.config.max_batch} a request",
                param=field,
            )

    @app.post("/v1/classify")
    async def classify(body: ClassifyRequest, _: str | None = Depends(authorize)) -> dict[str, Any]:
        check_batch(len(body.inputs), "inputs")
        work: list[tuple[list[Message], str | None]] = []
        for index, item in enumerate(body.inputs):
            if (item.prompt is None) == (item.messages is None):
                raise ApiError(
                    422,
                    f"inputs.{index}: give exactly one of 'prompt' or 'messages'",
                    param=f"inputs.{index}",
                )
            messages = (
                [{"role": "user", "content": item.prompt}]
                if item.prompt is not None
                else to_messages(item.messages or [])
            )
            work.append((messages, item.response))  # type: ignore[arg-type]

        def run() -> list[dict[str, Any]]:
            results = []
            for index, (messages, response) in enumerate(work):
                try:
                    verdict = (
                        state.guard.check_exchange(messages, response)
                        if response
                        else state.guard.check_input(messages)
                    )
                except InvalidInputError as exc:
                    raise ApiError(422, f"inputs.{index}: {exc}", param=f"inputs.{index}") from None
                results.append(
                    {
                        "index": index,
                        "stage": verdict.stage,
                        "flagged": verdict.flagged,
                        "score": round(verdict.score, 6),
                        "category": verdict.category if verdict.flagged else None,
                        "top_category": verdict.category,
                        "threshold": round(verdict.threshold, 6),
                    }
                )
            return results

        return {"object": "list", "data": await anyio.to_thread.run_sync(run)}

    @app.post("/v1/audit")
    async def audit(body: AuditRequest, _: str | None = Depends(authorize)) -> dict[str, Any]:
        check_batch(len(body.items), "items")

        def run() -> list[dict[str, Any]]:
            auditor = state.auditor()
            with state._audit_lock:  # one batch at a time: the encoder uses every core
                results = auditor.classify(
                    [item.prompt for item in body.items], [item.response for item in body.items]
                )
            return [{"index": i, **result.as_dict()} for i, result in enumerate(results)]

        return {"object": "list", "data": await anyio.to_thread.run_sync(run)}

    return app
