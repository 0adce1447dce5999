"""The web app's configuration schema: what it needs to boot, checked by envguard."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PostgresDsn, SecretStr

import envguard


class Settings(envguard.Settings):
    """Every variable the web app reads; a variable without a default is required."""

    app_env: Literal["development", "staging", "production"] = Field(
        description="Which deployment this is"
    )
    host: str = Field("127.0.0.1", description="Interface to bind (0.0.0.0 in a container)")
    port: int = Field(8000, ge=1, le=65535, description="HTTP port to listen on")
    database_url: PostgresDsn = Field(
        description="Primary database", json_schema_extra={"secret": True}
    )
    session_secret: SecretStr = Field(min_length=32, description="Signs session cookies")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
