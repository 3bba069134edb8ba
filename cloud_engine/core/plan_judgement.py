"""Judging a plan: quota needs of a session's changes, what a plan destroys unasked, its summary.

Pure functions over the engine's models, used by validation and planning.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from cloud_engine.core import catalog_checks
from cloud_engine.core.deployer import PlanArtifact
from cloud_engine.core.models import ResourceSpec, Session, SessionResource, Violation
from cloud_engine.data.catalog import Catalog

__all__ = ["plan_summary", "quota_needs", "unrequested_destruction"]


def quota_needs(catalog: Catalog, provider: str, changes: Sequence[SessionResource],
                 applied: dict[tuple[str, str], ResourceSpec]) -> dict[str, int]:
    """Net quota units the session's changes add to the project as recorded in `applied`."""
    needs: dict[str, int] = {}
    for res in changes:
        before = applied.get(res.spec.key)
        old = catalog_checks.quota_usage(catalog, provider, before) if before else {}
        new = catalog_checks.quota_usage(catalog, provider, res.spec) if res.action == "upsert" else {}
        for name in set(old) | set(new):
            needs[name] = needs.get(name, 0) + new.get(name, 0) - old.get(name, 0)
    return {name: n for name, n in needs.items() if n > 0}


def unrequested_destruction(session: Session, artifact: PlanArtifact, *,
                            released_plumbing: Collection[str] = ()) -> list[Violation]:
    """Each resource the plan destroys or replaces that the session did not ask to change.

    Why: records and state can disagree (a resource created out of band, or by a run the
    engine could not follow). Validation judged the request; this judges what Terraform
    will actually do, so such a plan never reaches apply on an ordinary user's approval.
    `released_plumbing` are the addresses of network plumbing the project's resources needed
    before the session and no longer need (the NAT of the last private VM): destroying them
    is what the session's own change means, not something nobody asked for.
    """
    asked = {f"{r.kind}/{r.name}" for r in session.resources}
    asked_names = {r.name for r in session.resources}
    out = []
    for change in artifact.logical:
        action = change.get("action")
        kind, name = str(change.get("kind")), str(change.get("name"))
        if action not in ("delete", "replace"):
            continue
        if action == "delete" and change.get("address") in released_plumbing:
            continue
        if artifact.target == "sandbox":
            if f"{kind}/{name}" in asked:
                continue
        elif change.get("resource") in asked or (change.get("resource") is None
                                                 and name.split("__")[0] in asked_names):
            continue  # a real provider's address: its user resource, or (deleted) its name's first part
        verb = "destroy" if action == "delete" else "replace (destroy and re-create)"
        out.append(Violation(policy="builtin:plan-destroys-unrequested", type="permission",
                             action="require_approval", resource=f"{kind}/{name}", priority=0,
                             message=f"the plan would {verb} {kind}/{name}, which this session did not ask to "
                                     "change; only a CloudAdmin may approve it"))
    return out


def plan_summary(artifact: PlanArtifact) -> dict[str, Any]:
    """Counts per user resource (a sandbox mirror has two null_resources per resource), plus Terraform's own line."""
    counts = {action: sum(1 for c in artifact.logical if c.get("action") == action)
              for action in ("create", "update", "replace", "delete")}
    text = (f"{counts['create']} to add, {counts['update']} to update in place, {counts['replace']} to replace, "
            f"{counts['delete']} to destroy")
    return {"add": counts["create"], "change": counts["update"], "replace": counts["replace"], "destroy": counts["delete"],
            "text": text, "terraform": artifact.result.summary(), "target": artifact.target, "changes": artifact.logical,
            "log_path": artifact.log_path, "scan": artifact.scan, "plumbing": artifact.plumbing}

