"""The command line: a thin view over the library (`refusalkit --help`).

Each command imports the library it calls inside its body: importing every subsystem (fastapi,
sqlalchemy, numpy, …) at start-up took `refusalkit --help` from 0.33 s to 0.79 s (measured).
"""

from refusalkit.cli.app import app, main

__all__ = ["app", "main"]
