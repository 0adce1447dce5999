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
:class:`Drift`. A key is secret when :func:`~envguard.validate.is_secret` says so on either
side.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from envguard.report import Problem, Redactor
from envguard.schema.fields import variables
from envguard.validate import is_secret

if TYPE_CHECKING:
    from envguard.engine import Outcome
    from envguard.schema.fields import VarSpec
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


@dataclass(slots=True)
class _View:
    """One side's declared variables, values and per-key errors, by normalized name."""

    specs: dict[str, VarSpec]
    values: dict[str, Value]
    names: dict[str, str]
    errors: dict[str, list[str]]
    extra: set[str]


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


def _view(outcome: Outcome, norm: Callable[[str], str]) -> _View:
    specs = {norm(s.name): s for s in variables(outcome.model)}
    values: dict[str, Value] = {}
    names = {k: s.name for k, s in specs.items()}
    for name, value in outcome.resolution.values.items():
        values[norm(name)] = value
        names.setdefault(norm(name), name)
    extra = {
        norm(name)
        for name, offered in outcome.resolution.offered.items()
        if any(v.origin.source != "env" for v in offered)
    }
    errors: dict[str, list[str]] = {}
    for p in outcome.problems:
        if p.severity == "error" and p.key is not None:
            errors.setdefault(norm(p.key), []).append(p.code)
    return _View(specs, values, names, errors, extra)


def _same(a: Value, b: Value, secret: bool) -> bool:
    if not secret:
        return a.text == b.text
    # Constant time, on the raw text; only the verdict leaves this function.
    return hmac.compare_digest(
        a.text.encode("utf-8", "surrogatepass"), b.text.encode("utf-8", "surrogatepass")
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


def _side(view: _View, key: str, secret: bool, scrub: _Both) -> KeySide:
    value = view.values.get(key)
    codes = tuple(view.errors.get(key, ()))
    if value is None:
        return KeySide(False, not codes, codes)
    shown = None if secret else scrub.scrub(value.text)
    return KeySide(True, not codes, codes, str(value.origin), shown)


def _summary(outcome: Outcome, scrub: _Both) -> SideSummary:
    problems = tuple(scrub.scrub_problem(p) for p in outcome.problems)
    valid = not any(p.severity == "error" for p in problems)
    complete = outcome.resolution.complete and not any(
        p.severity == "error" and p.category == "source" for p in problems
    )
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
    case_sensitive = all(o.model.model_config.get("case_sensitive") for o in (a, b))

    def norm(name: str) -> str:
        return name if case_sensitive else name.upper()

    va, vb = _view(a, norm), _view(b, norm)
    # Either side's secrets are scrubbed out of anything shown from either side.
    scrub = _Both(a.redactor, b.redactor)
    keys = set(va.specs) | set(vb.specs) | va.extra | vb.extra
    # Errors naming a key neither schema declares (a strict-mode unknown key) count too.
    keys |= set(va.errors) | set(vb.errors)
    drifts: list[KeyDrift] = []
    for key in keys:
        spec_a, spec_b = va.specs.get(key), vb.specs.get(key)
        value_a, value_b = va.values.get(key), vb.values.get(key)
        name = va.names.get(key) or vb.names.get(key) or key
        secret = is_secret(spec_a, name, value_a) or is_secret(spec_b, name, value_b)
        same = None
        if value_a is not None and value_b is not None:
            same = _same(value_a, value_b, secret)
        side_a, side_b = _side(va, key, secret, scrub), _side(vb, key, secret, scrub)
        kind = _kind(side_a, side_b, same)
        if kind is not None:
            declared = spec_a is not None or spec_b is not None
            drifts.append(KeyDrift(name, kind, secret, declared, same, side_a, side_b))
    drifts.sort(key=lambda d: (KINDS.index(d.kind), d.key))
    return Drift(_summary(a, scrub), _summary(b, scrub), tuple(drifts))
