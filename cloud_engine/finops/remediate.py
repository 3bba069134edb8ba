"""Turn a FinOps recommendation into an ordinary deployment session ("Act").

Why a session and not a direct change: a resize or a removal is a change like any other,
so it must be validated, planned, reviewed, approved and applied through the lobby, with
the engine's permission, quota and policy rules. This module only decides *which* project
resource a recommendation points at and *what* edit expresses it; the orchestrator does
the rest (removal, for instance, needs CloudAdmin because `destroy` does).

Matching rule (documented because billing data and Cloud Engine name things differently):
a recommendation targets a Cloud Engine resource when the project's catalogue provider
equals the recommendation's provider, and the resource's name equals, ignoring case,
either the recommendation's `resource_name` or the last segment of its `resource_id`
(after the final "/" or ":"; cloud ids end in the resource's name for VMs on all three
clouds). Exactly one match across the guild's live projects is required: none means the
resource is not managed by Cloud Engine, several means we refuse rather than guess.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cloud_engine.core import permissions
from cloud_engine.core.models import Project, Session, SessionResource
from cloud_engine.errors import EngineError
from cloud_engine.finops.models import Recommendation, RecommendationKind

if TYPE_CHECKING:
    from cloud_engine.core import CloudOrchestrator

__all__ = ["REFUSED_KINDS", "RemediationRefusal", "RemediationTarget", "find_target", "remediation_session"]

log = logging.getLogger(__name__)

RefusalCode = Literal["not_actionable", "no_telemetry", "unmanaged", "ambiguous", "unsupported", "no_change",
                      "refused"]

# Kinds that no Terraform edit of one resource can express, and why.
REFUSED_KINDS: dict[RecommendationKind, str] = {
    RecommendationKind.SCHEDULE: "start/stop schedules run outside Terraform (provider automation such as "
                                 "Instance Scheduler or Azure Automation); set one up there",
    RecommendationKind.COMMITMENT: "commitments are purchased in the provider's billing console, not deployed as "
                                   "resources",
    RecommendationKind.GREEN_REGION: "moving a resource to another region is a migration (new resource, data copy, "
                                     "cut-over); plan it as a new deployment",
}
_REMOVAL_KINDS = frozenset({RecommendationKind.IDLE, RecommendationKind.ORPHANED})
_RESIZABLE = frozenset({"vm", "k8s_cluster"})
_LAST_SEGMENT = re.compile(r"[/:]")


@dataclass(frozen=True)
class RemediationRefusal:
    """Why "Act" opened no session; `reason` is plain text the bot shows as-is."""

    code: RefusalCode
    reason: str


@dataclass(frozen=True)
class RemediationTarget:
    """The managed resource a recommendation points at, and the project that owns it."""

    project: Project
    resource: SessionResource


def _names(rec: Recommendation) -> set[str]:
    """The names a Cloud Engine resource may carry to be this recommendation's target."""
    names = {rec.resource_name.strip().lower()} if rec.resource_name.strip() else set()
    tail = _LAST_SEGMENT.split(rec.resource_id.strip())[-1].strip().lower()
    if tail:
        names.add(tail)
    return names


async def find_target(engine: CloudOrchestrator, rec: Recommendation, guild_id: int) -> list[RemediationTarget]:
    """Every (project, applied resource) of the guild matching `rec` by the module's rule."""
    names = _names(rec)
    found: list[RemediationTarget] = []
    for project in await engine.list_projects(guild_id):
        if project.catalog_provider != rec.provider:
            continue
        found += [RemediationTarget(project, r) for r in await engine.project_resources(project.id) if r.name.lower() in names]
    return found


def _precheck(rec: Recommendation) -> RemediationRefusal | None:
    if rec.kind in REFUSED_KINDS:
        return RemediationRefusal("not_actionable", f"{rec.kind.replace('_', ' ')} recommendations cannot be "
                                                    f"applied from here: {REFUSED_KINDS[rec.kind]}.")
    if rec.status != "ok":
        return RemediationRefusal("no_telemetry", f"{rec.resource_name} has too little telemetry for a change yet; "
                                                  f"collect {'; '.join(rec.needs) or 'more metrics'} first.")
    return None


async def remediation_session(engine: CloudOrchestrator, rec: Recommendation, *, guild_id: int,
                              user_id: int) -> Session | RemediationRefusal:
    """Open a DRAFT session that carries out `rec`, or say why not.

    Rightsize edits the matched resource's `machine_type` to `rec.suggested_machine_type`;
    idle and orphaned cleanup mark it for removal (engine rules: removal needs CloudAdmin).
    An engine refusal met while building the session (permissions, catalogue, archived
    project) cancels the half-built session and comes back as a refusal, so no stray
    DRAFT is left behind.
    """
    if (early := _precheck(rec)) is not None:
        return early
    targets = await find_target(engine, rec, guild_id)
    if not targets:
        return RemediationRefusal("unmanaged", f"{rec.resource_name} is not managed by a Cloud Engine project in this "
                                               f"server ({rec.provider}); change it in the provider's console or "
                                               "import it into a project first.")
    if len(targets) > 1:
        where = ", ".join(sorted(f"{t.project.name}/{t.resource.kind}/{t.resource.name}" for t in targets))
        return RemediationRefusal("ambiguous", f"{rec.resource_name} matches several managed resources ({where}); "
                                               "change the right one with /cloud-edit.")
    target = targets[0]
    if rec.kind == RecommendationKind.RIGHTSIZE:
        return await _resize(engine, rec, target, user_id)
    if rec.kind in _REMOVAL_KINDS:
        return await _remove(engine, rec, target, user_id)
    return RemediationRefusal("unsupported", f"{rec.kind} recommendations have no automatic remediation.")


async def _resize(engine: CloudOrchestrator, rec: Recommendation, target: RemediationTarget, user_id: int) -> Session | RemediationRefusal:
    spec = target.resource.spec
    new_type = rec.suggested_machine_type
    if spec.kind not in _RESIZABLE or not new_type:
        return RemediationRefusal("unsupported", f"{spec.kind}/{spec.name} has no machine type to resize.")
    if spec.machine_type == new_type:
        return RemediationRefusal("no_change", f"{spec.kind}/{spec.name} already uses {new_type}.")
    resized = spec.model_copy(update={"machine_type": new_type})
    return await _build(engine, target, user_id, f"finops: {rec.action}"[:200],
                        lambda sid: engine.add_resource(sid, user_id, resized))


async def _remove(engine: CloudOrchestrator, rec: Recommendation, target: RemediationTarget, user_id: int) -> Session | RemediationRefusal:
    try:
        permissions.require(await engine.role(target.project.guild_id, user_id), "destroy")
    except EngineError as exc:
        return RemediationRefusal("refused", f"Removing {target.resource.kind}/{target.resource.name}: {exc.message}")
    res = target.resource
    return await _build(engine, target, user_id, f"finops: remove {res.kind}/{res.name} ({rec.kind})"[:200],
                        lambda sid: engine.remove_resource(sid, user_id, res.kind, res.name))


async def _build(engine: CloudOrchestrator, target: RemediationTarget, user_id: int, purpose: str,
                 change: Callable[[int], Awaitable[Any]]) -> Session | RemediationRefusal:
    """Start the session and apply `change(session_id)`; an engine refusal cancels it."""
    try:
        session = await engine.start_session(target.project.id, user_id, purpose=purpose)
    except EngineError as exc:
        return RemediationRefusal("refused", exc.message)
    try:
        await change(session.id)
    except EngineError as exc:
        try:
            await engine.cancel(session.id, user_id, reason="remediation could not be built")
        except EngineError:
            log.exception("cancelling a remediation session failed", extra={"session_id": session.id})
        return RemediationRefusal("refused", exc.message)
    return await engine.get_session(session.id)
