"""Notifications: a server's events reach subscribed channels and signed webhooks, once each.

Webhooks are delivered over real HTTP to a loopback receiver (WEBHOOK_ALLOW_PRIVATE on, as
a lab would set it); plans and applies run the real Terraform binary on the sandbox target.
"""

from __future__ import annotations

import json

import pytest

from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.errors import InvalidInput, PermissionDenied
from cloud_engine.notify import SIGNATURE_HEADER, NotificationService, NotifyEvent, parse_events, verify
from cloud_engine.notify.slack import slack_message
from cloud_engine.notify.urls import check_webhook_url
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cloud_engine.notify.conftest import Receiver
from tests.conftest import ADMIN, GUILD, USER, FakeClock

EVERY = tuple(NotifyEvent)


async def _planned(engine: CloudOrchestrator, project_name: str = "web") -> int:
    project = await engine.create_project(GUILD, ADMIN, name=project_name, provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="api-1", machine_type="e2-small"))
    await engine.plan(session.id, ADMIN)
    return session.id


async def test_a_plan_reaches_a_webhook_signed_and_only_once(engine: CloudOrchestrator, notes: NotificationService,
                                                             receiver: Receiver) -> None:
    sub, secret = await notes.subscribe_webhook(GUILD, ADMIN, receiver.url, events=parse_events("plan_ready,approved"))
    assert sub.target == "http://127.0.0.1/…" and secret not in sub.target  # the URL's token is never shown
    session_id = await _planned(engine)
    report = await notes.run_once()
    assert (report.queued, report.delivered) == (1, 1)
    hit = receiver.hits[0]
    assert verify(secret, hit["body"], hit["headers"][SIGNATURE_HEADER])
    assert not verify("another-secret", hit["body"], hit["headers"][SIGNATURE_HEADER])
    notice = json.loads(hit["body"])
    assert notice["event"] == "plan_ready" and notice["session_id"] == session_id and notice["project"] == "web"
    assert notice["text"] == f"Plan ready for deployment #{session_id} in project web."

    assert not await notes.run_once()  # nothing new: nothing sent again
    await engine.approve(session_id, ADMIN)
    await notes.run_once()
    assert [json.loads(h["body"])["event"] for h in receiver.hits] == ["plan_ready", "approved"]


async def test_a_channel_hears_who_may_approve_and_how_the_apply_ended(engine: CloudOrchestrator,
                                                                       notes: NotificationService) -> None:
    posted: list[tuple[int, str]] = []

    async def send(channel_id: int, text: str, notice: object = None) -> None:
        posted.append((channel_id, text))

    await notes.subscribe_channel(GUILD, ADMIN, 555, events=EVERY)
    session_id = await _planned(engine)
    await engine.approve(session_id, ADMIN)
    await engine.apply(session_id, ADMIN)
    await notes.run_once(send)
    texts = [text for channel, text in posted if channel == 555]
    assert texts == [f"🔔 Plan ready for deployment #{session_id} in project web.",
                     f"🔔 Approval needed for deployment #{session_id} in project web: a CloudUser or above may approve.",
                     f"🔔 Approved: deployment #{session_id} in project web.",
                     f"🔔 Applied: deployment #{session_id} in project web."]


async def test_a_failing_receiver_is_retried_then_delivered_once(engine: CloudOrchestrator,
                                                                 notes: NotificationService,
                                                                 receiver: Receiver) -> None:
    receiver.fail_first = 2
    await notes.subscribe_webhook(GUILD, ADMIN, receiver.url, events=(NotifyEvent.PLAN_READY,), fmt="slack")
    await _planned(engine)
    outcomes = [await notes.run_once() for _ in range(4)]
    assert [(o.delivered, o.failed) for o in outcomes] == [(0, 1), (0, 1), (1, 0), (0, 0)]
    assert len(receiver.hits) == 3 and json.loads(receiver.hits[-1]["body"])["text"].startswith("Plan ready")
    assert await notes.dead_letters(GUILD) == []


async def test_after_the_last_attempt_a_delivery_is_a_dead_letter(engine: CloudOrchestrator, db: Database,
                                                                  settings: Settings, clock: FakeClock,
                                                                  receiver: Receiver) -> None:
    receiver.fail_first = 100
    lab = settings.model_copy(update={"webhook_allow_private": True, "notify_backoff_s": 0, "notify_max_attempts": 2})
    notes = NotificationService(db, lab, engine.access, clock)
    try:
        await notes.subscribe_webhook(GUILD, ADMIN, receiver.url, events=(NotifyEvent.PLAN_READY,))
        await _planned(engine)
        first, second, third = [await notes.run_once() for _ in range(3)]
        assert (first.failed, second.dead, third.failed) == (1, 1, 0)
        [dead] = await notes.dead_letters(GUILD)
        assert dead.event == "plan_ready" and dead.attempts == 2 and dead.last_error == "HTTP 503"
        assert len(receiver.hits) == 2
    finally:
        await notes.close()


async def test_a_backoff_waits_before_the_next_attempt(engine: CloudOrchestrator, db: Database, settings: Settings,
                                                       clock: FakeClock, receiver: Receiver) -> None:
    receiver.fail_first = 1
    lab = settings.model_copy(update={"webhook_allow_private": True, "notify_backoff_s": 60})
    notes = NotificationService(db, lab, engine.access, clock)
    try:
        await notes.subscribe_webhook(GUILD, ADMIN, receiver.url, events=(NotifyEvent.PLAN_READY,))
        await _planned(engine)
        assert (await notes.run_once()).failed == 1
        assert not await notes.run_once()  # not due yet
        clock.advance(seconds=61)
        assert (await notes.run_once()).delivered == 1
    finally:
        await notes.close()


async def test_queued_events_survive_a_restart(engine: CloudOrchestrator, db: Database, settings: Settings,
                                               clock: FakeClock, receiver: Receiver) -> None:
    lab = settings.model_copy(update={"webhook_allow_private": True})
    before = NotificationService(db, lab, engine.access, clock)
    await before.subscribe_webhook(GUILD, ADMIN, receiver.url, events=(NotifyEvent.PLAN_READY,))
    await _planned(engine)
    await before.close()  # the bot stops before any delivery round
    after = NotificationService(db, lab, engine.access, clock)
    try:
        assert (await after.run_once()).delivered == 1
    finally:
        await after.close()
    assert len(receiver.hits) == 1


async def test_only_the_subscribed_project_and_later_events_are_sent(engine: CloudOrchestrator,
                                                                     notes: NotificationService) -> None:
    posted: list[str] = []

    async def send(channel_id: int, text: str, notice: object = None) -> None:
        posted.append(text)

    early = await _planned(engine, "early")  # before any subscription: never sent
    shop = await engine.create_project(GUILD, ADMIN, name="shop", provider="gcp", region="us-central1")
    await notes.subscribe_channel(GUILD, ADMIN, 9, events=(NotifyEvent.PLAN_READY,), project_id=shop.id)
    await _planned(engine, "other")
    session = await engine.start_session(shop.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="cart-1", machine_type="e2-small"))
    await engine.plan(session.id, ADMIN)
    await notes.run_once(send)
    assert posted == [f"🔔 Plan ready for deployment #{session.id} in project shop."]
    assert all(f"#{early} " not in text for text in posted)


async def test_a_budget_threshold_is_announced(engine: CloudOrchestrator, notes: NotificationService) -> None:
    posted: list[str] = []

    async def send(channel_id: int, text: str, notice: object = None) -> None:
        posted.append(text)

    await notes.subscribe_channel(GUILD, ADMIN, 9, events=(NotifyEvent.BUDGET_THRESHOLD,))
    project = await engine.create_project(GUILD, ADMIN, name="lean", provider="gcp", region="us-central1",
                                          budget_monthly=20, alert_thresholds=(50,))
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="app-1", machine_type="e2-small"))
    assert (await engine.validate(session.id, ADMIN)).ok  # within budget, past half of it
    await notes.run_once(send)
    assert len(posted) == 1 and posted[0].startswith("🔔 Budget alert: project lean is projected at $")
    assert "50% of its $20.00 budget" in posted[0]


async def test_subscribing_is_for_cloud_admins_and_audited(engine: CloudOrchestrator, notes: NotificationService,
                                                           receiver: Receiver) -> None:
    with pytest.raises(PermissionDenied):
        await notes.subscribe_channel(GUILD, USER, 9, events=EVERY)
    sub = await notes.subscribe_channel(GUILD, ADMIN, 9, events=EVERY)
    assert [s.id for s in await notes.subscriptions(GUILD)] == [sub.id]
    with pytest.raises(PermissionDenied):
        await notes.unsubscribe(GUILD, USER, sub.id)
    assert await notes.unsubscribe(GUILD, ADMIN, sub.id) and await notes.subscriptions(GUILD) == []
    actions = [r["action"] for r in await engine.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-2:] == ["notify.subscribe", "notify.unsubscribe"]


def test_events_are_named_from_the_list() -> None:
    assert parse_events(None) == EVERY and parse_events("all") == EVERY
    assert parse_events("Apply-Failed, plan_ready") == (NotifyEvent.PLAN_READY, NotifyEvent.APPLY_FAILED)
    with pytest.raises(InvalidInput, match="unknown event 'deploy'; choose all or a comma list of plan_ready"):
        parse_events("deploy")


@pytest.mark.parametrize(("url", "rule"), [
    ("http://hooks.example.com/x", "must use https"),
    ("ftp://hooks.example.com/x", "must be an https:// URL"),
    ("https://127.0.0.1/x", "127.0.0.1, a private, loopback or link-local address"),
    ("https://localhost:8443/x", "a private, loopback or link-local address"),
    ("https://10.1.2.3/x", "private"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ("https://[::1]/x", "::1"),
    ("https://[::ffff:127.0.0.1]/x", "private, loopback"),
    ("https://bob:pw@hooks.example.com/x", "user name or password"),
    ("https://hooks.example.com:99999/x", "not a valid URL"),
])
async def test_webhooks_may_not_point_into_our_own_network(url: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule.replace(".", r"\.").replace("[", r"\[")):
        await check_webhook_url(url, allow_private=False)


async def test_a_lab_may_allow_a_loopback_receiver() -> None:
    assert await check_webhook_url("http://127.0.0.1:8080/x", allow_private=True) == "http://127.0.0.1:8080/x"


async def test_approval_needed_names_how_many_must_approve(engine: CloudOrchestrator,
                                                           notes: NotificationService) -> None:
    from cloud_engine.core.policies import PolicySpec

    posted: list[str] = []

    async def send(channel_id: int, text: str, notice: object = None) -> None:
        posted.append(text)

    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="two-admins", type="cost", action="require_approval",
                                                     pattern="*", params={"max_monthly_usd": 1, "approvals": 2}))
    await notes.subscribe_channel(GUILD, ADMIN, 9, events=(NotifyEvent.APPROVAL_NEEDED,))
    session_id = await _planned(engine)
    await notes.run_once(send)
    assert posted == [f"🔔 Approval needed for deployment #{session_id} in project web: 2 different approvers with "
                      "CloudAdmin or above other than the author must approve."]


async def test_a_slack_message_is_block_kit_with_user_text_that_never_pings(engine: CloudOrchestrator,
                                                                           notes: NotificationService,
                                                                           receiver: Receiver) -> None:
    await notes.subscribe_webhook(GUILD, ADMIN, receiver.url, events=(NotifyEvent.REJECTED,), fmt="slack")
    session_id = await _planned(engine)
    await engine.reject(session_id, ADMIN, "<!channel> wrong region & size")
    await notes.run_once()
    body = receiver.hits[0]["body"].decode()
    message = json.loads(body)
    header, section, context = message["blocks"]
    assert header["text"] == {"type": "plain_text", "text": "Rejected: web", "emoji": False}
    assert section["text"] == {"type": "mrkdwn", "text": f"Rejected: deployment #{session_id} in project web "
                                                         "(&lt;!channel&gt; wrong region &amp; size)."}
    assert "<!channel>" not in body  # Slack would ping everyone in the channel
    assert message["text"] == section["text"]["text"]  # the fallback phones show
    assert context["elements"][0]["text"].startswith(f"*rejected* · deployment #{session_id} · 20")


def test_a_long_slack_message_stays_within_slacks_limits_and_never_cuts_an_entity() -> None:
    notice = {"event": "apply_failed", "project": "p" * 200, "session_id": 7, "at": "2026-01-01T00:00:00",
              "text": "x" * 2996 + "<<<<"}
    message = slack_message(notice)
    header, section, _ = message["blocks"]
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")
    text = section["text"]["text"]
    assert len(text) <= 3000 and text == "x" * 2996 + "…"  # not "&lt" half an entity
    assert len(message["blocks"]) <= 50
