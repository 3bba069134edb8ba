"""Network plumbing counts: validation's estimate and budget include the NAT a private VM needs, the lobby's
total agrees with it, and plumbing the project no longer needs is destroyed without asking an admin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bot import embeds
from cloud_engine.core import CloudOrchestrator, ResourceSpec, Subnet
from cloud_engine.core.deployer import ApplyArtifact, PlanArtifact
from cloud_engine.core.models import Project, State
from cloud_engine.errors import PermissionDenied
from cloud_engine.iac.plan import PlanResult, ResourceChange
from cloud_engine.iac.render import plumbing, resource_keys
from cloud_engine.iac.terraform_deployer import TerraformDeployer
from tests.conftest import ADMIN, GUILD, USER

NET = ResourceSpec(kind="network", name="net", cidr="10.0.0.0/16", subnets=[Subnet(name="app", cidr="10.0.1.0/24")])
PRIVATE_VM = ResourceSpec(kind="vm", name="api-1", machine_type="t3.micro", network="net")
NAT = 32.85 + 3.65  # aws_nat_gateway ($0.045/h) and its aws_eip ($0.005/h), 730 h


async def test_validation_counts_the_nat_a_private_vm_needs_against_the_budget(engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="aws", region="us-east-1",
                                          budget_monthly=30)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, NET)
    await engine.add_resource(session.id, USER, PRIVATE_VM)
    result = await engine.validate(session.id, USER)
    lines = {line.resource: line.monthly for line in result.cost_lines}
    assert lines["aws_nat_gateway.net"] == 32.85 and lines["aws_eip.net__nat"] == 3.65
    vm = lines["vm/api-1"]
    assert vm < 30 < vm + NAT  # the VM alone fits the budget; with its NAT it does not
    assert result.cost_monthly == result.project_monthly_after == pytest.approx(vm + NAT)
    assert not result.ok
    assert any(v.policy == "project-budget" and "over its budget of $30.00" in v.message for v in result.violations)


async def test_the_lobby_total_after_a_plan_is_the_validated_estimate(engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="aws", region="us-east-1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, NET)
    await engine.add_resource(session.id, USER, PRIVATE_VM)
    planned = await engine.plan(session.id, USER)  # real Terraform, sandbox target
    assert planned.state == State.PLAN_READY, planned.error
    assert planned.plan_summary["plumbing_change"] == pytest.approx(NAT)
    fields = {f.name: f.value for f in embeds.lobby(planned, project).fields}
    header = next(name for name in fields if name.startswith("Resources (2)"))
    assert header.startswith(f"Resources (2) · ${planned.cost_monthly:,.2f}/mo incl. +$36.50 plumbing")
    assert "this change +$36.50/mo, in the estimate" in fields["Plan"]


class RenderedPlanDeployer:
    """Plans a cloud project as Terraform would: every address of the last applied render not in the new one is
    destroyed, every new one created (the provider's real addresses, from the real renderer), no cloud needed."""

    def __init__(self) -> None:
        self.applied: list[ResourceSpec] = []
        self.planned: list[ResourceSpec] = []
        self.lost: set[str] = set()  # addresses the state holds though the records forgot them

    def _addresses(self, project: Project, specs: Sequence[ResourceSpec]) -> set[str]:
        kw: dict[str, Any] = {"project_name": project.name, "region": project.region}
        return set(resource_keys("aws", specs, **kw)) | set(plumbing("aws", specs, **kw))

    async def plan(self, project: Project, desired: Sequence[ResourceSpec], *, session_id: int, sinks: Any = (),
                   allow_world_admin: Any = frozenset()) -> PlanArtifact:
        before = self._addresses(project, self.applied) | self.lost
        after = self._addresses(project, desired)
        changes = [ResourceChange(address=a, type=a.split(".")[0], name=a.split(".", 1)[1], action=action,
                                  actions=[action]) for action, found in (("delete", before - after),
                                                                            ("create", after - before))
                   for a in sorted(found)]
        self.planned = list(desired)
        result = PlanResult(changes=changes)
        return PlanArtifact(result=result, fingerprint=f"fp-{session_id}", target="cloud",
                            logical=TerraformDeployer.impact(project, result, desired))

    async def apply(self, project: Project, *, session_id: int, fingerprint: str, commit_message: str,
                    sinks: Any = ()) -> ApplyArtifact:
        self.applied = self.planned
        return ApplyArtifact(commit_sha="b" * 40, state_json="{}")

    async def cancel(self, session_id: int) -> bool:
        return False


async def test_destroying_plumbing_the_project_no_longer_needs_is_not_unrequested(db, settings, clock) -> None:
    deployer = RenderedPlanDeployer()
    engine = CloudOrchestrator(db, settings, deployer=deployer, clock=clock)
    await engine.grant(GUILD, ADMIN, ADMIN, "CloudAdmin")
    await engine.grant(GUILD, ADMIN, USER, "CloudUser")
    project = await engine.create_project(GUILD, ADMIN, name="shop", provider="aws", region="us-east-1",
                                          target="cloud")
    first = await engine.start_session(project.id, ADMIN)
    for spec in (NET, PRIVATE_VM):
        await engine.add_resource(first.id, ADMIN, spec)
    await engine.plan(first.id, ADMIN)
    await engine.approve(first.id, USER)
    assert (await engine.apply(first.id, ADMIN)).state == State.APPLIED

    # The last private VM goes: its NAT gateway, address and routes go with it.
    second = await engine.start_session(project.id, ADMIN)
    await engine.remove_resource(second.id, ADMIN, "vm", "api-1")
    planned = await engine.plan(second.id, ADMIN)
    destroyed = {c["address"] for c in planned.plan_summary["changes"] if c["action"] == "delete"}
    assert {"aws_instance.api-1", "aws_nat_gateway.net", "aws_eip.net__nat"} <= destroyed
    assert not [v for v in planned.violations if v["policy"] == "builtin:plan-destroys-unrequested"]
    assert planned.plan_summary["plumbing_change"] == pytest.approx(-NAT)
    await engine.cancel(second.id, ADMIN)

    # A user resource the records lost is still named, and still needs a CloudAdmin.
    deployer.lost = {"aws_instance.ghost"}
    third = await engine.start_session(project.id, USER)
    await engine.add_resource(third.id, USER, ResourceSpec(kind="bucket", name="assets-shop"))
    planned = await engine.plan(third.id, USER)
    named = [v["resource"] for v in planned.violations if v["policy"] == "builtin:plan-destroys-unrequested"]
    assert named == ["aws_instance/ghost"]
    with pytest.raises(PermissionDenied):
        await engine.approve(third.id, USER)
