"""Scanner policies in the product: real Checkov over each plan's provider HCL, real Terraform, real SQLite.

A denied finding blocks approval with one line naming check and resource; a suppression (audited, with
its reason, who and until when) lets the plan through until it expires; the lobby says which findings
are new since the project's last apply; a severity rule takes Checkov's unrated findings and says so.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot import embeds
from cloud_engine.core import CloudOrchestrator, PolicySpec, ResourceSpec
from cloud_engine.core.models import Project, Session, State
from cloud_engine.errors import PolicyViolation
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cloud_engine.iac.checkov_bin import require_checkov
from tests.conftest import ADMIN, GUILD, USER, FakeClock

ADMIN2 = 110
UNENCRYPTED_VM = ResourceSpec(kind="vm", name="web-2", machine_type="t3.micro", encrypted=False)  # CKV_AWS_8
PUBLIC_BUCKET = ResourceSpec(kind="bucket", name="assets-web", public_access=True)  # CKV_AWS_53..56 and more


@pytest.fixture(autouse=True)
def _checkov() -> Path:
    return require_checkov()


async def _engine(db: Database, settings: Settings, clock: FakeClock) -> CloudOrchestrator:
    engine = CloudOrchestrator(db, settings.model_copy(update={"scan_plans": True}), clock=clock)
    for user, role in ((ADMIN, "CloudAdmin"), (ADMIN2, "CloudAdmin"), (USER, "CloudUser")):
        await engine.grant(GUILD, ADMIN, user, role)
    return engine


async def _plan(engine: CloudOrchestrator, project: Project, *specs: ResourceSpec) -> Session:
    session = await engine.start_session(project.id, USER)
    for spec in specs:
        await engine.add_resource(session.id, USER, spec)
    planned = await engine.plan(session.id, USER)
    assert planned.state == State.PLAN_READY, planned.error
    return planned


def _field(session: Session, project: Project, name: str) -> str:
    return next(f.value for f in embeds.lobby(session, project).fields if f.name == name) or ""


async def test_a_denied_finding_blocks_approval_until_an_admin_suppresses_it(db, settings, clock) -> None:
    engine = await _engine(db, settings, clock)
    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="encrypted-disks", type="scanner", action="deny",
                                                     params={"checks": ["CKV_AWS_8"]}))
    project = await engine.create_project(GUILD, USER, name="web", provider="aws", region="us-east-1")
    session = await _plan(engine, project, UNENCRYPTED_VM)
    assert "⛔ CKV\\_AWS\\_8 on aws\\_instance.web-2" in _field(session, project, "Policy findings")  # as Markdown
    with pytest.raises(PolicyViolation) as refused:
        await engine.approve(session.id, ADMIN)
    assert "encrypted-disks" in refused.value.message and "CKV_AWS_8 on aws_instance.web-2" in refused.value.message

    added = await engine.suppressions.add(GUILD, ADMIN, "CKV_AWS_8", "aws_instance.web-*", "test disks hold no data",
                                          timedelta(days=1))
    await engine.reject(session.id, ADMIN, "planned again with the suppression")
    session = await engine.plan(session.id, USER)
    scan = session.plan_summary["scan"]
    assert scan["suppressed_count"] == 1 and all(f["check_id"] != "CKV_AWS_8" for f in scan["findings"])
    shown = _field(session, project, "Security scan")
    assert "🔕 `CKV_AWS_8` on `aws_instance.web-2`" in shown and f"<@{ADMIN}>" in shown
    assert "until 2026-11-03 09:00 UTC: test disks hold no data" in shown
    assert "1 suppressed" in _field(session, project, "Plan")
    assert (await engine.approve(session.id, ADMIN)).state == State.APPROVED

    await engine.cancel(session.id, USER)
    clock.advance(days=2)  # the suppression has expired: the next plan is denied again
    again = await _plan(engine, project, UNENCRYPTED_VM.model_copy(update={"disk_gb": 20}))
    assert again.plan_summary["scan"]["suppressed_count"] == 0
    with pytest.raises(PolicyViolation):
        await engine.approve(again.id, ADMIN)

    gone = await engine.suppressions.remove(GUILD, ADMIN, added.id)
    assert gone.reason == "test disks hold no data"
    rows = await db.fetchall("SELECT action, detail FROM audit_log WHERE action LIKE 'scan.%' ORDER BY id")
    assert [r["action"] for r in rows] == ["scan.suppress", "scan.unsuppress"]
    assert json.loads(rows[0]["detail"])["reason"] == "test disks hold no data"


async def test_the_lobby_says_which_findings_are_new_since_the_last_apply(db, settings, clock) -> None:
    engine = await _engine(db, settings, clock)
    project = await engine.create_project(GUILD, USER, name="web", provider="aws", region="us-east-1")
    first = await _plan(engine, project, UNENCRYPTED_VM)
    assert first.plan_summary["scan"]["new"] == first.plan_summary["scan"]["failed"] > 0
    assert "(nothing applied yet)" in _field(first, project, "Plan")
    await engine.approve(first.id, ADMIN)
    assert (await engine.apply(first.id, USER)).state == State.APPLIED

    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="high-two-admins", type="scanner", action="require_approval",
                                                     params={"min_severity": "HIGH", "approvals": 2}))
    second = await _plan(engine, project, PUBLIC_BUCKET)
    scan = second.plan_summary["scan"]
    new = [f for f in scan["findings"] if f["new"]]
    assert {f["resource"].split(".")[0] for f in new} <= {"aws_s3_bucket", "aws_s3_bucket_public_access_block"}
    assert [f["new"] for f in scan["findings"] if f["check_id"] == "CKV_AWS_8"] == [False]  # applied before
    assert scan["new"] == len(new) > 0 and scan["baseline"] == {"session": first.id, "scanned": True}
    assert f"**{len(new)} new** since the last apply" in _field(second, project, "Plan")
    assert "🆕 `CKV_AWS_" in _field(second, project, "Security scan")

    # Checkov OSS rates nothing: the HIGH rule takes every open finding and says why, not silently passing them.
    asked = [v for v in second.violations if v["policy"] == "high-two-admins"]
    assert asked and all("no severity given by Checkov; counted as HIGH or above" in v["message"] for v in asked)
    assert second.needs_approval
    once = await engine.approve(second.id, ADMIN)
    assert once.state == State.PLAN_READY  # the policy's rule wants two distinct CloudAdmins
    assert (await engine.approve(second.id, ADMIN2)).state == State.APPROVED
    stored = await db.fetchall("SELECT session_id, COUNT(*) AS n FROM scan_findings GROUP BY session_id ORDER BY 1")
    assert [r["session_id"] for r in stored] == [first.id, second.id]  # every plan's findings are kept
