"""The guard: input check → generation → streamed output checks, with a hold-back buffer, and
the guard models it can ask (the constitutional classifiers, a Llama Guard-style judge, a
cascade; guard/registry.py)."""

from refusalkit.guard.model import GuardModel, StreamCheck
from refusalkit.guard.registry import load_guard_model, register_guard
from refusalkit.guard.runtime import Guard, GuardedStream

__all__ = [
    "Guard",
    "GuardModel",
    "GuardedStream",
    "StreamCheck",
    "load_guard_model",
    "register_guard",
]
