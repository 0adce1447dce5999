"""Helpers shared by the benchmarks: medians of repeated timings, and model factories."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from pydantic import create_model
from pydantic_settings import BaseSettings

import envguard


def median_seconds(fn: Callable[[], object], *, repeat: int = 15, number: int = 1) -> float:
    """The median wall time of ``number`` calls of ``fn``, over ``repeat`` rounds, per call."""
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def make_models(n: int, *, prefix: str = "") -> tuple[type[BaseSettings], type[BaseSettings]]:
    """Two equivalent classes with ``n`` int/str fields: envguard's and plain pydantic-settings'."""
    fields: dict[str, object] = {}
    for i in range(n):
        fields[f"var_{i:04d}"] = (int if i % 2 else str, ...)
    config = {"env_prefix": prefix}
    eg = create_model("EgSettings", __base__=envguard.Settings, **fields)  # type: ignore[call-overload]
    eg.model_config.update(config)  # type: ignore[typeddict-item]
    ps = create_model("PsSettings", __base__=BaseSettings, **fields)  # type: ignore[call-overload]
    ps.model_config.update(config)  # type: ignore[typeddict-item]
    return eg, ps


def values(n: int, *, prefix: str = "") -> dict[str, str]:
    return {f"{prefix}VAR_{i:04d}".upper(): (str(i) if i % 2 else f"value-{i}") for i in range(n)}


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def paired_medians(
    fns: dict[str, Callable[[], object]], *, repeat: int = 21, number: int = 1
) -> dict[str, float]:
    """Median seconds per call of each function, measured interleaved round by round.

    Interleaving makes a drifting machine load hit every case alike, so ratios between
    the cases stay meaningful on a shared machine.
    """
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(ts) for name, ts in times.items()}
