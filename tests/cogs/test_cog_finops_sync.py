"""/cloud-finops-sync through the real cog: CloudAdmin only, one line on missing credentials before
deferring, a deferred AWS sync against moto, and the "FinOps sync" line of /cloud-health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import discord
import pytest
from moto import mock_aws

from bot import health
from cloud_engine.settings import Settings
from tests.cloud_engine.finops.test_connector_aws import day, group, queue_cost_explorer_results
from tests.cogs import test_cog_advise
from tests.conftest import ADMIN, GUILD, USER
from tests.fakes.commands import invoke
from tests.fakes.discord import make_interaction, make_member

ai_bot = test_cog_advise.ai_bot  # the real bot with the FinOps cog loaded (shared fixture)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The suite's settings with AWS credentials (moto answers) and no Azure or GCP ones."""
    return Settings(_env_file=None, database_path=str(tmp_path / "cloud.db"), terraform_runs_dir=tmp_path / "runs",
                    finops_db_path=str(tmp_path / "finops.duckdb"), groq_api_key=None, gemini_api_key=None,
                    scan_plans=False, aws_access_key_id="testing", aws_secret_access_key="testing",
                    azure_tenant_id=None, azure_client_id=None, azure_client_secret=None, azure_subscription_id=None,
                    gcp_project_id=None, google_application_credentials=None, finops_gcp_billing_export=None,
                    finops_sync_guild_id=GUILD, finops_sync_interval_hours=24)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield


async def test_the_command_is_an_admin_command_with_provider_choices(ai_bot) -> None:
    command = ai_bot.tree.get_command("cloud-finops-sync")
    [provider] = command.parameters
    assert provider.name == "provider" and [c.value for c in provider.choices] == ["aws", "azure", "gcp"]
    payload = command.to_dict(ai_bot.tree)
    assert payload["default_member_permissions"] == discord.Permissions(manage_guild=True).value
    asking = make_interaction(ai_bot, make_member(USER))
    await invoke(ai_bot, "cloud-finops-sync", asking, provider="aws")
    assert "CloudAdmin" in asking.response.text + asking.followup.text
    assert await ai_bot.engine.db.fetchall("SELECT id FROM finops_ingest_runs") == []


async def test_missing_credentials_are_one_line_before_anything_runs(ai_bot) -> None:
    asking = make_interaction(ai_bot, make_member(ADMIN))
    await invoke(ai_bot, "cloud-finops-sync", asking, provider="azure")
    [(name, sent)] = asking.response.calls
    assert name == "send_message" and sent["ephemeral"]  # answered at once: never deferred
    line, request = sent["content"].replace("\\_", "_").split("\n")  # the message, then its request id
    assert line == ("The Azure connector needs AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, "
                    "AZURE_SUBSCRIPTION_ID; set them in the environment or .env.") and request.startswith("-# request")
    gcp = make_interaction(ai_bot, make_member(ADMIN))
    await invoke(ai_bot, "cloud-finops-sync", gcp, provider="gcp")
    assert "GCP_PROJECT_ID, GOOGLE_APPLICATION_CREDENTIALS, FINOPS_GCP_BILLING_EXPORT" in gcp.response.text.replace(
        "\\_", "_")


async def test_an_aws_sync_now_imports_once_and_health_shows_it(ai_bot, aws: None) -> None:
    page = {"ResultsByTime": [day("2026-11-01", "2026-11-02", group("Amazon Elastic Compute Cloud - Compute",
                                                                     "us-east-1", "10.5", "9.25"))],
            "DimensionValueAttributes": []}
    queue_cost_explorer_results([page, page])
    before = await health.collect(ai_bot, GUILD)
    assert before["FinOps_sync"].startswith("every 24 h into this server (SLO: lag within 24 h) · aws: never synced; "
                                            "SLO BREACHED")
    for added, unchanged in ((1, 0), (0, 1)):
        asking = make_interaction(ai_bot, make_member(ADMIN))
        await invoke(ai_bot, "cloud-finops-sync", asking, provider="aws")
        assert asking.response.calls[0] == ("defer", {"ephemeral": True, "thinking": True})
        [sent] = asking.followup.sent
        assert sent["ephemeral"] and sent["content"].startswith("**aws** synced into this server:")
        assert f"costs: **1** read, **{added}** added, **0** restated, **{unchanged}** unchanged" in sent["content"]
    after = await health.collect(ai_bot, GUILD)
    assert "aws: last success 0 min ago" in after["FinOps_sync"] and "BREACHED" not in after["FinOps_sync"]
    runs = await ai_bot.engine.db.fetchall("SELECT guild_id, source_kind, status FROM finops_ingest_runs")
    assert runs == [{"guild_id": GUILD, "source_kind": "aws_api", "status": "ok"}] * 2


async def test_the_bot_starts_one_finops_sync_loop_that_runs_due_providers(ai_bot, aws: None,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import bot.bot as bot_module

    loops: dict[str, tuple[float, object]] = {}

    def fake_periodic(interval_s: float, job: object, *, name: str) -> object:
        loops[name] = (interval_s, job)
        return asyncio.sleep(0)

    monkeypatch.setattr(bot_module, "periodic", fake_periodic)
    ai_bot.start_background()
    interval, job = loops["finops sync"]
    assert interval == 900  # looks every 15 minutes; each provider runs once per FINOPS_SYNC_INTERVAL_HOURS
    queue_cost_explorer_results([{"ResultsByTime": [day("2026-11-01", "2026-11-02", group(
        "Amazon Simple Storage Service", "us-east-1", "1.5", "1.5"))], "DimensionValueAttributes": []}])
    assert await job() == ["aws ok"]  # type: ignore[operator]
    assert await job() == []  # type: ignore[operator]  # not due again within the interval

    loops.clear()
    ai_bot.settings = ai_bot.settings.model_copy(update={"finops_sync_interval_hours": 0})
    ai_bot.start_background()
    assert "finops sync" not in loops and "notifications" in loops
