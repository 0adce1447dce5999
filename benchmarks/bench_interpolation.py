"""A dotenv file of N lines with ``${VAR}`` interpolation: envguard vs python-dotenv.

Compares envguard's dotenv source (parse + linear interpolation + problem checks) with
python-dotenv's ``dotenv_values`` with interpolation off (the target: ≤ 1.5×) and on
(python-dotenv's interpolation is quadratic). Run:
    .venv/bin/python benchmarks/bench_interpolation.py [N ...]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import fmt, median_seconds, paired_medians
from dotenv import dotenv_values

from envguard.sources._retry import Deadline
from envguard.sources.dotenv import DotenvSource


def make_file(path: Path, n: int) -> None:
    lines = ["BASE=https://example.test"]
    for i in range(1, n):
        ref = f"VAR_{i - 1:05d}" if i > 1 else "BASE"
        lines.append(f"VAR_{i:05d}=${{{ref}}}/p{i % 10}" if i % 2 else f"VAR_{i:05d}=plain-{i}")
    path.write_text("\n".join(lines) + "\n")


def main(sizes: list[int]) -> None:
    print(
        f"{'lines':>7} {'dotenv (interp off)':>20} {'envguard (interp on)':>21} {'ratio':>6} "
        f"{'per line':>9} {'dotenv (interp on)':>19}"
    )
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ".env"
            make_file(path, n)
            source = DotenvSource(path)
            med = paired_medians(
                {
                    "off": lambda: dotenv_values(path, interpolate=False),
                    "envguard": lambda: source.fetch(Deadline(60)),
                },
                repeat=15,
            )
            t_off, t_eg = med["off"], med["envguard"]
            t_on = median_seconds(lambda: dotenv_values(path, interpolate=True), repeat=3)
        print(
            f"{n:>7} {fmt(t_off):>20} {fmt(t_eg):>21} {t_eg / t_off:>5.2f}× "
            f"{fmt(t_eg / n):>9} {fmt(t_on):>19}"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 2500, 5000, 10000])
