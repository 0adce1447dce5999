"""Problems, redaction, and the text, JSON and GitHub renderings of a report.

Problems are plain data: sources, parsers and validation return them, and only the
outermost layer (``load`` or the CLI) turns them into an exception or an exit code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "EXIT_CODES",
    "EXIT_UNAVAILABLE",
    "MASK",
    "Problem",
    "Redactor",
    "escape_unprintable",
    "exit_code_for",
    "render_github",
    "render_json",
    "render_text",
]

MASK = "********"

Severity = Literal["error", "warning"]

#: What a problem asks the user to fix, which is what the exit code names (see
#: :data:`EXIT_CODES`): ``validation`` a value (1), ``project`` envguard's set-up (2),
#: ``source`` access or a reference (3), ``unavailable`` nothing: retrying may help (4).
Category = Literal["validation", "project", "source", "unavailable"]

#: Each category's exit code, and (in precedence order, when several apply) the headline
#: of its report.
EXIT_CODES: dict[Category, int] = {"project": 2, "source": 3, "unavailable": 4, "validation": 1}
#: The exit code after which retrying may help.
EXIT_UNAVAILABLE = EXIT_CODES["unavailable"]
_HEADLINES = {
    1: "invalid configuration{where}",
    2: "invalid project or schema{where}",
    3: "could not read a source{where}",
    4: "a source is unavailable{where} (retrying may help)",
}


def exit_code_for(problems: Iterable[Problem]) -> int:
    """0 when no errors; else 2, 3, 4 or 1, the first that applies in that order."""
    categories = {p.category for p in problems if p.severity == "error"}
    for category, code in EXIT_CODES.items():
        if category in categories:
            return code
    return 0


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration, safe to print.

    Attributes:
        key: the environment variable concerned (``APP_PORT``), or None.
        source: where the offending value came from (``dotenv .env.staging:12``), or None.
        code: a stable machine-readable code (``missing``, ``int_parsing``, ``dotenv_syntax``).
        message: a plain-words explanation that never contains a secret value.
        severity: ``error`` or ``warning``.
        category: ``validation``, ``source`` or ``project``; decides the exit code.
        file: the file to point at (for GitHub annotations), when there is one.
        line: the 1-based line in ``file``, when known.
        column: the 1-based column in ``file``, when known.
    """

    key: str | None
    source: str | None
    code: str
    message: str
    severity: Severity = "error"
    category: Category = "validation"
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def unread(self) -> bool:
        """An error saying a source could not be read: it refused, or is unavailable."""
        return self.severity == "error" and self.category in ("source", "unavailable")

    def __str__(self) -> str:
        # Sources often name themselves in their messages; say it once.
        where = f" ({self.source})" if self.source and self.source not in self.message else ""
        head = f"{self.key}: " if self.key else ""
        return f"{head}{self.message}{where}"


@dataclass(slots=True)
class Redactor:
    """Scrubs known secret values out of text at the one redaction boundary.

    Values shorter than :attr:`min_length` are not searched for: masking every ``1`` in a
    message would destroy it, and such values are not secrets worth the name.
    """

    min_length: int = 4
    _secrets: set[str] = field(default_factory=set)

    def add(self, value: str | bytes | None) -> None:
        if value is None:
            return
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        text = text.strip()
        if len(text) >= self.min_length:
            self._secrets.add(text)
        if "://" in text and "@" in text:
            # A URL's password is a secret of its own: it may appear elsewhere on its own.
            from urllib.parse import urlsplit

            try:
                password = urlsplit(text).password
            except ValueError:
                password = None
            if password and password != text:
                self.add(password)

    def scrub(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def scrub_problem(self, problem: Problem) -> Problem:
        if not self._secrets:
            return problem
        return replace(
            problem,
            message=self.scrub(problem.message),
            source=self.scrub(problem.source) if problem.source else problem.source,
        )


def _ordered(problems: Iterable[Problem]) -> list[Problem]:
    """Errors before warnings, each group in the order found (stable output)."""
    items = list(problems)
    return [p for p in items if p.severity == "error"] + [
        p for p in items if p.severity == "warning"
    ]


def render_text(problems: Sequence[Problem], *, env: str | None = None) -> str:
    """The human report: a headline, then one ``KEY: message (source)`` line per problem."""
    items = _ordered(problems)
    errors = sum(1 for p in items if p.severity == "error")
    warnings = len(items) - errors
    where = f" for environment {env!r}" if env else ""
    if errors:
        noun = "problem" if errors == 1 else "problems"
        head = f"{_HEADLINES[exit_code_for(items)].format(where=where)}: {errors} {noun}"
    else:
        head = f"configuration{where} is valid"
    if warnings:
        head += f", {warnings} warning{'s' if warnings != 1 else ''}"
    lines = [head]
    for p in items:
        mark = "error" if p.severity == "error" else "warning"
        lines.append(f"  {mark}: {p}")
    return "\n".join(lines)


def _escape_line(text: str) -> str:
    return "".join(
        c
        if c.isprintable() or c == "\t"
        else c.encode("unicode_escape", "backslashreplace").decode()
        for c in text
    )


def escape_unprintable(text: str) -> str:
    """``text`` with every unprintable character but line breaks and tabs escaped."""
    if text.isprintable():
        return text
    return "\n".join(_escape_line(line) for line in text.split("\n"))


def render_json(payload: dict[str, Any]) -> str:
    """Byte-stable JSON: sorted keys, two-space indent, trailing newline; any character a
    terminal would act on is written as a ``\\u`` escape."""
    text = json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    if text.isprintable() or "".join(text.split("\n")).isprintable():
        return text
    return "".join(
        c if c == "\n" or c.isprintable() else json.dumps(c, ensure_ascii=True)[1:-1] for c in text
    )


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(problems: Sequence[Problem], *, env: str | None = None) -> str:
    """GitHub Actions workflow commands, one ``::error``/``::warning`` per problem."""
    lines = []
    for p in _ordered(problems):
        props = []
        if p.file:
            props.append(f"file={_gh_escape(p.file, prop=True)}")
            if p.line:
                props.append(f"line={p.line}")
            if p.column:
                props.append(f"col={p.column}")
        title = f"envguard {env}" if env else "envguard"
        if p.key:
            title += f" {p.key}"
        props.append(f"title={_gh_escape(title, prop=True)}")
        lines.append(f"::{p.severity} {','.join(props)}::{_gh_escape(str(p))}")
    return "\n".join(lines) + ("\n" if lines else "")
