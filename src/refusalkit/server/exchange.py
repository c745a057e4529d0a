"""One guarded chat completion: request checks, then the answer pulled step by step from worker
threads, as one JSON body or as server-sent events, with its decision-log row and metrics."""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi.responses import JSONResponse

from refusalkit.backends.base import GenerationParams, Message, validate_messages
from refusalkit.errors import InvalidInputError, RefusalkitError
from refusalkit.guard.runtime import GuardedStream
from refusalkit.server.errors import ApiError
from refusalkit.server.schemas import ChatCompletionRequest, ChatMessage
from refusalkit.server.state import ServerState


def last_user(messages: list[ChatMessage]) -> str:
    return next((m.text() for m in reversed(messages) if m.role == "user"), "")


def to_messages(messages: list[ChatMessage]) -> list[Message]:
    converted: list[Message] = []
    for message in messages:
        role = "system" if message.role == "developer" else message.role
        converted.append({"role": role, "content": message.text()})
    return validate_messages(converted)


def start_exchange(state: ServerState, body: ChatCompletionRequest, key: str | None):
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
    return state.guard.stream(backend, to_messages(body.messages), params, action)


def _score(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


_END = object()


def _verdict_dict(verdict: Any) -> dict[str, Any]:
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
                error = ApiError(
                    504 if timeout else 502,
                    message,
                    "timeout_error" if timeout else "upstream_error",
                )
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
