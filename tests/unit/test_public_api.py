"""The public API: one literal, sorted ``__all__``, and an ``import envguard`` that stays light."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import envguard

#: Heavy or optional packages that only the source or CLI module using them may import.
HEAVY = ("boto3", "botocore", "hvac", "requests", "typer", "click", "rich")


def test_all_is_a_literal_sorted_list() -> None:
    tree = ast.parse(Path(envguard.__file__).read_text("utf-8"))
    [node] = [
        n
        for n in tree.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in n.targets)
    ]

    assert isinstance(node.value, ast.List), "__all__ must be a literal list"
    names = [ast.literal_eval(e) for e in node.value.elts]
    assert names == sorted(names)
    assert names == envguard.__all__


def test_all_matches_the_public_names() -> None:
    # As in httpx's tests/test_exported_members.py; submodules are attributes, not API.
    included_private_members = ["__version__"]
    # dir() includes the names loaded lazily (PEP 562) before their first use.
    public = sorted(
        name
        for name in dir(envguard)
        if (not name.startswith("_") or name in included_private_members)
        and not isinstance(getattr(envguard, name), types.ModuleType)
    )

    assert envguard.__all__ == public


@pytest.mark.parametrize("name", envguard.__all__)
def test_every_exported_name_is_documented(name: str) -> None:
    member = getattr(envguard, name)

    if name == "__version__":
        assert isinstance(member, str)
    else:
        assert (member.__doc__ or "").strip(), f"envguard.{name} has no docstring"


def test_import_envguard_stays_light() -> None:
    code = (
        "import json, sys\n"
        "import envguard\n"
        "envguard.load, envguard.Settings, envguard.ConfigError\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert json.loads(done.stdout) == [], f"import envguard imported {done.stdout.strip()}"
