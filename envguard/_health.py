"""A configuration health check for a ``/health/detailed`` endpoint: codes and timings only.

The result names the environment, the schema class and each source, with counts and
problem codes, and nothing that could carry a value: no keys' values, no problem messages.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from envguard.errors import ConfigError
from envguard.report import Problem

if TYPE_CHECKING:
    from envguard.schema.loader import SchemaRef

__all__ = ["health"]


def _counts(problems: list[Problem]) -> dict[str, Any]:
    errors = [p for p in problems if p.severity == "error"]
    return {
        "problems": len(errors),
        "warnings": len(problems) - len(errors),
        "codes": sorted({p.code for p in errors}),
    }


def health(
    schema: SchemaRef | None = None,
    *,
    env: str | None = None,
    project: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Resolve and validate an environment now, and summarise it without any value.

    Every call reads the sources again, so a Vault that went away shows up; pass a short
    ``timeout`` from a health endpoint (the default is the project's deadline, 30 s).

    Args:
        schema: as for :func:`envguard.load`; default the schema named in the project file.
        env: the environment; default ``ENVGUARD_ENV``, else the project's ``default_env``.
        project: the project file (default: found by walking up from the current directory).
        timeout: the overall deadline in seconds for reading remote sources. A value that
            is not finite (``inf``, ``nan``) is not clamped: it gives the ``error`` status
            with the code ``timeout_invalid``, and no source is read.

    Returns:
        A JSON-ready dict::

            {"status": "ok" | "degraded" | "error", "env": "production", "schema": "Settings",
             "problems": 0, "warnings": 1, "codes": [],
             "sources": [{"source": "vault secret/app", "kind": "vault", "ok": True,
                          "latency_ms": 41.2, "code": None}]}

        ``status`` is ``ok`` when every source was read and the configuration is valid,
        ``degraded`` when a source failed or validation found errors, and ``error`` when
        nothing could be resolved (a project-file, schema or timeout error: ``schema`` is
        None and ``sources`` empty; ``env`` is the environment asked for, or None when none
        was named). ``problems`` and ``warnings`` count problems; ``codes`` lists
        the distinct error codes (``missing``, ``source_timeout``), never a message.

    Never raises for invalid configuration, unreachable sources or a broken project file.
    """
    # The whole pipeline, only when a check runs.
    from envguard.engine import evaluate, source_statuses

    try:
        outcome = evaluate(schema, env=env, project=project, timeout=timeout)
    except ConfigError as error:
        return {"status": "error", "env": error.env, "schema": None, "sources": []} | _counts(
            error.problems
        )
    failed = not outcome.resolution.complete or any(p.severity == "error" for p in outcome.problems)
    return {
        "status": "degraded" if failed else "ok",
        "env": outcome.env,
        "schema": outcome.model.__name__,
        "sources": source_statuses(outcome, timings=True),
    } | _counts(outcome.problems)
