"""Linear-time ``${VAR}`` / ``${VAR:-default}`` expansion for dotenv values.

The reference syntax is python-dotenv's exactly (its regex, scanned left to right without
overlap). That regex backtracks quadratically on values such as ``${${${…``, so such values
are scanned by a linear ``str.find`` loop instead; and unlike python-dotenv, which copies the
whole environment for every line, lookups here are plain dict reads, so a file expands in
time linear in its size.

Lookup order (python-dotenv's ``dotenv_values``/``override=True``): the keys defined *above*
in the same file (already expanded), then the process environment, then the default. A
default is used only when the name is unset, not when it is set to an empty string — as in
python-dotenv, unlike POSIX ``:-``. Only earlier keys are visible, so reference cycles
cannot exist: ``PATH=${PATH}:/opt/bin`` reads the process environment's ``PATH``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envguard._secrecy import looks_secret

if TYPE_CHECKING:
    from envguard.sources.base import Value

__all__ = [
    "MAX_EXPANDED_BYTES",
    "MAX_EXPANDED_TOTAL_BYTES",
    "ExpandFailed",
    "Expander",
    "split_references",
]

#: The largest value (in UTF-8 bytes) that ``${…}`` expansion may produce.
MAX_EXPANDED_BYTES = 1 * 1024 * 1024
#: The most characters expansion may add across one file (``K1=x${BIG}``, ``K2=x${BIG}``, …).
MAX_EXPANDED_TOTAL_BYTES = 16 * 1024 * 1024

# python-dotenv's reference syntax (dotenv.variables._posix_variable), unchanged.
_REFERENCE = re.compile(r"\$\{([^}:]*)(?::-([^}]*))?\}")
# The regex rescans from every "${" to the next "}" or ":": quadratic on "${${${…", so it
# is used only while (number of "${") x (length) stays under this many characters.
_REGEX_BUDGET = 1 << 16


class ExpandFailed(Exception):
    """A value could not be expanded.

    Attributes:
        code: ``undefined`` (``names`` lists them), ``too_large``, ``total_too_large``, or
            ``poisoned`` (it uses a key of the same file that failed: already reported).
        names: the undefined names, in order of first use.
    """

    def __init__(self, code: str, names: tuple[str, ...] = ()) -> None:
        super().__init__(code)
        self.code = code
        self.names = names


@dataclass(slots=True)
class Expander:
    """Expands values one key at a time, reading the keys defined so far.

    Attributes:
        environ: the process environment (read-only).
        values: the file's values defined so far, already expanded (the parser's own dict:
            a key that failed is not in it); a sensitive one makes its users sensitive.
        failed: keys whose last definition failed; values using them fail too.
        added: characters added by expansion so far, across the file.
    """

    environ: Mapping[str, str]
    values: Mapping[str, Value] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    added: int = 0
    secret_names: dict[str, bool] = field(default_factory=dict)  # looks_secret, cached

    def secret_name(self, name: str) -> bool:
        known = self.secret_names.get(name)
        if known is None:
            known = self.secret_names[name] = looks_secret(name)
        return known

    def expand(self, value: str) -> tuple[str, bool, list[str]]:
        """Return ``value`` expanded, whether it now holds a sensitive value, and the names
        of process-environment variables it took in whose names look secret.

        Raises:
            ExpandFailed: a name is undefined, a used key failed, or the result is too big.
        """
        if self.added > MAX_EXPANDED_TOTAL_BYTES:
            raise ExpandFailed("poisoned")
        parts: list[Any] = split_references(value)
        values = self.values
        pieces = [parts[0]]
        missing: list[str] | None = None
        secret_env: list[str] = []
        added = 0
        sensitive = poisoned = False
        for index in range(1, len(parts), 3):
            name = parts[index]
            defined = values.get(name)
            if defined is not None:
                text = defined.text
                sensitive = sensitive or defined.sensitive
            elif name in self.failed:
                poisoned, text = True, ""
            elif name in self.environ:
                text = self.environ[name]
                if self.secret_name(name):
                    sensitive = True
                    if name not in secret_env:
                        secret_env.append(name)
            elif parts[index + 1] is not None:
                text = parts[index + 1]  # the default
            else:
                text = ""
                if missing is None:
                    missing = [name]
                elif name not in missing:
                    missing.append(name)
            pieces.append(text)
            pieces.append(parts[index + 2])
            added += len(text)
        if poisoned:
            raise ExpandFailed("poisoned")
        if missing:
            raise ExpandFailed("undefined", tuple(missing))
        # The pieces only reference existing strings: measure them before joining. A char
        # is at most 4 UTF-8 bytes, so short results need no measuring.
        size_bound = (len(value) + added) * 4
        if size_bound > MAX_EXPANDED_BYTES and _utf8_size(pieces) > MAX_EXPANDED_BYTES:
            raise ExpandFailed("too_large")
        self.added += added
        if self.added > MAX_EXPANDED_TOTAL_BYTES:
            raise ExpandFailed("total_too_large")
        return "".join(pieces), sensitive, secret_env


def _utf8_size(pieces: list[str]) -> int:
    """The UTF-8 size of the joined pieces, or their length when that is over the cap."""
    size = sum(map(len, pieces))
    if size * 4 > MAX_EXPANDED_BYTES and size <= MAX_EXPANDED_BYTES:
        size = sum(len(piece.encode()) for piece in pieces)
    return size


def split_references(value: str) -> list[str | None]:
    """``value`` as ``[text, name, default, text, name, default, …, text]``.

    Exactly ``_REFERENCE.split(value)`` (``default`` is None without ``:-``). The regex is
    used when its backtracking is cheap for this value; otherwise a linear scan finds the
    same references: the next ``}`` and ``:`` are searched once and reused until the scan
    passes them, where the regex rescans to them from every ``${``.
    """
    starts = value.count("${")
    if starts == 0:
        return [value]
    if starts * len(value) <= _REGEX_BUDGET:
        return _REFERENCE.split(value)
    parts: list[str | None] = []
    find = value.find
    n = len(value)
    cursor = 0
    close = colon = -1  # the cached next "}" and ":" (n when there is no ":" left)
    pos = find("${")
    while pos != -1:
        start = pos + 2
        if close < start:
            close = find("}", start)
            if close == -1:
                break  # no "}" left: no further reference can match
        if colon < start:
            colon = find(":", start)
            if colon == -1:
                colon = n
        if close < colon:
            parts += (value[cursor:pos], value[start:close], None)
        elif value.startswith("-", colon + 1):
            parts += (value[cursor:pos], value[start:colon], value[colon + 2 : close])
        else:  # "${NAME:x…" is not a reference: scan on from the next "$"
            pos = find("${", pos + 1)
            continue
        cursor = close + 1
        pos = find("${", cursor)
    parts.append(value[cursor:])
    return parts
