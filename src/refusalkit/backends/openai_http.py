"""Any OpenAI-compatible chat endpoint: vLLM, Ollama, llama.cpp server, hosted APIs."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import openai

from refusalkit.backends.base import (
    Backend,
    GenerationParams,
    Message,
    TextStream,
    validate_messages,
)
from refusalkit.config import Settings
from refusalkit.errors import EndpointError

# Servers that are not OpenAI itself rarely check keys, but the SDK insists on one.
PLACEHOLDER_KEY = "sk-no-key"


class OpenAIBackend(Backend):
    """Chat completions over HTTP with bounded timeouts and retries."""

    default_concurrency = 8

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        spec: str | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.spec = spec or self.base_url
        self._model = model
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or PLACEHOLDER_KEY,
            timeout=openai.Timeout(timeout_s, connect=connect_timeout_s),
            max_retries=max_retries,
        )
        # for the non-OpenAI routes (tokenize) that the SDK has no method for
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            headers={"Authorization": f"Bearer {self._client.api_key}"},
        )

    def _error(self, exc: Exception, action: str) -> EndpointError:
        if isinstance(exc, openai.APIStatusError):
            detail = _error_detail(exc)
            return EndpointError(
                f"{self.base_url} answered HTTP {exc.status_code} to {action}: {detail}"
            )
        if isinstance(exc, openai.APITimeoutError):
            return EndpointError(
                f"{self.base_url} timed out on {action}; is the server overloaded?"
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return EndpointError(
                f"cannot reach {self.base_url} ({type(cause).__name__}: {cause}); "
                "check the URL and that the server is running"
            )
        return EndpointError(f"{self.base_url} failed on {action}: {exc}")

    @property
    def model_name(self) -> str:
        if self._model is None:
            try:
                models = self._client.models.list().data
            except openai.OpenAIError as exc:
                raise self._error(exc, "GET /models") from None
            if not models:
                raise EndpointError(
                    f"{self.base_url} lists no models; name one as {self.base_url}#MODEL"
                )
            self._model = models[0].id
        return self._model

    def count_tokens(self, text: str) -> int:
        """Exact counts need the server's tokenizer: llama.cpp and vLLM expose one."""
        root = self.base_url.removesuffix("/v1")
        attempts: list[tuple[str, dict[str, Any], str]] = [
            (f"{root}/extras/tokenize", {"input": text}, "tokens"),  # llama-cpp-python
            (f"{root}/tokenize", {"content": text, "model": self.model_name}, "tokens"),
        ]
        for url, body, key in attempts:
            try:
                response = self._http.post(url, json=body)
            except httpx.HTTPError as exc:
                raise EndpointError(f"cannot reach {url}: {exc}") from None
            if response.status_code == 200 and key in response.json():
                value = response.json()[key]
                return len(value) if isinstance(value, list) else int(value)
        raise EndpointError(
            f"{self.base_url} has no tokenize route (tried /extras/tokenize and /tokenize); "
            "token counts need a llama.cpp or vLLM server"
        )

    def stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> TextStream:
        checked = validate_messages(messages, judged_turn=True)
        params = params or GenerationParams()
        request: dict[str, Any] = {
            "model": self.model_name,
            "messages": checked,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
        }
        if params.seed is not None:
            request["seed"] = params.seed
        if params.stop:
            request["stop"] = params.stop
        extra: dict[str, Any] = {}
        if params.ignore_eos:
            # vLLM and llama.cpp's server read ignore_eos; llama-cpp-python's reads min_tokens
            extra.update(ignore_eos=True, min_tokens=params.max_tokens)
        if params.repeat_penalty is not None:
            # llama.cpp spells it repeat_penalty, vLLM repetition_penalty
            extra.update(repeat_penalty=params.repeat_penalty)
            extra.update(repetition_penalty=params.repeat_penalty)
        if extra:
            request["extra_body"] = extra
        try:
            response = self._client.chat.completions.create(**request)
        except openai.OpenAIError as exc:
            raise self._error(exc, "POST /chat/completions") from None

        def produce(stream: TextStream) -> Iterator[str]:
            try:
                for chunk in response:
                    if stream.cancelled:
                        break
                    delta = None
                    if chunk.choices:
                        choice = chunk.choices[0]
                        if choice.finish_reason:
                            stream.finish_reason = choice.finish_reason
                        delta = choice.delta.content if choice.delta else None
                    if delta:
                        stream.completion_tokens += 1  # one token a chunk, until usage says
                    if chunk.usage is not None:
                        stream.completion_tokens = chunk.usage.completion_tokens
                    if delta:
                        yield delta
            except openai.OpenAIError as exc:
                raise self._error(exc, "streaming /chat/completions") from None
            except httpx.HTTPError as exc:
                raise EndpointError(f"{self.base_url} dropped the stream: {exc}") from None
            finally:
                response.close()  # closing the connection is how a server learns to stop

        return TextStream(produce)

    def close(self) -> None:
        self._client.close()
        self._http.close()


def _error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body.get("detail")
        if isinstance(message, dict):
            message = message.get("message")
        if message:
            return str(message)[:300]
    return str(exc.message)[:300]


def _build(
    url: str, model: str | None, key: str | None, spec: str, settings: Settings
) -> OpenAIBackend:
    return OpenAIBackend(
        url,
        model=model,
        api_key=key or settings.api_key or os.environ.get("OPENAI_API_KEY"),
        spec=spec,
        timeout_s=settings.timeout_s,
        connect_timeout_s=settings.connect_timeout_s,
        max_retries=settings.max_retries,
    )


def from_spec(spec: str, argument: str, settings: Settings) -> OpenAIBackend:
    """`http(s)://host:port/v1[#model]`."""
    url, _, model = spec.partition("#")
    return _build(url, model or None, settings.api_key, spec, settings)


def from_endpoint(name: str, settings: Settings) -> OpenAIBackend:
    """An `[endpoints.NAME]` table of refusalkit.toml."""
    endpoint = settings.endpoints[name]
    return _build(endpoint.url, endpoint.model, endpoint.resolved_api_key(), name, settings)
