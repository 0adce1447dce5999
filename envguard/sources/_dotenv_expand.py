"""Linear-time ``${VAR}`` / ``${VAR:-default}`` expansion for dotenv values.

The reference syntax is python-dotenv's exactly (``\\$\\{([^}:]*)(?::-([^}]*))?\\}``, scanned
left to right without overlap), but the scan uses ``str.find`` with cached positions instead
of that regex, which backtracks quadratically on values such as ``${${${…`` and which
python-dotenv re-runs against a fresh copy of the whole environment for every line.

Lookup order (python-dotenv's ``dotenv_values``/``override=True``): the keys defined *above*
in the same file (already expanded), then the process environment, then the default. A
default is used only when the name is unset, not when it is set to an empty string — as in
python-dotenv, unlike POSIX ``:-``. Only earlier keys are visible, so reference cycles
cannot exist: ``PATH=${PATH}:/opt/bin`` reads the process environment's ``PATH``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from envguard.schema.fields import looks_secret

__all__ = ["MAX_EXPANDED_BYTES", "MAX_EXPANDED_TOTAL_BYTES", "ExpandFailed", "Expander"]

#: The largest value (in UTF-8 bytes) that ``${…}`` expansion may produce.
MAX_EXPANDED_BYTES = 1 * 1024 * 1024
#: The most text that expansion may add across one file (stops ``K1=x${BIG}``, ``K2=x${BIG}``…).
MAX_EXPANDED_TOTAL_BYTES = 16 * 1024 * 1024


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
    """Expands values one key at a time, remembering the keys defined so far.

    Attributes:
        environ: the process environment (read-only).
        known: the expanded value of every key defined so far in the file.
        failed: keys of the file whose last definition failed; values using them fail too.
        secret: keys of the file whose value is sensitive; values using them become sensitive.
        added: characters added by expansion so far, across the file.
    """

    environ: Mapping[str, str]
    known: dict[str, str] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    secret: set[str] = field(default_factory=set)
    added: int = 0
    secret_names: dict[str, bool] = field(default_factory=dict)  # looks_secret, cached

    def define(self, key: str, value: str, *, sensitive: bool) -> None:
        self.known[key] = value
        self.failed.discard(key)
        if sensitive:
            self.secret.add(key)
        else:
            self.secret.discard(key)

    def secret_name(self, name: str) -> bool:
        known = self.secret_names.get(name)
        if known is None:
            known = self.secret_names[name] = looks_secret(name)
        return known

    def fail(self, key: str) -> None:
        self.known.pop(key, None)
        self.failed.add(key)
        self.secret.discard(key)

    def expand(self, value: str) -> tuple[str, bool]:
        """Return ``value`` expanded and whether it now holds a sensitive value.

        References are found as python-dotenv's ``_posix_variable.finditer`` finds them, in
        linear time: the next ``}`` and ``:`` are searched once and reused until the scan
        passes them (the regex rescans to them from every ``${``).

        Raises:
            ExpandFailed: a name is undefined, a used key failed, or the result is too big.
        """
        if self.added > MAX_EXPANDED_TOTAL_BYTES:
            raise ExpandFailed("poisoned")
        known, environ, failed = self.known, self.environ, self.failed
        find = value.find
        pieces: list[str] = []
        missing: list[str] = []
        size = added = cursor = 0
        sensitive = poisoned = False
        n = len(value)
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
                name, default = value[start:close], None
            elif value.startswith("-", colon + 1):
                name, default = value[start:colon], value[colon + 2 : close]
            else:  # "${NAME:x…" is not a reference: scan on from the next "$"
                pos = find("${", pos + 1)
                continue
            text = known.get(name)
            if text is not None:
                sensitive = sensitive or name in self.secret
            elif name in failed:
                poisoned, text = True, ""
            else:
                text = environ.get(name)
                if text is not None:
                    sensitive = sensitive or self.secret_name(name)
                elif default is not None:
                    text = default
                else:
                    if name not in missing:
                        missing.append(name)
                    text = ""
            pieces.append(value[cursor:pos])
            pieces.append(text)
            size += pos - cursor + len(text)
            added += len(text)
            if size > MAX_EXPANDED_BYTES:
                raise ExpandFailed("too_large")
            cursor = close + 1
            pos = find("${", cursor)
        if poisoned:
            raise ExpandFailed("poisoned")
        if missing:
            raise ExpandFailed("undefined", tuple(missing))
        pieces.append(value[cursor:])
        result = "".join(pieces)
        # Characters undercount UTF-8 bytes by up to 4x: measure exactly only when it matters.
        if len(result) * 4 > MAX_EXPANDED_BYTES and len(result.encode()) > MAX_EXPANDED_BYTES:
            raise ExpandFailed("too_large")
        self.added += added
        if self.added > MAX_EXPANDED_TOTAL_BYTES:
            raise ExpandFailed("total_too_large")
        return result, sensitive
