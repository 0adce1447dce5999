"""pydantic-settings' own test suite, run against envguard (see run.py and docs/CONFORMANCE.md)."""
