"""The AWS client layer: settings, one client cache per resolution, bounded calls, quiet logs.

Every call runs on a worker thread named ``envguard-aws-…`` so the caller never waits past
the deadline, and so :class:`SdkLogFilter` can drop the botocore/boto3/urllib3 records below
WARNING made on those threads: botocore's DEBUG logs print request headers (session tokens)
and response bodies (secret values). The read functions return plain data or a classified
:class:`~envguard.sources._aws_errors.Failure`; they never raise an SDK exception.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, NamedTuple, TypeVar

from envguard._imports import require
from envguard.errors import ProjectError
from envguard.report import Problem
from envguard.sources._aws_errors import (
    DENIED,
    TIMEOUT,
    ClassifiedError,
    Failure,
    classify,
    classify_code,
    is_transient,
)
from envguard.sources._bounded import Calls, TooManyAbandoned, Unfinished
from envguard.sources._retry import Deadline, call_with_retry
from envguard.sources.base import BuildContext

__all__ = [
    "AWS_TABLE_KEYS",
    "BATCH_SIZE",
    "SHARED_KEY",
    "AwsOptions",
    "ClientCache",
    "ClientSpec",
    "SdkLogFilter",
    "SecretRef",
    "SecretText",
    "quiet_sdk_loggers",
    "read_parameters",
    "read_secrets",
    "run_bounded",
]

log = logging.getLogger("envguard.sources.aws")

T = TypeVar("T")
GetClient = Callable[[], Any]

#: Keys accepted in the project file's ``[aws]`` table.
AWS_TABLE_KEYS: Final = frozenset({"region", "profile", "endpoint_url"})
#: Where the per-resolution :class:`ClientCache` lives in ``BuildContext.shared``.
SHARED_KEY: Final = "envguard.sources.aws"
#: Per-call timeout caps in seconds, shortened to what remains of the deadline.
CONNECT_TIMEOUT: Final = 5.0
READ_TIMEOUT: Final = 10.0
#: Worker threads per batch of calls; also the client's connection pool size.
MAX_WORKERS: Final = 10
THREAD_PREFIX: Final = "envguard-aws"
#: ``BatchGetSecretValue`` takes at most this many ids; SSM pages hold at most 10.
BATCH_SIZE: Final = 20
_SSM_PAGE: Final = 10
_MAX_PAGES: Final = 1000
_NO_ANSWER: Final = Failure(TIMEOUT, "deadline passed")
#: How long past the deadline the caller waits for a worker to report its own timeout.
_GRACE: Final = 0.25
_SERVICE_ENV: Final = {"secretsmanager": "SECRETS_MANAGER", "ssm": "SSM"}
_SDK_NAMESPACES: Final = frozenset({"boto3", "botocore", "urllib3", "s3transfer"})


@dataclass(frozen=True, slots=True)
class AwsOptions:
    """Explicit AWS settings: the ``[aws]`` table, or a source's constructor arguments."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    @classmethod
    def from_context(cls, ctx: BuildContext) -> AwsOptions:
        """Read and check ``[aws]``; a ``ProjectError`` naming ``[aws]`` for a bad key or value."""
        table = ctx.tables.get("aws", {})
        where = f"{ctx.project_file} [aws]" if ctx.project_file else "[aws]"
        file = str(ctx.project_file) if ctx.project_file else None

        def bad(message: str, code: str = "project_aws") -> ProjectError:
            problem = Problem(None, where, code, message, category="project", file=file)
            return ProjectError([problem], env=ctx.env_name)

        if not isinstance(table, Mapping):
            raise bad("[aws] must be a table")
        unknown = sorted(set(table) - AWS_TABLE_KEYS)
        if unknown:
            accepted = ", ".join(sorted(AWS_TABLE_KEYS))
            raise bad(
                f"unknown key {unknown[0]!r} in [aws] (accepted: {accepted})",
                "project_unknown_key",
            )
        for key, value in table.items():
            if not isinstance(value, str) or not value.strip():
                raise bad(f"[aws] {key} must be a non-empty string")
        return cls(table.get("region"), table.get("profile"), table.get("endpoint_url"))

    def region_in(self, environ: Mapping[str, str]) -> str | None:
        return self.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")

    def spec(self, service: str, environ: Mapping[str, str]) -> ClientSpec:
        """Resolve the client to use for ``service``; pure, no I/O."""
        env_keys = bool(
            self.profile is None
            and environ.get("AWS_ACCESS_KEY_ID")
            and environ.get("AWS_SECRET_ACCESS_KEY")
        )
        profile = (
            None
            if env_keys
            else self.profile or environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE")
        )
        endpoint = (
            self.endpoint_url
            or environ.get(f"AWS_ENDPOINT_URL_{_SERVICE_ENV.get(service, service.upper())}")
            or environ.get("AWS_ENDPOINT_URL")
        )
        return ClientSpec(
            service=service,
            region=self.region_in(environ),
            profile=profile,
            endpoint_url=endpoint,
            config_file=environ.get("AWS_CONFIG_FILE"),
            credentials_file=environ.get("AWS_SHARED_CREDENTIALS_FILE"),
            env_keys=env_keys,
        )


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """Everything that decides which client a source uses; the client cache's key.

    Credentials themselves are not part of it (``env_keys`` says to read them from the
    environment mapping when the client is built), so a spec is safe to print.
    """

    service: str
    region: str | None
    profile: str | None
    endpoint_url: str | None
    config_file: str | None
    credentials_file: str | None
    env_keys: bool


_LOADERS: dict[str | None, Any] = {}
_LOADERS_LOCK: Final = threading.Lock()


def _loader(data_path: str | None) -> Any:
    """One botocore model loader per process: a new one re-reads ~0.3 s of JSON models."""
    import botocore.loaders

    with _LOADERS_LOCK:
        if data_path not in _LOADERS:
            _LOADERS[data_path] = botocore.loaders.create_loader(data_path)
        return _LOADERS[data_path]


_SESSIONS: dict[tuple[str | None, ...], tuple[Any, threading.Lock]] = {}
_SESSIONS_LOCK: Final = threading.Lock()


def _core_session(spec: ClientSpec, environ: Mapping[str, str]) -> tuple[Any, threading.Lock]:
    """One botocore session per (data path, config files, profile), for the process.

    What :class:`ClientSpec` holds is taken from ``environ`` and passed explicitly; what
    botocore looks up on its own (the rest of the credential chain, ``AWS_CA_BUNDLE`` and
    other ``AWS_*`` settings) still comes from the real ``os.environ`` (README, "AWS").

    Building a session registers ~130 event handlers (~20 ms of CPU), so it is kept, as
    boto3's default session is; credentials found through a profile or the default chain
    are then kept for the life of the process. Sessions are not thread-safe: each comes
    with the lock to hold while creating a client from it.
    """
    import botocore.session

    data_path = environ.get("AWS_DATA_PATH")
    key = (data_path, spec.config_file, spec.credentials_file, spec.profile)
    with _SESSIONS_LOCK:
        cached = _SESSIONS.get(key)
        if cached is None:
            core = botocore.session.Session(profile=spec.profile)
            core.register_component("data_loader", _loader(data_path))
            if spec.config_file:
                core.set_config_variable("config_file", spec.config_file)
            if spec.credentials_file:
                core.set_config_variable("credentials_file", spec.credentials_file)
            cached = _SESSIONS[key] = (core, threading.Lock())
        return cached


def _build_client(spec: ClientSpec, environ: Mapping[str, str], deadline: Deadline) -> Any:
    require("boto3", "aws")
    from botocore.config import Config

    keys: dict[str, str | None] = {}
    if spec.env_keys:
        keys = {
            "aws_access_key_id": environ["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": environ["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": environ.get("AWS_SESSION_TOKEN") or None,
        }
    config = Config(
        # One retry layer: envguard's call_with_retry. total_max_attempts counts attempts
        # (1 = no botocore retry); max_attempts would count retries.
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=deadline.timeout(CONNECT_TIMEOUT),
        read_timeout=deadline.timeout(READ_TIMEOUT),
        max_pool_connections=MAX_WORKERS,
    )
    core, lock = _core_session(spec, environ)
    with lock:
        # Explicit keys go to this client only; the shared session is not changed.
        return core.create_client(
            spec.service,
            region_name=spec.region,
            endpoint_url=spec.endpoint_url,
            config=config,
            **keys,
        )


class ClientCache:
    """The AWS clients of one resolution, each built once and shared by every source.

    boto3 clients are thread-safe but sessions are not, so each client is built under a lock
    from its own session and then used from any thread. A failed build is remembered too,
    so fifty sources do not retry a missing profile fifty times.

    Args:
        on_client: called once with each new client, e.g. to register botocore event
            handlers for metrics or request counting.
    """

    def __init__(self, *, on_client: Callable[[Any], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._clients: dict[ClientSpec, Any] = {}
        self._on_client = on_client

    @classmethod
    def shared(cls, ctx: BuildContext) -> ClientCache:
        """The cache of ``ctx``'s resolution, created on first use."""
        cache = ctx.shared.get(SHARED_KEY)
        if not isinstance(cache, ClientCache):
            cache = ctx.shared[SHARED_KEY] = cls()
        return cache

    def client(self, spec: ClientSpec, environ: Mapping[str, str], deadline: Deadline) -> Any:
        """The client for ``spec``; raises ``ClassifiedError`` when it cannot be built."""
        quiet_sdk_loggers()
        with self._lock:
            entry = self._clients.get(spec)
            if entry is None:
                try:
                    entry = _build_client(spec, environ, deadline)
                    if self._on_client is not None:
                        self._on_client(entry)
                except Exception as exc:  # noqa: BLE001 - classified and kept as plain data
                    entry = classify(exc)
                self._clients[spec] = entry
        quiet_sdk_loggers()
        if isinstance(entry, Failure):
            raise ClassifiedError(entry)
        return entry


def run_bounded(tasks: Sequence[Callable[[], T]], deadline: Deadline) -> list[T | None]:
    """Run ``tasks`` (at most :data:`MAX_WORKERS` at once); ``None`` for each unfinished.

    Tasks must not raise: they return a result or a classified failure. An unfinished call
    is abandoned (:mod:`envguard.sources._bounded`); its own socket timeout ends it.
    """
    if not tasks:
        return []
    try:
        calls = Calls(tasks, deadline, workers=MAX_WORKERS, name=THREAD_PREFIX)
    except TooManyAbandoned:
        return [None] * len(tasks)
    outcomes = calls.wait(grace=_GRACE)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome  # a task broke its contract: a bug, not a source failure
    return [None if isinstance(o, Unfinished) else o for o in outcomes]  # type: ignore[misc]


class SdkLogFilter(logging.Filter):
    """Drops SDK records below WARNING made on envguard's AWS worker threads.

    botocore logs request headers (``X-Amz-Security-Token``), canonical requests and
    response bodies (``SecretString``) at DEBUG. The filter runs on the logging thread, so
    a user's own boto3 calls on other threads keep their DEBUG logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not threading.current_thread().name.startswith(THREAD_PREFIX)


_FILTER: Final = SdkLogFilter()


def quiet_sdk_loggers() -> None:
    """Attach :class:`SdkLogFilter` to every boto3/botocore/urllib3 logger that exists.

    Logger filters do not apply to child loggers, so each one gets it; called after a
    client is built (which imports the modules that log) and before every batch of calls.
    """
    for name in _SDK_NAMESPACES:
        logging.getLogger(name).addFilter(_FILTER)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.partition(".")[0] in _SDK_NAMESPACES:
            logger.addFilter(_FILTER)  # a no-op when already attached


class SecretRef(NamedTuple):
    """One secret to read: its name or ARN, and optionally a version."""

    secret_id: str
    version_id: str | None = None
    version_stage: str | None = None


class SecretText(NamedTuple):
    """A secret's ``SecretString``, or ``None`` for a binary secret."""

    text: str | None


def _answered(outcome: T | None) -> T | Failure:
    return _NO_ANSWER if outcome is None else outcome


def read_secrets(
    get_client: GetClient, refs: Sequence[SecretRef], deadline: Deadline
) -> dict[SecretRef, SecretText | Failure]:
    """Read ``refs`` with ``BatchGetSecretValue`` (20 per request, in parallel).

    Versioned refs use ``GetSecretValue``, as do the refs of a batch that is denied as a
    whole (a policy may allow GetSecretValue but not BatchGetSecretValue).
    """
    plain = [r for r in dict.fromkeys(refs) if r == SecretRef(r.secret_id)]
    versioned = [r for r in dict.fromkeys(refs) if r != SecretRef(r.secret_id)]
    chunks = [plain[i : i + BATCH_SIZE] for i in range(0, len(plain), BATCH_SIZE)]
    tasks: list[Callable[[], Any]] = [
        partial(_batch_get, get_client, chunk, deadline) for chunk in chunks
    ]
    tasks += [partial(_get_one, get_client, ref, deadline) for ref in versioned]
    outcomes = run_bounded(tasks, deadline)
    found: dict[SecretRef, SecretText | Failure] = {}
    denied: list[SecretRef] = []
    for chunk, outcome in zip(chunks, outcomes[: len(chunks)], strict=True):
        if isinstance(outcome, Failure) and outcome.rule is DENIED:
            denied += chunk
        elif outcome is None or isinstance(outcome, Failure):
            found.update(dict.fromkeys(chunk, _answered(outcome)))
        else:
            found.update(outcome)
    for ref, outcome in zip(versioned, outcomes[len(chunks) :], strict=True):
        found[ref] = _answered(outcome)
    retried = run_bounded([partial(_get_one, get_client, r, deadline) for r in denied], deadline)
    for ref, outcome in zip(denied, retried, strict=True):
        found[ref] = _answered(outcome)
    return found


def _batch_get(
    get_client: GetClient, chunk: list[SecretRef], deadline: Deadline
) -> dict[SecretRef, SecretText | Failure] | Failure:
    ids = [ref.secret_id for ref in chunk]
    entries: list[Mapping[str, Any]] = []
    errors: list[Mapping[str, Any]] = []
    try:
        client = get_client()
        kwargs: dict[str, Any] = {"SecretIdList": ids}
        for _ in range(_MAX_PAGES):
            call = partial(client.batch_get_secret_value, **kwargs)
            page = call_with_retry(call, is_transient=is_transient, deadline=deadline)
            entries += page.get("SecretValues") or []
            errors += page.get("Errors") or []
            kwargs["NextToken"] = page.get("NextToken")
            if not kwargs["NextToken"]:
                break
    except Exception as exc:  # noqa: BLE001 - classified into plain data, nothing chained
        failure = classify(exc)
        log.debug("BatchGetSecretValue of %d secrets: %s", len(ids), failure.rule.code)
        return failure
    log.debug("BatchGetSecretValue of %d secrets: %d errors", len(ids), len(errors))
    found: dict[SecretRef, SecretText | Failure] = {}
    for ref in chunk:
        entry = next((e for e in entries if _names(ref, e.get("Name"), e.get("ARN"))), None)
        error = next((e for e in errors if _names(ref, e.get("SecretId"))), None)
        if entry is not None:
            found[ref] = _text(entry)
        else:
            code = error.get("ErrorCode") if error is not None else "NoResultReturned"
            found[ref] = classify_code(code if isinstance(code, str) else None)
    return found


def _names(ref: SecretRef, *names: object) -> bool:
    """Whether ``ref``'s id (a name, ARN or partial ARN) is one of ``names``."""
    wanted = ref.secret_id
    return any(
        isinstance(name, str)
        and (name == wanted or (wanted.startswith("arn:") and name.startswith(wanted + "-")))
        for name in names
    )


def _get_one(get_client: GetClient, ref: SecretRef, deadline: Deadline) -> SecretText | Failure:
    kwargs: dict[str, Any] = {"SecretId": ref.secret_id}
    if ref.version_id:
        kwargs["VersionId"] = ref.version_id
    if ref.version_stage:
        kwargs["VersionStage"] = ref.version_stage
    try:
        call = partial(get_client().get_secret_value, **kwargs)
        response = call_with_retry(call, is_transient=is_transient, deadline=deadline)
    except Exception as exc:  # noqa: BLE001 - classified into plain data, nothing chained
        return classify(exc)
    return _text(response)


def _text(entry: Mapping[str, Any]) -> SecretText:
    text = entry.get("SecretString")
    return SecretText(text if isinstance(text, str) else None)


def read_parameters(
    get_client: GetClient, path: str, deadline: Deadline
) -> list[Mapping[str, Any]] | Failure:
    """Every parameter under ``path``, recursively, SecureString ones decrypted."""
    return _answered(run_bounded([partial(_get_by_path, get_client, path, deadline)], deadline)[0])


def _get_by_path(
    get_client: GetClient, path: str, deadline: Deadline
) -> list[Mapping[str, Any]] | Failure:
    params: list[Mapping[str, Any]] = []
    kwargs: dict[str, Any] = {
        "Path": path.rstrip("/") or "/",
        "Recursive": True,
        "WithDecryption": True,
        "MaxResults": _SSM_PAGE,
    }
    pages = 0
    try:
        client = get_client()
        for pages in range(1, _MAX_PAGES + 1):  # noqa: B007 - counted for the debug log
            call = partial(client.get_parameters_by_path, **kwargs)
            page = call_with_retry(call, is_transient=is_transient, deadline=deadline)
            params += page.get("Parameters") or []
            kwargs["NextToken"] = page.get("NextToken")
            if not kwargs["NextToken"]:
                break
    except Exception as exc:  # noqa: BLE001 - classified into plain data, nothing chained
        return classify(exc)
    log.debug("GetParametersByPath %s: %d parameters in %d pages", path, len(params), pages)
    return params
