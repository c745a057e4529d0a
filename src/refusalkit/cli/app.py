"""The `refusalkit` command: one typer app per subsystem, mounted on the main app."""

from __future__ import annotations

import sys

import typer

try:  # typer >= 0.20 ships its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from refusalkit.cli import audit, classifiers, evals, models, server, steer, synth
from refusalkit.errors import RefusalkitError

app = typer.Typer(
    name="refusalkit",
    help="Build, steer and audit the refusals of large language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench = typer.Typer(help="Speed benchmarks (medians of several runs).", no_args_is_help=True)
for module in (models, classifiers, synth, evals, audit, server):
    app.add_typer(module.app)
app.add_typer(audit.group, name="audit")
app.add_typer(steer.group, name="steer")
for module in (models, classifiers, audit, steer, server):
    bench.add_typer(module.bench)
app.add_typer(bench, name="bench")


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and a non-zero exit, no traceback."""
    try:
        app(args=argv, standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError:
        pass  # typer has printed the help
    except click_exceptions.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "refusalkit"
        _fail(f"{exc.format_message()} (see '{command} --help')", 2)
    except click_exceptions.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except RefusalkitError as exc:
        _fail(str(exc), exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("aborted\n")
        sys.exit(130)
