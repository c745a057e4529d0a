"""The guard: input check → generation → streamed output checks, with a hold-back buffer."""

from refusalkit.guard.runtime import Guard, GuardedStream

__all__ = ["Guard", "GuardedStream"]
