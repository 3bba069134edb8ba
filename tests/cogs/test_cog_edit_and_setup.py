"""/cloud-edit opens a pre-filled dialog; setup_hook wiring; request ids on every interaction."""

from __future__ import annotations

import json
from unittest import mock

import discord

from bot.resource_wizard import ResourceModal, StepView
from cloud_engine.logging_setup import request_id_var
from tests.conftest import GUILD, USER
from tests.fakes.discord import make_interaction, make_member


async def test_edit_prefills_from_the_applied_resource_and_opens_a_session_on_submit(bot, engine, db, channel) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    spec = {"kind": "vm", "name": "web-1", "machine_type": "e2-small", "region": "us-central1", "disk_gb": 30}
    await db.execute("INSERT INTO project_resources (project_id, kind, name, spec, cost_monthly, session_id, updated_at)"
                     " VALUES (?, 'vm', 'web-1', ?, 14.0, NULL, '2026-11-01T00:00:00+00:00')", (project.id, json.dumps(spec)))
    command = bot.tree.get_command("cloud-edit")
    start = make_interaction(bot, make_member(USER), channel=channel)
    await command.callback(command.binding, start, project="shop", resource="vm/web-1")
    view: StepView = start.response.calls[0][1]["view"]
    assert view.step == "region" and any(isinstance(i, discord.ui.Button) and "us-central1" in i.label
                                         for i in view.children)
    for _ in range(2):  # keep region, keep machine type
        keep = next(i for i in view.children if isinstance(i, discord.ui.Button))
        press = make_interaction(bot, make_member(USER), channel=channel)
        await keep.callback(press)
        nxt = press.response.calls[0][1]
        view = nxt.get("view") or nxt.get("modal")
    modal: ResourceModal = view
    assert modal.title == "Edit vm/web-1" and modal.inputs["disk_gb"].default == "30"
    for key, item in modal.inputs.items():
        item._value = {"disk_gb": "50"}.get(key, item.default or "")
    submit = make_interaction(bot, make_member(USER), channel=channel)
    await modal.on_submit(submit)
    [session] = await engine.list_sessions(GUILD, user_id=USER)
    assert session.purpose == "edit vm/web-1" and channel.sent[-1].id == session.message_id
    [res] = (await engine.get_session(session.id)).resources
    assert res.spec.disk_gb == 50 and res.spec.machine_type == "e2-small"


async def test_setup_hook_syncs_to_the_dev_guild_and_announces_nothing_without_interruptions(bot) -> None:
    bot.settings.dev_guild_id = 4242
    bot.tree.sync = mock.AsyncMock(return_value=[])
    bot.load_cogs = mock.AsyncMock()
    with mock.patch.object(bot.tree, "copy_global_to") as copy:
        await bot.setup_hook()
    assert copy.call_args.kwargs["guild"].id == 4242
    assert bot.tree.sync.await_args.kwargs["guild"].id == 4242
    assert bot._unsubscribe is not None and bot._background, "event subscription and expiry sweep started"


async def test_each_command_interaction_gets_its_own_request_id(bot) -> None:
    first, second = make_interaction(bot, make_member(USER)), make_interaction(bot, make_member(USER))
    assert await bot.tree.interaction_check(first)
    rid = request_id_var.get()
    assert await bot.tree.interaction_check(second)
    assert first.extras["request_id"] == rid != second.extras["request_id"]
