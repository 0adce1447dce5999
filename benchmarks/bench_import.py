"""Whole-process import time of envguard vs ``from pydantic_settings import BaseSettings``.

Each figure is the median wall time of fresh interpreter processes. Run:
    .venv/bin/python benchmarks/bench_import.py [RUNS]
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "python -c pass": "pass",
    "from pydantic_settings import BaseSettings": "from pydantic_settings import BaseSettings",
    "import envguard": "import envguard",
    # What an app does: the base class (pydantic-settings plus one model class) is needed.
    "import envguard; envguard.Settings": "import envguard; envguard.Settings",
}


def run(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main(runs: int) -> None:
    # Measure envguard as installed from a wheel: with its bytecode compiled. (Editable
    # installs under PYTHONDONTWRITEBYTECODE=1 would recompile every module on each run.)
    compileall.compile_dir(str(ROOT / "envguard"), quiet=1)
    compileall.compile_file(str(ROOT / "benchmarks" / "minimal_typer_app.py"), quiet=1)
    results: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):  # interleaved, so drifting machine load hits every case alike
        for name, code in CASES.items():
            results[name].append(run(code))
    med = {name: statistics.median(ts) for name, ts in results.items()}
    for name, t in med.items():
        print(f"{name:<45} {t * 1e3:8.1f} ms")
    base = med["from pydantic_settings import BaseSettings"]
    for name in ("import envguard", "import envguard; envguard.Settings"):
        print(f"{name + ' - pydantic_settings':<45} {(med[name] - base) * 1e3:+8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 21)
