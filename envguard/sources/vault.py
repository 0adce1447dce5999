"""HashiCorp Vault / OpenBao KV secrets as a source (``{ vault = "myapp/staging" }``).

Every key of the secret becomes a variable, sensitive unless listed in ``public``. Connection
and auth (``VAULT_ADDR``, ``VAULT_TOKEN``, the ``[vault]`` table…) are resolved on the first
fetch by a :class:`VaultConnection` that all Vault sources of a resolution share, so they
log in once. Failures are classified by the one table in ``_vault_errors``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from envguard._imports import require
from envguard.errors import SourceError
from envguard.report import Problem
from envguard.sources._vault_auth import VaultConnection
from envguard.sources._vault_config import VaultConfig
from envguard.sources._vault_errors import Failure
from envguard.sources.base import (
    BuildContext,
    Fetched,
    Origin,
    Source,
    Value,
    check_entry_keys,
    entry_problem,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from envguard.sources._retry import Deadline

__all__ = ["SHARED_KEY", "VaultConfig", "VaultConnection", "VaultSource"]

#: Where the connection shared by one resolution's Vault sources lives in ``ctx.shared``.
SHARED_KEY = "vault.client"


def shared_connection(ctx: BuildContext) -> VaultConnection:
    """The connection of ``ctx``'s resolution, built (without I/O) on first request."""
    conn = ctx.shared.get(SHARED_KEY)
    if not isinstance(conn, VaultConnection):
        config = VaultConfig.from_table(ctx.tables.get("vault", {}), ctx)
        # A relative jwt_path is relative to the project file, like every path in it.
        config = replace(config, jwt_path=str(ctx.base_dir / config.jwt_path))
        conn = VaultConnection(ctx.environ, config)
        ctx.shared[SHARED_KEY] = conn
    return conn


class VaultSource(Source):
    """The keys of one KV secret: ``VaultSource("myapp/staging", mount="secret")``.

    Args:
        path: the secret's path inside the mount.
        mount: where the KV engine is mounted.
        kv_version: 1 or 2; None detects it from ``sys/internal/ui/mounts`` (2 if denied).
        version: a pinned KV v2 version; None reads the latest.
        keys: take only these keys; a listed key missing from the secret is a problem.
        public: keys whose values are not secret.
        connection: the shared connection; by default one reading ``os.environ``.
    """

    kind = "vault"
    entry_keys = frozenset({"mount", "kv_version", "version", "keys", "public"})
    sensitive = True
    remote = True

    def __init__(
        self,
        path: str,
        *,
        mount: str = "secret",
        kv_version: int | None = None,
        version: int | None = None,
        keys: Sequence[str] | None = None,
        public: Iterable[str] = (),
        connection: VaultConnection | None = None,
    ) -> None:
        for name, text in (("the path", path), ("mount", mount)):
            if not isinstance(text, str) or not text.strip("/ "):
                raise ValueError(f"{name} must be a non-empty string")
        if kv_version not in (None, 1, 2) or isinstance(kv_version, bool):
            raise ValueError("kv_version must be 1 or 2")
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or version < 1
        ):
            raise ValueError("version must be a positive integer")
        if version is not None and kv_version == 1:
            raise ValueError("version pins a KV version 2 secret; it cannot go with kv_version = 1")
        for name, items in (("keys", keys), ("public", public)):
            if items is not None and (
                isinstance(items, str) or not all(isinstance(k, str) and k for k in items)
            ):
                raise ValueError(f"{name} must be a list of key names")
        self.path = path.strip("/ ")
        self.mount = mount.strip("/ ")
        self.kv_version = kv_version
        self.version = version
        self.keys = tuple(keys) if keys is not None else None
        self.public = frozenset(public)
        self.connection = connection or VaultConnection(os.environ)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> Self:
        check_entry_keys(cls, entry, ctx)
        require("hvac", "vault")
        conn = shared_connection(ctx)
        try:
            return cls(
                entry["vault"],
                mount=entry.get("mount", "secret"),
                kv_version=entry.get("kv_version"),
                version=entry.get("version"),
                keys=entry.get("keys"),
                public=entry.get("public", ()),
                connection=conn,
            )
        except (TypeError, ValueError) as exc:
            message = f"vault source {entry['vault']!r}: {exc}"
        raise entry_problem(ctx, message)

    def describe(self) -> str:
        return f"vault {self.mount}/{self.path}"

    def fetch(self, deadline: Deadline) -> Fetched:
        try:
            data = self._read(deadline)
        except Failure as failure:
            problem = Problem(
                key=None,
                source=self.describe(),
                code=failure.code,
                message=f"cannot read {self.describe()}: {failure.reason}",
                category=failure.error.category,
            )
            error: type[SourceError] = failure.error
        else:
            return self._values(data)
        raise error([problem])  # outside the except block: nothing chained

    def _read(self, deadline: Deadline) -> dict[str, Any]:
        """The secret's key/value data; raise :class:`Failure`."""
        conn = self.connection
        kv = self.kv_version
        confirmed = False  # whether Vault itself told the mount's KV version
        if kv is None:
            found = conn.kv_version(self.mount, deadline)
            confirmed = found is not None
            kv = found or 2
        api_path = f"{self.mount}/data/{self.path}" if kv == 2 else f"{self.mount}/{self.path}"
        params = {"version": self.version} if self.version is not None else None
        try:
            body = conn.read(api_path, deadline, params)
        except Failure as failure:
            caught = failure
        else:
            return self._data(body, kv, confirmed)
        if caught.code != "vault_not_found":
            raise caught
        if caught.hint == "versioned":
            raise Failure(
                SourceError,
                "vault_kv_version",
                f"{self.mount}/ is a KV version 2 mount, but the source says kv_version = 1",
            )
        raise caught.with_reason(self._not_found(caught.hint, kv, confirmed))

    def _not_found(self, hint: str | None, kv: int, confirmed: bool) -> str:
        where = f"{self.mount}/{self.path}"
        if hint == "no_route":
            return f"no secrets engine is mounted at {self.mount}/"
        if hint in {"deleted", "destroyed"}:
            which = f"version {self.version}" if self.version else "the latest version"
            return f"{which} of {where} is {hint}"
        reason = f"no secret at {where}" + (f" with version {self.version}" if self.version else "")
        if self.path.startswith(f"{self.mount}/"):
            inner = self.path[len(self.mount) + 1 :]
            reason += f" (the path is relative to the mount: did you mean {inner!r}?)"
        elif kv == 2 and not confirmed:
            reason += f" (if {self.mount}/ is a KV version 1 mount, set kv_version = 1)"
        return reason

    def _data(self, body: Any, kv: int, confirmed: bool) -> dict[str, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if kv == 2:
            inner = data.get("data") if isinstance(data, dict) else None
            if not isinstance(data, dict) or "metadata" not in data or inner is None:
                hint = (
                    "" if confirmed else f" (set kv_version = 1 if {self.mount}/ is KV version 1)"
                )
                raise Failure(
                    SourceError,
                    "vault_kv_version",
                    f"the answer is not a KV version 2 secret{hint}",
                )
            data = inner
        if not isinstance(data, dict):
            raise Failure(SourceError, "vault_bad_shape", "the secret is not a key/value object")
        return data

    def _values(self, data: Mapping[str, Any]) -> Fetched:
        origin = Origin(self.describe())
        out = Fetched()
        wanted = self.keys if self.keys is not None else tuple(data)
        for key in wanted:
            if key not in data:
                out.problems.append(
                    Problem(
                        key=key,
                        source=self.describe(),
                        code="vault_key_missing",
                        message=f"{key} is listed in keys but {self.describe()} has no such key",
                    )
                )
                continue
            out.values[key] = Value(_as_text(data[key]), origin, key not in self.public)
        return out


def _as_text(value: Any) -> str:
    """Strings as they are; numbers and booleans as JSON (``true``); objects as JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
