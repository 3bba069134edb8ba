"""Roles, just-in-time grants and what each role may request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cloud_engine.core import PermissionDenied, ResourceSpec, Role
from cloud_engine.errors import InvalidInput
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER


async def test_viewer_cannot_create_projects_or_sessions(engine) -> None:
    with pytest.raises(PermissionDenied) as err:
        await engine.create_project(GUILD, VIEWER, name="x", provider="gcp", region="us-central1")
    assert err.value.required == "CloudUser" and err.value.role == "CloudViewer"


async def test_unknown_user_has_no_role(engine) -> None:
    assert await engine.role(GUILD, 999) == Role.NONE
    assert await engine.role(2, USER) == Role.NONE, "grants are per guild"


async def test_jit_grant_expires(engine, clock) -> None:
    await engine.grant(GUILD, ADMIN, 555, "CloudAdmin", duration=timedelta(hours=1))
    assert await engine.role(GUILD, 555) == Role.ADMIN
    clock.advance(minutes=61)
    assert await engine.role(GUILD, 555) == Role.NONE
    with pytest.raises(PermissionDenied):
        await engine.set_quota(GUILD, 555, "compute.instances", 3)


async def test_grant_in_the_past_is_refused(engine, clock) -> None:
    with pytest.raises(InvalidInput) as err:
        await engine.grant(GUILD, ADMIN, 556, "CloudUser", expires_at=clock() - timedelta(seconds=1))
    assert err.value.field == "expires_at"


async def test_only_admins_grant_once_a_guild_has_one(engine) -> None:
    with pytest.raises(PermissionDenied):
        await engine.grant(GUILD, USER, OTHER, "CloudAdmin")
    assert await engine.revoke(GUILD, ADMIN, OTHER)
    assert await engine.role(GUILD, OTHER) == Role.NONE


async def test_first_grant_in_an_empty_guild_bootstraps_its_admin(engine) -> None:
    await engine.grant(77, 1234, 5678, "CloudUser")
    assert await engine.role(77, 1234) == Role.ADMIN
    rows = await engine.audit(77, 1234)
    assert {"bootstrap_admin", "grant"} <= {r.action for r in rows}


async def test_cloud_user_limits(engine) -> None:
    project = await engine.create_project(GUILD, USER, name="lim", provider="aws", region="us-east-1")
    session = await engine.start_session(project.id, USER)
    with pytest.raises(PermissionDenied, match="Kubernetes"):
        await engine.add_resource(session.id, USER, ResourceSpec(kind="k8s_cluster", name="k"))
    with pytest.raises(PermissionDenied, match="size large exceeds"):
        await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="big", machine_type="m5.2xlarge"))
    added = await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="ok", machine_type="m5.xlarge"))
    assert added.cost_monthly > 0


async def test_admin_may_add_large_and_k8s(engine) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="adm", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="k8s_cluster", name="k", node_count=2))
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="big", machine_type="n2-standard-8"))
    assert len((await engine.get_session(session.id)).resources) == 2


async def test_only_author_or_admin_changes_a_session(engine) -> None:
    project = await engine.create_project(GUILD, USER, name="own", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, USER)
    with pytest.raises(PermissionDenied, match="someone else's session"):
        await engine.add_resource(session.id, OTHER, ResourceSpec(kind="bucket", name="bkt"))
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="bucket", name="bkt"))
    with pytest.raises(PermissionDenied):
        await engine.cancel(session.id, OTHER)


async def test_grant_expiry_is_rechecked_at_validation(engine, clock) -> None:
    await engine.grant(GUILD, ADMIN, 600, "CloudUser", duration=timedelta(minutes=5))
    project = await engine.create_project(GUILD, 600, name="jit", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, 600)
    await engine.add_resource(session.id, 600, ResourceSpec(kind="bucket", name="bkt"))
    clock.advance(minutes=6)
    with pytest.raises(PermissionDenied):
        await engine.validate(session.id, 600)
