"""Typed engine errors.

Every failure a user can cause is one subclass of `EngineError` carrying its data as
attributes. `str(error)` renders a plain default sentence (used by the CLI and logs); the
Discord layer maps types to its own wording in `bot/errors.py`. Callers catch the base.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EngineError(Exception):
    """Root of every expected, user-actionable engine failure."""

    template: ClassVar[str] = "{detail}"

    def __init__(self, **data: Any) -> None:
        self.data = data
        for key, value in data.items():
            setattr(self, key, value)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The default plain-text rendering of this error."""
        try:
            return self.template.format(**self.data)
        except (KeyError, IndexError):
            return f"{type(self).__name__}: {self.data}"


class ConfigurationError(EngineError):
    template = "Missing or invalid setting {variable}; set it in the environment or .env (see .env.sample)."


class NotFound(EngineError):
    template = "No {what} with id {key}."


class IllegalTransition(EngineError):
    template = "A deployment in state {state} cannot {event}."


class PermissionDenied(EngineError):
    template = "{action} needs role {required}; you have {role}."


class QuotaExceeded(EngineError):
    template = "Quota reached for {quota}: {used} used + {reserved} reserved + {requested} requested > limit {limit}."


class InvalidInput(EngineError):
    template = "Invalid {field}: {rule}"


class UnsupportedResource(EngineError):
    template = "Resource kind {kind} is not supported for provider {provider}."


class PolicyViolation(EngineError):
    template = "Blocked by policy {policy}: {detail}"


class ProjectLocked(EngineError):
    template = "Project {project} is locked by session {holder} (user {holder_user}); try again when it finishes."


class StalePlan(EngineError):
    template = "The saved plan is stale ({reason}); run plan again."


class TerraformError(EngineError):
    template = "Terraform {phase} failed: {detail}"


class RateLimited(EngineError):
    template = "Slow down: at most {limit} {action} actions per minute; retry in {retry_after:.0f}s."


class AdvisorError(EngineError):
    template = "Advisor failed: {detail}"
    detail: str


class IngestError(EngineError):
    template = "Import rejected: {detail}"


class Busy(EngineError):
    """Another writer held the database past its busy timeout; the same action can simply be retried."""

    template = "The database is busy; try again in a moment."
    retryable: ClassVar[bool] = True
