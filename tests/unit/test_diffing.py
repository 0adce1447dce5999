"""compare(): every category, secrets compared but never disclosed, and what is compared."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

import envguard
import envguard.diffing
from envguard.cli._diff_text import render_text
from envguard.diffing import KINDS, Drift, KeyDrift, compare
from envguard.engine import Outcome, evaluate
from envguard.project import Project
from envguard.report import render_json

CANARY_A = "canary-changed-A-0b7e1c"
CANARY_B = "canary-changed-B-94d2aa"
CANARY_SAME = "canary-unchanged-5c31f0"
HEX_RUN = re.compile(r"[0-9a-fA-F]{32,}")


class Schema(envguard.Settings):
    model_config = SettingsConfigDict(extra="ignore")  # undeclared keys: compared, not forbidden

    port: int = 3000
    database_url: str
    log_level: Literal["debug", "info"] = "info"
    feature: str | None = None
    api_token: str = "none"  # secret by its name
    signing_key: SecretStr | None = None  # secret by its type
    region: str | None = Field(default=None, json_schema_extra={"secret": False})


Entry = Mapping[str, Any]


def static(values: Mapping[str, str], **extra: Any) -> Entry:
    return {"static": dict(values), "name": "fixtures", **extra}


def outcomes(
    a: list[Entry] | Mapping[str, str],
    b: list[Entry] | Mapping[str, str],
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[Outcome, Outcome]:
    """Evaluate two environments of :class:`Schema` built from source entries or values."""
    envs = {
        name: tuple(side) if isinstance(side, list) else (static(side),)
        for name, side in (("a", a), ("b", b))
    }
    project = Project(path=None, base_dir=Path.cwd(), envs=envs)
    environ = dict(environ or {})
    return (
        evaluate(Schema, env="a", project=project, environ=environ),
        evaluate(Schema, env="b", project=project, environ=environ),
    )


def drift_of(a: Any, b: Any, **kwargs: Any) -> Drift:
    return compare(*outcomes(a, b, **kwargs))


def entry(drift: Drift, key: str) -> KeyDrift | None:
    return next((k for k in drift.keys if k.key == key), None)


class KeyDriftLike:
    """Equal to a KeyDrift with this key and kind (to assert on both at once)."""

    def __init__(self, key: str, kind: str) -> None:
        self.key, self.kind = key, kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyDrift) and (other.key, other.kind) == (self.key, self.kind)

    __hash__ = None  # type: ignore[assignment]


BASE = {"DATABASE_URL": "postgres://db/app"}


@pytest.mark.parametrize(
    ("a", "b", "key", "kind"),
    [
        pytest.param({"PORT": "80"}, {"PORT": "80"}, "PORT", "unchanged", id="same-value"),
        pytest.param({"PORT": "80"}, {"PORT": "81"}, "PORT", "changed", id="changed"),
        pytest.param({"FEATURE": "x"}, {}, "FEATURE", "only_a", id="only-a"),
        pytest.param({}, {"FEATURE": "x"}, "FEATURE", "only_b", id="only-b"),
        pytest.param({"PORT": "80"}, {}, "PORT", "only_a", id="only-a-default-on-b"),
        pytest.param({"PORT": "80"}, {"PORT": "eighty"}, "PORT", "broken", id="invalid-in-b"),
        pytest.param({"PORT": "x"}, {"PORT": "80"}, "PORT", "broken", id="invalid-in-a"),
        pytest.param({"PORT": "x"}, {"PORT": "x"}, "PORT", "unchanged", id="invalid-both"),
        pytest.param({"PORT": "x"}, {}, "PORT", "broken", id="invalid-a-absent-b"),
        pytest.param({"EXTRA": "1"}, {}, "EXTRA", "only_a", id="undeclared-only-a"),
        pytest.param({"EXTRA": "1"}, {"EXTRA": "2"}, "EXTRA", "changed", id="undeclared-changed"),
        pytest.param({"port": "80"}, {"PORT": "81"}, "PORT", "changed", id="case-insensitive"),
        pytest.param({}, {}, "FEATURE", None, id="absent-both-not-listed"),
    ],
)
def test_categories(a: dict[str, str], b: dict[str, str], key: str, kind: str | None) -> None:
    drift = drift_of({**BASE, **a}, {**BASE, **b})
    found = entry(drift, key)
    assert (found.kind if found else None) == kind
    assert entry(drift, "DATABASE_URL") == KeyDriftLike("DATABASE_URL", "unchanged")


def test_missing_required_breaks_and_comes_first() -> None:
    drift = drift_of({**BASE, "PORT": "1", "FEATURE": "x"}, {"PORT": "2", "ZED": "z"})
    assert [(k.key, k.kind) for k in drift.keys] == [
        ("DATABASE_URL", "broken"),
        ("FEATURE", "only_a"),
        ("ZED", "only_b"),
        ("PORT", "changed"),
    ]
    broken = drift.keys[0]
    assert (broken.a.valid, broken.a.present, broken.a.codes) == (True, True, ())
    assert (broken.b.valid, broken.b.present, broken.b.codes) == (False, False, ("missing",))
    assert (drift.a.valid, drift.b.valid, drift.b.codes) == (True, False, ["missing"])
    assert (drift.matters, drift.differs, drift.complete) == (True, True, True)


def test_shown_values_and_origins() -> None:
    drift = drift_of({**BASE, "PORT": "3000"}, [static({**BASE, "PORT": "8080"}, name="prod")])
    port = entry(drift, "PORT")
    assert port is not None
    assert (port.a.shown, port.b.shown, port.a.origin, port.b.origin) == (
        "3000",
        "8080",
        "fixtures",
        "prod",
    )
    assert (port.secret, port.declared, port.same) == (False, True, False)


@pytest.mark.parametrize(
    ("a", "b", "differs", "matters"),
    [
        pytest.param(BASE, BASE, False, False, id="identical"),
        pytest.param({**BASE, "PORT": "1"}, {**BASE, "PORT": "2"}, True, False, id="values-only"),
        pytest.param({**BASE, "FEATURE": "x"}, BASE, True, True, id="key-sets-differ"),
        pytest.param({**BASE, "PORT": "x"}, {**BASE, "PORT": "x"}, False, True, id="both-invalid"),
        pytest.param({}, {}, False, True, id="both-missing-required"),
    ],
)
def test_differs_and_matters(
    a: dict[str, str], b: dict[str, str], differs: bool, matters: bool
) -> None:
    drift = drift_of(a, b)
    assert (drift.differs, drift.matters) == (differs, matters)


def test_process_environment_noise_is_not_compared() -> None:
    """Undeclared keys only the process environment sets are shared noise (PATH, HOME)."""
    a = [static({**BASE, "FROM_FILE": "1"}), {"env": True}]
    b = [static(BASE), {"env": True}]
    environ = {"PATH": "/bin", "HOME": "/root", "FEATURE": "on", "FROM_FILE": "2"}
    drift = drift_of(a, b, environ=environ)
    keys = {k.key: k.kind for k in drift.keys}
    assert "PATH" not in keys
    assert "HOME" not in keys
    # A declared key is compared whichever source set it.
    assert keys["FEATURE"] == "unchanged"
    # An undeclared key a file sets is compared, with the value each side resolved.
    assert keys["FROM_FILE"] == "unchanged"


@pytest.mark.parametrize(
    ("a", "b", "key"),
    [
        pytest.param({"API_TOKEN": "x1"}, {"API_TOKEN": "x2"}, "API_TOKEN", id="by-name"),
        pytest.param({"SIGNING_KEY": "k1"}, {"SIGNING_KEY": "k2"}, "SIGNING_KEY", id="by-type"),
        pytest.param(
            {"DATABASE_URL": "postgres://u:pw@db/a"}, BASE, "DATABASE_URL", id="url-password"
        ),
        pytest.param({"OTHER_SECRET": "s1"}, {}, "OTHER_SECRET", id="undeclared-by-name"),
    ],
)
def test_secret_detection(a: dict[str, str], b: dict[str, str], key: str) -> None:
    found = entry(drift_of({**BASE, **a}, {**BASE, **b}), key)
    assert found is not None
    assert found.secret
    assert (found.a.shown, found.b.shown) == (None, None)


def test_secret_when_either_side_says_so() -> None:
    """A value from a sensitive source on one side only hides both sides' values."""
    a = [static({**BASE, "FEATURE": "plain"})]
    b = [static({**BASE, "FEATURE": "hidden"}, sensitive=True)]
    found = entry(drift_of(a, b), "FEATURE")
    assert found is not None
    assert (found.kind, found.secret, found.a.shown, found.b.shown) == (
        "changed",
        True,
        None,
        None,
    )


def test_declared_public_is_shown_even_from_a_sensitive_source() -> None:
    a = [static({**BASE, "REGION": "eu-1"}, sensitive=True)]
    b = [static({**BASE, "REGION": "us-2"})]
    found = entry(drift_of(a, b), "REGION")
    assert found is not None
    assert (found.secret, found.a.shown, found.b.shown) == (False, "eu-1", "us-2")


def test_secrets_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = envguard.diffing.hmac.compare_digest

    def spy(x: bytes, y: bytes) -> bool:
        calls.append((x, y))
        return real(x, y)

    monkeypatch.setattr(envguard.diffing.hmac, "compare_digest", spy)
    drift = drift_of({**BASE, "API_TOKEN": "t-one"}, {**BASE, "API_TOKEN": "t-two"})
    assert calls == [(b"t-one", b"t-two")]
    assert entry(drift, "API_TOKEN") == KeyDriftLike("API_TOKEN", "changed")


def test_undecodable_secret_bytes_compare() -> None:
    """Environment values can carry surrogate escapes (undecodable bytes on POSIX)."""
    drift = drift_of({**BASE, "API_TOKEN": "a\udcff"}, {**BASE, "API_TOKEN": "a\udcff"})
    assert entry(drift, "API_TOKEN") == KeyDriftLike("API_TOKEN", "unchanged")


def test_canary_secrets_never_appear_in_any_output() -> None:
    a = {**BASE, "API_TOKEN": CANARY_A, "SIGNING_KEY": CANARY_SAME, "FEATURE": "x"}
    b = {**BASE, "API_TOKEN": CANARY_B, "SIGNING_KEY": CANARY_SAME, "PORT": "nope"}
    drift = drift_of(a, b)
    assert entry(drift, "API_TOKEN") == KeyDriftLike("API_TOKEN", "changed")
    assert entry(drift, "SIGNING_KEY") == KeyDriftLike("SIGNING_KEY", "unchanged")
    outputs = {
        "text": render_text(drift),
        "colour": render_text(drift, colour=True),
        "json": render_json(drift.to_dict()),
        "repr": repr(drift),
    }
    for name, text in outputs.items():
        for canary in (CANARY_A, CANARY_B, CANARY_SAME):
            assert canary not in text, name
        assert not HEX_RUN.search(text), name
    assert "changed (secret)" in outputs["text"]


def test_a_value_public_in_one_env_is_scrubbed_when_secret_in_the_other() -> None:
    """A shown value embedding the other side's secret is masked, not disclosed."""
    a = {**BASE, "API_TOKEN": CANARY_A}
    b = {**BASE, "FEATURE": f"prefix-{CANARY_A}"}
    found = entry(drift_of(a, b), "FEATURE")
    assert found is not None
    assert found.b.shown == "prefix-********"


def test_to_dict_lists_every_category() -> None:
    drift = drift_of({**BASE, "PORT": "1", "FEATURE": "x"}, {"PORT": "2", "ZED": "z"})
    data = json.loads(render_json(drift.to_dict()))
    assert set(data) == {"a", "b", "complete", "differs", "matters", "counts", *KINDS}
    assert data["counts"] == {"broken": 1, "only_a": 1, "only_b": 1, "changed": 1, "unchanged": 0}
    assert data["broken"][0]["b"] == {
        "present": False,
        "valid": False,
        "codes": ["missing"],
        "origin": None,
        "value": None,
    }
    assert data["b"]["codes"] == ["missing"]
    assert data["b"]["valid"] is False
