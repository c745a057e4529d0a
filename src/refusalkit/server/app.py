"""The guard server: an OpenAI-compatible proxy whose every answer passes the guard.

Generation and classifiers are blocking calls; each step runs in a worker thread and the event
loop only moves bytes, so one slow stream never stalls the others' I/O.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST

from refusalkit.audit.classifier import RefusalClassifier
from refusalkit.backends.base import Backend, GenerationParams, Message, validate_messages
from refusalkit.config import ServerConfig
from refusalkit.errors import EndpointError, InvalidInputError, RefusalkitError
from refusalkit.guard.runtime import Guard, GuardedStream
from refusalkit.server.decision_log import DecisionLog
from refusalkit.server.metrics import ServerMetrics
from refusalkit.server.schemas import (
    AuditRequest,
    ChatCompletionRequest,
    ChatMessage,
    ClassifyRequest,
)

log = logging.getLogger("refusalkit.server")


_TYPE_NAMES = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


class ApiError(Exception):
    """An error answered as OpenAI does: `{"error": {message, type, param, code}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = (
            status, message, type_, code, param,
        )  # fmt: skip

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


@dataclass
class ServerState:
    config: ServerConfig
    backend: Backend
    guard: Guard
    decisions: DecisionLog
    api_keys: frozenset[str] = frozenset()
    policy_keys: frozenset[str] = frozenset()
    audit_dir: Path | None = None
    metrics: ServerMetrics = field(default_factory=ServerMetrics)
    _auditor: Any = None
    _audit_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def model_id(self) -> str:
        return self.backend.model_name

    def auditor(self) -> Any:
        with self._audit_lock:
            if self._auditor is None:
                self._auditor = RefusalClassifier(self.audit_dir)
            return self._auditor


class BodyLimitAndLog:
    """ASGI middleware: request ids, the body-size limit (413), the log row and metrics.

    Pure ASGI rather than BaseHTTPMiddleware, which buffers streamed responses.
    """

    def __init__(self, app: Any, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        state = self.state
        request_id = "req-" + uuid.uuid4().hex[:24]
        started = time.perf_counter()
        scope.setdefault("state", {})
        scope["state"].update(request_id=request_id, decided=False)
        state.decisions.start(request_id, scope["path"])
        status: dict[str, int] = {"code": 500}

        async def send_with_status(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
                state.decisions.update(request_id, status_code=message["status"])
            await send(message)

        try:
            body, too_large = await _read_body(receive, state.config.max_body_bytes)
            if too_large:
                error = ApiError(
                    413,
                    f"request body is over the server's limit of {state.config.max_body_bytes:,}"
                    " bytes; send less, or raise [server] max_body_bytes",
                    code="request_too_large",
                )
                await error.response()(scope, receive, send_with_status)
                return
            await self.app(scope, _replay(body, receive), send_with_status)
        finally:
            elapsed = time.perf_counter() - started
            endpoint = scope["path"]
            state.metrics.requests.labels(endpoint=endpoint, status=str(status["code"])).inc()
            state.metrics.latency.labels(endpoint=endpoint).observe(elapsed)
            values: dict[str, Any] = {
                "status_code": status["code"],
                "latency_ms": round(elapsed * 1000, 2),
            }
            if not scope["state"].get("decided"):
                values["action"] = "rejected" if status["code"] >= 400 else "done"
            state.decisions.update(request_id, **values)


async def _read_body(receive: Any, limit: int) -> tuple[list[dict], bool]:
    """Every body message, up to `limit` bytes; True when the body is over it."""
    messages: list[dict] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if size > limit:
            return messages, True
        if not message.get("more_body"):
            return messages, False


def _replay(messages: list[dict], receive: Any) -> Any:
    pending = list(messages)

    async def replayed() -> dict:
        if pending:
            return pending.pop(0)
        return await receive()  # after the body: waits for the disconnect

    return replayed


def create_app(state: ServerState) -> FastAPI:
    app = FastAPI(
        title="refusalkit guard server",
        description="OpenAI-compatible chat completions, checked by constitutional classifiers.",
        version="0.1.0",
    )
    app.state.server = state

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            return ApiError(
                400, f"the body is not valid JSON: {first.get('ctx', {}).get('error', '')}".strip()
            ).response()
        if tuple(first.get("loc", ())) == ("body",) and first.get("type") in (
            "model_attributes_type",
            "dict_type",
            "missing",
        ):
            return ApiError(
                400, "the body must be a JSON object, sent with Content-Type: application/json"
            ).response()
        # pydantic names union members in the location ("content.str"): not a field a user wrote
        location = [
            str(part)
            for part in first.get("loc", ())
            if part != "body" and str(part) not in _TYPE_NAMES and "[" not in str(part)
        ]
        where = ".".join(location) or "body"
        return ApiError(422, f"{where}: {first['msg']}", param=where).response()

    @app.exception_handler(RefusalkitError)
    async def user_error(_: Request, exc: RefusalkitError) -> JSONResponse:
        if isinstance(exc, EndpointError):
            return ApiError(502, f"upstream model failed: {exc}", "upstream_error").response()
        return ApiError(400, str(exc)).response()

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
            "constitution": state.guard.constitution.name,
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
        guarded = _start_exchange(state, body, key)
        state.decisions.update(request_id, model=body.model, prompt=_last_user(body.messages))
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
                400, f"{size} {field}; the limit is {state.config.max_batch} a request",
                param=field,
            )  # fmt: skip

    @app.post("/v1/classify")
    async def classify(body: ClassifyRequest, _: str | None = Depends(authorize)) -> dict[str, Any]:
        check_batch(len(body.inputs), "inputs")
        work: list[tuple[list[Message], str | None]] = []
        for index, item in enumerate(body.inputs):
            if (item.prompt is None) == (item.messages is None):
                raise ApiError(
                    422, f"inputs.{index}: give exactly one of 'prompt' or 'messages'",
                    param=f"inputs.{index}",
                )  # fmt: skip
            messages = (
                [{"role": "user", "content": item.prompt}]
                if item.prompt is not None
                else _to_messages(item.messages or [])
            )
            work.append((messages, item.response))  # type: ignore[arg-type]

        def run() -> list[dict[str, Any]]:
            results = []
            for index, (messages, response) in enumerate(work):
                try:
                    verdict = (
                        state.guard.check_output(messages, response)
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


def _last_user(messages: list[ChatMessage]) -> str:
    return next((m.text() for m in reversed(messages) if m.role == "user"), "")


def _to_messages(messages: list[ChatMessage]) -> list[Message]:
    converted: list[Message] = []
    for message in messages:
        role = "system" if message.role == "developer" else message.role
        converted.append({"role": role, "content": message.text()})  # type: ignore[typeddict-item]
    return validate_messages(converted)


def _start_exchange(state: ServerState, body: ChatCompletionRequest, key: str | None):
    if body.model != state.model_id:
        raise ApiError(
            404,
            f"model {body.model!r} is not served here; GET /v1/models lists {state.model_id!r}",
            code="model_not_found",
            param="model",
        )
    if body.n != 1:
        raise ApiError(400, "n must be 1: the guard checks one answer per request", param="n")
    if (body.guard is not None or body.refusal_thresholds is not None) and (
        key is None or key not in state.policy_keys
    ):
        raise ApiError(
            403,
            "this key may not set per-request policy ('guard', 'refusal_thresholds'); list it "
            "in REFUSALKIT_POLICY_KEYS",
            "permission_error",
            code="policy_not_allowed",
        )
    backend = state.backend
    if body.refusal_thresholds is not None:
        if not backend.supports_refusal_thresholds:
            raise ApiError(
                400,
                f"refusal_thresholds needs a refusal-token model upstream (refusalkit serve "
                f"--upstream steer); {backend.spec!r} is not one",
                param="refusal_thresholds",
            )
        try:
            backend = backend.with_refusal_thresholds(body.refusal_thresholds)
        except InvalidInputError as exc:
            raise ApiError(400, str(exc), param="refusal_thresholds") from None
    max_tokens = body.max_completion_tokens or body.max_tokens or state.config.default_max_tokens
    if max_tokens > state.config.max_tokens:
        raise ApiError(
            400,
            f"max_tokens {max_tokens} is over this server's limit of {state.config.max_tokens}",
            param="max_tokens",
        )
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    params = GenerationParams(
        max_tokens=max_tokens,
        temperature=0.0 if body.temperature is None else body.temperature,
        top_p=1.0 if body.top_p is None else body.top_p,
        seed=body.seed if body.seed is not None else 0,
        stop=stop,
    )
    action = body.guard.action if body.guard else None
    return state.guard.stream(backend, _to_messages(body.messages), params, action)


def _score(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


_END = object()


def _verdict_dict(verdict: Any) -> dict[str, object]:
    """JSON has no NaN: a failed classifier's score is null."""
    return {
        key: None if isinstance(value, float) and math.isnan(value) else value
        for key, value in verdict.as_dict().items()
    }


def _next_or_end(stream: GuardedStream) -> object:
    return next(stream, _END)


class Exchange:
    """One guarded chat completion, pulled step by step from worker threads."""

    def __init__(
        self,
        state: ServerState,
        guarded: GuardedStream,
        request_id: str,
        model: str,
        started: float,
    ) -> None:
        self.state = state
        self.guarded = guarded
        self.request_id = request_id
        self.model = model
        self.started = started
        self.deadline = started + state.config.request_timeout_s
        self.completion_id = "chatcmpl-" + request_id.removeprefix("req-")
        self.created = int(time.time())
        self.logged_input = False

    async def _pull(self) -> object:
        remaining = self.deadline - time.perf_counter()
        with anyio.fail_after(max(remaining, 0.001)):
            # abandon_on_cancel: a disconnect or the deadline frees the request at once; the
            # worker thread sees the cancel flag at its next token and ends there.
            item = await anyio.to_thread.run_sync(
                _next_or_end, self.guarded, abandon_on_cancel=True
            )
        if not self.logged_input and self.guarded.verdicts:
            self.logged_input = True
            first = self.guarded.verdicts[0]
            self.state.decisions.update(
                self.request_id,
                input_score=_score(first.score),
                category=first.category if first.flagged else None,
                stage="input" if first.flagged else None,
            )
        return item

    def guard_info(self) -> dict[str, Any]:
        guarded = self.guarded
        verdicts = guarded.verdicts
        outputs = [v for v in verdicts if v.stage == "output"]
        return {
            "request_id": self.request_id,
            "blocked": guarded.blocked,
            "flagged": guarded.flagged,
            "stage": guarded.stage,
            "category": guarded.category,
            "action": guarded.action,
            "refusal": guarded.refusal,
            "released_chars": len(guarded.released),
            "input": _verdict_dict(verdicts[0]) if verdicts else None,
            "output": _verdict_dict(outputs[-1]) if outputs else None,
            "output_checks": len(outputs),
            "classifier_error": guarded.classifier_error,
            # which decision token a refusal-token upstream emitted, with its probabilities
            "steer": guarded.upstream.refusal_decision if guarded.upstream else None,
        }

    def finish(self, action: str | None = None, detail: str | None = None) -> None:
        guarded = self.guarded
        if action is None:
            action = "block" if guarded.blocked else "flag" if guarded.flagged else "pass"
        outputs = [v.score for v in guarded.verdicts if v.stage == "output"]
        stage = guarded.stage or (
            "input" if guarded.verdicts and guarded.verdicts[0].flagged else None
        )
        if guarded.flagged and stage is None:
            stage = "output"
        self.state.decisions.update(
            self.request_id,
            action=action,
            stage=stage,
            category=guarded.category if guarded.flagged else None,
            input_score=_score(guarded.verdicts[0].score) if guarded.verdicts else None,
            output_score=_score(max(outputs)) if outputs else None,
            classifier_error=int(guarded.classifier_error),
            completion_tokens=guarded.upstream_tokens,
            detail=detail,
        )
        metrics = self.state.metrics
        category = guarded.category or "none"
        if guarded.blocked:
            metrics.blocks.labels(stage=stage or "unknown", category=category).inc()
        elif guarded.flagged:
            metrics.flags.labels(stage=stage or "unknown", category=category).inc()
        if guarded.classifier_error:
            metrics.classifier_errors.inc()

    def _usage(self) -> dict[str, int]:
        backend = self.state.backend
        prompt = "\n".join(m["content"] for m in self.guarded.messages)
        try:
            prompt_tokens = backend.count_tokens(prompt)
        except Exception:  # noqa: BLE001 - usage is informative; never fail an answer over it
            prompt_tokens = 0
        completion = self.guarded.upstream_tokens
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
        }

    def _finish_reason(self) -> str:
        reason = self.guarded.finish_reason or "stop"
        return reason if reason in ("stop", "length", "content_filter") else "stop"

    async def complete(self) -> JSONResponse:
        parts: list[str] = []
        try:
            while (item := await self._pull()) is not _END:
                parts.append(item)  # type: ignore[arg-type]
        except TimeoutError:
            self.guarded.cancel()
            self.finish("timeout")
            raise ApiError(
                504,
                f"no answer within the request timeout ({self.state.config.request_timeout_s} s)",
                "timeout_error",
            ) from None
        except RefusalkitError as exc:
            self.guarded.cancel()
            self.finish("error", str(exc))
            raise
        except BaseException:
            self.guarded.cancel()
            self.finish("disconnected")
            raise
        self.finish()
        return JSONResponse(
            {
                "id": self.completion_id,
                "object": "chat.completion",
                "created": self.created,
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(parts)},
                        "finish_reason": self._finish_reason(),
                        "logprobs": None,
                    }
                ],
                "usage": self._usage(),
                "refusalkit": self.guard_info(),
            }
        )

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        payload = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    async def sse(self, include_usage: bool) -> AsyncIterator[str]:
        finished = False
        try:
            yield self._chunk({"role": "assistant", "content": ""})
            first = True
            try:
                while (item := await self._pull()) is not _END:
                    if first:
                        self.state.metrics.first_token.observe(time.perf_counter() - self.started)
                        first = False
                    yield self._chunk({"content": item})
            except (TimeoutError, RefusalkitError) as exc:
                self.guarded.cancel()
                timeout = isinstance(exc, TimeoutError)
                message = (
                    f"no answer within the request timeout ({self.state.config.request_timeout_s}"
                    " s)"
                    if timeout
                    else f"upstream model failed: {exc}"
                )
                self.finish("timeout" if timeout else "error", message)
                finished = True
                error = ApiError(504 if timeout else 502, message, "timeout_error" if timeout
                                 else "upstream_error")  # fmt: skip
                yield f"data: {json.dumps(error.body())}\n\n"
                yield "data: [DONE]\n\n"
                return
            self.finish()
            finished = True
            final = json.loads(self._chunk({}, self._finish_reason())[6:])
            final["refusalkit"] = self.guard_info()
            yield f"data: {json.dumps(final, ensure_ascii=False)}\n\n"
            if include_usage:
                usage = json.loads(self._chunk({})[6:])
                usage["choices"] = []
                usage["usage"] = self._usage()
                yield f"data: {json.dumps(usage)}\n\n"
            yield "data: [DONE]\n\n"
        finally:
            if not finished:  # the client went away mid-stream
                self.guarded.cancel()
                self.finish("disconnected")
