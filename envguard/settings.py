"""The :class:`Settings` base class and :func:`load`."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Base class for envguard schemas: a pydantic-settings ``BaseSettings``.

    It differs from ``BaseSettings`` only in safer defaults: inputs are hidden from
    validation errors (so a secret never reaches ``str(ValidationError)``), and unknown
    keys are ignored by pydantic since envguard reports them itself. Instantiating it
    directly (``Settings()``) still works exactly as in pydantic-settings.
    """

    model_config = SettingsConfigDict(hide_input_in_errors=True, extra="ignore")
