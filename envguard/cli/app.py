"""The root of the CLI: wires the commands and owns the single exit path.

Commands return an exit code and never call ``sys.exit``; data goes to stdout and
diagnostics to stderr. Unexpected errors print one line (no traceback, never local
variables, which may hold secrets) unless ``ENVGUARD_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

import typer

from envguard.errors import ConfigError

__all__ = ["COMMANDS", "build_app", "main", "run"]

#: Exit code for an internal error (a bug in envguard): BSD's EX_SOFTWARE.
EXIT_INTERNAL = 70

#: Command name → ``"module:function"``. A command's module is imported only when that
#: command runs (or for ``--help``), so ``envguard check`` does not pay for ``docs``.
COMMANDS: dict[str, str] = {
    "check": "envguard.cli.check:check",
    "diff": "envguard.cli.diff:diff",
    "docs": "envguard.cli.docs:docs",
    "show": "envguard.cli.show:show",
    "explain": "envguard.cli.explain:explain",
    "run": "envguard.cli.run:run",
}


def _root() -> None:
    """Declared, validated and documented configuration for twelve-factor apps."""


def build_app(names: Sequence[str] | None = None) -> typer.Typer:
    """The typer app with the named commands (default: all of them)."""
    app = typer.Typer(
        name="envguard",
        help="Declared, validated and documented configuration for twelve-factor apps.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        pretty_exceptions_show_locals=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for name in COMMANDS if names is None else names:
        module_name, _, attr = COMMANDS[name].partition(":")
        app.command(name)(getattr(importlib.import_module(module_name), attr))
    return app


def _wanted(args: Sequence[str]) -> list[str] | None:
    """The one command ``args`` runs, when it can be told before parsing; else all."""
    first = next((a for a in args if not a.startswith("-")), None)
    return [first] if first in COMMANDS else None


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (used by tests and :func:`main`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(build_app(_wanted(args)))
    try:
        result = command.main(args=args, prog_name="envguard", standalone_mode=False)
    except typer.Exit as stop:
        return stop.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return 130  # envguard.cli.main ends the process at once, with one line
    except typer.TyperException as error:
        # Usage errors (unknown option, missing argument): typer prints them.
        show = getattr(error, "show", None)
        if show is not None:
            show()
        return int(getattr(error, "exit_code", 2))
    except ConfigError as error:
        # Commands report their own errors; one that escapes is reported the same way.
        # Imported here: _render loads the engine, which `envguard --help` does not need.
        from envguard.cli._options import Format
        from envguard.cli._render import emit_error

        return emit_error(error, Format.text)
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
    """The console script's entry point (see :func:`envguard.cli.main`)."""
    from envguard.cli import main as entry

    entry(argv)
