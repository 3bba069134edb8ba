"""NotificationService: who listens to a server's events, and delivering what they asked for.

Subscriptions are CloudAdmin actions, audited. Delivery (`run_once`, called by the bot's
background loop) fans new audit rows out into the outbox, then sends what is due: a Discord
channel through the `ChannelSender` the bot supplies, a webhook by HTTPS POST signed with its
secret. A failure waits longer each time (NOTIFY_BACKOFF_S doubling) and, after
NOTIFY_MAX_ATTEMPTS, stays as a dead letter that `/cloud-health` counts. Nothing here runs
inside the deployment workflow: a slow receiver never delays a plan or an apply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx

from cloud_engine.core.access import AccessService
from cloud_engine.errors import InvalidInput
from cloud_engine.notify import outbox
from cloud_engine.notify.events import NotifyEvent
from cloud_engine.notify.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, new_secret, sign
from cloud_engine.notify.slack import slack_message
from cloud_engine.notify.urls import check_webhook_url
from cloud_engine.secret_text import mask_secrets
from cloud_engine.settings import Settings
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database, row_of
from cloud_engine.store.rows import dumps, iso, loads

log = logging.getLogger(__name__)

Format = Literal["json", "slack", "discord"]
MAX_SUBSCRIPTIONS = 25  # per server: every event is sent to each
DELIVERIES_PER_RUN = 50
_EVENT_NAMES = frozenset(e.value for e in NotifyEvent)
# What `/cloud-finops-alerts` posts: the FinOps side of the events (issue: budget 50/80/100 %, anomalies, failed syncs).
FINOPS_ALERTS = (NotifyEvent.BUDGET_THRESHOLD, NotifyEvent.FINOPS_SYNC_FAILED, NotifyEvent.ANOMALY_FOUND)


class ChannelSender(Protocol):
    """Posts one notice in a Discord channel; `notice` lets the bot add buttons (a drift's Reconcile/Dismiss)."""

    async def __call__(self, channel_id: int, text: str, notice: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class Subscription:
    id: int
    guild_id: int
    kind: Literal["channel", "webhook"]
    target: str  # a channel id, or the webhook URL's scheme and host (the path may hold a token)
    project_id: int | None
    events: tuple[NotifyEvent, ...]
    format: Format
    created_by: int
    created_at: str


@dataclass(frozen=True)
class DeadLetter:
    id: int
    subscription_id: int
    event: str
    attempts: int
    last_error: str | None
    dead_at: str


@dataclass(frozen=True)
class DeliveryReport:
    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def __bool__(self) -> bool:
        return any((self.queued, self.delivered, self.failed, self.dead))


def shown_target(kind: str, target: str) -> str:
    """A webhook as it may be shown: scheme and host only (Slack and Discord URLs carry their token in the path)."""
    if kind != "webhook":
        return target
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname}/…"


def body_for(fmt: str, notice: dict[str, Any]) -> bytes:
    """The request body: the notice as JSON, a Slack Block Kit message, or a Discord webhook message."""
    if fmt == "slack":
        data: dict[str, Any] = slack_message(notice)
    elif fmt == "discord":
        data = {"content": notice["text"][:2000], "allowed_mentions": {"parse": []}}
    else:
        data = notice
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


class NotificationService:
    def __init__(self, db: Database, settings: Settings, access: AccessService, clock: Callable[[], datetime], *,
                 http: httpx.AsyncClient | None = None) -> None:
        self.db = db
        self.settings = settings
        self.access = access
        self.clock = clock
        self._http = http

    # -- subscriptions (CloudAdmin) -------------------------------------------------------
    async def subscribe_channel(self, guild_id: int, by_user_id: int, channel_id: int, *,
                                events: Sequence[NotifyEvent], project_id: int | None = None) -> Subscription:
        return await self._subscribe(guild_id, by_user_id, "channel", str(channel_id), events=events,
                                     project_id=project_id, fmt="discord", secret=None)

    async def subscribe_webhook(self, guild_id: int, by_user_id: int, url: str, *, events: Sequence[NotifyEvent],
                                fmt: Format = "json", project_id: int | None = None) -> tuple[Subscription, str]:
        """The subscription and its signing secret, which is shown this once and never listed."""
        await self.access.require(guild_id, by_user_id, "admin")
        if fmt not in ("json", "slack", "discord"):
            raise InvalidInput(field="format", rule="must be json, slack or discord")
        checked = await check_webhook_url(url, allow_private=self.settings.webhook_allow_private)
        secret = new_secret()
        sub = await self._subscribe(guild_id, by_user_id, "webhook", checked, events=events, project_id=project_id,
                                    fmt=fmt, secret=secret)
        return sub, secret

    async def _subscribe(self, guild_id: int, by_user_id: int, kind: Literal["channel", "webhook"], target: str, *,
                         events: Sequence[NotifyEvent], project_id: int | None, fmt: Format,
                         secret: str | None) -> Subscription:
        await self.access.require(guild_id, by_user_id, "admin")
        if not events:
            raise InvalidInput(field="events", rule="name at least one event")
        now = self.clock()
        async with self.db.transaction() as conn:
            if project_id is not None and await row_of(conn, "SELECT id FROM projects WHERE id = ? AND guild_id = ?",
                                                       (project_id, guild_id)) is None:
                raise InvalidInput(field="project", rule="no such project in this server")
            count = await row_of(conn, "SELECT COUNT(*) AS n FROM notify_subscriptions WHERE guild_id = ?", (guild_id,))
            if count is not None and int(count["n"]) >= MAX_SUBSCRIPTIONS:
                raise InvalidInput(field="subscription", rule=f"a server has at most {MAX_SUBSCRIPTIONS}; remove one first")
            top = await row_of(conn, "SELECT COALESCE(MAX(id), 0) AS top FROM audit_log")
            names = [e.value for e in events]
            async with conn.execute(
                "INSERT INTO notify_subscriptions (guild_id, kind, target, project_id, events, format, secret,"
                " after_audit_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (guild_id, kind, target, project_id, dumps(names), fmt, secret, int((top or {"top": 0})["top"]),
                 by_user_id, iso(now))) as cur:
                sub_id = int(cur.lastrowid or 0)
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="notify.subscribe",
                              target_type="subscription", target_id=sub_id,
                              detail={"kind": kind, "target": shown_target(kind, target), "events": names,
                                      "project_id": project_id, "format": fmt})
        return Subscription(sub_id, guild_id, kind, shown_target(kind, target), project_id, tuple(events), fmt,
                            by_user_id, iso(now))

    async def set_finops_alerts(self, guild_id: int, by_user_id: int, channel_id: int) -> Subscription:
        """Make `channel_id` the server's one FinOps alerts channel (budget thresholds, anomalies, failed syncs).

        Why one: alerts posted in two channels are alerts nobody owns. Setting it again moves
        the alerts (the previous FinOps-alerts subscription is removed, audited); setting the
        same channel twice keeps the one subscription, so each alert is still posted once.
        """
        await self.access.require(guild_id, by_user_id, "admin")
        current = [s for s in await self.subscriptions(guild_id)
                   if s.kind == "channel" and s.project_id is None and set(s.events) == set(FINOPS_ALERTS)]
        for sub in current:
            if sub.target == str(channel_id):
                return sub
        for sub in current:
            await self.unsubscribe(guild_id, by_user_id, sub.id)
        return await self.subscribe_channel(guild_id, by_user_id, channel_id, events=FINOPS_ALERTS)

    async def unsubscribe(self, guild_id: int, by_user_id: int, subscription_id: int) -> bool:
        await self.access.require(guild_id, by_user_id, "admin")
        now = self.clock()
        async with self.db.transaction() as conn:
            async with conn.execute("DELETE FROM notify_subscriptions WHERE id = ? AND guild_id = ?",
                                    (subscription_id, guild_id)) as cur:
                removed = cur.rowcount == 1
            if removed:
                await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="notify.unsubscribe",
                                  target_type="subscription", target_id=subscription_id)
        return removed

    async def subscriptions(self, guild_id: int) -> list[Subscription]:
        rows = await self.db.fetchall("SELECT * FROM notify_subscriptions WHERE guild_id = ? ORDER BY id", (guild_id,))
        return [Subscription(r["id"], r["guild_id"], r["kind"], shown_target(r["kind"], r["target"]), r["project_id"],
                             tuple(NotifyEvent(e) for e in loads(r["events"], []) if e in _EVENT_NAMES),
                             r["format"], r["created_by"], r["created_at"]) for r in rows]

    async def dead_letters(self, guild_id: int, limit: int = 20) -> list[DeadLetter]:
        rows = await self.db.fetchall(
            "SELECT o.id, o.subscription_id, o.event, o.attempts, o.last_error, o.dead_at FROM notify_outbox o"
            " JOIN notify_subscriptions s ON s.id = o.subscription_id WHERE s.guild_id = ? AND o.dead_at IS NOT NULL"
            " ORDER BY o.id DESC LIMIT ?", (guild_id, limit))
        return [DeadLetter(r["id"], r["subscription_id"], r["event"], r["attempts"], r["last_error"], r["dead_at"])
                for r in rows]

    # -- delivery ---------------------------------------------------------------------------
    async def run_once(self, send_to_channel: ChannelSender | None = None) -> DeliveryReport:
        """Fan out new events, then try every due delivery once. Channel rows wait while no sender is given."""
        queued = 0
        if await outbox.behind(self.db):  # every NOTIFY_INTERVAL_S: no write transaction when nothing is new
            async with self.db.transaction() as conn:
                queued = await outbox.fan_out(conn, self.clock())
        due = await outbox.due(self.db.conn, self.clock(), DELIVERIES_PER_RUN)
        delivered = failed = dead = 0
        for row in due:
            if row["kind"] == "channel" and send_to_channel is None:
                continue
            error = await self._deliver(row, send_to_channel)
            async with self.db.transaction() as conn:
                if error is None:
                    await outbox.mark_delivered(conn, row["id"], self.clock())
                    delivered += 1
                    continue
                failed += 1
                if await outbox.mark_failed(conn, row["id"], row["attempts"], error, self.clock(),
                                            max_attempts=self.settings.notify_max_attempts,
                                            backoff_s=self.settings.notify_backoff_s):
                    dead += 1
                    log.warning("notification is a dead letter", extra={"outbox_id": row["id"], "error": error})
        return DeliveryReport(queued, delivered, failed, dead)

    async def _deliver(self, row: dict[str, Any], send_to_channel: ChannelSender | None) -> str | None:
        """None when delivered, else why not (one line, secrets masked)."""
        notice = loads(row["payload"], {})
        try:
            if row["kind"] == "channel":
                if send_to_channel is None:
                    return "no Discord connection to post with"
                await send_to_channel(int(row["target"]), f"🔔 {notice['text']}", notice)
                return None
            url = await check_webhook_url(row["target"], allow_private=self.settings.webhook_allow_private)
            body = body_for(row["format"], notice)
            headers = {"Content-Type": "application/json", "User-Agent": "cloud-engine-notify",
                       EVENT_HEADER: row["event"], DELIVERY_HEADER: str(notice.get("id", row["id"])),
                       SIGNATURE_HEADER: sign(row["secret"] or "", body)}
            response = await self._client().post(url, content=body, headers=headers)
            if response.status_code >= 300:
                return f"HTTP {response.status_code}"
            return None
        except InvalidInput as exc:
            return str(exc)
        except httpx.HTTPError as exc:
            return mask_secrets(f"{type(exc).__name__}: {exc}")[:300] or type(exc).__name__
        except Exception as exc:  # a channel the bot can no longer post to, a Discord outage
            return mask_secrets(f"{type(exc).__name__}: {exc}")[:300]

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # no redirects: a receiver may not bounce our signed request to an address the URL check refused
            self._http = httpx.AsyncClient(timeout=self.settings.webhook_timeout_s, follow_redirects=False)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
