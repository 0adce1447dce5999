"""Resolution: precedence, origins, failing sources, concurrency, deadlines and batching."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from envguard.errors import ConfigError, SourceError, SourceNotFound, SourceUnavailable
from envguard.report import Problem
from envguard.resolve import Resolution, SourceStatus, resolve
from envguard.sources._retry import Deadline
from envguard.sources.base import BuildContext, Fetched, Origin, Source, Value
from envguard.sources.static import StaticSource

CANARY = "CANARY-7f3a9-do-not-print"


class FakeSource(Source):
    """A test source: returns ``values``, or raises ``error``, after ``delay`` seconds."""

    kind = "fake"
    remote = False

    def __init__(
        self,
        name: str,
        values: Mapping[str, str] | None = None,
        *,
        delay: float = 0.0,
        error: BaseException | None = None,
        problems: Sequence[Problem] = (),
        release: threading.Event | None = None,
    ) -> None:
        self.name = name
        self.values = dict(values or {})
        self.delay = delay
        self.error = error
        self.problems = list(problems)
        self.release = release
        self.calls = 0

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> FakeSource:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name

    def fetch(self, deadline: Deadline) -> Fetched:
        self.calls += 1
        if self.release is not None:
            self.release.wait()
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        origin = Origin(self.name)
        return Fetched(
            {k: Value(v, origin, sensitive=self.remote) for k, v in self.values.items()},
            list(self.problems),
        )


class RemoteSource(FakeSource):
    kind = "remote"
    remote = True


class BatchSource(FakeSource):
    """A remote kind whose service serves many sources in one call."""

    kind = "batch"
    remote = True
    groups: ClassVar[list[list[str]]] = []

    @classmethod
    def fetch_group(
        cls, sources: Sequence[BatchSource], deadline: Deadline
    ) -> list[Fetched | BaseException]:
        cls.groups.append([s.name for s in sources])
        out: list[Fetched | BaseException] = []
        for source in sources:
            if source.error is not None:
                out.append(source.error)
            else:
                origin = Origin(source.name)
                out.append(Fetched({k: Value(v, origin, True) for k, v in source.values.items()}))
        return out


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event a hanging source waits on; set at teardown so no thread outlives the test."""
    event = threading.Event()
    yield event
    event.set()


def texts(result: Resolution) -> dict[str, tuple[str, str]]:
    return {k: (v.text, str(v.origin)) for k, v in result.values.items()}


def not_found(name: str) -> SourceNotFound:
    return SourceNotFound(
        [Problem(None, name, "dotenv_missing", f"{name}: file not found", category="source")]
    )


# --- precedence and origins ----------------------------------------------------------------


def test_later_sources_override_earlier_ones() -> None:
    sources = [
        StaticSource({"A": "a1", "B": "b1", "C": "c1"}, name="first"),
        StaticSource({"B": "b2", "C": "c2"}, name="second"),
        StaticSource({"C": "c3", "D": "d3"}, name="third"),
    ]

    result = resolve(sources, env="dev", deadline=5)

    assert texts(result) == {
        "A": ("a1", "first"),
        "B": ("b2", "second"),
        "C": ("c3", "third"),
        "D": ("d3", "third"),
    }
    assert {k: [(v.text, v.origin.source) for v in vs] for k, vs in result.offered.items()} == {
        "A": [("a1", "first")],
        "B": [("b1", "first"), ("b2", "second")],
        "C": [("c1", "first"), ("c2", "second"), ("c3", "third")],
        "D": [("d3", "third")],
    }
    assert result.problems == []
    assert result.complete
    assert [(s.source, s.kind, s.ok, s.keys, s.code) for s in result.statuses] == [
        ("first", "static", True, 3, None),
        ("second", "static", True, 2, None),
        ("third", "static", True, 2, None),
    ]


def test_env_first_lets_files_win() -> None:
    # Precedence is purely positional: put env first and the later source wins.
    env = FakeSource("env", {"PORT": "1"})
    file = FakeSource("dotenv .env", {"PORT": "2"})

    assert texts(resolve([env, file], env="dev", deadline=5))["PORT"] == ("2", "dotenv .env")
    assert texts(resolve([file, env], env="dev", deadline=5))["PORT"] == ("1", "env")


def test_origins_keep_file_and_line() -> None:
    class LineSource(FakeSource):
        def fetch(self, deadline: Deadline) -> Fetched:
            return Fetched({"PORT": Value("8080", Origin("dotenv .env", ".env", 12))})

    result = resolve([LineSource("dotenv .env")], env="dev", deadline=5)

    value = result.values["PORT"]
    assert (str(value.origin), value.origin.file, value.origin.line) == (
        "dotenv .env:12",
        ".env",
        12,
    )
    assert result.env == "dev"


def test_remote_values_merge_in_precedence_order_not_completion_order() -> None:
    slow = RemoteSource("slow", {"K": "slow"}, delay=0.2)
    fast = RemoteSource("fast", {"K": "fast"})

    result = resolve([slow, fast], env="dev", deadline=5)

    assert texts(result) == {"K": ("fast", "fast")}
    assert [v.text for v in result.offered["K"]] == ["slow", "fast"]


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [FakeSource, RemoteSource], ids=["local", "remote"])
def test_a_failing_source_is_reported_and_the_others_still_merge(cls: type[FakeSource]) -> None:
    sources = [
        StaticSource({"A": "1"}, name="defaults"),
        cls("dotenv .env.missing", {"B": "never"}, error=not_found("dotenv .env.missing")),
        StaticSource({"C": "3"}, name="overrides"),
    ]

    result = resolve(sources, env="dev", deadline=5)

    assert texts(result) == {"A": ("1", "defaults"), "C": ("3", "overrides")}
    assert result.problems == [
        Problem(
            None,
            "dotenv .env.missing",
            "dotenv_missing",
            "dotenv .env.missing: file not found",
            category="source",
        )
    ]
    assert not result.complete
    failed = result.statuses[1]
    assert (failed.source, failed.kind, failed.ok, failed.keys, failed.code) == (
        "dotenv .env.missing",
        cls.kind,
        False,
        0,
        "dotenv_missing",
    )


@pytest.mark.parametrize(
    ("error", "category"),
    [
        (SourceUnavailable, "unavailable"),
        (SourceError, "source"),
        (ConfigError, "validation"),
    ],
)
def test_a_source_errors_problems_take_the_category_of_its_class(
    error: type[ConfigError], category: str
) -> None:
    raised = error([Problem(None, "vault x", "vault_sealed", "vault x: sealed")])

    result = resolve([FakeSource("vault x", error=raised)], env="dev", deadline=5)

    assert [(p.code, p.category) for p in result.problems] == [("vault_sealed", category)]


def test_problems_of_a_readable_source_are_kept_with_its_values() -> None:
    warning = Problem("X", "dotenv .env:3", "dotenv_duplicate", "set twice", severity="warning")

    result = resolve(
        [FakeSource("dotenv .env", {"X": "1"}, problems=[warning])], env="d", deadline=5
    )

    assert result.problems == [warning]
    assert result.complete
    assert texts(result) == {"X": ("1", "dotenv .env")}


@pytest.mark.parametrize("cls", [FakeSource, RemoteSource], ids=["local", "remote"])
def test_an_unexpected_exception_is_reported_by_type_only(cls: type[FakeSource]) -> None:
    boom = cls("vault secret/app", error=RuntimeError(f"token {CANARY} rejected"))

    result = resolve([boom, StaticSource({"A": "1"})], env="dev", deadline=5)

    assert result.problems == [
        Problem(
            None,
            "vault secret/app",
            "source_failed",
            "vault secret/app: failed unexpectedly (RuntimeError); "
            "set ENVGUARD_DEBUG=1 to print its traceback (it may show values)",
            category="source",
        )
    ]
    assert CANARY not in repr(result.problems)
    assert CANARY not in repr(result.statuses)
    assert texts(result) == {"A": ("1", "static")}


def test_envguard_debug_prints_the_traceback_it_promises(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    boom = FakeSource("vault secret/app", error=RuntimeError("boom-detail"))
    resolve([boom], env="dev", deadline=5)
    assert capsys.readouterr().err == ""

    monkeypatch.setenv("ENVGUARD_DEBUG", "1")
    resolve([boom], env="dev", deadline=5)
    err = capsys.readouterr().err
    assert err.startswith("envguard: debug: vault secret/app failed:\nTraceback")
    assert "RuntimeError: boom-detail" in err


# --- concurrency and the deadline ----------------------------------------------------------


def test_remote_sources_are_fetched_concurrently() -> None:
    sources = [RemoteSource(f"remote {i}", {f"K{i}": str(i)}, delay=0.3) for i in range(5)]

    start = time.perf_counter()
    result = resolve(sources, env="dev", deadline=10)
    elapsed = time.perf_counter() - start

    assert elapsed < 1.0, f"5 x 0.3 s took {elapsed:.2f} s: not concurrent"
    assert texts(result) == {f"K{i}": (str(i), f"remote {i}") for i in range(5)}
    assert all(s.ok and s.seconds >= 0.29 for s in result.statuses)


def test_local_sources_are_read_while_remote_ones_are_in_flight() -> None:
    sources = [
        RemoteSource("remote", {"R": "1"}, delay=0.5),
        FakeSource("local", {"L": "1"}, delay=0.5),
    ]

    start = time.perf_counter()
    resolve(sources, env="dev", deadline=10)

    assert time.perf_counter() - start < 0.85, "local sources waited for the remote one"


def test_a_source_that_never_answers_ends_at_the_deadline(release: threading.Event) -> None:
    hang = RemoteSource("vault secret/app", {"H": "never"}, release=release)
    sources = [StaticSource({"A": "1"}, name="defaults"), hang]

    start = time.perf_counter()
    result = resolve(sources, env="dev", deadline=0.5)
    elapsed = time.perf_counter() - start

    assert 0.45 <= elapsed < 2.0
    assert result.problems == [
        Problem(
            None,
            "vault secret/app",
            "source_timeout",
            "vault secret/app: no answer within the 0.5s deadline",
            category="unavailable",
        )
    ]
    assert texts(result) == {"A": ("1", "defaults")}
    assert result.statuses[1] == SourceStatus(
        "vault secret/app", "remote", False, 0.5, 0, "source_timeout"
    )


def test_the_deadline_is_shared_by_every_remote_source(release: threading.Event) -> None:
    sources = [RemoteSource(f"hang {i}", release=release) for i in range(3)]

    start = time.perf_counter()
    result = resolve(sources, env="dev", deadline=Deadline(0.3))

    assert time.perf_counter() - start < 1.0
    assert [p.code for p in result.problems] == ["source_timeout"] * 3


# --- batching ------------------------------------------------------------------------------


@pytest.fixture
def groups() -> Iterator[list[list[str]]]:
    BatchSource.groups = []
    yield BatchSource.groups
    BatchSource.groups = []


def test_fetch_group_receives_every_source_of_its_kind_in_one_call(
    groups: list[list[str]],
) -> None:
    sources: list[Source] = [
        BatchSource("aws a", {"A": "a", "X": "from a"}),
        RemoteSource("vault v", {"V": "v"}),
        BatchSource("aws b", {"B": "b", "X": "from b"}),
        StaticSource({"X": "static"}, name="static"),
        BatchSource("aws c", {"C": "c"}),
    ]

    result = resolve(sources, env="dev", deadline=5)

    assert groups == [["aws a", "aws b", "aws c"]]
    assert texts(result) == {
        "A": ("a", "aws a"),
        "X": ("static", "static"),
        "V": ("v", "vault v"),
        "B": ("b", "aws b"),
        "C": ("c", "aws c"),
    }
    assert [s.source for s in result.statuses] == [s.describe() for s in sources]
    assert all(s.ok for s in result.statuses)


def test_one_failure_in_a_group_fails_only_its_source(groups: list[list[str]]) -> None:
    sources = [
        BatchSource("aws a", {"A": "a"}),
        BatchSource("aws b", error=not_found("aws b")),
    ]

    result = resolve(sources, env="dev", deadline=5)

    assert texts(result) == {"A": ("a", "aws a")}
    assert [(s.source, s.ok, s.code) for s in result.statuses] == [
        ("aws a", True, None),
        ("aws b", False, "dotenv_missing"),
    ]


class BrokenBatch(BatchSource):
    kind = "broken"
    result_count: ClassVar[int | None] = None

    @classmethod
    def fetch_group(
        cls, sources: Sequence[BatchSource], deadline: Deadline
    ) -> list[Fetched | BaseException]:
        if cls.result_count is None:
            raise KeyError(CANARY)
        return [Fetched()] * cls.result_count


@pytest.mark.parametrize(
    ("result_count", "type_name"),
    [pytest.param(None, "KeyError", id="raises"), pytest.param(1, "RuntimeError", id="short")],
)
def test_a_broken_fetch_group_fails_its_sources_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch, result_count: int | None, type_name: str
) -> None:
    monkeypatch.setattr(BrokenBatch, "result_count", result_count)
    sources = [BrokenBatch("b1"), BrokenBatch("b2"), StaticSource({"A": "1"})]

    start = time.perf_counter()
    result = resolve(sources, env="dev", deadline=5)

    assert time.perf_counter() - start < 1.0, "a broken group must not wait for the deadline"
    assert [(p.source, p.code) for p in result.problems] == [
        ("b1", "source_failed"),
        ("b2", "source_failed"),
    ]
    assert all(f"({type_name})" in p.message for p in result.problems)
    assert CANARY not in repr(result.problems)
    assert texts(result) == {"A": ("1", "static")}


def test_values_are_ordered_by_when_they_were_last_set() -> None:
    sources = [
        StaticSource({"A": "1", "B": "1", "C": "1"}, name="first"),
        StaticSource({"A": "2"}, name="second"),
    ]

    result = resolve(sources, env="dev", deadline=5)

    assert list(result.values) == ["B", "C", "A"]
    assert list(result.offered) == ["A", "B", "C"]
