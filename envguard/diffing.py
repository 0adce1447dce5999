"""Compare two evaluated environments key by key, without ever disclosing a secret value.

:func:`compare` is pure: it takes two :class:`~envguard.engine.Outcome` objects (both
environments already resolved and validated) and returns a :class:`Drift`. Rendering and
exit codes belong to ``envguard diff``.

Which keys are compared: every variable either side's schema declares, plus undeclared keys
that a source other than the process environment offers on either side. The process
environment is shared by both sides of a diff run on one machine, so its unrelated
variables (``PATH``, ``HOME``) would only be noise; a declared key, or an undeclared key
some file or secret store sets, is still compared with its resolved value on each side
whichever source that came from.

Secret values are compared in-process with :func:`hmac.compare_digest` and only the verdict
(``changed``/``unchanged``) is kept: no value, length or hash of a secret is stored in a
:class:`Drift`. A key is secret when either side's outcome says so (the one secrecy
decision, made when the values were read), however it was set: through an alias, nested keys
or an undeclared key.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from envguard.report import Problem, Redactor

if TYPE_CHECKING:
    from envguard.engine import Outcome
    from envguard.schema.view import Row
    from envguard.sources.base import Value

__all__ = ["KINDS", "Drift", "KeyDrift", "KeySide", "Kind", "SideSummary", "compare"]

Kind = Literal["broken", "only_a", "only_b", "changed", "unchanged"]

#: The categories of a key, in report order: what breaks a deploy comes first.
KINDS: tuple[Kind, ...] = ("broken", "only_a", "only_b", "changed", "unchanged")


@dataclass(frozen=True, slots=True)
class KeySide:
    """One key as one environment has it.

    Attributes:
        present: the key resolved to a value on this side.
        valid: no validation error names this key on this side.
        codes: the codes of those errors (``missing``, ``int_parsing``), in report order.
        origin: where the value came from (``dotenv .env.staging:4``), when present.
        shown: the value, when present and not secret (scrubbed of both sides' secrets).
    """

    present: bool
    valid: bool
    codes: tuple[str, ...] = ()
    origin: str | None = None
    shown: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "valid": self.valid,
            "codes": list(self.codes),
            "origin": self.origin,
            "value": self.shown,
        }


@dataclass(frozen=True, slots=True)
class KeyDrift:
    """How one key compares between the two environments.

    Attributes:
        key: the variable's name (``DATABASE_URL``).
        kind: its category (see :data:`KINDS`).
        secret: True when either side considers it secret; then neither value is shown.
        declared: True when either side's schema declares it.
        same: whether the two values are equal, or None unless present on both sides.
        a: the key in environment A.
        b: the key in environment B.
    """

    key: str
    kind: Kind
    secret: bool
    declared: bool
    same: bool | None
    a: KeySide
    b: KeySide

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "secret": self.secret,
            "declared": self.declared,
            "same": self.same,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class SideSummary:
    """One environment as a whole.

    Attributes:
        env: its name.
        valid: no error at all (validation, source or project).
        complete: every source was read, so the comparison is trustworthy.
        problems: every problem of the environment, redacted.
    """

    env: str
    valid: bool
    complete: bool
    problems: tuple[Problem, ...]

    @property
    def codes(self) -> list[str]:
        """The distinct codes of the errors, sorted."""
        return sorted({p.code for p in self.problems if p.severity == "error"})

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "valid": self.valid,
            "complete": self.complete,
            "codes": self.codes,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True, slots=True)
class Drift:
    """The comparison of environment A with environment B.

    Attributes:
        a: environment A as a whole.
        b: environment B as a whole.
        keys: every compared key, by :data:`KINDS` order then name.
    """

    a: SideSummary
    b: SideSummary
    keys: tuple[KeyDrift, ...]

    def of(self, kind: Kind) -> tuple[KeyDrift, ...]:
        """The keys of one category, sorted by name."""
        return tuple(k for k in self.keys if k.kind == kind)

    @property
    def complete(self) -> bool:
        """Both environments were read in full."""
        return self.a.complete and self.b.complete

    @property
    def differs(self) -> bool:
        """Any key differs (including values that changed)."""
        return any(k.kind != "unchanged" for k in self.keys)

    @property
    def matters(self) -> bool:
        """Drift that breaks things: the key sets differ, or a side is invalid."""
        return (
            not self.a.valid
            or not self.b.valid
            or any(k.kind in ("broken", "only_a", "only_b") for k in self.keys)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--format json``: every category, with keys, and each side."""
        out: dict[str, Any] = {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "complete": self.complete,
            "differs": self.differs,
            "matters": self.matters,
            "counts": {kind: len(self.of(kind)) for kind in KINDS},
        }
        for kind in KINDS:
            items = self.of(kind)
            out[kind] = (
                [k.key for k in items] if kind == "unchanged" else [k.to_dict() for k in items]
            )
        return out


class _Side(NamedTuple):
    """One key as one environment resolved it: the variables behind it and its errors."""

    name: str
    row: Row | None
    values: tuple[Value, ...]
    text: str | None  # what is compared (None when unset)
    secret: bool
    codes: tuple[str, ...]


def _from_files(outcome: Outcome) -> set[str]:
    """The undeclared keys (normalized) a file or secret store of the environment set."""
    view = outcome.view
    return {
        view.norm(k)
        for layer in outcome.resolution.layers
        if layer.matching == "dotenv"
        for k in layer.values
        if view.field_of(k) is None
    }


def _sides(outcome: Outcome, undeclared: set[str]) -> dict[str, _Side]:
    """Every field (by name) and each of the ``undeclared`` keys (normalized names) this
    environment resolved, whichever source set it."""
    view = outcome.view
    problems = outcome.row_problems()
    out: dict[str, _Side] = {}

    def codes(key: str) -> tuple[str, ...]:
        return tuple(p.code for p in problems.get(key, ()) if p.severity == "error")

    for row in view.rows:
        bindings = outcome.bindings(row)
        values = tuple(b.value for b in bindings)
        if not bindings:
            text = None
        elif len(bindings) == 1 and not bindings[0].path:
            text = bindings[0].value.text
        else:  # nested keys: compare the set of (path, value) pairs
            text = "\0".join(sorted(f"{'.'.join(b.path)}={b.value.text}" for b in bindings))
        secret = outcome.secret(row, row.spec.name)
        out[row.field] = _Side(row.spec.name, row, values, text, secret, codes(row.field))
    for name, value in outcome.resolution.values.items():
        key = view.norm(name)
        if key not in undeclared or view.field_of(name) is not None:
            continue
        secret = outcome.secret(None, name)
        out[key] = _Side(name, None, (value,), value.text, secret, codes(key))
    # Errors naming a key nothing else lists (a strict-mode unknown key from the shell).
    for key, found in problems.items():
        if key not in out and any(p.severity == "error" for p in found):
            name = found[0].key or key
            out[key] = _Side(name, None, (), None, False, codes(key))
    return out


class _Both:
    """Scrubs the secrets of both environments (a value public in A may be secret in B)."""

    def __init__(self, first: Redactor, second: Redactor) -> None:
        self._pair = (first, second)

    def scrub(self, text: str) -> str:
        for redactor in self._pair:
            text = redactor.scrub(text)
        return text

    def scrub_problem(self, problem: Problem) -> Problem:
        for redactor in self._pair:
            problem = redactor.scrub_problem(problem)
        return problem


def _same(a: str, b: str, secret: bool) -> bool:
    if not secret:
        return a == b
    # Constant time, on the raw text; only the verdict leaves this function.
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def _kind(a: KeySide, b: KeySide, same: bool | None) -> Kind | None:
    if a.valid != b.valid:
        return "broken"
    if a.present and not b.present:
        return "only_a"
    if b.present and not a.present:
        return "only_b"
    if same is None:
        return None  # absent on both sides, and equally (in)valid: nothing to compare
    return "unchanged" if same else "changed"


def _side(side: _Side | None, secret: bool, scrub: _Both) -> KeySide:
    if side is None:
        return KeySide(False, True)
    valid = not side.codes
    if side.text is None:
        return KeySide(False, valid, side.codes)
    origin = "; ".join(dict.fromkeys(str(v.origin) for v in side.values))
    shown = None if secret else scrub.scrub(side.text.replace("\0", ", "))
    return KeySide(True, valid, side.codes, origin, shown)


def _summary(outcome: Outcome, scrub: _Both) -> SideSummary:
    problems = tuple(scrub.scrub_problem(p) for p in outcome.problems)
    valid = not any(p.severity == "error" for p in problems)
    complete = outcome.resolution.complete and not any(p.unread for p in problems)
    return SideSummary(outcome.env, valid, complete, problems)


def compare(a: Outcome, b: Outcome) -> Drift:
    """Compare environment A with environment B, key by key.

    Args:
        a: the evaluation of environment A.
        b: the evaluation of environment B (usually of the same schema).

    Returns:
        The :class:`Drift`: keys that break a deploy (valid on one side, invalid or
        missing-but-required on the other) first, then keys only in A, only in B, keys
        whose values changed, and keys unchanged.
    """
    undeclared = _from_files(a) | _from_files(b)
    sa, sb = _sides(a, undeclared), _sides(b, undeclared)
    # Either side's secrets are scrubbed out of anything shown from either side.
    scrub = _Both(a.redactor, b.redactor)
    drifts: list[KeyDrift] = []
    for key in sa.keys() | sb.keys():
        side_a, side_b = sa.get(key), sb.get(key)
        name = (side_a or side_b).name  # type: ignore[union-attr]
        secret = any(s is not None and s.secret for s in (side_a, side_b))
        same = None
        if side_a is not None and side_b is not None and None not in (side_a.text, side_b.text):
            same = _same(side_a.text or "", side_b.text or "", secret)
        key_a, key_b = _side(side_a, secret, scrub), _side(side_b, secret, scrub)
        kind = _kind(key_a, key_b, same)
        if kind is not None:
            declared = any(s is not None and s.row is not None for s in (side_a, side_b))
            drifts.append(KeyDrift(name, kind, secret, declared, same, key_a, key_b))
    drifts.sort(key=lambda d: (KINDS.index(d.kind), d.key))
    return Drift(_summary(a, scrub), _summary(b, scrub), tuple(drifts))
