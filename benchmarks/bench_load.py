"""`envguard.load()` steady state vs pydantic-settings, from the process environment.

Run: .venv/bin/python benchmarks/bench_load.py [N ...]
"""

from __future__ import annotations

import os
import sys
import tempfile

from _common import fmt, make_models, median_seconds, values

import envguard


def main(sizes: list[int]) -> None:
    print(
        f"{'vars':>6} {'envguard.load':>14} {'per var':>9} {'pydantic-settings':>18} {'ratio':>6}"
    )
    for n in sizes:
        eg, ps = make_models(n)
        env = values(n)
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
