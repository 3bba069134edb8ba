"""Quotas are reserved atomically at validation, released on cancel/expiry, consumed on apply."""

from __future__ import annotations

import asyncio

from cloud_engine.core import ResourceSpec, State
from tests.conftest import ADMIN, GUILD, USER


async def _session_with_vm(engine, project_id: int, n: int):
    session = await engine.start_session(project_id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name=f"vm-{n}", machine_type="e2-micro"))
    return session


async def test_fifty_concurrent_validations_against_ten_let_exactly_ten_through(engine) -> None:
    await engine.set_quota(GUILD, ADMIN, "compute.instances", 10)
    project = await engine.create_project(GUILD, USER, name="race", provider="gcp", region="us-central1")
    sessions = [await _session_with_vm(engine, project.id, n) for n in range(50)]
    results = await asyncio.gather(*(engine.validate(s.id, USER) for s in sessions))
    assert sum(r.ok for r in results) == 10
    refused = [r for r in results if not r.ok]
    assert all(r.violations[0].type == "quota" and "compute.instances" in r.violations[0].message for r in refused)
    usage = {q.name: q for q in await engine.quota_usage(GUILD)}
    assert usage["compute.instances"].reserved == 10
    assert usage["compute.cpus"].reserved == 20, "refused sessions must not leave partial reservations"
    states = [(await engine.get_session(s.id)).state for s in sessions]
    assert states.count(State.PLANNING) == 10 and states.count(State.DRAFT) == 40


async def test_cancel_releases_the_reservation(engine) -> None:
    await engine.set_quota(GUILD, ADMIN, "compute.instances", 1)
    project = await engine.create_project(GUILD, USER, name="one", provider="gcp", region="us-central1")
    first = await _session_with_vm(engine, project.id, 1)
    second = await _session_with_vm(engine, project.id, 2)
    assert (await engine.validate(first.id, USER)).ok
    assert not (await engine.validate(second.id, USER)).ok
    await engine.cancel(first.id, USER)
    assert (await engine.validate(second.id, USER)).ok


async def test_expiry_releases_the_reservation(engine, clock, settings) -> None:
    await engine.set_quota(GUILD, ADMIN, "compute.instances", 1)
    project = await engine.create_project(GUILD, USER, name="exp", provider="gcp", region="us-central1")
    first = await _session_with_vm(engine, project.id, 1)
    assert (await engine.validate(first.id, USER)).ok
    clock.advance(minutes=settings.session_ttl_minutes - 1)
    assert await engine.expire_idle() == []
    clock.advance(minutes=2)
    assert await engine.expire_idle() == [first.id]
    assert (await engine.get_session(first.id)).state == State.EXPIRED
    usage = {q.name: q for q in await engine.quota_usage(GUILD)}
    assert usage["compute.instances"].reserved == 0


async def test_cpu_and_ram_quotas_count_machine_sizes(engine) -> None:
    await engine.set_quota(GUILD, ADMIN, "compute.cpus", 4)
    project = await engine.create_project(GUILD, ADMIN, name="cpu", provider="aws", region="us-east-1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="big", machine_type="m5.2xlarge"))
    result = await engine.validate(session.id, ADMIN)
    assert not result.ok
    assert "compute.cpus" in result.violations[0].message and "limit 4" in result.violations[0].message
