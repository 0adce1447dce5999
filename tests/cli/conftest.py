"""The one CLI runner every CLI test goes through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

from envguard.cli.app import run


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Runner = Callable[[Sequence[str]], Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], project_dir: object) -> Runner:
    """Run ``envguard ARGS`` in-process in ``project_dir``; return exit code and output."""

    def invoke(args: Sequence[str]) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
