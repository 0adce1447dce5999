"""The one deadline primitive: daemon workers, results in order, abandoned calls counted."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from envguard.sources import _bounded
from envguard.sources._bounded import (
    UNFINISHED,
    Calls,
    CallTimedOut,
    TooManyAbandoned,
    abandoned,
    bounded,
)
from envguard.sources._retry import Deadline


def _wait_until(predicate: object, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_results_come_back_in_task_order_with_exceptions_as_values() -> None:
    boom = KeyError("k")

    def fail() -> int:
        raise boom

    got = Calls([lambda: 1, fail, lambda: 3], Deadline(5)).wait()
    assert got == [1, boom, 3]


def test_an_unfinished_call_is_abandoned_at_the_deadline_and_counted_until_it_ends() -> None:
    release = threading.Event()
    before = abandoned()
    start = time.monotonic()
    got = Calls([lambda: 1, release.wait], Deadline(0.3)).wait()
    assert time.monotonic() - start < 1.0
    assert got[0] == 1
    assert got[1] is UNFINISHED
    assert abandoned() == before + 1
    release.set()
    assert _wait_until(lambda: abandoned() == before)


def test_workers_bound_concurrency_and_queued_tasks_do_not_start_after_the_deadline() -> None:
    lock = threading.Lock()
    running = peak = started = 0

    def task() -> None:
        nonlocal running, peak, started
        with lock:
            running += 1
            started += 1
            peak = max(peak, running)
        time.sleep(0.2)
        with lock:
            running -= 1

    got = Calls([task] * 20, Deadline(0.5), workers=2).wait()
    assert peak == 2
    assert _wait_until(lambda: running == 0)
    # Two workers, 0.2 s per task, 0.5 s: at most three rounds started, never all twenty.
    assert started <= 6
    assert got.count(UNFINISHED) >= 14


def test_new_calls_are_refused_while_too_many_abandoned_ones_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    monkeypatch.setattr(_bounded, "MAX_ABANDONED", abandoned() + 2)
    Calls([release.wait, release.wait], Deadline(0.05)).wait()
    with pytest.raises(TooManyAbandoned):
        Calls([lambda: 1], Deadline(5))
    with pytest.raises(CallTimedOut):  # TooManyAbandoned is a CallTimedOut
        bounded(lambda: 1, Deadline(5))
    release.set()
    assert _wait_until(lambda: abandoned() < _bounded.MAX_ABANDONED)
    assert Calls([lambda: 1], Deadline(5)).wait() == [1]


def test_bounded_returns_raises_or_times_out() -> None:
    assert bounded(lambda: None, Deadline(5)) is None
    with pytest.raises(ZeroDivisionError):
        bounded(lambda: 1 / 0, Deadline(5))
    release = threading.Event()
    with pytest.raises(CallTimedOut):
        bounded(release.wait, Deadline(0.1))
    release.set()


def test_no_tasks_wait_returns_at_once() -> None:
    assert Calls([], Deadline(5)).wait() == []


def test_an_abandoned_call_does_not_delay_interpreter_exit() -> None:
    # A call blocked forever: the process must end right after the deadline, which a
    # ThreadPoolExecutor (joined at exit) would not allow.
    script = textwrap.dedent(
        """
        import threading
        from envguard.sources._bounded import Calls, UNFINISHED
        from envguard.sources._retry import Deadline
        (got,) = Calls([threading.Event().wait], Deadline(0.2)).wait()
        assert got is UNFINISHED
        print("done", flush=True)
        """
    )
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    assert time.monotonic() - start < 5.0
