"""``envguard run ENV -- CMD [ARGS…]``: validate ENV, then become CMD with its values.

On POSIX envguard *replaces itself* with CMD (``execve``): CMD keeps envguard's PID, so
signals from a supervisor (``docker stop``, systemd, Kubernetes) reach it directly and its
exit status is the one the caller sees. Every check that can fail happens before the exec.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated

import typer

from envguard.cli._options import Format, ProjectOpt, SchemaOpt, StrictOpt, TimeoutOpt
from envguard.cli._render import emit, emit_error
from envguard.engine import Outcome, evaluate
from envguard.errors import ProjectError
from envguard.report import Problem, render_text

__all__ = ["child_environment", "run", "unpassable"]

EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127

EnvName = Annotated[
    str, typer.Argument(metavar="ENV", help="The environment to validate and run with.")
]
Command = Annotated[
    list[str],
    typer.Argument(
        metavar="-- CMD [ARGS]",
        help="The command to run, after -- (which may be left out when no word of CMD "
        "starts with '-').",
        show_default=False,
    ),
]


def child_environment(outcome: Outcome, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """envguard's own environment, then every resolved key (declared or not), then
    ``ENVGUARD_ENV``: the child sees exactly what was validated, secrets included."""
    environ = dict(os.environ if base is None else base)
    values = outcome.resolution.values
    environ.update((key, value.text) for key, value in values.items())
    # A variable the schema reads, set under several spellings (``DB_HOST`` and, from an SSM
    # path, ``db_HOST``): the child gets only the spelling that was validated, the last set.
    view = outcome.view
    if not view.case_sensitive:
        chosen: dict[str, str] = {}
        for key in values:
            if view.field_of(key) is not None:
                chosen[view.norm(key)] = key
        for key in list(environ):
            norm = view.norm(key)
            if norm in chosen and key != chosen[norm] and view.field_of(key) is not None:
                del environ[key]
    environ["ENVGUARD_ENV"] = outcome.env
    return environ


def _size(text: str) -> int:
    return len(os.fsencode(text))


def unpassable(outcome: Outcome, environ: Mapping[str, str], argv: Sequence[str]) -> list[Problem]:
    """Why ``environ`` cannot be handed to a new process, naming keys and never values."""
    origins = {key: str(value.origin) for key, value in outcome.resolution.values.items()}
    problems: list[Problem] = []

    def bad(key: str, message: str, code: str = "env_unpassable") -> None:
        problems.append(Problem(key or None, origins.get(key), code, message))

    for key, value in environ.items():
        if not key:
            bad(key, "a variable with an empty name cannot be passed to a command")
        elif "=" in key or "\0" in key:
            bad(key, "a variable name containing '=' or a NUL byte cannot be passed to a command")
        elif "\0" in value:
            bad(key, "its value contains a NUL byte, which an environment variable cannot hold")
        else:
            try:
                _size(key)
                _size(value)
            except UnicodeEncodeError:
                bad(key, "its name or value cannot be encoded for the operating system")
    if problems or not hasattr(os, "sysconf"):
        return problems
    pointer = struct.calcsize("P")
    if sys.platform.startswith("linux"):
        # Linux also caps each single "KEY=value" string at 32 pages (MAX_ARG_STRLEN).
        longest = 32 * os.sysconf("SC_PAGE_SIZE")
        for key, value in environ.items():
            if _size(key) + _size(value) + 2 > longest:
                bad(key, f"its value is too long for an environment variable (limit {longest})")
    total = sum(_size(k) + _size(v) + 2 + pointer for k, v in environ.items())
    total += sum(_size(a) + 1 + pointer for a in argv) + 2 * pointer
    limit = os.sysconf("SC_ARG_MAX")
    if not problems and limit > 0 and total > limit:
        largest = max(outcome.resolution.values or environ, key=lambda k: len(environ[k]))
        bad(
            largest,
            f"the environment and arguments would take {total} bytes, over the system's "
            f"limit of {limit}; this is the largest variable",
            "env_too_large",
        )
    return problems


def _fail(message: str, code: int) -> int:
    emit(f"envguard: {message}", err=True)
    return code


def _interpreter(path: str) -> str | None:
    """The program named by the ``#!`` line of the script at ``path``, if it has one."""
    try:
        with open(path, "rb") as script:
            head = script.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].split()
    if not words:
        return None
    shown = words[0].decode("utf-8", "replace")
    return shown if shown.isprintable() else repr(shown)


def _spawn(path: str, argv: list[str], environ: dict[str, str]) -> int:
    """Run CMD as a child and return its status: Windows has no exec that keeps the PID."""
    import subprocess

    child = subprocess.Popen(argv, executable=path, env=environ)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue  # the console sent Ctrl+C to the child too: its status decides


def run(
    env: EnvName,
    command: Command,
    project: ProjectOpt = None,
    schema: SchemaOpt = None,
    timeout: TimeoutOpt = None,
    strict: StrictOpt = False,
) -> int:
    """Validate ENV, then run CMD with the resolved values in its environment.

    CMD never starts if ENV is invalid: the report goes to stderr.
    CMD's environment is envguard's own, plus every key ENV resolved
    (declared in the schema or not; secrets are revealed to CMD only),
    plus ENVGUARD_ENV=ENV so that envguard.load() in CMD loads ENV too.
    Schema defaults are not exported: the app applies them.
    On POSIX envguard becomes CMD (exec): signals reach CMD directly.

    Put envguard's options before --, and CMD after it: every word after
    -- is CMD's, options included. Before --, an option envguard does not
    know is a usage error (exit 2), so a typo never runs as CMD. Without
    --, "run ENV CMD ARGS" works only while no word of CMD starts with '-'.

    Exit codes: CMD's status; 1 a value is wrong; 2 usage, project or schema error;
    3 a source refused or lacks what was asked; 4 a source is unavailable (retrying may
    help); 126 CMD cannot be executed; 127 CMD not found.
    """
    try:
        outcome = evaluate(schema, env=env, project=project, strict=strict, timeout=timeout)
    except ProjectError as error:
        return emit_error(error, Format.text)
    if outcome.exit_code:
        emit(render_text(outcome.problems, env=outcome.env), err=True)
        return outcome.exit_code
    for problem in outcome.problems:
        emit(f"envguard: warning: {problem}", err=True)

    environ = child_environment(outcome)
    problems = unpassable(outcome, environ, command)
    if problems:
        emit(render_text(problems, env=outcome.env), err=True)
        return 1
    name = command[0]
    path = shutil.which(name, path=environ.get("PATH", os.defpath))
    if path is None:
        if os.path.dirname(name) and os.path.isfile(name):
            return _fail(f"cannot execute {name}: permission denied", EXIT_CANNOT_EXECUTE)
        return _fail(f"command not found: {name}", EXIT_NOT_FOUND)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":
        return _spawn(path, command, environ)
    try:
        os.execve(path, command, environ)
    except OSError as exc:
        # Only the errno is shown: the exception's text names no value, but stay terse.
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        if exc.errno == errno.ENOENT:
            interpreter = _interpreter(path)
            if interpreter is not None:  # the file exists: its #! line names a missing program
                message = f"cannot execute {name}: its interpreter {interpreter} was not found"
                return _fail(message, EXIT_CANNOT_EXECUTE)
            return _fail(f"command not found: {name}", EXIT_NOT_FOUND)
        if exc.errno == errno.E2BIG:
            return _fail(f"cannot execute {name}: the environment is too large", 1)
        return _fail(f"cannot execute {name}: {reason.lower()}", EXIT_CANNOT_EXECUTE)
    return EXIT_CANNOT_EXECUTE  # pragma: no cover - execve returns only by raising
