"""Connector syncs on a schedule and on demand: which providers run, when, into which server; the
freshness status (last success, lag, last error, SLO); and the audit rows that notify subscribers of a
failed sync and of each anomaly once. AWS runs against moto, Azure against the loopback fakes."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moto import mock_aws
from pydantic import SecretStr

from cloud_engine.cli import main
from cloud_engine.core import CloudOrchestrator
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.connectors import registry
from cloud_engine.finops.errors import MissingCredentials
from cloud_engine.finops.sync import ANOMALY_FOUND, SYNC_FAILED, health_line, tick_seconds
from cloud_engine.notify import NotificationService, NotifyEvent
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cloud_engine.finops.test_cli import env  # noqa: F401 - the CLI's temporary stores
from tests.cloud_engine.finops.test_connector_aws import day, group, queue_cost_explorer_results
from tests.cloud_engine.finops.test_connector_azure import FakeArm, arm, connector  # noqa: F401 - arm: fixture
from tests.conftest import ADMIN, GUILD, FakeClock

NONE = {"aws_access_key_id": None, "aws_secret_access_key": None, "azure_tenant_id": None, "azure_client_id": None,
        "azure_client_secret": None, "azure_subscription_id": None, "gcp_project_id": None,
        "google_application_credentials": None, "finops_gcp_billing_export": None, "dev_guild_id": None}
AWS = {"aws_access_key_id": SecretStr("testing"), "aws_secret_access_key": SecretStr("testing")}
AZURE = {"azure_tenant_id": "t", "azure_client_id": "c", "azure_client_secret": SecretStr("s"),
         "azure_subscription_id": "sub-1"}


def configured(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(update={**NONE, "finops_sync_guild_id": GUILD, **update})


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield


async def open_service(settings: Settings, db: Database) -> FinOpsService:
    return await FinOpsService.open(settings.model_copy(update={"finops_db_path": ":memory:"}), db)


@pytest.fixture
async def notes(db: Database, settings: Settings, engine: CloudOrchestrator,
                clock: FakeClock) -> AsyncIterator[NotificationService]:
    service = NotificationService(db, settings, engine.access, clock)
    yield service
    await service.close()


def ce_days(amounts: list[float]) -> dict:
    """One Cost Explorer page: a day per amount, ending yesterday (inside any sync window)."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=len(amounts))
    days = []
    for i, amount in enumerate(amounts):
        start = first + timedelta(days=i)
        days.append(day(start.isoformat(), (start + timedelta(days=1)).isoformat(),
                        group("Amazon Relational Database Service", "us-east-1", f"{amount}", f"{amount}")))
    return {"ResultsByTime": days, "DimensionValueAttributes": []}


def closed_port() -> str:
    """A loopback address nothing listens on: the connection is refused, nothing leaves the machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def audit(db: Database, action: str) -> list[dict]:
    rows = await db.fetchall("SELECT * FROM audit_log WHERE guild_id = ? AND action = ? ORDER BY id", (GUILD, action))
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


async def test_the_schedule_runs_each_configured_provider_when_due_and_reports_freshness(
        db: Database, settings: Settings, aws_env: None) -> None:
    page = ce_days([10.0, 11.0, 9.0])
    queue_cost_explorer_results([page, page])
    service = await open_service(configured(settings, **AWS, finops_sync_interval_hours=24), db)
    try:
        before = await service.sync_status(guild_id=GUILD)
        aws = before.sources[0]
        assert (aws.provider, aws.configured, aws.last_success_at, aws.breached) == ("aws", True, None, True)
        assert [s.configured for s in before.sources[1:]] == [False, False]  # azure and gcp: not configured
        assert before.sources[2].missing == ("GCP_PROJECT_ID", "GOOGLE_APPLICATION_CREDENTIALS",
                                             "FINOPS_GCP_BILLING_EXPORT")

        [outcome] = await service.sync_due()  # only AWS is configured
        assert outcome.ok and outcome.provider == "aws" and outcome.guild_id == GUILD
        assert (outcome.reports[0].rows_read, outcome.reports[0].rows_added) == (3, 3)

        now = datetime.now(UTC).replace(tzinfo=None)
        assert await service.sync_due(now + timedelta(hours=1)) == []  # not due again within the interval
        [again] = await service.sync_due(now + timedelta(hours=25))
        assert again.ok and (again.reports[0].rows_added, again.reports[0].rows_unchanged) == (0, 3)  # idempotent

        fresh = (await service.sync_status(guild_id=GUILD, now=now + timedelta(hours=2))).sources[0]
        assert fresh.last_success_at is not None and not fresh.failing and not fresh.breached
        assert fresh.lag_hours is not None and 1.5 <= fresh.lag_hours <= 2.5
        late = await service.sync_status(guild_id=GUILD, now=now + timedelta(hours=30))
        assert [s.provider for s in late.breached] == ["aws"]  # lag 30 h > one 24 h interval
        assert "aws: last success 30 h ago; SLO BREACHED: lag over 24 h" in health_line(late)
        assert (await service.recent_runs(guild_id=GUILD))[0]["source_kind"] == "aws_api"
    finally:
        await service.close()


async def test_the_schedule_is_off_at_zero_and_without_a_server(db: Database, settings: Settings,
                                                               aws_env: None) -> None:
    off = configured(settings, **AWS, finops_sync_interval_hours=0)
    nowhere = configured(settings, **AWS, finops_sync_guild_id=None)
    for chosen in (off, nowhere):
        service = await open_service(chosen, db)
        try:
            assert await service.sync_due() == []
            assert (await service.recent_runs(guild_id=GUILD)) == []
        finally:
            await service.close()
    status = await (await open_service(nowhere, db)).sync_status(guild_id=GUILD)
    assert "schedule syncs no server (set FINOPS_SYNC_GUILD_ID or DEV_GUILD_ID)" in health_line(status)
    assert not status.breached  # the SLO is the schedule's: with no scheduled server nothing is breached
    dev = configured(settings, **AWS, finops_sync_guild_id=None, dev_guild_id=77)
    assert (await (await open_service(dev, db)).sync_status(guild_id=77)).scheduled_here
    assert tick_seconds(configured(settings, finops_sync_interval_hours=24)) == 900
    assert tick_seconds(configured(settings, finops_sync_interval_hours=0.05)) == 180


async def test_missing_settings_name_every_variable_and_attempt_nothing(db: Database, settings: Settings) -> None:
    service = await open_service(configured(settings, azure_tenant_id="t"), db)
    try:
        with pytest.raises(MissingCredentials, match="AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID"):
            await service.sync_now("azure", guild_id=GUILD, actor_id=ADMIN)
        with pytest.raises(MissingCredentials, match="FINOPS_GCP_BILLING_EXPORT"):
            await service.sync_now("gcp", guild_id=GUILD, actor_id=ADMIN)
        assert await service.recent_runs(guild_id=GUILD) == [] and await audit(db, SYNC_FAILED) == []
    finally:
        await service.close()


async def test_a_failed_sync_is_logged_audited_and_told_to_subscribers_once(
        db: Database, settings: Settings, notes: NotificationService, monkeypatch: pytest.MonkeyPatch) -> None:
    unreachable = closed_port()
    monkeypatch.setitem(registry.CONNECTORS, "azure", lambda s, o: connector(unreachable))
    await notes.subscribe_channel(GUILD, ADMIN, 9, events=(NotifyEvent.FINOPS_SYNC_FAILED, NotifyEvent.ANOMALY_FOUND))
    service = await open_service(configured(settings, **AZURE), db)
    try:
        outcome = await service.sync_now("azure", guild_id=GUILD, actor_id=ADMIN)
        assert not outcome.ok and outcome.error and "Azure" in outcome.error
        [row] = await audit(db, SYNC_FAILED)
        assert (row["actor_id"], row["target_id"], row["detail"]["provider"], row["detail"]["trigger"]) == (
            ADMIN, "azure", "azure", "command")
        status = (await service.sync_status(guild_id=GUILD)).sources[1]
        assert status.failing and status.last_error == outcome.error and status.last_success_at is None
        [run] = await service.recent_runs(guild_id=GUILD)
        assert (run["status"], run["source_kind"]) == ("failed", "azure_api")
    finally:
        await service.close()
    posted: list[tuple[int, str, dict]] = []

    async def post(channel_id: int, text: str, notice: dict) -> None:
        posted.append((channel_id, text, notice))

    assert (await notes.run_once(post)).delivered == 1
    [(channel_id, text, notice)] = posted
    assert channel_id == 9 and notice["event"] == "finops_sync_failed"
    assert text.startswith("🔔 FinOps sync failed: azure: Azure Cost Management query (AmortizedCost by ResourceId, "
                           "ServiceName) failed: ")
    assert text.endswith("(/cloud-finops-sync to retry).")
    assert not (await notes.run_once(post)).delivered


async def test_each_anomaly_is_reported_once_across_syncs(db: Database, settings: Settings,
                                                          notes: NotificationService, aws_env: None) -> None:
    amounts = [10.0, 10.5, 9.5, 10.0, 10.2, 9.8, 10.1, 9.9, 10.0, 10.3, 95.0, 10.0]
    page = ce_days(amounts)
    queue_cost_explorer_results([page, page])
    await notes.subscribe_channel(GUILD, ADMIN, 9, events=(NotifyEvent.ANOMALY_FOUND,))
    service = await open_service(configured(settings, **AWS), db)
    try:
        first = await service.sync_now("aws", guild_id=GUILD, actor_id=ADMIN)
        assert first.ok and [(a.service, a.amount) for a in first.new_anomalies] == [
            ("Amazon Relational Database Service", 95.0)]
        second = await service.sync_now("aws", guild_id=GUILD, actor_id=ADMIN)
        assert second.ok and second.new_anomalies == ()  # the same anomaly, already reported
        [row] = await audit(db, ANOMALY_FOUND)
        assert (row["detail"]["amount"], row["detail"]["currency"], row["target_type"]) == (95.0, "USD",
                                                                                          "finops_anomaly")
    finally:
        await service.close()
    posted: list[str] = []

    async def post(channel_id: int, text: str, notice: dict) -> None:
        posted.append(text)

    assert (await notes.run_once(post)).delivered == 1
    [text] = posted
    assert text.startswith("🔔 Cost anomaly in aws Amazon Relational Database Service: 95.00 USD on ")
    assert "above the median of" in text and text.endswith(".")  # the anomaly's own reason


def test_finops_status_from_the_cli(env: Path, aws_env: None, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                    capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID",
                 "GCP_PROJECT_ID", "GOOGLE_APPLICATION_CREDENTIALS", "FINOPS_GCP_BILLING_EXPORT", "DEV_GUILD_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FINOPS_SYNC_GUILD_ID", "5")
    assert main(["finops", "status", "--guild", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FinOps sync for guild 5: every 24 h into this server (SLO: lag within 24 h)")
    assert "aws: never synced; SLO BREACHED: lag over 24 h" in out
    assert "azure: not configured (set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET" in out

    queue_cost_explorer_results([ce_days([3.0, 4.0])])
    assert main(["ingest", "aws", "--days", "5", "--guild", "5"]) == 0  # a CLI import counts as a sync
    capsys.readouterr()
    assert main(["finops", "status", "--guild", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    aws = data["sources"][0]
    assert data["breached"] == [] and aws["last_success_at"] and aws["lag_hours"] == 0.0 and not aws["failing"]
    assert main(["finops", "status", "--guild", "6"]) == 0
    assert "schedule syncs server 5, not this one" in capsys.readouterr().out
