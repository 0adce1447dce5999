"""Import optional SDKs on first use, with an error naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from envguard.errors import ProjectError
from envguard.report import Problem

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise a one-line ``ProjectError`` naming ``envguard[extra]``.

    Raised outside the ``except`` block so the ``ImportError`` is not chained.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    top = module.partition(".")[0]
    raise ProjectError(
        [
            Problem(
                key=None,
                source=None,
                code="missing_extra",
                message=(
                    f"the {extra} source needs the {top!r} package: pip install 'envguard[{extra}]'"
                ),
                category="project",
            )
        ]
    )
