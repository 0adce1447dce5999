"""The one way envguard waits for a call that may never end: daemon threads and a deadline.

A socket's read timeout applies to each read, so a server trickling one byte at a time never
trips it; only giving up on the waiting bounds the total time. Every remote call of every
source (the resolver's fetch jobs, Vault's HTTP calls, AWS's SDK calls) runs through
:class:`Calls`:

- its workers are **daemon** threads, which the interpreter never joins at exit, so a call
  abandoned at the deadline cannot delay the end of the process (a ``ThreadPoolExecutor``
  would: Python joins its workers at exit);
- tasks queued behind a busy worker are not started once the deadline has passed;
- an abandoned call still running is **counted** (:func:`abandoned`), and while
  :data:`MAX_ABANDONED` of them are still running, new calls are refused at once
  (:class:`TooManyAbandoned`) instead of piling up threads and sockets in a long-running
  process that keeps polling a dead server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Final, Generic, TypeVar

from envguard.sources._retry import Deadline

__all__ = [
    "MAX_ABANDONED",
    "UNFINISHED",
    "CallTimedOut",
    "Calls",
    "TooManyAbandoned",
    "Unfinished",
    "abandoned",
    "bounded",
]

T = TypeVar("T")

MAX_ABANDONED: Final = 64
"""Abandoned calls that may still be running before new ones are refused."""


class _Counter:
    """Abandoned calls still running, across every :class:`Calls` of the process."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self, delta: int) -> None:
        with self._lock:
            self.value += delta


_abandoned: Final = _Counter()


class CallTimedOut(Exception):
    """The deadline passed before the call returned."""


class TooManyAbandoned(CallTimedOut):
    """Earlier calls abandoned at their deadline are still running; no new one is started."""

    def __init__(self) -> None:
        super().__init__(
            f"{MAX_ABANDONED} earlier calls abandoned at their deadline are still running"
        )


def abandoned() -> int:
    """How many calls given up at their deadline are still running."""
    return _abandoned.value


class Unfinished:
    """The type of :data:`UNFINISHED`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNFINISHED"


UNFINISHED: Final = Unfinished()
"""What :meth:`Calls.wait` gives for a task that had not returned by the deadline."""


class Calls(Generic[T]):
    """Tasks started on daemon threads (at most ``workers`` at a time), waited for once.

    Args:
        tasks: the calls to make.
        deadline: no task starts after it; :meth:`wait` waits until it (plus ``grace``).
        workers: the most tasks running at once (default: all of them).
        name: the worker threads' name (log filters key on it).

    Raises:
        TooManyAbandoned: when :data:`MAX_ABANDONED` abandoned calls are still running.
    """

    def __init__(
        self,
        tasks: Sequence[Callable[[], T]],
        deadline: Deadline,
        *,
        workers: int | None = None,
        name: str = "envguard-call",
    ) -> None:
        if tasks and _abandoned.value >= MAX_ABANDONED:
            raise TooManyAbandoned
        self._tasks = list(tasks)
        self._deadline = deadline
        self._results: list[T | BaseException | Unfinished] = [UNFINISHED] * len(self._tasks)
        self._running: set[int] = set()
        self._next = 0
        self._left = len(self._tasks)
        self._given_up = False
        self._cond = threading.Condition()
        count = len(self._tasks) if workers is None else max(1, min(workers, len(self._tasks)))
        for _ in range(count):
            threading.Thread(target=self._work, name=name, daemon=True).start()

    def _take(self) -> int | None:
        with self._cond:
            if self._next >= len(self._tasks) or self._given_up or self._deadline.expired():
                return None
            index = self._next
            self._next += 1
            self._running.add(index)
            return index

    def _work(self) -> None:
        while (index := self._take()) is not None:
            try:
                result: T | BaseException = self._tasks[index]()
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                result = exc
            with self._cond:
                self._running.discard(index)
                if self._given_up:
                    _abandoned.add(-1)  # nobody waits for it any more; it no longer counts
                    return
                self._results[index] = result
                self._left -= 1
                self._cond.notify_all()

    def wait(self, grace: float = 0.0) -> list[T | BaseException | Unfinished]:
        """Each task's result (or the exception it raised), :data:`UNFINISHED` if neither.

        Waits until every task is done or the deadline (plus ``grace``) passes; then the
        unfinished ones are abandoned: those not started never start, those running are
        counted by :func:`abandoned` until they end.
        """
        with self._cond:
            self._cond.wait_for(self._settled, self._deadline.remaining() + grace)
            if self._left:
                self._given_up = True
                _abandoned.add(len(self._running))
            return list(self._results)

    def _settled(self) -> bool:
        # Done, or past the deadline with nothing running: what is left will never start.
        return self._left == 0 or (not self._running and self._deadline.expired())


def bounded(call: Callable[[], T], deadline: Deadline, *, name: str = "envguard-call") -> T:
    """``call()``, given up at ``deadline``.

    Raises:
        CallTimedOut: the deadline passed first (or :class:`TooManyAbandoned`).
        BaseException: whatever ``call`` raised.
    """
    (result,) = Calls([call], deadline, name=name).wait()
    if isinstance(result, Unfinished):
        raise CallTimedOut
    if isinstance(result, BaseException):
        raise result
    return result
