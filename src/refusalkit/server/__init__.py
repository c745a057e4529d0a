"""The guard server: an OpenAI-compatible proxy with auth, limits, a log and a playground."""

from refusalkit.server.app import create_app
from refusalkit.server.serve import asgi_app, build_state
from refusalkit.server.state import ServerState

__all__ = ["ServerState", "asgi_app", "build_state", "create_app"]
