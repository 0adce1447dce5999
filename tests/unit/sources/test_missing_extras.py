"""Without an extra installed, its sources fail with one line naming the extra to install."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest

from envguard.errors import ProjectError
from envguard.sources import BuildContext, Deadline, source_class

CASES = [
    pytest.param("vault", "hvac", {"vault": "myapp/staging"}, id="vault"),
    pytest.param("aws_secret", "boto3", {"aws_secret": "myapp/staging"}, id="aws-secret"),
    pytest.param("aws_ssm", "boto3", {"aws_ssm": "/myapp/staging/"}, id="aws-ssm"),
]


@pytest.mark.parametrize(("kind", "module", "entry"), CASES)
def test_a_missing_sdk_names_the_extra(kind: str, module: str, entry: dict[str, str]) -> None:
    if find_spec(module) is not None:
        pytest.skip(f"{module} is installed (the full install tests this with sys.modules)")
    extra = "vault" if kind == "vault" else "aws"

    with pytest.raises(ProjectError) as info:
        _build_and_fetch(kind, entry)

    [problem] = info.value.problems
    assert problem.code == "missing_extra"
    assert problem.message.endswith(f"pip install 'envguard[{extra}]'")
    assert info.value.__context__ is None
    assert info.value.__cause__ is None


def _build_and_fetch(kind: str, entry: dict[str, str]) -> None:
    ctx = BuildContext(env_name="staging", base_dir=Path.cwd(), environ={})
    source = source_class(kind).from_entry(entry, ctx)
    source.fetch(Deadline(1))
