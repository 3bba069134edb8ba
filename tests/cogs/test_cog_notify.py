"""/cloud-notify through the real cogs: an admin subscribes a channel, the bot's delivery round posts there."""

from __future__ import annotations

from cloud_engine.core import ResourceSpec
from tests.conftest import ADMIN, GUILD, USER
from tests.fakes.commands import invoke as invoke_command
from tests.fakes.discord import FakeChannel, make_interaction, make_member


async def invoke(bot, sub: str, interaction, **kwargs) -> None:
    await invoke_command(bot, f"cloud-notify {sub}", interaction, **kwargs)


async def test_a_subscribed_channel_hears_a_plan_from_the_delivery_round(bot, engine, channels) -> None:
    alerts = FakeChannel(name="cloud-alerts", registry=channels)
    asking = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "channel", asking, channel=alerts, events="plan_ready, apply_failed")
    assert asking.response.text.startswith(f"Subscribed `#1` <#{alerts.id}>: plan_ready, apply_failed, every project")

    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="api-1", machine_type="e2-small"))
    await engine.plan(session.id, ADMIN)
    report = await bot.deliver_notifications()
    assert report.delivered == 1
    [posted] = alerts.sent
    assert posted.content == f"🔔 Plan ready for deployment #{session.id} in project web."
    assert not await bot.deliver_notifications()


async def test_members_below_cloud_admin_are_refused(bot) -> None:
    asking = make_interaction(bot, make_member(USER))
    await invoke(bot, "channel", asking, channel=FakeChannel(), events="all")
    assert "CloudAdmin" in (asking.response.text + asking.followup.text)
    listing = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "list", listing)
    assert listing.response.text.startswith("No subscriptions")


async def test_a_webhook_into_the_bots_own_network_is_refused_in_one_line(bot) -> None:
    asking = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "webhook", asking, url="https://169.254.169.254/latest", events="all", format="json", project=None)
    [sent] = asking.followup.sent
    assert sent["ephemeral"] and "169.254.169.254, a private, loopback or link-local address" in sent["content"]
    assert "Traceback" not in sent["content"]


async def test_an_unknown_event_names_the_choices(bot) -> None:
    asking = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "channel", asking, channel=FakeChannel(), events="deployed")
    text = asking.response.text + asking.followup.text
    assert text.startswith("Invalid **events**: unknown event 'deployed'; choose all or a comma list of plan\\_ready")


async def test_cloud_health_counts_undelivered_notifications(bot, engine, channels, db) -> None:
    from bot import health

    broken = FakeChannel(name="gone", registry=channels)
    broken.fail_with = RuntimeError("Missing Access")
    asking = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "channel", asking, channel=broken, events="plan_ready")
    assert (await health.collect(bot, GUILD))["notifications"] == "all delivered"

    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="api-1", machine_type="e2-small"))
    await engine.plan(session.id, ADMIN)
    assert (await bot.deliver_notifications()).failed == 1
    await db.execute("UPDATE notify_outbox SET attempts = ?, next_attempt_at = ''", (bot.settings.notify_max_attempts - 1,))
    assert (await bot.deliver_notifications()).dead == 1
    assert (await health.collect(bot, GUILD))["notifications"] == "1 undelivered after every retry (/cloud-notify list)"
    listing = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "list", listing)
    assert "**1 undelivered** after every retry; latest: `#1` plan_ready: RuntimeError: Missing Access" in (
        listing.response.text)


async def test_finops_alerts_go_to_the_one_channel_an_admin_sets_once_each(bot, engine, channels) -> None:
    first, second = FakeChannel(name="costs", registry=channels), FakeChannel(name="finops", registry=channels)
    for channel in (first, second, second):  # moved once, then set again to the same channel
        asking = make_interaction(bot, make_member(ADMIN))
        await invoke_command(bot, "cloud-finops-alerts", asking, channel=channel)
        assert asking.response.text.startswith(f"FinOps alerts (budget thresholds, cost anomalies, failed syncs) "
                                               f"are posted in <#{channel.id}>")
    [sub] = await (await bot.services.notifications()).subscriptions(GUILD)
    assert sub.target == str(second.id)

    project = await engine.create_project(GUILD, ADMIN, name="lean", provider="gcp", region="us-central1",
                                          budget_monthly=20, alert_thresholds=(50,))
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="app-1", machine_type="e2-small"))
    assert (await engine.validate(session.id, ADMIN)).ok  # within budget, past half of it
    await bot.deliver_notifications()
    assert first.sent == [] and len(second.sent) == 1
    assert second.sent[0].content.startswith("🔔 Budget alert: project lean is projected at $")

    refused = make_interaction(bot, make_member(USER))
    await invoke_command(bot, "cloud-finops-alerts", refused, channel=first)
    assert "CloudAdmin" in refused.response.text + refused.followup.text
