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


def make_rich_models(n: int) -> tuple[type[BaseSettings], type[BaseSettings], dict[str, str]]:
    """Two equivalent classes with ``n`` fields that use what real settings classes use,
    and the environment that sets them all.

    A quarter each: plain fields under ``env_prefix="APP_"``; fields read through
    ``AliasChoices`` (set by the second choice); nested models set through
    ``env_nested_delimiter="__"`` (``APP_DB_0001__HOST``); JSON-decoded ``list[int]``.
    """
    from pydantic import AliasChoices, BaseModel, Field

    class Db(BaseModel):
        host: str
        port: int = 5432

    fields: dict[str, object] = {}
    env: dict[str, str] = {}
    for i in range(n):
        kind = i % 4
        if kind == 0:
            fields[f"plain_{i:04d}"] = (str, ...)
            env[f"APP_PLAIN_{i:04d}"] = f"value-{i}"
        elif kind == 1:
            choices = AliasChoices(f"FIRST_{i:04d}", f"SECOND_{i:04d}")
            fields[f"aliased_{i:04d}"] = (int, Field(validation_alias=choices))
            env[f"SECOND_{i:04d}"] = str(i)
        elif kind == 2:
            fields[f"db_{i:04d}"] = (Db, ...)
            env[f"APP_DB_{i:04d}__HOST"] = f"db{i}.internal"
            env[f"APP_DB_{i:04d}__PORT"] = str(5000 + i)
        else:
            fields[f"ports_{i:04d}"] = (list[int], ...)
            env[f"APP_PORTS_{i:04d}"] = f"[{i}, {i + 1}, {i + 2}]"
    config = {"env_prefix": "APP_", "env_nested_delimiter": "__"}
    made = []
    for name, base in (("EgRich", envguard.Settings), ("PsRich", BaseSettings)):
        model = create_model(name, __base__=base, **fields)  # type: ignore[call-overload]
        model.model_config.update(config)  # type: ignore[typeddict-item]
        made.append(model)
    return made[0], made[1], env
