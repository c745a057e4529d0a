"""The command line: a thin view over the library (`refusalkit --help`)."""

from refusalkit.cli.app import app, main

__all__ = ["app", "main"]
