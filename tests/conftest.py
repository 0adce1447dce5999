"""Shared fixtures: an isolated working directory and environment for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary project directory as the current directory, with a clean environment.

    Variables that envguard or the SDKs read (``ENVGUARD_*``, ``VAULT_*``, ``AWS_*``) are
    removed so the developer's own settings never leak into a test.
    """
    for name in list(os.environ):
        if name.startswith(("ENVGUARD_", "VAULT_", "AWS_", "APP_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
