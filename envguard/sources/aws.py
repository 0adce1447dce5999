"""AWS Secrets Manager and SSM Parameter Store sources (``aws_secret``, ``aws_ssm``).

``{ aws_secret = "myapp/staging" }`` reads a secret holding a JSON object: each key becomes a
variable. String values are kept as they are, ``true``/``false`` for booleans, numbers as
JSON writes them, nested arrays and objects as compact JSON text; a ``null`` value sets
nothing. ``{ aws_secret = "myapp/db-password", key = "DB_PASSWORD" }`` reads the whole secret
string as one variable. ``version_stage`` or ``version_id`` pick a version. Binary secrets,
and secrets that are not a JSON object when no ``key`` is given, are reported as problems.

Every Secrets Manager source of an environment is fetched together: ``BatchGetSecretValue``
with up to 20 ids per request, requests in parallel, so 50 secrets cost 3 requests. Secrets
with a version are read with ``GetSecretValue`` (the batch call takes no versions), and so is
every secret of a batch that is denied as a whole (a policy allowing only GetSecretValue).

``{ aws_ssm = "/myapp/staging/" }`` reads every parameter under the path, recursively,
decrypting SecureString parameters. A variable is named by the parameter's name after the
path, each further ``/`` replaced by ``_`` and the case kept: ``/myapp/staging/DB_HOST`` gives
``DB_HOST`` and ``/myapp/staging/db/HOST`` gives ``db_HOST``. If two parameters give the same
name, the shallower one wins and a warning names both. A path with no parameters is an
error. SecureString values are sensitive; String and StringList values are not.

Settings follow boto3's conventions, read at fetch time from the environment mapping the
source was built with, explicit ``[aws]`` values first. Region: ``[aws] region``, else
``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile's region. Credentials: the
``[aws] profile`` if set, else ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
``AWS_SESSION_TOKEN``, else ``AWS_PROFILE``, else boto3's default chain (SSO, container and
instance roles). Endpoint: ``[aws] endpoint_url``, else ``AWS_ENDPOINT_URL_SECRETS_MANAGER``
or ``AWS_ENDPOINT_URL_SSM``, else ``AWS_ENDPOINT_URL``. ``AWS_CONFIG_FILE`` and
``AWS_SHARED_CREDENTIALS_FILE`` locate the config files. All AWS sources of an environment
share one client per service. Failures are classified in :mod:`envguard.sources._aws_errors`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from envguard._imports import require
from envguard.errors import ConfigError, ProjectError, SourceError, SourceNotFound
from envguard.report import Problem
from envguard.sources._aws_client import (
    AwsOptions,
    ClientCache,
    ClientSpec,
    SecretRef,
    SecretText,
    read_parameters,
    read_secrets,
)
from envguard.sources._aws_errors import Failure
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

__all__ = ["AwsParameterSource", "AwsSecretSource"]


_GET_ACTION = "secretsmanager:GetSecretValue on this secret"
_SSM_ACTION = "ssm:GetParametersByPath on this path (and kms:Decrypt for SecureString)"


def _missing_sdk() -> ProjectError | None:
    """The install-hint error when boto3 is not installed (checked without importing it)."""
    if importlib.util.find_spec("boto3") is not None:
        return None
    try:
        require("boto3", "aws")
    except ProjectError as exc:
        return exc
    return None  # pragma: no cover - found on the second look


def _text_option(ctx: BuildContext, entry: Mapping[str, Any], name: str) -> str | None:
    value = entry.get(name)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise entry_problem(ctx, f"{name} must be a non-empty string")
    return value


class _AwsSource(Source):
    """What both AWS sources share: settings resolved at fetch time, one client cache."""

    remote = True
    sensitive = True  # the kind holds secrets; each Value says whether it is one
    service: ClassVar[str]

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        clients: ClientCache | None = None,
    ) -> None:
        self._options = AwsOptions(region, profile, endpoint_url)
        self._environ = environ
        self._clients = clients if clients is not None else ClientCache()

    @staticmethod
    def _shared(ctx: BuildContext) -> dict[str, Any]:
        missing = _missing_sdk()
        if missing is not None:
            raise missing
        options = AwsOptions.from_context(ctx)
        return {
            "region": options.region,
            "profile": options.profile,
            "endpoint_url": options.endpoint_url,
            "environ": ctx.environ,
            "clients": ClientCache.shared(ctx),
        }

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def _region_suffix(self) -> str:
        region = self._options.region_in(self._env())
        return f" ({region})" if region else ""

    def _spec(self) -> ClientSpec:
        return self._options.spec(self.service, self._env())

    def _client(self, deadline: Deadline) -> Any:
        return self._clients.client(self._spec(), self._env(), deadline)


class AwsSecretSource(_AwsSource):
    """An AWS Secrets Manager secret: a JSON object of variables, or one variable (``key``).

    Args:
        secret_id: the secret's name or ARN.
        key: read the whole secret string as this one variable.
        version_stage: read this stage (``AWSPREVIOUS``) instead of ``AWSCURRENT``.
        version_id: read this version.
        region, profile, endpoint_url: like the ``[aws]`` table's keys.
        environ: where ``AWS_*`` settings are read at fetch time (default ``os.environ``).
        clients: the client cache to share with other AWS sources.
    """

    kind = "aws_secret"
    entry_keys = frozenset({"key", "version_stage", "version_id"})
    service = "secretsmanager"

    def __init__(
        self,
        secret_id: str,
        *,
        key: str | None = None,
        version_stage: str | None = None,
        version_id: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        clients: ClientCache | None = None,
    ) -> None:
        super().__init__(
            region=region,
            profile=profile,
            endpoint_url=endpoint_url,
            environ=environ,
            clients=clients,
        )
        self.secret_id = secret_id
        self.key = key
        self.ref = SecretRef(secret_id, version_id, version_stage)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> Self:
        check_entry_keys(cls, entry, ctx)
        secret_id = entry["aws_secret"]
        if not isinstance(secret_id, str) or not secret_id.strip():
            raise entry_problem(ctx, "aws_secret takes the secret's name or ARN")
        key = _text_option(ctx, entry, "key")
        if key is not None and ("=" in key or "\0" in key):
            raise entry_problem(ctx, f"key {key!r} is not a valid variable name")
        return cls(
            secret_id,
            key=key,
            version_stage=_text_option(ctx, entry, "version_stage"),
            version_id=_text_option(ctx, entry, "version_id"),
            **cls._shared(ctx),
        )

    def describe(self) -> str:
        return f"aws-secrets-manager {self.secret_id}{self._region_suffix()}"

    def fetch(self, deadline: Deadline) -> Fetched:
        result = type(self).fetch_group([self], deadline)[0]
        if isinstance(result, BaseException):
            raise result
        return result

    @classmethod
    def fetch_group(
        cls, sources: Sequence[Self], deadline: Deadline
    ) -> list[Fetched | BaseException]:
        """Fetch every secret with as few requests as the API allows; one result per source."""
        missing = _missing_sdk()
        if missing is not None:
            return [missing] * len(sources)
        groups: dict[ClientSpec, list[int]] = {}
        for index, source in enumerate(sources):
            groups.setdefault(source._spec(), []).append(index)
        results: dict[int, Fetched | BaseException] = {}
        for indexes in groups.values():
            first = sources[indexes[0]]
            refs = [sources[i].ref for i in indexes]
            found = read_secrets(partial(first._client, deadline), refs, deadline)
            for index in indexes:
                results[index] = sources[index]._result(found[sources[index].ref])
        return [results[i] for i in range(len(sources))]

    def _result(self, found: SecretText | Failure) -> Fetched | ConfigError:
        what = f"secret {self.secret_id!r}"
        if isinstance(found, Failure):
            ref = self.ref
            if ref.version_id or ref.version_stage:
                # Not found may mean the secret or only the version asked for: name both.
                pinned = f"version {ref.version_id!r}" if ref.version_id else None
                pinned = pinned or f"version stage {ref.version_stage!r}"
                return found.error(
                    source=self.describe(), what=f"{what} at {pinned}", action=_GET_ACTION
                )
            return found.error(source=self.describe(), what=what, action=_GET_ACTION)
        if found.text is None:
            return self._shape("is binary; envguard reads only text (SecretString) secrets")
        origin = Origin(f"aws-secrets-manager {self.secret_id}")
        if self.key is not None:
            return Fetched({self.key: Value(found.text, origin, sensitive=True)})
        parsed: Any = _UNPARSED
        # JSONDecodeError.doc is the whole secret: the error is dropped, never kept.
        with contextlib.suppress(ValueError, RecursionError):
            parsed = json.loads(found.text)
        if parsed is _UNPARSED:  # the secret's content is wrong: fix the value (exit 1)
            return self._shape("is not valid JSON", ConfigError)
        if not isinstance(parsed, dict):
            return self._shape(f"holds a JSON {_json_kind(parsed)}, not an object")
        fetched = Fetched()
        for name, value in parsed.items():
            if not name or "=" in name or "\0" in name:
                fetched.problems.append(
                    Problem(
                        key=None,
                        source=self.describe(),
                        code="aws_bad_key",
                        message=f"a key of {what} is not a valid variable name; it was skipped",
                        severity="warning",
                        category="source",
                    )
                )
            elif value is not None:
                fetched.values[name] = Value(_as_text(value), origin, sensitive=True)
        return fetched

    def _shape(self, why: str, cls: type[ConfigError] = SourceError) -> ConfigError:
        message = f"secret {self.secret_id!r} {why}"
        if self.key is None and "binary" not in why:
            message += ': add key = "VAR" to read it as one variable'
        code = "aws_bad_secret_shape"
        return cls([Problem(None, self.describe(), code, message, category=cls.category)])


_UNPARSED = object()


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value)


class AwsParameterSource(_AwsSource):
    """Every SSM parameter under a path, SecureString ones decrypted.

    Args:
        path: the parameter path, starting with ``/`` (``/myapp/staging/``).
        region, profile, endpoint_url, environ, clients: as for :class:`AwsSecretSource`.
    """

    kind = "aws_ssm"
    service = "ssm"

    def __init__(
        self,
        path: str,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        clients: ClientCache | None = None,
    ) -> None:
        super().__init__(
            region=region,
            profile=profile,
            endpoint_url=endpoint_url,
            environ=environ,
            clients=clients,
        )
        self.path = path

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> Self:
        check_entry_keys(cls, entry, ctx)
        path = entry["aws_ssm"]
        if not isinstance(path, str) or not path.startswith("/"):
            raise entry_problem(ctx, "aws_ssm takes a parameter path starting with '/'")
        return cls(path, **cls._shared(ctx))

    def describe(self) -> str:
        return f"aws-ssm {self.path}{self._region_suffix()}"

    def fetch(self, deadline: Deadline) -> Fetched:
        missing = _missing_sdk()
        if missing is not None:
            raise missing
        outcome = read_parameters(partial(self._client, deadline), self.path, deadline)
        what = f"the parameters under {self.path!r}"
        if isinstance(outcome, Failure):
            raise outcome.error(source=self.describe(), what=what, action=_SSM_ACTION)
        if not outcome:
            message = f"there are no parameters under {self.path!r} (check the path and region)"
            raise SourceNotFound(
                [Problem(None, self.describe(), "aws_not_found", message, category="source")]
            )
        return self._values(outcome)

    def _values(self, params: list[Mapping[str, Any]]) -> Fetched:
        base = self.path.rstrip("/") + "/"
        fetched = Fetched()
        chosen: dict[str, str] = {}
        named = [(str(p.get("Name", "")), p) for p in params]
        for full, param in sorted(named, key=lambda item: (item[0].count("/"), item[0])):
            name = (full[len(base) :] if full.startswith(base) else full).replace("/", "_")
            if name in chosen:
                fetched.problems.append(
                    Problem(
                        key=name,
                        source=self.describe(),
                        code="aws_ssm_name_clash",
                        message=f"parameters {chosen[name]} and {full} both give {name}; "
                        f"using {chosen[name]}",
                        severity="warning",
                        category="source",
                    )
                )
                continue
            chosen[name] = full
            sensitive = param.get("Type") == "SecureString"
            text = param.get("Value")
            fetched.values[name] = Value(
                text if isinstance(text, str) else "", Origin(f"aws-ssm {full}"), sensitive
            )
        fetched.values = dict(sorted(fetched.values.items()))
        return fetched
