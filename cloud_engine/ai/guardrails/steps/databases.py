"""Database controls: backup retention, deletion protection and high availability by level."""

from __future__ import annotations

from typing import Any

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.steps.registry import step


@step("databases")
def databases(e: Enforcer) -> None:
    c = e.controls
    backups, protection, ha = [], [], []
    for spec in e.of_kind("database"):
        changes: dict[str, Any] = {}
        if c.min_backup_days and (spec.backup_retention_days or 0) < c.min_backup_days:
            changes["backup_retention_days"] = c.min_backup_days
            backups.append(f"{spec.name}: backups kept {c.min_backup_days} days (was {spec.backup_retention_days})")
        if c.deletion_protection and not spec.deletion_protection:
            changes["deletion_protection"] = True
            protection.append(f"{spec.name}: deletion protection turned on")
        if c.ha_databases and not spec.high_availability:
            changes["high_availability"] = True
            ha.append(f"{spec.name}: made highly available (standby in a second zone)")
        if changes:
            e.replace(spec, revalidate(spec, **changes))
    if c.min_backup_days:
        e.check("backups", backups, f"every database keeps backups ≥ {c.min_backup_days} days")
    if c.deletion_protection:
        e.check("deletion-protection", protection, "every database has deletion protection")
    if c.ha_databases:
        e.check("ha-databases", ha, "every database is highly available")
