"""FinOps-specific engine errors (data only; wording lives in each `template`)."""

from __future__ import annotations

from cloud_engine.errors import ConfigurationError, EngineError


class MissingCredentials(ConfigurationError):
    """A connector was asked to run without the settings it needs; names every missing variable."""

    template = "The {provider} connector needs {variables}; set them in the environment or .env."


class ConnectorError(EngineError):
    """A provider API answered with an error that retrying did not fix."""

    template = "{provider} {operation} failed: {detail}"


__all__ = ["ConnectorError", "MissingCredentials"]
