"""The root of the CLI: wires the commands and owns the single exit path.

Commands return an exit code and never call ``sys.exit``; data goes to stdout and
diagnostics to stderr. Unexpected errors print one line (no traceback, never local
variables, which may hold secrets) unless ``ENVGUARD_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

import typer

from envguard.cli.check import check
from envguard.cli.diff import diff
from envguard.cli.docs import docs
from envguard.cli.explain import explain
from envguard.cli.run import CONTEXT_SETTINGS as RUN_CONTEXT_SETTINGS
from envguard.cli.run import run as run_command
from envguard.cli.show import show
from envguard.errors import ConfigError

__all__ = ["app", "main"]

#: Exit code for an internal error (a bug in envguard): BSD's EX_SOFTWARE.
EXIT_INTERNAL = 70

app = typer.Typer(
    name="envguard",
    help="Declared, validated and documented configuration for twelve-factor apps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("check")(check)
app.command("diff")(diff)
app.command("docs")(docs)
app.command("show")(show)
app.command("explain")(explain)
app.command("run", context_settings=RUN_CONTEXT_SETTINGS)(run_command)


@app.callback()
def _root() -> None:
    """Declared, validated and documented configuration for twelve-factor apps."""


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (used by tests and :func:`main`)."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, prog_name="envguard", standalone_mode=False)
    except typer.Exit as stop:
        return stop.exit_code
    except typer.Abort:
        sys.stderr.write("envguard: aborted\n")
        return 130
    except typer.TyperException as error:
        # Usage errors (unknown option, missing argument): typer prints them.
        show = getattr(error, "show", None)
        if show is not None:
            show()
        return int(getattr(error, "exit_code", 2))
    except ConfigError as error:
        for problem in error.problems:
            sys.stderr.write(f"envguard: error: {problem.message}\n")
        return error.exit_code
    except Exception as error:  # noqa: BLE001 - the one place unexpected errors end
        if os.environ.get("ENVGUARD_DEBUG") == "1":
            traceback.print_exception(error)
        else:
            sys.stderr.write(
                f"envguard: internal error ({type(error).__name__}); "
                "set ENVGUARD_DEBUG=1 for a traceback\n"
            )
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script's entry point."""
    sys.exit(run(argv))
