"""The notification outbox in SQLite: fan-out from the audit log, due rows, delivery outcomes.

Fan-out reads audit rows past `notify_cursor`, builds one notice per event they raise and
queues it for every subscription of that server that wants it (its project, its events,
created before the row), then moves the cursor: all in one transaction, so a crash repeats
the fan-out instead of losing it, and UNIQUE(subscription, audit row, event) keeps a repeat
from sending twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from cloud_engine.core.approvals import ApprovalRule, session_rules
from cloud_engine.core.models import Role
from cloud_engine.notify.events import AUDIT_EVENTS, NotifyEvent
from cloud_engine.store.database import Database, row_of, rows_of
from cloud_engine.store.rows import dumps, iso, loads

FAN_OUT_BATCH = 500


async def fan_out(conn: aiosqlite.Connection, now: datetime) -> int:
    """Queue the notices of audit rows not yet fanned out; returns how many outbox rows were added."""
    cursor = await row_of(conn, "SELECT last_audit_id FROM notify_cursor WHERE id = 1")
    last = int(cursor["last_audit_id"]) if cursor else 0
    rows = await rows_of(conn, "SELECT id, ts, guild_id, actor_id, action, target_type, target_id, detail"
                               " FROM audit_log WHERE id > ? AND action IN (SELECT value FROM json_each(?))"
                               " ORDER BY id LIMIT ?", (last, dumps(list(AUDIT_EVENTS)), FAN_OUT_BATCH))
    top = int((await row_of(conn, "SELECT COALESCE(MAX(id), 0) AS top FROM audit_log") or {"top": 0})["top"])
    added = 0
    for row in rows:
        subscriptions = await rows_of(conn, "SELECT id, project_id, events FROM notify_subscriptions"
                                            " WHERE guild_id = ? AND after_audit_id < ?", (row["guild_id"], row["id"]))
        if not subscriptions:
            continue  # nobody in that server listens: no need to read the session behind the row
        notice_base = await _notice(conn, row)
        if notice_base is None:
            continue
        for event in AUDIT_EVENTS[row["action"]]:
            notice = {**notice_base, "event": event.value, "id": f"{row['id']}-{event.value}",
                      "text": _text(event, notice_base)}
            for sub in subscriptions:
                if event.value not in loads(sub["events"], []):
                    continue
                if sub["project_id"] is not None and sub["project_id"] != notice["project_id"]:
                    continue
                async with conn.execute(
                    "INSERT OR IGNORE INTO notify_outbox (subscription_id, audit_id, event, payload, next_attempt_at)"
                    " VALUES (?, ?, ?, ?, ?)", (sub["id"], row["id"], event.value, dumps(notice), iso(now))) as ins:
                    added += ins.rowcount
    # A full batch may leave matching rows behind it; otherwise everything up to now has been seen.
    new_last = rows[-1]["id"] if len(rows) == FAN_OUT_BATCH else max(top, last)
    await conn.execute("UPDATE notify_cursor SET last_audit_id = ? WHERE id = 1", (new_last,))
    return added


async def behind(db: Database) -> bool:
    """Whether the audit log has rows past the cursor (read outside any transaction)."""
    row = await db.fetchone("SELECT (SELECT COALESCE(MAX(id), 0) FROM audit_log) >"
                            " (SELECT last_audit_id FROM notify_cursor WHERE id = 1) AS behind")
    return bool(row and row["behind"])


async def _notice(conn: aiosqlite.Connection, row: dict[str, Any]) -> dict[str, Any] | None:
    """What a subscriber needs to know of one audit row: server, project, session and its outcome."""
    detail = loads(row["detail"], {}) or {}
    base: dict[str, Any] = {"guild_id": row["guild_id"], "at": row["ts"], "actor_id": row["actor_id"],
                            "audit_id": row["id"], "session_id": None, "project_id": None, "project": None}
    if row["target_type"] == "session" and row["target_id"] is not None:
        found = await row_of(conn, "SELECT s.id, s.user_id, s.error, s.needs_approval, s.approval_rules,"
                                   " p.id AS project_id, p.name,"
                                   " p.approver_must_differ FROM deployment_sessions s"
                                   " JOIN projects p ON p.id = s.project_id WHERE s.id = ?", (int(row["target_id"]),))
        if found is None:
            return None
        rules = session_rules(found["approval_rules"], needs_approval=bool(found["needs_approval"]),
                              project_must_differ=bool(found["approver_must_differ"]))
        base.update(session_id=found["id"], project_id=found["project_id"], project=found["name"],
                    author_id=found["user_id"], error=found["error"], reason=detail.get("reason"),
                    approvers=[_who(rule) for rule in rules])
    elif row["target_type"] == "project" and row["target_id"] is not None:
        found = await row_of(conn, "SELECT id, name, budget_monthly FROM projects WHERE id = ?",
                             (int(row["target_id"]),))
        if found is None:
            return None
        base.update(project_id=found["id"], project=found["name"], budget_monthly=found["budget_monthly"],
                    threshold_pct=detail.get("threshold_pct"), projected_monthly=detail.get("projected_monthly"),
                    drift_report_id=detail.get("report_id"), drift_summary=detail.get("summary"),
                    drifted=detail.get("resources"))
    elif row["target_type"] in ("finops_source", "finops_anomaly"):  # server-wide: no project
        base.update(finops=detail)
    return base


def _text(event: NotifyEvent, n: dict[str, Any]) -> str:
    """One plain line per event, the same for every channel and webhook."""
    where = f"deployment #{n['session_id']} in project {n['project']}"
    if event is NotifyEvent.PLAN_READY:
        return f"Plan ready for {where}."
    if event is NotifyEvent.APPROVAL_NEEDED:
        return f"Approval needed for {where}: {'; and '.join(n.get('approvers') or ['an approver'])}."
    if event is NotifyEvent.APPROVED:
        return f"Approved: {where}."
    if event is NotifyEvent.REJECTED:
        return f"Rejected: {where}" + (f" ({n['reason']})." if n.get("reason") else ".")
    if event is NotifyEvent.APPLY_SUCCEEDED:
        return f"Applied: {where}."
    if event is NotifyEvent.APPLY_FAILED:
        return f"Apply failed: {where}" + (f": {str(n['error'])[:300]}" if n.get("error") else ".")
    if event is NotifyEvent.DRIFT_FOUND:
        return (f"Drift in project {n['project']}: {n.get('drifted')} resource(s) no longer match what was applied "
                f"({n.get('drift_summary')}). Reconcile or dismiss drift report #{n.get('drift_report_id')}.")
    if event is NotifyEvent.FINOPS_SYNC_FAILED:
        f = n.get("finops") or {}
        return f"FinOps sync failed: {f.get('provider')}: {str(f.get('error'))[:300]} (/cloud-finops-sync to retry)."
    if event is NotifyEvent.ANOMALY_FOUND:
        f = n.get("finops") or {}
        return (f"Cost anomaly in {f.get('provider')} {f.get('service')}: " + (f"{f['reason']}." if f.get("reason") else
                f"{float(f.get('amount') or 0):,.2f} {f.get('currency') or ''} on {f.get('day')}, usually "
                f"{float(f.get('expected') or 0):,.2f}."))
    return (f"Budget alert: project {n['project']} is projected at ${float(n.get('projected_monthly') or 0):,.2f}/month,"
            f" {n.get('threshold_pct')}% of its ${float(n.get('budget_monthly') or 0):,.2f} budget.")


def _who(rule: ApprovalRule) -> str:
    """Who may approve under one rule: `a CloudUser or above may approve`, or how many must."""
    other = (f" with the Discord role <@&{rule.discord_role}>" if rule.discord_role else "") \
        + (" other than the author" if rule.must_differ else "")
    if rule.approvals == 1:
        return f"a {Role(rule.role).value} or above{other} may approve"
    return f"{rule.approvals} different approvers with {Role(rule.role).value} or above{other} must approve"


async def due(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Outbox rows whose next attempt is due, oldest first, with their subscription."""
    return await rows_of(
        conn, "SELECT o.id, o.event, o.payload, o.attempts, s.id AS subscription_id, s.guild_id, s.kind, s.target,"
              " s.format, s.secret FROM notify_outbox o JOIN notify_subscriptions s ON s.id = o.subscription_id"
              " WHERE o.delivered_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= ? ORDER BY o.id LIMIT ?",
        (iso(now), limit))


async def mark_delivered(conn: aiosqlite.Connection, outbox_id: int, now: datetime) -> None:
    await conn.execute("UPDATE notify_outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL"
                       " WHERE id = ?", (iso(now), outbox_id))


async def mark_failed(conn: aiosqlite.Connection, outbox_id: int, attempts: int, error: str, now: datetime, *,
                      max_attempts: int, backoff_s: float) -> bool:
    """Record a failed attempt; the next waits backoff_s·2^(n-1). Returns True when the row became a dead letter."""
    tried = attempts + 1
    if tried >= max_attempts:
        await conn.execute("UPDATE notify_outbox SET attempts = ?, last_error = ?, dead_at = ? WHERE id = ?",
                           (tried, error[:500], iso(now), outbox_id))
        return True
    wait = timedelta(seconds=backoff_s * 2 ** (tried - 1))
    await conn.execute("UPDATE notify_outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                       (tried, error[:500], iso(now + wait), outbox_id))
    return False
