"""The Source protocol: one extension point, like an HTTP transport.

A source has a ``kind`` (``"vault"``), a :meth:`Source.describe` used in messages and
origins (``vault secret/myapp/staging``), and one I/O method, :meth:`Source.fetch`. Building
a source does no I/O, so remote sources can be fetched concurrently. A failing source raises
one of :class:`~envguard.errors.SourceError`'s subclasses carrying a redaction-safe problem.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from envguard.errors import ProjectError
from envguard.report import MASK, Problem

if TYPE_CHECKING:
    from typing_extensions import Self

    from envguard.sources._retry import Deadline

__all__ = ["BuildContext", "Fetched", "Origin", "Source", "Value", "entry_problem"]


class Origin(NamedTuple):
    """Where one value came from.

    Attributes:
        source: the source's :meth:`Source.describe` (``dotenv .env.staging``, ``env``).
        file: the file holding the value, for annotations (dotenv sources only).
        line: the 1-based line in ``file``.
    """

    source: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source


class Value(NamedTuple):
    """A raw string value with its origin; ``repr`` never shows a sensitive value.

    A named tuple rather than a dataclass: sources create one per key on every load, and
    tuple construction is several times cheaper than a frozen dataclass's ``__init__``.

    Attributes:
        text: the raw value. Read it only to validate it or to hand it to a child process.
        origin: where it came from.
        sensitive: True when the source holds secrets (Vault, AWS) or the parser knows the
            value is secret. The schema can add sensitivity; only a field declared public
            (``secret = false``) removes it.
    """

    text: str
    origin: Origin
    sensitive: bool = False

    def __repr__(self) -> str:
        shown = MASK if self.sensitive else repr(self.text)
        return f"Value({shown}, origin={str(self.origin)!r}, sensitive={self.sensitive})"


@dataclass(slots=True)
class Fetched:
    """What one fetch returned: values by key (insertion order kept) and any problems.

    Problems here are those that did not stop the source from being read: a malformed
    dotenv line, a duplicate key. A source that cannot be read raises instead.
    """

    values: dict[str, Value] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class BuildContext:
    """Everything a source needs to build itself from a project-file entry, without I/O.

    Attributes:
        env_name: the environment being built (for messages).
        base_dir: the project file's directory; relative paths resolve against it.
        project_file: the project file's path (for messages), or None without one.
        environ: the process environment to read settings such as ``VAULT_ADDR`` from.
        tables: the project file's top-level tables for source families (``vault``, ``aws``).
        shared: a per-resolution cache so sources of one kind share one client or login.
    """

    env_name: str
    base_dir: Path
    project_file: Path | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    shared: MutableMapping[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        name = str(self.project_file) if self.project_file else "the default environment"
        return f"{name} [env.{self.env_name}]"


def entry_problem(ctx: BuildContext, message: str, *, code: str = "project_source") -> ProjectError:
    """A :class:`ProjectError` about one source entry of ``ctx``'s environment."""
    file = str(ctx.project_file) if ctx.project_file else None
    return ProjectError(
        [
            Problem(
                key=None,
                source=ctx.where(),
                code=code,
                message=message,
                category="project",
                file=file,
            )
        ],
        env=ctx.env_name,
    )


class Source(abc.ABC):
    """One place values come from.

    Subclasses set :attr:`kind` and :attr:`entry_keys`, implement :meth:`from_entry`,
    :meth:`describe` and :meth:`fetch`. Sources whose service can serve many of them in one
    call (AWS ``BatchGetSecretValue``) override :meth:`fetch_group`.
    """

    kind: ClassVar[str]
    #: Keys accepted in a project-file entry besides the kind key itself.
    entry_keys: ClassVar[frozenset[str]] = frozenset()
    #: Whether values of this kind are secret unless the schema declares them public.
    sensitive: ClassVar[bool] = False
    #: Whether fetching does network I/O (remote sources are fetched concurrently).
    remote: ClassVar[bool] = False
    #: How the source's keys meet the schema, after the pydantic-settings source that reads
    #: the same kind of place: ``"env"`` for the process environment (it holds unrelated
    #: variables such as PATH: undeclared keys are never passed to the model, and only
    #: those carrying the schema's prefix are reported), ``"dotenv"`` for files and secret
    #: stores (every undeclared key is passed on as an extra, for the model's ``extra``
    #: setting to keep, ignore or forbid), ``"secrets"`` for a secrets directory (one file
    #: per field, read like pydantic-settings' ``secrets_dir``).
    matching: ClassVar[str] = "dotenv"

    @classmethod
    @abc.abstractmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> Self:
        """Build a source from its project-file entry; no I/O. Raise ``ProjectError``."""

    @abc.abstractmethod
    def describe(self) -> str:
        """A short human name used in origins and messages: ``vault secret/myapp/staging``."""

    @abc.abstractmethod
    def fetch(self, deadline: Deadline) -> Fetched:
        """Read the values. The only I/O. Raise a ``SourceError`` subclass on failure."""

    @classmethod
    def fetch_group(
        cls, sources: Sequence[Self], deadline: Deadline
    ) -> list[Fetched | BaseException]:
        """Fetch several sources of this kind; one result or exception per source, in order.

        The default fetches each in turn; the resolver already runs kinds concurrently and
        calls :meth:`fetch` per source in parallel for remote kinds that do not override this.
        """
        out: list[Fetched | BaseException] = []
        for source in sources:
            try:
                out.append(source.fetch(deadline))
            except Exception as exc:  # noqa: BLE001 - returned, not swallowed: the resolver reports it
                out.append(exc)
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


def check_entry_keys(cls: type[Source], entry: Mapping[str, Any], ctx: BuildContext) -> None:
    """Raise a ``ProjectError`` naming any key of ``entry`` the source does not accept."""
    allowed = cls.entry_keys | {cls.kind}
    unknown = sorted(set(entry) - allowed)
    if unknown:
        accepted = ", ".join(sorted(allowed))
        raise entry_problem(
            ctx,
            f"unknown key {unknown[0]!r} in {cls.kind} source (accepted: {accepted})",
            code="project_unknown_key",
        )
