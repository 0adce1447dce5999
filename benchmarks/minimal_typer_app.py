"""The anchor for `envguard check`: a minimal typer app that validates the quick-start
schema and .env with plain pydantic-settings and prints one line."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import typer
from pydantic import AnyUrl, Field, SecretStr, UrlConstraints
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
    APP_ENV: Literal["development", "staging", "production"]
    PORT: int = Field(3000, ge=1, le=65535)
    DATABASE_URL: Annotated[AnyUrl, UrlConstraints(allowed_schemes=["postgres", "postgresql"])]
    LOG_LEVEL: Literal["debug", "info", "warn", "error"] = "info"
    REQUEST_TIMEOUT: dt.timedelta = dt.timedelta(seconds=30)
    ALLOWED_HOSTS: Annotated[str, NoDecode] = "localhost"
    JWT_SECRET: SecretStr = Field(min_length=32)
    SENTRY_DSN: AnyUrl | None = None


def main(project: str = ".") -> None:
    import os

    os.chdir(project)
    Settings()
    print("OK")


if __name__ == "__main__":
    typer.run(main)
