"""/cloud-costs counts the network plumbing a project needs, as validation and the lobby do."""

from __future__ import annotations

import pytest

from cloud_engine.core import CloudOrchestrator, ResourceSpec, Subnet
from cloud_engine.core.models import State
from tests.cogs.test_cog_commands import invoke
from tests.conftest import ADMIN, GUILD, USER, VIEWER
from tests.fakes.deployers import InstantDeployer
from tests.fakes.discord import make_interaction, make_member

NET = ResourceSpec(kind="network", name="net", cidr="10.0.0.0/16", subnets=[Subnet(name="app", cidr="10.0.1.0/24")])
PRIVATE_VM = ResourceSpec(kind="vm", name="api-1", machine_type="t3.micro", network="net")


async def _applied(engine: CloudOrchestrator, *specs: ResourceSpec, budget: float = 0.0) -> float:
    """Apply `specs` to a new AWS project; the project's monthly cost as validation judged it."""
    engine._deployer = InstantDeployer()
    project = await engine.create_project(GUILD, USER, name="shop", provider="aws", region="us-east-1",
                                          budget_monthly=budget)
    session = await engine.start_session(project.id, USER)
    for spec in specs:
        await engine.add_resource(session.id, USER, spec)
    validated = await engine.validate(session.id, USER)
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    assert (await engine.apply(session.id, USER)).state == State.APPLIED
    return validated.project_monthly_after


async def _costs(bot) -> str:
    ask = make_interaction(bot, make_member(VIEWER))
    await invoke(bot, "cloud-costs", ask, project="shop")
    [sent] = ask.followup.sent
    assert sent["ephemeral"]
    embed = sent["embed"]
    return "\n".join([embed.description, *(f"{f.name}: {f.value}" for f in embed.fields)])


async def test_costs_include_the_nat_a_private_vm_needs_as_its_own_line(bot, engine) -> None:
    validated = await _applied(engine, NET, PRIVATE_VM, budget=100)
    [vm] = [r for r in await engine.project_resources((await engine.find_project(GUILD, "shop")).id)
            if r.kind == "vm"]
    assert validated == pytest.approx(vm.cost_monthly + 36.50)  # aws_nat_gateway $32.85 + its aws_eip $3.65
    text = await _costs(bot)
    assert f"Estimated **${validated:,.2f}/mo** for 2 resource(s) incl. $36.50 network plumbing" in text
    assert "🔌 Network plumbing: " in text and "$36.50/mo at list prices (in the estimate)" in text
    assert "`aws_nat_gateway` $32.85" in text and "`aws_eip` $3.65" in text
    assert f"Budget: $100.00/mo ({validated / 100:.0%} used)" in text  # judged on what validation judges
    assert f"`vm/api-1` ${vm.cost_monthly:,.2f}/mo" in text


async def test_a_project_without_priced_plumbing_says_nothing_about_it(bot, engine) -> None:
    validated = await _applied(engine, ResourceSpec(kind="bucket", name="assets-shop"))
    text = await _costs(bot)
    assert f"Estimated **${validated:,.2f}/mo** for 1 resource(s)\n" in text + "\n"
    assert "network plumbing" not in text.lower()
