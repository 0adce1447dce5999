"""The one table that turns hvac/requests exceptions into envguard's Vault failures.

Every exception a Vault call can raise is looked up here by class (walking its MRO, so a
subclass is covered by its base): whether it is transient (retried inside the deadline),
which :class:`~envguard.errors.SourceError` subclass reports it, a stable problem code and
a plain-words reason. Nothing from the exception's message, URL or response body is ever
copied into a reason: those can hold a token or a secret value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envguard.errors import SourceDenied, SourceError, SourceNotFound, SourceUnavailable

if TYPE_CHECKING:
    from envguard.sources._retry import Deadline

__all__ = [
    "RULES",
    "UNKNOWN",
    "Failure",
    "Rule",
    "classify",
    "connection_detail",
    "is_transient",
    "translate",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """How one exception class is reported.

    Attributes:
        transient: retried with backoff inside the deadline when True.
        error: the envguard error class raised once retries are over.
        code: the problem code (``vault_unreachable``, ``vault_permission_denied``, …).
        reason: plain words for the message; ``{addr}`` is replaced by the Vault address.
    """

    transient: bool
    error: type[SourceError]
    code: str
    reason: str


_UNAVAILABLE = SourceUnavailable
_TIMEOUT = Rule(True, _UNAVAILABLE, "vault_timeout", "Vault at {addr} did not answer in time")
_SERVER = "vault_server_error"

#: Exception class (``module.QualName``) → rule. Keys are strings so that neither hvac nor
#: requests is imported before a Vault source is used. hvac maps HTTP statuses to classes in
#: ``hvac.exceptions.VaultError.from_status``; this table covers every class it defines.
RULES: dict[str, Rule] = {
    # --- hvac: one class per HTTP status -------------------------------------------------
    "hvac.exceptions.InvalidRequest": Rule(
        False, SourceError, "vault_bad_request", "Vault rejected the request as invalid (400)"
    ),
    "hvac.exceptions.Unauthorized": Rule(
        False, SourceDenied, "vault_token_invalid", "Vault did not accept the credentials (401)"
    ),
    "hvac.exceptions.Forbidden": Rule(
        False, SourceDenied, "vault_permission_denied", "permission denied (403)"
    ),
    "hvac.exceptions.InvalidPath": Rule(
        False, SourceNotFound, "vault_not_found", "nothing found at this path (404)"
    ),
    # 412: a performance standby has not caught up yet; Vault's docs say to retry.
    "hvac.exceptions.PreconditionFailed": Rule(
        True, _UNAVAILABLE, _SERVER, "Vault at {addr} is not yet consistent (412)"
    ),
    "hvac.exceptions.RateLimitExceeded": Rule(
        True, _UNAVAILABLE, "vault_rate_limited", "Vault at {addr} is rate limiting requests (429)"
    ),
    "hvac.exceptions.InternalServerError": Rule(
        True, _UNAVAILABLE, _SERVER, "Vault at {addr} had an internal error (500)"
    ),
    "hvac.exceptions.VaultNotInitialized": Rule(
        False, _UNAVAILABLE, "vault_not_initialized", "Vault at {addr} is not initialized (501)"
    ),
    "hvac.exceptions.BadGateway": Rule(
        True, _UNAVAILABLE, _SERVER, "a gateway in front of Vault at {addr} failed (502)"
    ),
    "hvac.exceptions.VaultDown": Rule(
        True, _UNAVAILABLE, "vault_sealed", "Vault at {addr} is sealed or unavailable (503)"
    ),
    # Any other status: in practice 504 from a proxy or 473 from a standby, both transient.
    "hvac.exceptions.UnexpectedError": Rule(
        True, _UNAVAILABLE, _SERVER, "Vault at {addr} answered with an unexpected HTTP status"
    ),
    # --- hvac: raised client-side, before any request --------------------------------------
    "hvac.exceptions.UnsupportedOperation": Rule(
        False, SourceError, "vault_error", "the Vault client does not support this operation"
    ),
    "hvac.exceptions.ParamValidationError": Rule(
        False, SourceError, "vault_bad_request", "the Vault client rejected a parameter"
    ),
    "hvac.exceptions.VaultError": Rule(
        False, SourceError, "vault_error", "Vault returned an error"
    ),
    # --- requests: transport failures (subclasses listed before their bases) ---------------
    "requests.exceptions.ConnectTimeout": Rule(
        True, _UNAVAILABLE, "vault_timeout", "timed out connecting to Vault at {addr}"
    ),
    "requests.exceptions.ReadTimeout": _TIMEOUT,
    "requests.exceptions.Timeout": _TIMEOUT,
    "requests.exceptions.SSLError": Rule(
        False,
        _UNAVAILABLE,
        "vault_tls",
        "the TLS connection to Vault at {addr} failed"
        " (check VAULT_CACERT, or the address's scheme)",
    ),
    "requests.exceptions.ProxyError": Rule(
        True, _UNAVAILABLE, "vault_unreachable", "the proxy to Vault at {addr} failed"
    ),
    "requests.exceptions.ConnectionError": Rule(
        True, _UNAVAILABLE, "vault_unreachable", "cannot connect to Vault at {addr}"
    ),
    "requests.exceptions.ChunkedEncodingError": Rule(
        True, _UNAVAILABLE, "vault_unreachable", "the connection to Vault at {addr} broke"
    ),
    "requests.exceptions.ContentDecodingError": Rule(
        True, _UNAVAILABLE, _SERVER, "Vault at {addr} sent an undecodable answer"
    ),
    "requests.exceptions.MissingSchema": Rule(
        False, _UNAVAILABLE, "vault_bad_address", "the Vault address {addr} has no http(s)://"
    ),
    "requests.exceptions.InvalidSchema": Rule(
        False, _UNAVAILABLE, "vault_bad_address", "the Vault address {addr} is not http(s)"
    ),
    "requests.exceptions.InvalidURL": Rule(
        False, _UNAVAILABLE, "vault_bad_address", "the Vault address {addr} is not a valid URL"
    ),
    "requests.exceptions.TooManyRedirects": Rule(
        False, _UNAVAILABLE, "vault_bad_address", "Vault at {addr} redirected too many times"
    ),
    "requests.exceptions.RequestException": Rule(
        False, _UNAVAILABLE, "vault_unreachable", "the request to Vault at {addr} failed"
    ),
    # --- envguard's own deadline ----------------------------------------------------------
    "envguard.sources._retry.DeadlineExceeded": _TIMEOUT,
    "envguard.sources._bounded.CallTimedOut": _TIMEOUT,
}

#: Anything else (a bug in envguard or hvac): reported by class name only, never retried.
UNKNOWN = Rule(False, SourceError, "vault_error", "unexpected error talking to Vault at {addr}")


class Failure(Exception):
    """A classified, redaction-safe Vault failure, before a source turns it into an error.

    Raised outside any ``except`` block, so it never chains the hvac/requests exception.

    Attributes:
        error: the envguard error class to raise.
        code: the problem code.
        reason: plain words, without the source's name (the source adds it).
        hint: a finer cause recognised in Vault's answer (``no_route``), or None.
    """

    def __init__(
        self, error: type[SourceError], code: str, reason: str, hint: str | None = None
    ) -> None:
        super().__init__(reason)
        self.error = error
        self.code = code
        self.reason = reason
        self.hint = hint

    def with_reason(self, reason: str) -> Failure:
        return Failure(self.error, self.code, reason, self.hint)

    @classmethod
    def from_rule(cls, rule: Rule, addr: str, detail: str | None = None) -> Failure:
        reason = rule.reason.replace("{addr}", addr)
        return cls(rule.error, rule.code, f"{reason} ({detail})" if detail else reason)

    def __repr__(self) -> str:
        return f"Failure({self.error.__name__}, {self.code!r}, {self.reason!r})"


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def classify(exc: BaseException) -> Rule:
    """The rule for ``exc``: that of its nearest class (or base class) in :data:`RULES`."""
    for cls in type(exc).__mro__:
        rule = RULES.get(_qualname(cls))
        if rule is not None:
            return rule
    return UNKNOWN


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` should be retried (the ``is_transient`` of ``call_with_retry``)."""
    return classify(exc).transient


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: requests → urllib3 ``MaxRetryError.reason`` → socket error."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 16:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend(a for a in item.args if isinstance(a, BaseException))
        for attr in ("reason", "__cause__", "__context__"):
            nxt = getattr(item, attr, None)
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def connection_detail(exc: BaseException) -> str | None:
    """A few safe words on why a connection failed (``connection refused``), if known."""
    import socket

    for item in _causes(exc):
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, ConnectionResetError):
            return "connection reset"
        if isinstance(item, socket.gaierror):
            return "host name not found"
        if type(item).__name__ in {"RemoteDisconnected", "ProtocolError"}:
            return "connection closed without an answer"
    return None


def _not_found_hint(body: Any) -> str | None:
    """Why a 404 happened, from Vault's answer: a KV v1 read of a KV v2 mount (``versioned``)
    or a removed KV v2 version (``deleted``, ``destroyed``). Only that fact is kept."""
    if not isinstance(body, dict):
        return None
    if "versioned k/v" in json.dumps(body.get("warnings") or []).lower():
        return "versioned"
    data = body.get("data")
    meta = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        return None
    if meta.get("destroyed") is True:
        return "destroyed"
    return "deleted" if meta.get("deletion_time") else None


def translate(exc: BaseException, addr: str, deadline: Deadline) -> Failure:
    """The failure to report for ``exc``: its rule, refined by the few facts Vault's answer
    states (sealed, no such mount, a removed version). Nothing of the answer is copied."""
    rule = classify(exc)
    detail = connection_detail(exc) if rule.code == "vault_unreachable" else None
    if rule is UNKNOWN:
        detail = type(exc).__name__  # a class name is safe to show; its message may not be
    failure = Failure.from_rule(rule, addr, detail)
    said = " ".join(str(e) for e in getattr(exc, "errors", None) or ()).lower()
    if rule.code == "vault_timeout" and deadline.expired():
        return failure.with_reason(
            f"no answer from Vault at {addr} within the {deadline.seconds:g}s deadline"
        )
    if rule.code == "vault_sealed":
        if "sealed" in said:
            return failure.with_reason(f"Vault at {addr} is sealed")
        return Failure(SourceUnavailable, "vault_unavailable", f"Vault at {addr} is unavailable")
    if rule.code == "vault_not_found" and getattr(exc, "json", None) is None:
        # Vault answers a 404 with a JSON body holding "errors"; without one the server is
        # something else (a web server, a proxy's error page): say what was seen.
        return Failure(
            SourceError,
            "vault_not_vault",
            f"the server at {addr} answered 404 without a Vault error body:"
            " is VAULT_ADDR the address of a Vault server?",
        )
    if rule.code == "vault_not_found":
        failure.hint = "no_route" if "no handler for route" in said else None
        failure.hint = failure.hint or _not_found_hint(getattr(exc, "json", None))
    return failure
