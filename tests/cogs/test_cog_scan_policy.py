"""/cloud-policy for the scanner, as admins meet it: a scanner policy, suppress (audited, with an expiry),
suppressions, unsuppress; every bad value refused in one line."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.converters import parse_duration
from cloud_engine.core import CloudOrchestrator
from cloud_engine.errors import InvalidInput
from tests.cloud_engine.core.test_approvals import InstantDeployer
from tests.conftest import ADMIN, GUILD, USER, VIEWER
from tests.fakes.bot_fixtures import bot_over
from tests.fakes.commands import invoke
from tests.fakes.discord import make_interaction, make_member


@pytest.fixture
async def quick_bot(settings, db, clock, channels):
    engine = CloudOrchestrator(db, settings, deployer=InstantDeployer(), clock=clock)
    for user, role in ((ADMIN, "CloudAdmin"), (USER, "CloudUser"), (VIEWER, "CloudViewer")):
        await engine.grant(GUILD, ADMIN, user, role)
    async with bot_over(engine, settings, db, channels) as bot:
        yield bot, engine


async def _run(bot: Any, path: str, user: int, **options: Any) -> Any:
    interaction = make_interaction(bot, make_member(user))
    await invoke(bot, path, interaction, **options)
    return interaction


def _reply(interaction: Any) -> dict[str, Any]:
    [(_, reply)] = interaction.response.calls
    return reply


async def test_a_scanner_policy_is_added_from_the_command(quick_bot) -> None:
    bot, engine = quick_bot
    wrong = await _run(bot, "cloud-policy add", ADMIN, name="scan", type="scanner", checks="CKV AWS 8")
    text = wrong.response.text.partition("\n")[0]
    assert "is not a check id like CKV_AWS_144" in text.replace("\\", "") and await engine.list_policies(GUILD) == []
    added = await _run(bot, "cloud-policy add", ADMIN, name="scan", type="scanner", action="require_approval",
                       checks="ckv_aws_8, CKV2_AWS_*", min_severity="HIGH", unrated="warn")
    assert _reply(added)["ephemeral"]
    [policy] = await engine.list_policies(GUILD)
    assert (policy.type, policy.params) == ("scanner", {"checks": ["CKV_AWS_8", "CKV2_AWS_*"], "min_severity": "HIGH",
                                                        "unrated": "warn"})


async def test_suppress_list_and_unsuppress_are_audited_and_expire(quick_bot, clock, db) -> None:
    bot, engine = quick_bot
    bad = await _run(bot, "cloud-policy suppress", ADMIN, check="CKV_AWS_8", resource="aws_instance.web`", reason="ok")
    assert bad.response.text.startswith("Invalid **resource**: a glob on Terraform addresses")
    refused = await _run(bot, "cloud-policy suppress", USER, check="CKV_AWS_8", resource="*", reason="mine")
    assert "CloudAdmin" in refused.response.text

    added = await _run(bot, "cloud-policy suppress", ADMIN, check="ckv_aws_8", resource="aws_instance.web-*",
                       reason="test disks hold no data", duration=parse_duration("2h"))
    shown = _reply(added)["embed"].description
    assert shown.startswith("`#1` `CKV_AWS_8` on `aws_instance.web-*`") and "test disks hold no data" in shown
    assert _reply(added)["ephemeral"]
    await _run(bot, "cloud-policy suppress", ADMIN, check="CKV2_AWS_*", resource="*", reason="org-wide default")

    clock.advance(hours=3)
    listed = _reply(await _run(bot, "cloud-policy suppressions", VIEWER))["embed"].description
    first, second = listed.splitlines()
    assert "expired" in first and "until removed: org-wide default" in second
    assert [s.id for s in await engine.suppressions.active(GUILD)] == [2]  # the expired one no longer applies

    missing = await _run(bot, "cloud-policy unsuppress", ADMIN, suppression=99)
    assert missing.response.text.startswith("Not found: suppression `99`.")
    removed = await _run(bot, "cloud-policy unsuppress", ADMIN, suppression=2)
    assert _reply(removed)["content"].startswith("Removed suppression #2")
    assert await engine.suppressions.active(GUILD) == []
    rows = await db.fetchall("SELECT action, actor_id, detail FROM audit_log WHERE action LIKE 'scan.%' ORDER BY id")
    assert [(r["action"], r["actor_id"]) for r in rows] == [("scan.suppress", ADMIN), ("scan.suppress", ADMIN),
                                                            ("scan.unsuppress", ADMIN)]
    first_detail = json.loads(rows[0]["detail"])
    assert first_detail["reason"] == "test disks hold no data" and first_detail["expires_at"]


async def test_a_suppression_longer_than_a_year_is_refused(quick_bot) -> None:
    _, engine = quick_bot
    with pytest.raises(InvalidInput, match="between 1 minute and 365 days"):
        await engine.suppressions.add(GUILD, ADMIN, "CKV_AWS_8", "*", "why", timedelta(days=400))


async def test_the_new_subcommands_reach_discord_with_their_options(quick_bot) -> None:
    bot, _ = quick_bot
    group = bot.tree.get_command("cloud-policy")
    payload = {c["name"]: c for c in group.to_dict(bot.tree)["options"]}
    assert [o["name"] for o in payload["suppress"]["options"]] == ["check", "resource", "reason", "duration"]
    assert [o["name"] for o in payload["unsuppress"]["options"]] == ["suppression"]
    assert "suppressions" in payload
    assert {"checks", "min_severity", "unrated"} <= {o["name"] for o in payload["add"]["options"]}
    assert "scanner" in [c["value"] for c in next(o for o in payload["add"]["options"] if o["name"] == "type")["choices"]]
