"""Every plan is scanned by Checkov before approval; a missing scanner is said plainly, never fatal."""

from __future__ import annotations

from pathlib import Path

from bot import embeds
from cloud_engine.ai.plan_review import PlanReviewer, scan_findings
from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.core.models import State
from cloud_engine.iac.plan import PlanResult
from cloud_engine.iac.render import render
from cloud_engine.iac.scan import scan_files
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cloud_engine.iac.checkov_bin import require_checkov
from tests.conftest import ADMIN, GUILD, FakeClock


def _checkov() -> Path:
    return require_checkov()


async def _engine(db: Database, settings: Settings, clock: FakeClock, **overrides: object) -> CloudOrchestrator:
    engine = CloudOrchestrator(db, settings.model_copy(update={"scan_plans": True, **overrides}), clock=clock)
    await engine.grant(GUILD, ADMIN, ADMIN, "CloudAdmin")
    return engine


async def _planned(engine: CloudOrchestrator):
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="aws", region="us-east-1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="web-1", machine_type="t3.micro"))
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="bucket", name="assets-web"))
    return project, await engine.plan(session.id, ADMIN)


async def test_a_plan_carries_its_scan_into_the_lobby(db, settings, clock) -> None:
    _checkov()
    engine = await _engine(db, settings, clock)
    project, session = await _planned(engine)
    scan = session.plan_summary["scan"]
    assert scan["scanned"] and scan["version"] and scan["passed"] > 0
    assert scan["failed"] == len(scan["findings"])  # under the cap, every open finding is listed
    plan_field = next(f for f in embeds.lobby(session, project).fields if f.name == "Plan")
    assert "🔎 Checkov: " in plan_field.value and "accepted by documented defaults" in plan_field.value


def test_what_the_defaults_do_not_accept_is_listed_by_check(tmp_path) -> None:
    files = render("aws", [ResourceSpec(kind="vm", name="web-1", machine_type="t3.micro")], project_name="web")
    strict = scan_files(files, checkov=_checkov(), allowlist={})
    assert strict["scanned"] and strict["accepted"] == 0 and strict["failed"] > 0
    first = strict["findings"][0]
    assert first["check_id"].startswith("CKV") and first["file"].endswith(".tf") and first["line"] > 0
    [finding, *_] = scan_findings(strict)
    assert finding.code == first["check_id"] and finding.address == first["resource"]
    assert finding.severity in ("high", "medium", "low")


async def test_without_a_scanner_the_plan_runs_and_says_it_was_not_scanned(db, settings, clock, tmp_path) -> None:
    engine = await _engine(db, settings, clock, checkov_bin=str(tmp_path / "no-checkov"))
    project, session = await _planned(engine)
    assert session.state == State.PLAN_READY
    scan = session.plan_summary["scan"]
    assert scan == {"scanned": False, "reason": f"CHECKOV_BIN {tmp_path / 'no-checkov'} is not a file"}
    plan_field = next(f for f in embeds.lobby(session, project).fields if f.name == "Plan")
    assert "🔎 **Not scanned**: CHECKOV\\_BIN" in plan_field.value
    review = await PlanReviewer(None).review(PlanResult(), [], provider="aws", scan=scan)
    assert any(note.startswith("Not scanned by Checkov: CHECKOV_BIN") for note in review.notes)


async def test_the_lobby_lists_the_network_plumbing_a_plan_adds_with_its_price(db, settings, clock) -> None:
    from cloud_engine.core import Subnet

    engine = await _engine(db, settings, clock, scan_plans=False)
    project = await engine.create_project(GUILD, ADMIN, name="shop", provider="aws", region="us-east-1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="network", name="net", cidr="10.0.0.0/16",
                                                              subnets=[Subnet(name="app", cidr="10.0.1.0/24")]))
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="api-1", machine_type="t3.micro",
                                                              network="net"))
    session = await engine.plan(session.id, ADMIN)
    plumbing = session.plan_summary["plumbing"]
    nat = [p for p in plumbing if p["resource_type"] == "aws_nat_gateway"]
    assert nat and nat[0]["monthly_usd"] == 32.85  # $0.045/h: a private VM needs egress
    plan_field = next(f for f in embeds.lobby(session, project).fields if f.name == "Plan")
    assert f"🔌 Network plumbing: {len(plumbing)} resource(s), $" in plan_field.value
    assert "`aws_nat_gateway` $32.85" in plan_field.value
