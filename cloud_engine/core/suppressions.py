"""Suppressions of scan findings: a check on resources an admin accepts, with a reason and maybe an expiry.

Why apart from the policies: a policy says what a finding *means* (deny, warn, approval); a
suppression says a CloudAdmin looked at this finding on these resources and accepts it, for
a reason everyone can read, perhaps only for a while. Suppressed findings stay visible
(shown as suppressed: reason, who, until when) and are not counted against scanner
policies; once expired a suppression stops applying by itself. Every add and remove writes
an audit row in its transaction.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud_engine.core.access import AccessService
from cloud_engine.core.policies import CHECK_GLOB_RE
from cloud_engine.core.reasons import checked_reason
from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.store import scan_findings as repo
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database
from cloud_engine.store.rows import check_id, parse_dt

__all__ = ["CHECK_GLOB_RE", "RESOURCE_GLOB_RE", "Suppression", "SuppressionService", "check_glob", "resource_glob"]

# Checkov ids look like CKV_AWS_144, CKV2_GCP_12 or CKV_K8S_8; a glob may stand for any part (policies.py).
# Terraform addresses (aws_s3_bucket.logs, google_compute_firewall.edge__r0[0]) and globs over them.
RESOURCE_GLOB_RE = re.compile(r"^[A-Za-z0-9_*?.\-\[\]\"]{1,200}$")
MAX_SUPPRESSION = timedelta(days=365)


def check_glob(value: str, *, field: str = "check") -> str:
    """A check id or glob, upper-cased; InvalidInput with one line otherwise."""
    text = value.strip().upper()
    if not CHECK_GLOB_RE.fullmatch(text):
        raise InvalidInput(field=field, rule="a Checkov check id like CKV_AWS_144, or a glob like CKV_AWS_*")
    return text


def resource_glob(value: str, *, field: str = "resource") -> str:
    """A glob over Terraform addresses (`aws_s3_bucket.logs*`, `*`); InvalidInput with one line otherwise."""
    text = value.strip()
    if not RESOURCE_GLOB_RE.fullmatch(text):
        raise InvalidInput(field=field, rule="a glob on Terraform addresses like aws_s3_bucket.logs* or * "
                                             "(letters, digits, _ . - [ ] * ?; at most 200)")
    return text


@dataclass(frozen=True)
class Suppression:
    """One accepted check on the resources its glob matches, until `expires_at` (None: until removed)."""

    id: int
    check_id: str
    resource_glob: str
    reason: str
    created_by: int
    created_at: datetime
    expires_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now

    def covers(self, check: str, resource: str) -> bool:
        return fnmatch.fnmatchcase(check, self.check_id) and fnmatch.fnmatchcase(resource, self.resource_glob)

    def to_json(self) -> dict[str, object]:
        """What a judged finding carries about the suppression that applied (shown in the lobby)."""
        return {"id": self.id, "reason": self.reason, "by": self.created_by,
                "until": self.expires_at.isoformat() if self.expires_at else None}

    @classmethod
    def of_row(cls, row: dict[str, object]) -> Suppression:
        created = parse_dt(str(row["created_at"]))
        assert created is not None
        return cls(id=int(str(row["id"])), check_id=str(row["check_id"]), resource_glob=str(row["resource_glob"]),
                   reason=str(row["reason"]), created_by=int(str(row["created_by"])), created_at=created,
                   expires_at=parse_dt(str(row["expires_at"])) if row.get("expires_at") else None)


def first_covering(suppressions: Sequence[Suppression], check: str, resource: str) -> Suppression | None:
    """The oldest suppression covering this finding, or None."""
    return next((s for s in suppressions if s.covers(check, resource)), None)


class SuppressionService:
    """Add, list and remove a server's suppressions (CloudAdmin to change, CloudViewer to list)."""

    def __init__(self, db: Database, access: AccessService, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.access = access
        self.clock = clock

    async def add(self, guild_id: int, by_user_id: int, check: str, resource: str, reason: str,
                  duration: timedelta | None = None) -> Suppression:
        """Suppress `check` on resources matching `resource`; audited as `scan.suppress`."""
        check, resource, reason = check_glob(check), resource_glob(resource), checked_reason(reason)
        if duration is not None and not timedelta(minutes=1) <= duration <= MAX_SUPPRESSION:
            raise InvalidInput(field="duration", rule="between 1 minute and 365 days")
        await self.access.require(guild_id, by_user_id, "admin")
        now = self.clock()
        expires = now + duration if duration is not None else None
        async with self.db.transaction() as conn:
            new_id = await repo.insert_suppression(conn, guild_id=guild_id, check_id=check, resource_glob=resource,
                                                   reason=reason, created_by=by_user_id, now=now, expires_at=expires)
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="scan.suppress",
                              target_type="suppression", target_id=new_id,
                              detail={"check": check, "resource": resource, "reason": reason,
                                      "expires_at": expires.isoformat() if expires else None})
        return Suppression(id=new_id, check_id=check, resource_glob=resource, reason=reason, created_by=by_user_id,
                           created_at=now, expires_at=expires)

    async def list_all(self, guild_id: int, by_user_id: int) -> list[Suppression]:
        """Every suppression of the server, expired ones too (the caller shows which still apply)."""
        await self.access.require(guild_id, by_user_id, "view")
        async with self.db.transaction() as conn:
            return [Suppression.of_row(r) for r in await repo.list_suppressions(conn, guild_id)]

    async def active(self, guild_id: int) -> list[Suppression]:
        """The suppressions that apply now (for judging a plan)."""
        async with self.db.transaction() as conn:
            return [Suppression.of_row(r) for r in await repo.active_suppressions(conn, guild_id, self.clock())]

    async def remove(self, guild_id: int, by_user_id: int, suppression_id: int) -> Suppression:
        """Remove one suppression; audited as `scan.unsuppress` with what it was. NotFound when it is not here."""
        suppression_id = check_id(suppression_id, "suppression")
        await self.access.require(guild_id, by_user_id, "admin")
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await repo.suppression(conn, guild_id, suppression_id)
            if row is None or not await repo.delete_suppression(conn, guild_id, suppression_id):
                raise NotFound(what="suppression", key=suppression_id)
            gone = Suppression.of_row(row)
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="scan.unsuppress",
                              target_type="suppression", target_id=suppression_id,
                              detail={"check": gone.check_id, "resource": gone.resource_glob, "reason": gone.reason})
        return gone
