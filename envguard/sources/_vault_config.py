"""The project file's ``[vault]`` table, validated without I/O, and proxy settings for Vault."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from envguard.errors import ProjectError
from envguard.report import Problem
from envguard.sources.base import BuildContext

__all__ = ["AUTH_METHODS", "DEFAULT_JWT_PATH", "TABLE_KEYS", "VaultConfig", "proxies_for"]

AUTH_METHODS = ("token", "approle", "kubernetes")
DEFAULT_JWT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"
#: Keys that apply to one auth method only.
_ONLY_FOR = {
    "role_id": "approle",
    "secret_id_env": "approle",
    "role": "kubernetes",
    "jwt_path": "kubernetes",
}
#: Secrets people try to put in the file, and where they belong instead.
_NOT_IN_FILE = {
    "token": "set VAULT_TOKEN or use ~/.vault-token",
    "secret_id": "put it in an environment variable and name that with secret_id_env",
    "jwt": "point jwt_path at the token file",
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class VaultConfig:
    """Connection and auth settings from the ``[vault]`` table (all optional).

    Attributes:
        address: the Vault URL; ``VAULT_ADDR`` overrides it.
        namespace: the namespace for login and reads; ``VAULT_NAMESPACE`` overrides it.
        auth: ``token`` (``VAULT_TOKEN``, else ``~/.vault-token``), ``approle`` or
            ``kubernetes``.
        role_id: the AppRole role id.
        secret_id_env: the name of the environment variable holding the AppRole secret id.
        mount_point: where the auth method is mounted (default: the method's name).
        role: the Kubernetes auth role.
        jwt_path: the Kubernetes service-account token file.
    """

    address: str | None = None
    namespace: str | None = None
    auth: str = "token"
    role_id: str | None = None
    secret_id_env: str | None = None
    mount_point: str | None = None
    role: str | None = None
    jwt_path: str = DEFAULT_JWT_PATH

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(problem)

    def _problem(self) -> str | None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                return f"{f.name} must be a non-empty string"
        if self.auth not in AUTH_METHODS:
            return f"auth must be one of {', '.join(map(repr, AUTH_METHODS))}"
        for key, method in _ONLY_FOR.items():
            if key != "jwt_path" and getattr(self, key) is not None and self.auth != method:
                return f'{key} applies only to auth = "{method}"'
        if self.jwt_path != DEFAULT_JWT_PATH and self.auth != "kubernetes":
            return 'jwt_path applies only to auth = "kubernetes"'
        if self.auth == "approle" and self.role_id is None:
            return 'auth = "approle" needs role_id'
        if self.auth == "kubernetes" and self.role is None:
            return 'auth = "kubernetes" needs role'
        if self.secret_id_env is not None and not _ENV_NAME.match(self.secret_id_env):
            # Never echo it: a value that is not a variable name may be the secret itself.
            return "secret_id_env must be the name of an environment variable, not the secret id"
        if self.address is not None and urlsplit(self.address).scheme not in {"http", "https"}:
            return "address must start with http:// or https://"
        return None

    @classmethod
    def from_table(cls, table: Mapping[str, Any], ctx: BuildContext) -> VaultConfig:
        """Validate the ``[vault]`` table; raise a :class:`ProjectError` naming it."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known) if isinstance(table, Mapping) else []
        if not isinstance(table, Mapping):
            message = "[vault] must be a table"
        elif unknown:
            hint = _NOT_IN_FILE.get(unknown[0])
            message = f"unknown key {unknown[0]!r} in the [vault] table " + (
                f"(secrets do not belong in the project file: {hint})"
                if hint
                else f"(accepted: {', '.join(sorted(known))})"
            )
        else:
            try:
                return cls(**dict(table))
            except ValueError as exc:
                message = f"[vault] table: {exc}"
        where = f"{ctx.project_file} [vault]" if ctx.project_file else "[vault]"
        code = "project_unknown_key" if unknown else "project_vault"
        problem = Problem(
            key=None,
            source=where,
            code=code,
            message=message,
            category="project",
            file=str(ctx.project_file) if ctx.project_file else None,
        )
        raise ProjectError([problem], env=ctx.env_name)


#: The table's keys, for the README and the project file's JSON Schema.
TABLE_KEYS = tuple(f.name for f in fields(VaultConfig))


def proxies_for(address: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``HTTP(S)_PROXY`` for ``address`` from ``environ``, honouring ``NO_PROXY`` like Go does."""
    host = (urlsplit(address).hostname or "").lower()
    if host in {"localhost", "127.0.0.1", "::1"}:
        return {}
    no_proxy = environ.get("NO_PROXY") or environ.get("no_proxy") or ""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        bare = entry.removeprefix("*").lstrip(".")
        if entry == "*" or (bare and (host == bare or host.endswith("." + bare))):
            return {}
    out = {}
    for scheme in ("http", "https"):
        proxy = environ.get(f"{scheme.upper()}_PROXY") or environ.get(f"{scheme}_proxy")
        if proxy:
            out[scheme] = proxy
    return out
