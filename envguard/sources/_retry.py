"""Deadlines and the one retry layer shared by every remote source.

Transient failures (connection errors, timeouts, 429, 5xx, throttling) are retried with
capped exponential backoff and full jitter, never past the overall deadline; permanent
failures fail at once. SDK-level retries are switched off by the sources so that retries
never multiply.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

__all__ = ["Deadline", "DeadlineExceeded", "RetryPolicy", "call_with_retry"]

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The overall deadline passed before the call could complete."""


class Deadline:
    """An absolute point in monotonic time shared by every call of one resolution."""

    __slots__ = ("_end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._end

    def timeout(self, cap: float) -> float:
        """The per-call timeout: ``cap``, shortened to what remains (never below 1 ms)."""
        return max(0.001, min(cap, self.remaining()))

    def __repr__(self) -> str:
        return f"Deadline({self.seconds}s, {self.remaining():.3f}s left)"


class RetryPolicy(NamedTuple):
    """Capped exponential backoff with full jitter.

    Attributes:
        attempts: the most calls made, first included.
        base: the first backoff ceiling in seconds.
        cap: the largest backoff ceiling in seconds.
    """

    attempts: int = 4
    base: float = 0.1
    cap: float = 2.0

    def backoff(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to sleep before retry number ``retry`` (1-based)."""
        ceiling: float = min(self.cap, self.base * (2 ** (retry - 1)))
        return ceiling * rng()


def call_with_retry(
    call: Callable[[], T],
    *,
    is_transient: Callable[[BaseException], bool],
    deadline: Deadline,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``, retrying transient failures inside ``deadline``.

    The last exception propagates unchanged when the failure is permanent, attempts run
    out, or the next backoff would pass the deadline; :class:`DeadlineExceeded` is raised
    when the deadline has already passed before a call.
    """
    policy = policy or RetryPolicy()
    attempt = 0
    while True:
        if deadline.expired():
            raise DeadlineExceeded(f"deadline of {deadline.seconds:g}s passed")
        attempt += 1
        try:
            return call()
        except Exception as exc:
            if attempt >= policy.attempts or not is_transient(exc):
                raise
            pause = policy.backoff(attempt)
            if pause >= deadline.remaining():
                raise
        sleep(pause)
