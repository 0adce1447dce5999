"""Whole-process `envguard check` on the quick-start project vs a minimal typer app that
validates the same schema and .env with plain pydantic-settings (minimal_typer_app.py).

Run: .venv/bin/python benchmarks/bench_cli.py [RUNS]
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICKSTART = HERE.parent / "examples" / "quickstart"
BIN = Path(sys.executable).parent

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "envguard check (quick start)": [str(BIN / "envguard"), "check", "--project", str(QUICKSTART)],
    "minimal typer + pydantic-settings": [
        sys.executable,
        str(HERE / "minimal_typer_app.py"),
        "--project",
        str(QUICKSTART),
    ],
}


def run(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(runs: int) -> None:
    # Measure envguard as installed from a wheel: with its bytecode compiled. (Editable
    # installs under PYTHONDONTWRITEBYTECODE=1 would recompile every module on each run.)
    compileall.compile_dir(str(ROOT / "envguard"), quiet=1)
    compileall.compile_file(str(ROOT / "benchmarks" / "minimal_typer_app.py"), quiet=1)
    results: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, argv in CASES.items():
            results[name].append(run(argv))
    med = {name: statistics.median(ts) for name, ts in results.items()}
    for name, t in med.items():
        print(f"{name:<40} {t * 1e3:8.1f} ms")
    ratio = med["envguard check (quick start)"] / med["minimal typer + pydantic-settings"]
    print(f"{'ratio':<40} {ratio:8.2f}×")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
