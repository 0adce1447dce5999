"""Loading N variables from a dotenv file: envguard vs parsing alone vs pydantic-settings.

pydantic-settings is measured as users meet it: a class with an ``env_prefix`` reading
``_env_file`` (its dotenv source is quadratic in that case). Run:
    .venv/bin/python benchmarks/bench_dotenv.py [N ...]
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

from _common import fmt, make_models, median_seconds, paired_medians, values
from dotenv.parser import parse_stream

import envguard


def main(sizes: list[int]) -> None:
    print(
        f"{'vars':>6} {'parse only':>11} {'envguard.load':>14} {'vs parse':>9} "
        f"{'per var':>9} {'pydantic-settings':>18} {'speed-up':>9}"
    )
    for n in sizes:
        eg, ps = make_models(n, prefix="APP_")
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            text = "".join(f"{k}={v}\n" for k, v in values(n, prefix="APP_").items())
            (root / ".env").write_text(text)
            (root / "envguard.toml").write_text(
                'default_env = "dev"\n[env.dev]\nsources = [{ dotenv = ".env" }]\n'
            )
            os.chdir(root)
            med = paired_medians(
                {
                    "parse": lambda: list(parse_stream(io.StringIO(text))),
                    "envguard": lambda: envguard.load(eg),
                }
            )
            t_parse, t_eg = med["parse"], med["envguard"]
            t_ps = median_seconds(lambda: ps(_env_file=root / ".env"), repeat=3 if n <= 1000 else 1)
        print(
            f"{n:>6} {fmt(t_parse):>11} {fmt(t_eg):>14} {t_eg / t_parse:>8.2f}× "
            f"{fmt(t_eg / n):>9} {fmt(t_ps):>18} {t_ps / t_eg:>8.1f}×"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [250, 500, 1000, 2000])
