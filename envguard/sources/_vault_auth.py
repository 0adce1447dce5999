"""Vault connection settings, login, and the one client shared by a resolution's Vault sources.

Settings follow Vault's own conventions (``VAULT_ADDR``, ``VAULT_TOKEN``, ``~/.vault-token``,
``VAULT_NAMESPACE``, ``VAULT_CACERT``/``VAULT_CAPATH``, ``VAULT_SKIP_VERIFY``,
``VAULT_CLIENT_CERT``/``VAULT_CLIENT_KEY``) read from the mapping the caller passes, never
from ``os.environ`` behind its back, and at first use, never at import or build time. As
with Vault Agent, ``VAULT_ADDR`` and ``VAULT_NAMESPACE`` override the ``[vault]`` table.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from envguard._imports import require
from envguard.errors import SourceDenied, SourceError, SourceUnavailable
from envguard.sources._bounded import bounded
from envguard.sources._retry import Deadline, call_with_retry
from envguard.sources._vault_config import VaultConfig, proxies_for
from envguard.sources._vault_errors import Failure, is_transient, translate

__all__ = ["DEFAULT_ADDR", "VaultConnection"]

T = TypeVar("T")

#: Vault's own default when ``VAULT_ADDR`` is unset.
DEFAULT_ADDR = "https://127.0.0.1:8200"
#: Per-call ceilings; each call is also cut to what remains of the deadline.
CONNECT_CAP = 5.0
READ_CAP = 30.0
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_LOGIN_REFUSED = {"vault_bad_request", "vault_token_invalid", "vault_permission_denied"}


def shown_url(address: str) -> str:
    """``address`` as it may be printed: scheme, host, port and path only."""
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:  # not a URL envguard can take apart: show none of it
        return "(an unparsable address)"
    if not parts.scheme or not parts.netloc:
        host = address.split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
        return host
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{port}' if port is not None else ''}{parts.path}"


class VaultConnection:
    """One hvac client and one login, shared by every Vault source of a resolution.

    Building it does no I/O; the first call resolves the settings, reads the token or logs
    in, once, under a lock (sources are fetched from parallel threads). Every call has
    connect/read timeouts cut to the deadline and goes through envguard's single retry
    layer; requests' own retries are off.

    Args:
        environ: where ``VAULT_*`` settings are read, at first use (default ``os.environ``).
        config: the validated ``[vault]`` table of the project file.
    """

    def __init__(
        self, environ: Mapping[str, str] | None = None, config: VaultConfig | None = None
    ) -> None:
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self.config = config or VaultConfig()
        self._lock = threading.Lock()
        self._client: Any = None
        self._failed: tuple[Deadline, Failure] | None = None
        self._token_from = ""
        self._token_valid: tuple[Deadline, str, bool | None] | None = None
        self._kv_versions: dict[str, int | None] = {}
        self._mount_locks: dict[str, threading.Lock] = {}

    @property
    def address(self) -> str:
        return (self._environ.get("VAULT_ADDR") or self.config.address or DEFAULT_ADDR).rstrip("/")

    @property
    def shown_address(self) -> str:
        """The address for messages: scheme, host, port and path only. Credentials
        (``http://user:pw@host``), a query string (``?token=…``) and a fragment are never
        shown."""
        return shown_url(self.address)

    @property
    def namespace(self) -> str | None:
        return self._environ.get("VAULT_NAMESPACE") or self.config.namespace or None

    def __repr__(self) -> str:
        return f"<VaultConnection {self.shown_address} auth={self.config.auth}>"

    # --- calls ---------------------------------------------------------------------------

    def read(self, api_path: str, deadline: Deadline, params: dict[str, Any] | None = None) -> Any:
        """GET ``/v1/{api_path}`` and return the decoded JSON; raise :class:`Failure`.

        A 403 is told apart with a token lookup: an invalid or expired token, or a policy
        that does not allow reading ``api_path``. A token obtained by login (AppRole,
        Kubernetes) that has expired, as it does in a long-running process, is obtained
        again once, and the read retried.
        """
        client = self._ready_client(deadline)
        outcome = self._get(client, api_path, params, deadline)
        if not isinstance(outcome, Failure):
            return outcome
        if outcome.code == "vault_permission_denied":
            valid = self._check_token(client, deadline)
            if valid is False and self.config.auth != "token":
                client = self._login_again(client, deadline)
                outcome = self._get(client, api_path, params, deadline)
                if not isinstance(outcome, Failure):
                    return outcome
                valid = None if outcome.code != "vault_permission_denied" else True
            if valid is False:
                raise Failure(
                    SourceDenied,
                    "vault_token_invalid",
                    f"permission denied: the token{self._token_from} is invalid or expired",
                )
            if outcome.code != "vault_permission_denied":
                raise outcome
            checked = "" if valid else " (the token itself could not be checked)"
            outcome = outcome.with_reason(
                f"permission denied by policy for read on {api_path}{checked}"
            )
        raise outcome

    def kv_version(self, mount: str, deadline: Deadline) -> int | None:
        """The KV version of ``mount`` from ``sys/internal/ui/mounts``, or None if not allowed.

        Sources of one mount fetched in parallel share one lookup: the first asks, the
        others wait for its answer (within the deadline).
        """
        if mount in self._kv_versions:
            return self._kv_versions[mount]
        with self._lock:
            mount_lock = self._mount_locks.setdefault(mount, threading.Lock())
        if not mount_lock.acquire(timeout=deadline.remaining()):
            raise self._timeout(deadline)
        try:
            if mount in self._kv_versions:
                return self._kv_versions[mount]
            return self._lookup_kv_version(mount, deadline)
        finally:
            mount_lock.release()

    def _timeout(self, deadline: Deadline) -> Failure:
        return Failure(
            SourceUnavailable,
            "vault_timeout",
            f"no answer from Vault at {self.shown_address} "
            f"within the {deadline.seconds:g}s deadline",
        )

    def _lookup_kv_version(self, mount: str, deadline: Deadline) -> int | None:
        client = self._ready_client(deadline)
        outcome = self._call(
            lambda t: client.adapter.get(f"/v1/sys/internal/ui/mounts/{quote(mount)}", timeout=t),
            deadline,
        )
        version: int | None = None
        if isinstance(outcome, Failure):
            if outcome.error is SourceUnavailable:
                raise outcome  # the read would fail the same way: say so now
        else:
            data = outcome.get("data") if isinstance(outcome, dict) else None
            kind = data.get("type") if isinstance(data, dict) else None
            if kind not in {"kv", "generic"}:
                shown = kind if isinstance(kind, str) and kind.isidentifier() else "non-KV"
                raise Failure(
                    SourceError, "vault_wrong_engine", f"{mount}/ is a {shown} engine, not KV"
                )
            options = data.get("options") if isinstance(data, dict) else None
            v = options.get("version") if isinstance(options, dict) else None
            version = 2 if str(v) == "2" else 1
        self._kv_versions[mount] = version
        return version

    def close(self) -> None:
        """Close the HTTP session (also done when the connection is garbage collected)."""
        if self._client is not None:
            self._client.adapter.close()

    # --- internals -------------------------------------------------------------------------

    def _call(self, send: Callable[[tuple[float, float]], Any], deadline: Deadline) -> Any:
        """Run one request with retries; return its result, or a :class:`Failure`."""

        def attempt() -> Any:
            timeout = (deadline.timeout(CONNECT_CAP), deadline.timeout(READ_CAP))
            return bounded(lambda: send(timeout), deadline, name="envguard-vault-call")

        try:
            return call_with_retry(attempt, is_transient=is_transient, deadline=deadline)
        except Exception as exc:  # noqa: BLE001 - every failure goes through the one table
            failure = translate(exc, self.shown_address, deadline)
        unset = not (self._environ.get("VAULT_ADDR") or self.config.address)
        if failure.code == "vault_unreachable" and unset:
            failure = failure.with_reason(f"{failure.reason}; VAULT_ADDR is not set")
        return failure  # the caller raises it outside any except block: nothing is chained

    def _get(
        self, client: Any, api_path: str, params: dict[str, Any] | None, deadline: Deadline
    ) -> Any:
        return self._call(
            lambda t: client.adapter.get(f"/v1/{quote(api_path)}", params=params, timeout=t),
            deadline,
        )

    def _check_token(self, client: Any, deadline: Deadline) -> bool | None:
        """Whether the client's token is valid (None: could not tell). Asked once per
        resolution and token: a token that was valid an hour ago may have expired since."""
        known = self._token_valid
        if known is not None and known[0] is deadline and known[1] == client.adapter.token:
            return known[2]
        outcome = self._call(
            lambda t: client.adapter.get("/v1/auth/token/lookup-self", timeout=t), deadline
        )
        valid: bool | None = None
        if not isinstance(outcome, Failure):
            valid = True
        elif outcome.error is SourceDenied:
            valid = False
        self._token_valid = (deadline, client.adapter.token, valid)
        return valid

    def _login_again(self, expired: Any, deadline: Deadline) -> Any:
        """Log in again after the login's token expired (once: parallel reads share it).

        Raises:
            Failure: ``vault_token_expired`` when logging in again fails, with the reason.
        """
        if not self._lock.acquire(timeout=deadline.remaining()):
            raise self._timeout(deadline)
        failed: Failure | None = None
        try:
            if self._client is expired:  # no other read has logged in again meanwhile
                self._failed = None
                try:
                    self._login(deadline)
                except Failure as failure:
                    failed = failure
        finally:
            self._lock.release()
        if failed is not None:  # raised here, outside the except block: nothing is chained
            error = failed.error if failed.error is SourceUnavailable else SourceDenied
            raise Failure(
                error,
                "vault_token_expired",
                f"the token{self._token_from} has expired, and logging in again failed:"
                f" {failed.reason}",
            )
        return self._client

    def _ready_client(self, deadline: Deadline) -> Any:
        if self._client is not None and self._client.adapter.token:
            return self._client
        if not self._lock.acquire(timeout=deadline.remaining()):
            raise self._timeout(deadline)
        try:
            if self._failed is not None and self._failed[0] is deadline:
                raise self._failed[1]  # one login per resolution, even a failed one
            if self._client is None or not self._client.adapter.token:
                self._login(deadline)
            return self._client
        finally:
            self._lock.release()

    def _login(self, deadline: Deadline) -> None:
        try:
            self._client = self._new_client()
            self._authenticate(deadline)
        except Failure as failure:
            self._failed = (deadline, failure)
            raise

    def _new_client(self) -> Any:
        hvac = require("hvac", "vault")
        requests = require("requests", "vault")  # installed with hvac
        env = self._environ
        skip = env.get("VAULT_SKIP_VERIFY", "")
        if skip and skip not in _TRUE | _FALSE:
            raise Failure(SourceError, "vault_config", "VAULT_SKIP_VERIFY must be true or false")
        verify: bool | str = env.get("VAULT_CACERT") or env.get("VAULT_CAPATH") or True
        if skip in _TRUE:
            verify = False
        cert: tuple[str, str] | bool = False
        if env.get("VAULT_CLIENT_CERT"):
            cert = (env["VAULT_CLIENT_CERT"], env.get("VAULT_CLIENT_KEY", ""))
        session = requests.Session()
        # Settings come from the mapping given, never from ~/.netrc or the real environment.
        session.trust_env = False
        session.proxies = proxies_for(self.address, env)
        session.verify = verify
        # One retry layer: envguard's call_with_retry. requests must not retry on its own.
        transport = requests.adapters.HTTPAdapter(max_retries=0)
        session.mount("http://", transport)
        session.mount("https://", transport)
        weakref.finalize(self, session.close)
        # Every argument explicit: hvac would otherwise read VAULT_TOKEN, ~/.vault-token and
        # VAULT_CACERT from the real environment (some of them at import time).
        return hvac.Client(
            url=self.address,
            token="",
            cert=cert,
            verify=verify,
            timeout=READ_CAP,
            session=session,
            namespace=self.namespace,
        )

    def _authenticate(self, deadline: Deadline) -> None:
        cfg = self.config
        if cfg.auth == "token":
            self._client.adapter.token = self._token()
            return
        if cfg.auth == "approle":
            payload: dict[str, Any] = {"role_id": cfg.role_id}
            if cfg.secret_id_env:
                secret_id = self._environ.get(cfg.secret_id_env)
                if not secret_id:
                    raise Failure(
                        SourceDenied,
                        "vault_no_credentials",
                        f"the AppRole secret id variable {cfg.secret_id_env} is not set"
                        " (named by secret_id_env in [vault])",
                    )
                payload["secret_id"] = secret_id
            hint = "check role_id and the secret id"
        else:
            try:
                jwt = Path(cfg.jwt_path).read_text(encoding="utf-8").strip()
            except OSError:
                jwt = ""
            if not jwt:
                raise Failure(
                    SourceDenied,
                    "vault_no_credentials",
                    f"cannot read the Kubernetes service-account token at {cfg.jwt_path}",
                )
            payload = {"role": cfg.role, "jwt": jwt}
            hint = "check role and the service account"
        mount = cfg.mount_point or cfg.auth
        client = self._client
        outcome = self._call(
            lambda t: client.adapter.login(
                f"/v1/auth/{quote(mount)}/login", json=payload, timeout=t
            ),
            deadline,
        )
        if isinstance(outcome, Failure):
            if outcome.code in _LOGIN_REFUSED or outcome.code == "vault_not_found":
                outcome = Failure(
                    SourceDenied,
                    "vault_login_failed",
                    f"Vault refused the {cfg.auth} login at auth/{mount} ({hint})",
                )
            raise outcome
        self._token_from = f" from {cfg.auth} login"

    def _token(self) -> str:
        token = self._environ.get("VAULT_TOKEN", "").strip()
        if token:
            self._token_from = " from VAULT_TOKEN"
            return token
        home = self._environ.get("HOME")
        path = (Path(home) if home else Path.home()) / ".vault-token"
        unreadable = False
        try:
            token = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            token = ""
        except OSError:
            unreadable = True
        if unreadable:
            raise Failure(SourceDenied, "vault_no_token", f"cannot read {path}")
        if not token:
            raise Failure(
                SourceDenied,
                "vault_no_token",
                f"no Vault token: VAULT_TOKEN is not set and {path} does not exist or is empty",
            )
        self._token_from = f" from {path}"
        return token
