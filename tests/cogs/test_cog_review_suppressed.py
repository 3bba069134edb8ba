"""/cloud-review says how many scan findings a suppression hides: real Terraform, real Checkov, a real suppression."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_engine.core import ResourceSpec
from cloud_engine.core.models import State
from cloud_engine.settings import Settings
from tests.cloud_engine.iac.checkov_bin import require_checkov
from tests.cogs.test_cog_advise import ai_bot  # noqa: F401 - the bot with the advisor's cogs
from tests.cogs.test_cog_commands import invoke
from tests.conftest import ADMIN, GUILD, USER
from tests.fakes.discord import make_interaction, make_member

UNENCRYPTED_VM = ResourceSpec(kind="vm", name="web-2", machine_type="t3.micro", encrypted=False)  # CKV_AWS_8


@pytest.fixture(autouse=True)
def _checkov() -> Path:
    return require_checkov()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"scan_plans": True})  # every plan is scanned, as in production


async def _reviewed(bot, engine, channel) -> tuple[dict[str, str], int]:
    project = await engine.create_project(GUILD, USER, name="web", provider="aws", region="us-east-1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, UNENCRYPTED_VM)
    planned = await engine.plan(session.id, USER)
    assert planned.state == State.PLAN_READY, planned.error
    asking = make_interaction(bot, make_member(USER), channel=channel)
    await invoke(bot, "cloud-review", asking, session=session.id)
    [sent] = asking.followup.sent
    assert sent["ephemeral"] and sent["embed"].title == f"Plan review · deployment #{session.id}"
    return {f.name: f.value for f in sent["embed"].fields}, planned.plan_summary["scan"]["suppressed_count"]


async def test_review_counts_the_suppressed_findings_it_does_not_list(ai_bot, engine, channel) -> None:  # noqa: F811
    await engine.suppressions.add(GUILD, ADMIN, "CKV_AWS_8", "aws_instance.web-*", "test disks hold no data")
    fields, suppressed = await _reviewed(ai_bot, engine, channel)
    assert suppressed == 1
    hidden = fields["Suppressed scan findings"]
    assert hidden.startswith("🔕 **1** suppressed (see `/cloud-policy suppressions`), not counted as findings:")
    assert "`CKV_AWS_8` on `aws_instance.web-2`" in hidden and "test disks hold no data" in hidden
    assert not any(name.split(" · ")[0].endswith("CKV_AWS_8") for name in fields)  # not listed as a finding
    assert any(name.endswith("UNENCRYPTED · aws_instance.web-2") for name in fields), \
        "the engine's own check still flags the disk: a suppression hides only the scanner's finding"


async def test_review_without_a_suppression_has_no_such_line(ai_bot, engine, channel) -> None:  # noqa: F811
    fields, suppressed = await _reviewed(ai_bot, engine, channel)
    assert suppressed == 0 and "Suppressed scan findings" not in fields
    assert any(name.split(" · ")[0].endswith("CKV_AWS_8") for name in fields)  # the same check, now open
