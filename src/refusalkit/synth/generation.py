"""Generator calls, memoised on disk: a rerun with --resume pays only for what is missing."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from refusalkit.backends import Backend, GenerationParams, Message
from refusalkit.backends.base import Role
from refusalkit.errors import EndpointError, RefusalkitError

# Abort a phase when the generator fails this many times in a row: it is down, not flaky.
MAX_CONSECUTIVE_FAILURES = 5


@dataclass(frozen=True)
class Request:
    messages: tuple[tuple[Role, str], ...]
    params: GenerationParams

    @classmethod
    def user(cls, prompt: str, params: GenerationParams) -> Request:
        return cls((("user", prompt),), params)

    def key(self) -> str:
        blob = json.dumps([self.messages, asdict(self.params)], sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()

    def as_messages(self) -> list[Message]:
        return [{"role": role, "content": content} for role, content in self.messages]


class GenerationCache:
    def __init__(
        self, backend_factory: Callable[[], Backend], path: Path, concurrency: int | None = None
    ) -> None:
        self._factory = backend_factory
        self._backend: Backend | None = None
        self._path = path
        self._lock = threading.Lock()
        self._concurrency = concurrency
        self._cache: dict[str, str] = {}
        self.calls = 0
        self.cached_hits = 0
        self.failures = 0
        self.last_error: str | None = None
        if path.is_file():
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short when a run was killed
                    self._cache[record["key"]] = record["text"]

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self._factory()
        return self._backend

    def run(
        self, requests: Sequence[Request], desc: str, progress: bool = True
    ) -> list[str | None]:
        """Answers in order; None where the generator failed even after its retries."""
        results: list[str | None] = [None] * len(requests)
        todo: list[int] = []
        for index, request in enumerate(requests):
            cached = self._cache.get(request.key())
            if cached is not None:
                results[index] = cached
                self.cached_hits += 1
            else:
                todo.append(index)
        if not todo:
            return results
        workers = max(1, self._concurrency or self.backend.default_concurrency)
        consecutive = 0
        bar = tqdm(total=len(todo), desc=desc, unit="call", disable=not progress)
        with self._path.open("a", encoding="utf-8") as sink, ThreadPoolExecutor(workers) as pool:
            futures = {
                pool.submit(self.backend.chat, requests[i].as_messages(), requests[i].params): i
                for i in todo
            }
            for future in as_completed(futures):
                index = futures[future]
                bar.update(1)
                self.calls += 1
                try:
                    text = future.result()
                except RefusalkitError as exc:
                    self.failures += 1
                    consecutive += 1
                    self.last_error = str(exc)
                    if consecutive >= MAX_CONSECUTIVE_FAILURES:
                        for other in futures:
                            other.cancel()
                        bar.close()
                        raise EndpointError(
                            f"the generator failed {consecutive} times in a row ({exc}); "
                            "the rows made so far are kept: fix it and rerun with --resume"
                        ) from None
                    continue
                consecutive = 0
                results[index] = text
                with self._lock:
                    key = requests[index].key()
                    self._cache[key] = text
                    sink.write(json.dumps({"key": key, "text": text}) + "\n")
                    sink.flush()
        bar.close()
        return results

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
