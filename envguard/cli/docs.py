"""``envguard docs``: document the schema's variables (Markdown, ``.env.example``, JSON Schema)."""

from __future__ import annotations

import enum
import shlex
from pathlib import Path
from typing import Annotated

import typer
from pydantic_settings import BaseSettings

from envguard.cli._atomic import MAX_READ_BYTES, NotRegularFile, read_regular, write_atomic
from envguard.cli._options import Format, ProjectOpt, SchemaOpt, TimeoutOpt
from envguard.cli._render import emit, emit_error
from envguard.engine import load_model
from envguard.errors import ProjectError
from envguard.report import Problem

__all__ = ["DocsFormat", "docs"]


class DocsFormat(str, enum.Enum):
    """Output formats of ``docs``."""

    markdown = "markdown"
    dotenv = "dotenv"
    json_schema = "json-schema"


def _problem(code: str, message: str, file: Path | None = None) -> ProjectError:
    where = str(file) if file is not None else None
    return ProjectError([Problem(None, where, code, message, category="project", file=where)])


def _io_problem(code: str, verb: str, path: Path, exc: OSError) -> ProjectError:
    return _problem(code, f"cannot {verb} {path}: {exc.strerror or type(exc).__name__}", path)


def _render(model: type[BaseSettings], fmt: DocsFormat, title: str | None) -> str:
    from envguard.docs import render_dotenv, render_json_schema, render_markdown

    if fmt is DocsFormat.dotenv:
        return render_dotenv(model)
    if fmt is DocsFormat.json_schema:
        return render_json_schema(model)
    return render_markdown(model, title=title)


def _up_to_date(current: bytes | None, data: bytes) -> bool:
    """A checkout with CRLF line endings (git autocrlf) is still up to date; a file larger
    than ``MAX_READ_BYTES`` (read no further) is not."""
    if current is None or len(current) > MAX_READ_BYTES:
        return False
    return current.replace(b"\r\n", b"\n") == data


def _command_line(fmt: DocsFormat, **options: str | Path | None) -> str:
    """The ``envguard docs …`` line that regenerates the file, for the ``--check`` hint."""
    args = ["envguard", "docs"]
    if fmt is not DocsFormat.markdown:
        args += ["--format", fmt.value]
    for name, value in options.items():
        if value is not None:
            args += [f"--{name}", str(value)]
    return shlex.join(args)


def docs(
    project: ProjectOpt = None,
    schema: SchemaOpt = None,
    fmt: Annotated[
        DocsFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = DocsFormat.markdown,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to FILE (atomically) instead of stdout; its directory must exist.",
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if --output FILE is missing or out of date.")
    ] = False,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            "-e",
            help="Document the variables required in ENV (required_in); default: none.",
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="The Markdown page's heading.")
    ] = None,
    timeout: TimeoutOpt = None,
) -> int:
    """Document the schema's variables as Markdown, a commented .env.example, or JSON Schema.

    No source is read, so no secret or network access is needed.

    Exit codes: 0 written or up to date; 1 with --check, FILE missing or out of date;
    2 usage, project-file or schema error.
    """
    del timeout  # accepted like every command; docs reads no source
    if check and output is None:
        raise typer.BadParameter("needs --output FILE, the file to compare", param_hint="'--check'")
    try:
        text = _render(load_model(schema, env=env, project=project), fmt, title)
    except ProjectError as error:
        return emit_error(error, Format.text)
    if output is None:
        emit(text)
        return 0
    data = text.encode("utf-8")
    try:
        current = read_regular(output)
    except NotRegularFile as exc:  # a FIFO, device or directory: neither read nor replaced
        verb = "read" if check else "write"
        return emit_error(_io_problem("output_not_a_file", verb, output, exc), Format.text)
    except OSError as exc:
        return emit_error(_io_problem("output_unreadable", "read", output, exc), Format.text)
    if _up_to_date(current, data):
        emit(f"envguard: {output} is up to date", err=True)
        return 0
    if check:
        again = _command_line(
            fmt, project=project, schema=schema, env=env, title=title, output=output
        )
        state = "does not exist" if current is None else "is out of date"
        emit(f"envguard: {output} {state}; regenerate it with:\n  {again}", err=True)
        return 1
    try:
        write_atomic(output, data)
    except OSError as exc:
        return emit_error(_io_problem("output_unwritable", "write", output, exc), Format.text)
    emit(f"envguard: wrote {output}", err=True)
    return 0
