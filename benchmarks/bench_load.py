"""`envguard.load()` steady state vs pydantic-settings, from the process environment.

Two tables: classes of plain ``int``/``str`` fields, and classes that use aliases, a
prefix, nested models and JSON-decoded lists (see ``make_rich_models``).

Run: .venv/bin/python benchmarks/bench_load.py [N ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable

from _common import fmt, make_models, make_rich_models, median_seconds, values

import envguard


def main(sizes: list[int]) -> None:
    for title, factory in (("plain fields", _plain), ("rich fields", make_rich_models)):
        print(title)
        _table(sizes, factory)


def _plain(n: int) -> tuple[type, type, dict[str, str]]:
    eg, ps = make_models(n)
    return eg, ps, values(n)


def _table(sizes: list[int], factory: Callable[[int], tuple[type, type, dict[str, str]]]) -> None:
    head = ("fields", "envguard.load", "per field", "pydantic-settings", "ratio")
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, (6, 14, 9, 18, 6), strict=True)))
    for n in sizes:
        eg, ps, env = factory(n)
        os.environ.update(env)
        try:
            with tempfile.TemporaryDirectory() as empty:
                os.chdir(empty)  # no project file, no .env: the implicit environment
                t_eg = median_seconds(lambda: envguard.load(eg), repeat=11, number=5)
                t_ps = median_seconds(ps, repeat=5, number=1)
        finally:
            for k in env:
                del os.environ[k]
        print(f"{n:>6} {fmt(t_eg):>14} {fmt(t_eg / n):>9} {fmt(t_ps):>18} {t_ps / t_eg:>5.1f}×")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 1000])
