"""The guard server: an OpenAI-compatible proxy with auth, limits, a log and a playground."""

from refusalkit.server.app import ServerState, create_app
from refusalkit.server.serve import asgi_app, build_state

__all__ = ["ServerState", "asgi_app", "build_state", "create_app"]
