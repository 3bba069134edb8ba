"""A load balancer costs what serves its backend, in every price the product shows.

On AWS a bucket behind a load balancer is served by CloudFront (no hourly fee, traffic by use),
on Azure by Front Door Standard ($35/month); a VM keeps the ALB or Application Gateway hour, and
GCP serves both with the same global load balancer. Through the real workflow: the validation's
cost lines and total, the per-resource prices the lobby lists (stored with the session, also
when the backend is added after the load balancer), the embeds that show them, and the cost the
apply records for the project.
"""

from __future__ import annotations

import pytest

from bot import embeds
from cloud_engine.ai.guardrails import GuardrailContext, enforce
from cloud_engine.ai.plan_findings import deterministic_findings
from cloud_engine.core import CloudOrchestrator, ResourceSpec, Subnet
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import Session, State, ValidationResult
from cloud_engine.data.catalog import load_catalog
from cloud_engine.iac.plan import PlanResult
from tests.conftest import ADMIN, GUILD, USER

REGION = {"aws": "us-east-1", "azure": "eastus", "gcp": "us-central1"}
BUCKET = ResourceSpec(kind="bucket", name="site-ce1", public_access=True)  # GCP's backend bucket needs it public
SITE_LB = ResourceSpec(kind="load_balancer", name="site-lb", backend="site-ce1", domain="www.example.com")
NET = ResourceSpec(kind="network", name="core", cidr="10.20.0.0/16", subnets=[Subnet(name="app", cidr="10.20.1.0/24")])
MACHINE = {"aws": "t3.small", "azure": "Standard_B2s", "gcp": "e2-small"}
VM = ResourceSpec(kind="vm", name="web-1", network="core", public_ip=True)
WEB_LB = ResourceSpec(kind="load_balancer", name="web-lb", backend="web-1", domain="shop.example.com", port=8080)

# What the catalogue says serves a bucket, and what its line must not claim instead.
SERVED_BY = {"aws": ("CloudFront: no hourly fee, traffic by use", 0.0, "Application Load Balancer"),
             "azure": ("Azure Front Door Standard", 35.0, "Application Gateway")}


async def _validated(engine: CloudOrchestrator, provider: str, *specs: ResourceSpec,
                     project_id: int | None = None) -> tuple[ValidationResult, Session, int]:
    """Validate a session adding `specs` in that order; its result, the session as stored, its project."""
    if project_id is None:
        project_id = (await engine.create_project(GUILD, USER, name="shop", provider=provider,
                                                  region=REGION[provider])).id
    session = await engine.start_session(project_id, USER)
    for spec in specs:
        await engine.add_resource(session.id, USER, spec)
    result = await engine.validate(session.id, USER)
    return result, await engine.get_session(session.id), project_id


def _stored(session: Session) -> dict[str, float]:
    """What the lobby lists per resource: the price stored with each change."""
    return {f"{r.kind}/{r.name}": r.cost_monthly for r in session.resources}


def _line(result: ValidationResult, resource: str) -> tuple[float, str]:
    line = next(line for line in result.cost_lines if line.resource == resource)
    return line.monthly, line.detail


@pytest.mark.parametrize("provider", ["aws", "azure"])
async def test_a_bucket_backend_is_priced_as_the_product_that_serves_it_in_lines_lobby_and_total(
        engine: CloudOrchestrator, provider: str) -> None:
    product, monthly, not_this = SERVED_BY[provider]
    # the load balancer first: its backend does not exist yet when it is added
    result, session, project_id = await _validated(engine, provider, SITE_LB, BUCKET)
    lb_monthly, detail = _line(result, "load_balancer/site-lb")
    part = load_catalog().for_provider(provider).load_balancer.bucket
    assert part is not None
    assert lb_monthly == monthly
    assert detail.startswith(product) and not_this not in detail
    assert part.source in detail and part.as_of in detail  # provenance, as every line carries
    assert f"${part.processed_gb_usd:g}/GB" in detail and f"${part.requests_10k_usd:g} per 10,000 requests" in detail
    # what the lobby lists per resource is what validation priced, and its total is the session's
    assert _stored(session)["load_balancer/site-lb"] == monthly
    assert _stored(session) == {line.resource: line.monthly for line in result.cost_lines}
    assert result.cost_monthly == round(sum(_stored(session).values()), 2)
    lobby = {f.name: f.value for f in embeds.lobby(session, await engine.get_project(project_id)).fields}
    header = next(name for name in lobby if name.startswith("Resources (2)"))
    assert header == f"Resources (2) · ${result.cost_monthly:,.2f}/mo"
    assert f"`load_balancer/site-lb`: ${monthly:,.2f}/mo" in lobby[header]
    cost_lines = {f.name: f.value for f in embeds.validation(result).fields}["Cost lines"]
    assert f"`load_balancer/site-lb` ${monthly:,.2f}/mo ({product}" in cost_lines  # the product first, not cut away


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
async def test_a_vm_backend_keeps_the_cloud_load_balancers_hour(engine: CloudOrchestrator, provider: str) -> None:
    vm = VM.model_copy(update={"machine_type": MACHINE[provider]})
    result, session, _ = await _validated(engine, provider, NET, vm, WEB_LB)
    lb = load_catalog().for_provider(provider).load_balancer
    mult = load_catalog().for_provider(provider).regions[REGION[provider]]
    lb_monthly, detail = _line(result, "load_balancer/web-lb")
    assert lb_monthly == round(round(lb.hourly_usd * mult, 6) * 730, 2) > 15
    assert detail.startswith(lb.product) and lb.source in detail
    assert "CloudFront" not in detail and "Front Door" not in detail
    assert _stored(session)["load_balancer/web-lb"] == lb_monthly


async def test_gcp_serves_a_bucket_with_the_same_global_load_balancer_and_prices_it_so(
        engine: CloudOrchestrator) -> None:
    # a GCP backend bucket sits behind the same HTTPS forwarding rule as a VM's backend service
    result, _, _ = await _validated(engine, "gcp", BUCKET, SITE_LB.model_copy(update={"cdn": True}), NET,
                                    VM.model_copy(update={"machine_type": "e2-small"}), WEB_LB)
    assert _line(result, "load_balancer/site-lb")[0] == _line(result, "load_balancer/web-lb")[0] == 18.25
    assert load_catalog().for_provider("gcp").load_balancer.bucket is None


async def test_removing_the_bucket_from_the_session_reprices_its_load_balancer_in_the_lobby(
        engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="azure", region="eastus")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, BUCKET)
    added = await engine.add_resource(session.id, USER, SITE_LB)
    assert added.cost_monthly == 35.0  # Front Door, as the reply to the add says
    await engine.remove_resource(session.id, USER, "bucket", "site-ce1")
    (lb,) = (await engine.get_session(session.id)).resources
    result = await engine.validate(session.id, USER)
    assert lb.cost_monthly == _line(result, "load_balancer/site-lb")[0] > 100  # no bucket: a gateway's price
    assert not result.ok and any(v.policy == "builtin:lb-backend" for v in result.violations)


async def test_a_backend_applied_by_another_session_reprices_the_load_balancer_at_validation(
        engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="shop", provider="aws", region="us-east-1")
    waiting = await engine.start_session(project.id, ADMIN)
    added = await engine.add_resource(waiting.id, ADMIN, SITE_LB)
    assert added.cost_monthly == 16.43  # no bucket of that name yet: what the catalogue's ALB costs
    other = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(other.id, ADMIN, BUCKET)
    await _plan_and_apply(engine, other.id)
    result = await engine.validate(waiting.id, ADMIN)  # the bucket is applied now: CloudFront serves it
    stored = _stored(await engine.get_session(waiting.id))
    assert _line(result, "load_balancer/site-lb")[0] == stored["load_balancer/site-lb"] == 0.0
    bucket_monthly = (await engine.project_resources(project.id))[0].cost_monthly
    assert result.project_monthly_after == bucket_monthly  # the project's total does not gain an ALB hour
    await _plan_and_apply(engine, waiting.id)
    costs = await engine.project_costs(await engine.get_project(project.id))  # what /cloud-costs shows
    assert {f"{r.kind}/{r.name}": r.cost_monthly for r in costs.resources}["load_balancer/site-lb"] == 0.0
    assert costs.total_monthly == bucket_monthly


@pytest.mark.parametrize("provider", ["aws", "azure"])
def test_the_advisors_prices_and_the_plan_reviews_budget_price_what_serves_the_bucket(provider: str) -> None:
    product, monthly, _ = SERVED_BY[provider]
    design = GuardrailContext(provider=provider, region=REGION[provider], budget="medium", security="standard",
                              compliance="none", estimator=CostEstimator())
    advised = enforce([BUCKET, SITE_LB], design).costs[("load_balancer", "site-lb")]
    assert advised.monthly == monthly and advised.detail.startswith(product)
    _, total, _ = deterministic_findings(PlanResult(), [BUCKET, SITE_LB], provider=provider, budget_monthly=1.0)
    bucket = CostEstimator().estimate(provider, REGION[provider], BUCKET).monthly
    assert total == round(bucket + monthly, 2)  # the review's total holds no ALB or gateway hour


async def _plan_and_apply(engine: CloudOrchestrator, session_id: int) -> None:
    session = await engine.plan(session_id, ADMIN)  # real Terraform, sandbox target
    assert session.state == State.PLAN_READY, session.error
    await engine.approve(session_id, ADMIN)
    assert (await engine.apply(session_id, ADMIN)).state == State.APPLIED
