"""The :class:`Settings` base class for envguard schemas."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Base class for envguard schemas: pydantic-settings' ``BaseSettings``, with one change.

    Inputs are hidden from validation errors (``hide_input_in_errors=True``), so a secret
    never reaches ``str(ValidationError)`` when the class is instantiated directly. Nothing
    else differs: ``Settings()`` reads and validates exactly as ``BaseSettings()`` does,
    ``extra`` included (``"forbid"``, pydantic-settings' default), and ``envguard.load()``
    reports undeclared keys itself.
    """

    model_config = SettingsConfigDict(hide_input_in_errors=True)
