"""The exception tree of envguard, each class mapped to one CLI exit code.

::

    ValueError
    └── ConfigError                 a value is wrong: fix it ............... exit 1
        ├── ProjectError            project file, schema or usage error .... exit 2
        └── SourceError             a source refused or lacks what was
            │                       asked: fix access or the reference ..... exit 3
            ├── SourceDenied        authentication failed or access denied
            ├── SourceNotFound      the path, file or secret does not exist
            └── SourceUnavailable   unreachable, timed out, sealed, 5xx,
                                    throttled: retrying may help ........... exit 4

When one report holds problems of several kinds, the exception (and exit code) is the first
that applies of 2, 3, 4, 1 (:func:`envguard.report.exit_code_for`).

Every error carries a list of redaction-safe :class:`~envguard.report.Problem` objects;
``str(err)`` is the full human report. Errors are raised outside the ``except`` block that
caught a third-party exception, so neither ``__cause__`` nor ``__context__`` carries an SDK
exception (whose message or attributes could hold a secret).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from envguard.report import Category, Problem

__all__ = [
    "ConfigError",
    "ProjectError",
    "SourceDenied",
    "SourceError",
    "SourceNotFound",
    "SourceUnavailable",
]


class ConfigError(ValueError):
    """The configuration's content is wrong: raised by :func:`envguard.load` (exit code 1).

    Attributes:
        problems: every problem found, errors and warnings, in report order.
        env: the environment that was resolved, when known.
    """

    exit_code: ClassVar[int] = 1
    #: the category a source's problems take when the source raises this error.
    category: ClassVar[Category] = "validation"

    def __init__(self, problems: Iterable[Problem], *, env: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        self.env = env
        super().__init__(self._render())

    def _render(self) -> str:
        from envguard.report import render_text

        return render_text(self.problems, env=self.env)

    @property
    def errors(self) -> list[Problem]:
        """The problems of severity ``error`` only."""
        return [p for p in self.problems if p.severity == "error"]

    def __str__(self) -> str:
        return self._render()

    def __repr__(self) -> str:
        codes = ", ".join(sorted({p.code for p in self.errors})) or "none"
        return (
            f"{type(self).__name__}(env={self.env!r}, errors={len(self.errors)}, codes=[{codes}])"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.problems,), {"env": self.env})


class ProjectError(ConfigError):
    """The project file, a schema, or the command line is wrong (exit code 2).

    Raised before any source is read: malformed TOML, an unknown key or source kind, an
    unknown environment, a schema module that cannot be imported.
    """

    exit_code: ClassVar[int] = 2
    category: ClassVar[Category] = "project"


class SourceError(ConfigError):
    """A source refused or lacks what was asked, so validation is incomplete (exit code 3).

    Raised by a source's ``fetch``; :func:`envguard.load` collects the problems of every
    failing source and raises one ``SourceError`` listing them with any other problems.
    """

    exit_code: ClassVar[int] = 3
    category: ClassVar[Category] = "source"


class SourceUnavailable(SourceError):
    """The source is unavailable right now, so retrying may help (exit code 4): connection
    refused, timeout, 5xx, a sealed Vault, throttling that outlasted the retries."""

    exit_code: ClassVar[int] = 4
    category: ClassVar[Category] = "unavailable"


class SourceDenied(SourceError):
    """The source refused the credentials or the request (401, 403, AccessDenied)."""


class SourceNotFound(SourceError):
    """The file, path or secret does not exist (404, ResourceNotFound, missing dotenv file)."""
