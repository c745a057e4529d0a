"""Errors as OpenAI's API writes them, and the handlers that turn every failure into one."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from refusalkit.errors import EndpointError, RefusalkitError

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
            status,
            message,
            type_,
            code,
            param,
        )

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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first: dict[str, Any] = errors[0] if errors else {"loc": (), "msg": "invalid request"}
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
