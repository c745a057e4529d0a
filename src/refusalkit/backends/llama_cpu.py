"""Which llama.cpp path a GGUF loads on, chosen from the CPU this process runs on.

llama.cpp can repack weights into "extra buffer types" (AMX tiles on recent Intel Xeons, the
CPU_REPACK layouts elsewhere). On CPUs with AMX the first matrix multiply in the AMX buffer
segfaults (upstream llama.cpp issue "segfault in ggml_backend_amx_mul_mat", closed unfixed), so
`auto` turns extra buffers off wherever AMX is seen. Every GGUF this project loads goes through
`open_llama` (in-process) or `python -m refusalkit.backends.llama_server` (the OpenAI server).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refusalkit.config import ExtraBuffers, load_settings

CPUINFO = Path("/proc/cpuinfo")
# Host flags that mean llama.cpp may place weights in its AMX buffer.
AMX_FLAGS = ("amx_tile", "amx_int8", "amx_bf16")
# The host flags worth showing; the rest of /proc/cpuinfo says nothing about llama.cpp's paths.
SHOWN_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", *AMX_FLAGS)
# Where AMX is absent `auto` keeps llama.cpp's default, on: `bench generate` on 2 AMD EPYC cores,
# the embedded Q4_1 SmolLM2 decodes as fast either way (CPU_REPACK has no Q4_1 layout) and the
# same model requantised to Q4_0 decodes 13-27% faster with it on (docs/install.md).
AUTO_WITHOUT_AMX = True


@dataclass(frozen=True)
class ExtraBuffersChoice:
    """What was seen and what was chosen; `refusalkit models` prints it."""

    enabled: bool
    setting: ExtraBuffers
    reason: str
    host_flags: tuple[str, ...]
    llama_features: tuple[str, ...]

    def describe(self) -> str:
        state = "on" if self.enabled else "off"
        return f"extra buffer types: {state} ({self.reason}; llama_extra_buffers = {self.setting})"


def host_cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The first processor's flags from /proc/cpuinfo; empty where there is none (not Linux)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"flags", "Features"}:
            return frozenset(value.split())
    return frozenset()


def llama_cpu_features() -> frozenset[str]:
    """The CPU features the installed llama.cpp build reports as compiled in and in use."""
    try:
        import llama_cpp
    except ImportError:
        return frozenset()
    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    features = set()
    for part in info.split("|"):
        name, _, value = part.rpartition("=")
        name = name.split(":")[-1].strip()
        if name and value.strip() == "1":
            features.add(name)
    return frozenset(features)


def choose_extra_buffers(
    setting: ExtraBuffers = "auto",
    host_flags: frozenset[str] | None = None,
    llama_features: frozenset[str] | None = None,
) -> ExtraBuffersChoice:
    """`on`/`off` as set; `auto`: off where the host or the llama.cpp build shows AMX."""
    host = host_cpu_flags() if host_flags is None else host_flags
    built = llama_cpu_features() if llama_features is None else llama_features
    shown_host = tuple(flag for flag in SHOWN_FLAGS if flag in host)
    shown_built = tuple(sorted(built))
    amx = [flag for flag in AMX_FLAGS if flag in host] + [f for f in built if "AMX" in f]
    if setting == "on":
        enabled, reason = True, "set on"
    elif setting == "off":
        enabled, reason = False, "set off"
    elif amx:
        enabled = False
        reason = f"AMX seen ({', '.join(amx)}): llama.cpp's AMX buffer segfaults"
    else:
        enabled = AUTO_WITHOUT_AMX
        reason = "no AMX seen"
    return ExtraBuffersChoice(enabled, setting, reason, shown_host, shown_built)


_patch_lock = threading.Lock()


def _defaults_with(original: Any, enabled: bool) -> Any:
    def default_params() -> Any:
        params = original()
        params.use_extra_bufts = enabled
        return params

    return default_params


@contextlib.contextmanager
def extra_buffers(enabled: bool) -> Iterator[None]:
    """Models loaded inside use extra buffer types only if `enabled`.

    `llama_cpp.Llama()` takes no argument for `llama_model_params.use_extra_bufts` (0.3.36), so the
    default-params function it calls is wrapped while the model loads."""
    import llama_cpp.llama_cpp as bindings

    with _patch_lock:
        original = bindings.llama_model_default_params
        bindings.llama_model_default_params = _defaults_with(original, enabled)
        try:
            yield
        finally:
            bindings.llama_model_default_params = original


def apply_to_process(choice: ExtraBuffersChoice) -> None:
    """For a process that only serves models (the llama.cpp server): every later load obeys."""
    import llama_cpp.llama_cpp as bindings

    bindings.llama_model_default_params = _defaults_with(
        bindings.llama_model_default_params, choice.enabled
    )


def configured_choice() -> ExtraBuffersChoice:
    """The choice the `llama_extra_buffers` setting (refusalkit.toml, REFUSALKIT_*) makes."""
    return choose_extra_buffers(load_settings().llama_extra_buffers)


def open_llama(model_path: Path, setting: ExtraBuffers | None = None, **kwargs: Any) -> Any:
    """`llama_cpp.Llama(model_path, **kwargs)` on the path `choose_extra_buffers` picks; the
    setting defaults to the configured one."""
    from llama_cpp import Llama

    choice = configured_choice() if setting is None else choose_extra_buffers(setting)
    with extra_buffers(choice.enabled):
        return Llama(model_path=str(model_path), **kwargs)
