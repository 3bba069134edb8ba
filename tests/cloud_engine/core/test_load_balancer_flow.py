"""A load balancer through the real engine flow: the sandbox mirror planned and applied by Terraform,
its quota counted, an edit of its domain shown as an update, a rollback removing it, and a missing
backend refused at validation naming the field."""

from __future__ import annotations

from cloud_engine.core import CloudOrchestrator, ResourceSpec, State
from tests.conftest import ADMIN, GUILD

VM = ResourceSpec(kind="vm", name="web-1", machine_type="e2-small")
LB = ResourceSpec(kind="load_balancer", name="web-lb", backend="web-1", domain="shop.example.com")


async def _apply(engine: CloudOrchestrator, project_id: int, *specs: ResourceSpec) -> None:
    session = await engine.start_session(project_id, ADMIN)
    for spec in specs:
        await engine.add_resource(session.id, ADMIN, spec)
    session = await engine.plan(session.id, ADMIN)
    assert session.state == State.PLAN_READY, session.error
    await engine.approve(session.id, ADMIN)
    assert (await engine.apply(session.id, ADMIN)).state == State.APPLIED


async def test_a_load_balancer_plans_applies_edits_and_rolls_back_on_the_sandbox(engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="shop", provider="gcp", region="us-central1")
    await _apply(engine, project.id, ResourceSpec(kind="bucket", name="assets"))
    await _apply(engine, project.id, LB, VM)  # the order given does not matter
    assert {(r.kind, r.name) for r in await engine.project_resources(project.id)} == {
        ("bucket", "assets"), ("load_balancer", "web-lb"), ("vm", "web-1")}
    usage = {q.name: q for q in await engine.quota_usage(GUILD)}
    assert usage["network.load_balancers"].used == 1

    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, LB.model_copy(update={"domain": "www.example.com"}))
    session = await engine.plan(session.id, ADMIN)
    changes = {c["name"]: c for c in session.plan_summary["changes"]}
    assert changes["web-lb"]["action"] == "update" and "domain" in changes["web-lb"]["changed"]
    await engine.cancel(session.id, ADMIN)

    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, LB.model_copy(update={"backend": "api-1"}))
    await engine.add_resource(session.id, ADMIN, VM.model_copy(update={"name": "api-1"}))
    session = await engine.plan(session.id, ADMIN)
    changes = {c["name"]: c for c in session.plan_summary["changes"]}
    assert changes["web-lb"]["action"] == "replace" and "backend" in changes["web-lb"]["forced_by"]
    await engine.cancel(session.id, ADMIN)

    before_lb = (await engine.history(project.id))[-1].commit_sha
    rollback = await engine.rollback(project.id, ADMIN, before_lb[:10])
    rollback = await engine.plan(rollback.id, ADMIN)
    actions = {(c["kind"], c["name"]): c["action"] for c in rollback.plan_summary["changes"]}
    assert actions == {("load_balancer", "web-lb"): "delete", ("vm", "web-1"): "delete"}
    await engine.approve(rollback.id, ADMIN)
    assert (await engine.apply(rollback.id, ADMIN)).state == State.APPLIED
    assert [(r.kind, r.name) for r in await engine.project_resources(project.id)] == [("bucket", "assets")]
    assert {q.name: q for q in await engine.quota_usage(GUILD)}["network.load_balancers"].used == 0


async def test_removing_the_backend_of_a_load_balancer_is_refused_at_validation(engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="shop", provider="gcp", region="us-central1")
    await _apply(engine, project.id, VM, LB)
    session = await engine.start_session(project.id, ADMIN)
    await engine.remove_resource(session.id, ADMIN, "vm", "web-1")
    result = await engine.validate(session.id, ADMIN)
    assert not result.ok
    assert [v.message for v in result.violations if v.policy == "builtin:lb-backend"] == [
        "web-lb.backend: 'web-1' is not a vm, k8s_cluster or bucket of this project"]
