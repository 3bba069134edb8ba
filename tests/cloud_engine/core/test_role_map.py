"""Discord role → Cloud role: the highest of grant and mapped roles, as recorded at each interaction, never outliving the map."""

from __future__ import annotations

import pytest

from cloud_engine.core import InvalidInput, PermissionDenied
from cloud_engine.core.models import Role
from tests.conftest import ADMIN, GUILD, USER, VIEWER

DEVOPS = 7_700
FINOPS = 7_800
EVERYONE = GUILD  # Discord's @everyone role has the server's id
NEWCOMER = 600


async def test_a_mapped_role_counts_once_recorded_and_only_mapped_roles_are_kept(engine) -> None:
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudUser")
    assert await engine.role(GUILD, NEWCOMER) == Role.NONE
    assert await engine.record_member_roles(GUILD, NEWCOMER, [EVERYONE, DEVOPS, 42]) is True
    assert await engine.role(GUILD, NEWCOMER) == Role.USER
    rows = await engine.db.fetchall("SELECT discord_role_id FROM member_discord_roles WHERE user_id = ?", (NEWCOMER,))
    assert [r["discord_role_id"] for r in rows] == [DEVOPS]
    assert await engine.record_member_roles(GUILD, NEWCOMER, [DEVOPS, EVERYONE]) is False  # unchanged: no write
    [synced] = await engine.audit(GUILD, ADMIN, action="discord_roles.sync")
    assert synced.detail == {"added": [DEVOPS], "removed": []} and synced.target_id == str(NEWCOMER)
    [mapped] = await engine.audit(GUILD, ADMIN, action="role_map")
    assert (mapped.actor_id, mapped.target_id, mapped.detail["cloud_role"]) == (ADMIN, str(DEVOPS), "CloudUser")


async def test_the_effective_role_is_the_highest_of_grant_and_mapped_roles(engine) -> None:
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudAdmin")
    await engine.map_discord_role(GUILD, ADMIN, FINOPS, "CloudViewer")
    await engine.record_member_roles(GUILD, VIEWER, [DEVOPS])
    await engine.record_member_roles(GUILD, USER, [FINOPS])
    assert await engine.role(GUILD, VIEWER) == Role.ADMIN
    assert await engine.role(GUILD, USER) == Role.USER, "a lower mapped role never lowers a grant"
    await engine.record_member_roles(GUILD, VIEWER, [])  # lost the Discord role: back to the grant
    assert await engine.role(GUILD, VIEWER) == Role.VIEWER
    [lost] = [r for r in await engine.audit(GUILD, ADMIN, action="discord_roles.sync") if r.detail["removed"]]
    assert lost.detail == {"added": [], "removed": [DEVOPS]}


async def test_unmapping_removes_the_effect_at_once_and_a_remap_changes_it(engine) -> None:
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudAdmin")
    await engine.record_member_roles(GUILD, NEWCOMER, [DEVOPS])
    assert await engine.role(GUILD, NEWCOMER) == Role.ADMIN
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudUser")
    assert await engine.role(GUILD, NEWCOMER) == Role.USER
    assert await engine.unmap_discord_role(GUILD, ADMIN, DEVOPS) is True
    assert await engine.role(GUILD, NEWCOMER) == Role.NONE
    assert await engine.unmap_discord_role(GUILD, ADMIN, DEVOPS) is False
    assert [r.detail["removed"] for r in await engine.audit(GUILD, ADMIN, action="role_unmap")] == [False, True]
    assert await engine.list_role_maps(GUILD, ADMIN) == []
    # Mapped again later, the old record does not come back: only the next interaction says who holds it.
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudUser")
    assert await engine.role(GUILD, NEWCOMER) == Role.NONE


async def test_a_deleted_discord_role_is_forgotten(engine) -> None:
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudUser")
    await engine.record_member_roles(GUILD, NEWCOMER, [DEVOPS])
    assert await engine.access.forget_discord_role(GUILD, DEVOPS) is True
    assert await engine.role(GUILD, NEWCOMER) == Role.NONE
    [row] = await engine.audit(GUILD, ADMIN, action="role_unmap")
    assert row.actor_id == 0 and row.detail["reason"] == "Discord role deleted"
    assert await engine.access.forget_discord_role(GUILD, FINOPS) is False


async def test_only_cloud_admins_map_and_only_real_roles(engine) -> None:
    with pytest.raises(PermissionDenied):
        await engine.map_discord_role(GUILD, USER, DEVOPS, "CloudAdmin")
    with pytest.raises(PermissionDenied):
        await engine.unmap_discord_role(GUILD, USER, DEVOPS)
    with pytest.raises(PermissionDenied):
        await engine.list_role_maps(GUILD, USER)
    with pytest.raises(InvalidInput, match="cloud_role"):
        await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "God")
    with pytest.raises(InvalidInput, match="discord_role"):
        await engine.map_discord_role(GUILD, ADMIN, -1, "CloudUser")
    assert await engine.list_role_maps(GUILD, ADMIN) == []


async def test_maps_are_per_server(engine) -> None:
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudAdmin")
    await engine.record_member_roles(GUILD + 1, NEWCOMER, [DEVOPS])  # same role id reported in another server
    assert await engine.role(GUILD + 1, NEWCOMER) == Role.NONE
    [listed] = await engine.list_role_maps(GUILD, ADMIN)
    assert (listed.discord_role_id, listed.cloud_role, listed.mapped_by) == (DEVOPS, Role.ADMIN, ADMIN)
