"""Fetch an environment's sources and merge them by precedence, keeping every origin.

Local sources are read inline. Remote sources are fetched concurrently through
:mod:`envguard.sources._bounded`: the resolver stops waiting at the overall deadline, so a
server that trickles bytes cannot stretch a run, and an abandoned call never delays
interpreter exit.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from envguard.errors import ConfigError
from envguard.report import Problem
from envguard.sources._bounded import UNFINISHED, Calls, TooManyAbandoned
from envguard.sources._retry import Deadline
from envguard.sources.base import Fetched, Source, Value

__all__ = ["Layer", "Resolution", "SourceStatus", "resolve"]

#: How long past the deadline the resolver waits for sources to report their own timeout
#: (AWS waits 0.25 s for its workers; a process still exits well within deadline + 1.5 s).
_GRACE = 0.5


class Layer(NamedTuple):
    """One source's values, as they were read.

    Attributes:
        source: the source's description (``dotenv .env``).
        matching: how its keys meet the schema, from the source's
            :attr:`~envguard.sources.base.Source.matching`: ``env`` (the process
            environment), ``dotenv`` (undeclared keys are passed on as extras) or
            ``secrets`` (a secrets directory).
        values: each key as the source spelled it, with its value.
    """

    source: str
    matching: str
    values: dict[str, Value]


class SourceStatus(NamedTuple):
    """How reading one source went: for ``show``, health checks and reports."""

    source: str
    kind: str
    ok: bool
    seconds: float
    keys: int
    code: str | None = None
    #: the source's :attr:`~envguard.sources.base.Source.matching` (``env`` for the process
    #: environment, whose unrelated keys are not counted in reports).
    matching: str = "dotenv"


@dataclass(slots=True)
class Resolution:
    """Every key with its winning value and origin, plus what each source offered.

    Attributes:
        env: the environment resolved.
        values: the winning value of each key (the last source that set it), ordered by
            when each key was last set.
        offered: every value of each key, in precedence order (earliest first); built on
            first use from :attr:`layers`, since only ``explain``-like readers need it.
        problems: problems found while reading sources (parse errors, failures).
        statuses: one :class:`SourceStatus` per source, in precedence order.
        layers: each source that was read, with its values, in precedence order.
    """

    env: str
    values: dict[str, Value] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    statuses: list[SourceStatus] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)
    _offered: dict[str, list[Value]] | None = field(default=None, repr=False)

    @property
    def offered(self) -> dict[str, list[Value]]:
        if self._offered is None:
            offered: dict[str, list[Value]] = {}
            for layer in self.layers:
                for key, value in layer.values.items():
                    seen = offered.get(key)
                    if seen is None:
                        offered[key] = [value]
                    else:
                        seen.append(value)
            self._offered = offered
        return self._offered

    @property
    def complete(self) -> bool:
        """False when a source could not be read, so validation is incomplete."""
        return all(s.ok for s in self.statuses)


@dataclass(frozen=True, slots=True, eq=False)
class _Job:
    """One unit of fetching: a single source or a group of one kind that batches."""

    sources: list[Source]
    deadline: Deadline

    def __call__(self) -> tuple[list[Fetched | BaseException], float]:
        start = time.perf_counter()
        if len(self.sources) == 1:
            results = [_fetch_one(self.sources[0], self.deadline)]
        else:
            results = _fetch_group(self.sources, self.deadline)
        return results, time.perf_counter() - start


def _fetch_one(source: Source, deadline: Deadline) -> Fetched | BaseException:
    try:
        return source.fetch(deadline)
    except Exception as exc:  # noqa: BLE001 - handed back and reported as a problem
        return exc


def _fetch_group(sources: Sequence[Source], deadline: Deadline) -> list[Fetched | BaseException]:
    """A kind's ``fetch_group``, held to its contract of one result per source.

    An exception escaping it (or a result list of the wrong length) fails every source of
    the group instead of killing the thread and passing for a timeout.
    """
    try:
        results = type(sources[0]).fetch_group(sources, deadline)
    except Exception as exc:  # noqa: BLE001 - handed back and reported as a problem
        return [exc] * len(sources)
    if len(results) != len(sources):
        wrong = RuntimeError(f"fetch_group returned {len(results)} results for {len(sources)}")
        return [wrong] * len(sources)
    return list(results)


def _overrides_group(cls: type[Source]) -> bool:
    return cls.fetch_group.__func__ is not Source.fetch_group.__func__  # type: ignore[attr-defined]


def _plan(sources: Sequence[Source], deadline: Deadline) -> dict[int, _Job]:
    """Group remote sources into jobs: one per source, or one per kind that batches."""
    jobs: dict[int, _Job] = {}
    groups: dict[type[Source], list[int]] = {}
    for index, source in enumerate(sources):
        if not source.remote:
            continue
        cls = type(source)
        if _overrides_group(cls):
            groups.setdefault(cls, []).append(index)
        else:
            jobs[index] = _Job([source], deadline)
    for indexes in groups.values():
        job = _Job([sources[i] for i in indexes], deadline)
        for i in indexes:
            jobs[i] = job
    return jobs


def _timeout_problem(source: Source, deadline: Deadline) -> Problem:
    return Problem(
        key=None,
        source=source.describe(),
        code="source_timeout",
        message=f"{source.describe()}: no answer within the {deadline.seconds:g}s deadline",
        category="unavailable",
    )


def _failure_problems(source: Source, exc: BaseException) -> list[Problem]:
    if isinstance(exc, ConfigError):
        # The error's class says what to fix (a value, access, or wait and retry); a set-up
        # problem (a missing extra raises ProjectError) stays one.
        return [
            p if p.category in ("project", exc.category) else replace(p, category=exc.category)
            for p in exc.problems
        ]
    if isinstance(exc, TooManyAbandoned):
        return [
            Problem(
                key=None,
                source=source.describe(),
                code="source_timeout",
                message=f"{source.describe()}: not read: {exc}",
                category="unavailable",
            )
        ]
    # An unexpected exception from a source: report its type only; its message could
    # carry a value. ENVGUARD_DEBUG=1 prints its traceback, as the message promises (the
    # user asked for it, knowing it may show values).
    if os.environ.get("ENVGUARD_DEBUG") == "1":
        sys.stderr.write(f"envguard: debug: {source.describe()} failed:\n")
        traceback.print_exception(exc, file=sys.stderr)
    return [
        Problem(
            key=None,
            source=source.describe(),
            code="source_failed",
            message=f"{source.describe()}: failed unexpectedly ({type(exc).__name__}); "
            "set ENVGUARD_DEBUG=1 to print its traceback (it may show values)",
            category="source",
        )
    ]


def resolve(sources: Sequence[Source], *, env: str, deadline: Deadline | float) -> Resolution:
    """Fetch every source (remote ones concurrently) and merge them by precedence.

    Later sources override earlier ones. A source that fails or misses the deadline adds
    its problems and a failed status; the others are still merged.
    """
    if not isinstance(deadline, Deadline):
        deadline = Deadline(deadline)
    jobs = _plan(sources, deadline)
    unique = list({id(job): job for job in jobs.values()}.values())
    calls: Calls[tuple[list[Fetched | BaseException], float]] | None = None
    refused: TooManyAbandoned | None = None
    if unique:
        try:
            calls = Calls(unique, deadline, name="envguard-fetch")
        except TooManyAbandoned as exc:
            refused = exc

    # Local sources are read while the remote ones are in flight, then all are merged in
    # precedence order.
    local: dict[int, tuple[Fetched | BaseException, float]] = {}
    for index, source in enumerate(sources):
        if index not in jobs:
            start = time.perf_counter()
            local[index] = (_fetch_one(source, deadline), time.perf_counter() - start)

    # A moment past the deadline, so that a source that stopped at the deadline itself can
    # report it in its own words (``vault_timeout``) rather than as a bare timeout.
    done = calls.wait(_GRACE) if calls is not None else [refused or UNFINISHED] * len(unique)
    finished = {id(job): outcome for job, outcome in zip(unique, done, strict=True)}
    result = Resolution(env=env)
    for index, source in enumerate(sources):
        outcome: Fetched | BaseException | None
        pending = jobs.get(index)
        if pending is None:
            outcome, seconds = local[index]
        else:
            answer = finished[id(pending)]
            if isinstance(answer, tuple):
                results, seconds = answer
                outcome = results[pending.sources.index(source)]
            else:  # unfinished at the deadline (or, never expected, a job that raised)
                outcome = answer if isinstance(answer, BaseException) else None
                seconds = deadline.seconds
        _merge(result, source, outcome, seconds, deadline)
    return result


def _merge(
    result: Resolution,
    source: Source,
    outcome: Fetched | BaseException | None,
    seconds: float,
    deadline: Deadline,
) -> None:
    name = source.describe()
    if outcome is None:
        problem = _timeout_problem(source, deadline)
        result.problems.append(problem)
        status = SourceStatus(name, source.kind, False, seconds, 0, problem.code, source.matching)
        result.statuses.append(status)
        return
    if isinstance(outcome, BaseException):
        problems = _failure_problems(source, outcome)
        result.problems.extend(problems)
        code = problems[0].code if problems else "source_failed"
        status = SourceStatus(name, source.kind, False, seconds, 0, code, source.matching)
        result.statuses.append(status)
        return
    result.problems.extend(outcome.problems)
    count = len(outcome.values)
    result.statuses.append(
        SourceStatus(name, source.kind, True, seconds, count, None, source.matching)
    )
    layer = outcome.values
    result.layers.append(Layer(name, source.matching, layer))
    result._offered = None
    values = result.values
    # Overridden keys are re-inserted, so the dict's order is the order values were last
    # set: readers that fold spellings (``port``/``PORT``) keep the last one and so honour
    # precedence. (Set and dict operations here run in C: this is on every load's path.)
    for key in layer.keys() & values.keys():
        del values[key]
    values.update(layer)
