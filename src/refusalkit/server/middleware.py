"""ASGI middleware in front of every /v1/ route: request ids, the body limit, the log row."""

from __future__ import annotations

import time
import uuid
from collections.abc import MutableMapping
from typing import Any

from refusalkit.server.decision_log import DecisionLogError
from refusalkit.server.errors import ApiError
from refusalkit.server.state import ServerState


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
        try:
            state.decisions.start(request_id, scope["path"])
        except DecisionLogError as exc:
            # Fail closed: no request is served that the audit trail would not show.
            state.metrics.requests.labels(endpoint=scope["path"], status="503").inc()
            unavailable = ApiError(
                503,
                f"{exc}; requests are refused until it is back",
                "server_error",
                code="decision_log_unavailable",
            )
            await unavailable.response()(scope, receive, send)
            return
        status: dict[str, int] = {"code": 500}

        async def send_with_status(message: MutableMapping[str, Any]) -> None:
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
