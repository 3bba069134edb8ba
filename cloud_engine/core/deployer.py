"""The seam between the state machine and Terraform.

The orchestrator decides *whether* a plan or apply may happen; a `Deployer` performs it
(renders HCL into the project's root, runs Terraform, commits). Keeping this a protocol
lets the state machine be reasoned about on its own and the Terraform side be swapped
(terraform or tofu, sandbox or cloud target) without touching transitions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from cloud_engine.core.models import Project, ResourceSpec
from cloud_engine.iac.plan import PlanResult


class PlanArtifact(BaseModel):
    """What a successful plan leaves behind for approval and apply."""

    result: PlanResult
    fingerprint: str
    logical: list[dict[str, Any]] = Field(default_factory=list, description="per user resource: kind, name, action, forced_by")
    files: dict[str, str] = Field(default_factory=dict, description="the provider HCL shown to users")
    target: str = "sandbox"
    log_path: str | None = None
    scan: dict[str, Any] | None = Field(default=None, description="Checkov over the provider HCL (iac/scan.scan_files)")
    plumbing: list[dict[str, Any]] = Field(default_factory=list, description="network plumbing the provider HCL adds: "
                                           "address, resource_type, monthly_usd, detail (iac/plumbing.py)")


class ApplyArtifact(BaseModel):
    """What a finished `terraform apply` leaves behind.

    Why optional: once Terraform has applied, the cloud has changed whatever happens next.
    A state snapshot or a commit that fails afterwards is a warning on an APPLIED session,
    not a failure that would make the engine forget resources that exist.
    """

    commit_sha: str | None
    state_json: str | None
    log_path: str | None = None
    warnings: list[str] = Field(default_factory=list)


class ReconcileArtifact(BaseModel):
    """What Terraform's state says an apply that did not end cleanly really did.

    `statuses` has one entry per resource the session changed: "made", "not_made" or
    "partial" (a replace cut between its delete and its create, or a resource whose
    addresses were changed only in part).
    """

    statuses: dict[str, str] = Field(default_factory=dict, description='"kind/name" → made | not_made | partial')
    commit_sha: str | None = None
    state_json: str | None = None
    warnings: list[str] = Field(default_factory=list)


class DriftArtifact(BaseModel):
    """What a plan of the applied configuration found: every change is the world moving away from it."""

    result: PlanResult
    logical: list[dict[str, Any]] = Field(default_factory=list, description="per user resource: kind, name, action")


class Deployer(Protocol):
    async def plan(self, project: Project, desired: Sequence[ResourceSpec], *, session_id: int,
                   sinks: Sequence[OutputSink] = (), allow_world_admin: frozenset[str] = frozenset()) -> PlanArtifact: ...

    async def apply(self, project: Project, *, session_id: int, fingerprint: str, commit_message: str,
                    sinks: Sequence[OutputSink] = ()) -> ApplyArtifact: ...

    async def cancel(self, session_id: int) -> bool: ...

    async def check_drift(self, project: Project, applied: Sequence[ResourceSpec], *,
                          still_free: Callable[[], Awaitable[bool]]) -> DriftArtifact | None: ...

    async def reconcile(self, project: Project, before: Sequence[ResourceSpec], after: Sequence[ResourceSpec], *,
                        changed: Sequence[tuple[str, str]], session_id: int,
                        commit_message: str) -> ReconcileArtifact: ...


if TYPE_CHECKING:
    from cloud_engine.iac.sinks import OutputSink
