"""Typed records at the engine's boundary: what the store's repositories return and services hand on.

Why frozen dataclasses and not dicts: a caller (a cog, the CLI, a test) reading `grant.expires_at`
is checked by mypy, while `row["expires_at"]` is a typo waiting to pass silently. Fields are named
as the columns they come from, so the schema (store/migrations) still explains them. Models users
build (ResourceSpec, Project, Session) stay pydantic models in core/models.py; these are only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cloud_engine.core.models import Role

__all__ = ["AuditEntry", "BudgetAlert", "DeploymentRecord", "Grant", "GuildStats", "QuotaUsage", "RoleMap",
           "UserActivity"]


@dataclass(frozen=True)
class Grant:
    """A member's Cloud role in one server, as granted (store/grants.py)."""

    guild_id: int
    user_id: int
    role: Role
    expires_at: datetime | None  # None: until revoked
    granted_by: int
    granted_at: datetime
    standing_role: Role | None = None  # the role held without an expiry, which counts again once a JIT grant ends
    active: bool = True  # False once `expires_at` has passed


@dataclass(frozen=True)
class RoleMap:
    """One Discord role of a server and the Cloud role its members hold at least."""

    guild_id: int
    discord_role_id: int
    cloud_role: Role
    mapped_by: int
    mapped_at: datetime


@dataclass(frozen=True)
class QuotaUsage:
    """One server quota: its limit, what the records use and what open sessions reserve (store/quotas.py)."""

    name: str
    limit_value: int
    used: int
    reserved: int

    @property
    def free(self) -> int:
        return self.limit_value - self.used - self.reserved


@dataclass(frozen=True)
class AuditEntry:
    """One audit row, its detail decoded (store/audit.py); `prev_hash`/`row_hash` link it into its server's chain."""

    id: int
    ts: str  # ISO 8601 in UTC, the text the row's hash covers
    guild_id: int | None
    actor_id: int | None
    action: str
    target_type: str | None = None
    target_id: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    prev_hash: str | None = None
    row_hash: str | None = None


@dataclass(frozen=True)
class BudgetAlert:
    """A budget threshold a project's projected monthly cost crossed (store/projects.py `budget_alerts`).

    Recorded at most once per project, month and threshold, by the validation that first
    crossed it; `budget_monthly` is the budget as it was then, so a later budget change does
    not rewrite why the alert fired.
    """

    id: int
    project_id: int
    period: str  # "YYYY-MM" (UTC) of the validation that crossed it
    threshold_pct: int
    projected_monthly: float
    budget_monthly: float
    session_id: int | None  # the session whose validation crossed it
    created_at: datetime


@dataclass(frozen=True)
class UserActivity:
    """One member's sessions in a server, for `/cloud-stats`' top users."""

    user_id: int
    sessions: int
    applied: int


@dataclass(frozen=True)
class GuildStats:
    """What `/cloud-stats` shows of a server: sessions by state, top users, live resources and their cost."""

    by_state: dict[str, int]
    by_user: list[UserActivity]
    monthly_cost: float
    resources: int
    projects: int


@dataclass(frozen=True)
class DeploymentRecord:
    """One finished apply of a project (`deployment_history`), newest first from `ProjectService.history`.

    Not `core.history.HistoryEntry`: that is a commit of the project's git log; this is the
    database's record of the session that made it.
    """

    id: int
    session_id: int
    project_id: int
    user_id: int
    outcome: str  # the session's final state: APPLIED or FAILED
    summary: dict[str, Any]
    commit_sha: str | None
    cost_monthly: float
    started_at: datetime
    finished_at: datetime
