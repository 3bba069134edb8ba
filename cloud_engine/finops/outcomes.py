"""Closing the loop: what a recommendation acted on through the lobby really saved, from the bill.

None of the tools the recommenders are anchored on (Compute Optimizer, Azure Advisor, Trusted
Advisor) says afterwards whether a change paid off. Here, "Act" records the recommendation,
its promised saving and the deployment that carries it out (`record_action`, audited as
`finops.act`); once that deployment is applied, the imports on both sides of the apply day
say what changed.

Measurement rule (documented because a saving is a claim people repeat):
- The resource's effective cost (amortised, the convention the recommenders price with) is
  summed per day from the server's ledger, matching the recommendation's ResourceId.
- The apply day itself is left out (it is billed partly before and partly after).
- *Before* averages up to `BEFORE_DAYS` billed days before the apply day; *after* averages
  up to `AFTER_DAYS` billed days after it. A "billed day" is a day the server's ledger holds
  any charge from that provider, so a removed resource counts as 0 on the days after, while
  days no import covers count as nothing at all (never as a free day).
- The realised saving is (before − after) × 730 / 24 per month, in the bill's currency, and
  is shown only with at least `MIN_DAYS` billed days on each side; until then the outcome says
  how many days it has and waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from cloud_engine.core.models import State
from cloud_engine.finops.models import ActionOutcome, OutcomeStatus, Recommendation
from cloud_engine.store import Database
from cloud_engine.store.audit import write_audit
from cloud_engine.store.rows import iso, parse_dt

__all__ = ["AFTER_DAYS", "BEFORE_DAYS", "MIN_DAYS", "ActionsRepository", "Measured", "measure", "outcome_of"]

BEFORE_DAYS = 14
AFTER_DAYS = 30
MIN_DAYS = 3
DAYS_PER_MONTH = 730 / 24
_ENDED = frozenset({State.FAILED, State.CANCELLED, State.EXPIRED})  # ended without an apply

_ACTIONS_SQL = (
    "SELECT a.*, s.state AS session_state,"
    " (SELECT MIN(l.ts) FROM audit_log l WHERE l.target_type = 'session' AND l.target_id = CAST(a.session_id AS TEXT)"
    "  AND l.action = 'session.apply_succeeded') AS applied_at"
    " FROM finops_actions a JOIN deployment_sessions s ON s.id = a.session_id"
    " WHERE a.guild_id = ? ORDER BY a.acted_at DESC, a.id DESC LIMIT ?")


class ActionsRepository:
    """The `finops_actions` rows (SQLite): one per deployment opened by "Act"."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, guild_id: int, rec: Recommendation, session_id: int, user_id: int, now: datetime) -> None:
        """Keep what was promised and which deployment carries it out, with its audit row, in one transaction."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO finops_actions (guild_id, recommendation_id, kind, provider, resource_id, resource_name,"
                " action, promised_monthly, currency, session_id, acted_by, acted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (guild_id, rec.id, rec.kind, rec.provider, rec.resource_id, rec.resource_name, rec.action,
                 rec.monthly_savings, rec.currency, session_id, user_id, iso(now)))
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=user_id, action="finops.act",
                              target_type="session", target_id=session_id,
                              detail={"recommendation_id": rec.id, "kind": rec.kind, "resource": rec.resource_name,
                                      "promised_monthly": rec.monthly_savings, "currency": rec.currency})

    async def actions(self, guild_id: int, limit: int = 25) -> list[dict[str, Any]]:
        """The server's actions, newest first, with their session's state and when it was applied (or None)."""
        return await self.db.fetchall(_ACTIONS_SQL, (guild_id, limit))


@dataclass(frozen=True)
class Measured:
    """The resource's cost per billed day on each side of the apply day."""

    days_before: int
    daily_before: float | None
    days_after: int
    daily_after: float | None


def measure(conn: duckdb.DuckDBPyConnection, guild_id: int, provider: str, resource_id: str,
            applied: date) -> Measured:
    """The module's rule, in the ledger's thread: billed days of the provider, and the resource's cost on them."""
    rows = conn.execute(
        """
        WITH days AS (
            SELECT DISTINCT CAST(charge_period_start AS DATE) AS day FROM cost_lines
            WHERE guild_id = ? AND provider = ? AND CAST(charge_period_start AS DATE) <> ?
              AND CAST(charge_period_start AS DATE) BETWEEN ? AND ?
        ), spend AS (
            SELECT CAST(charge_period_start AS DATE) AS day, sum(effective_cost) AS cost FROM cost_lines
            WHERE guild_id = ? AND provider = ? AND resource_id = ? GROUP BY 1
        ), ranked AS (
            SELECT d.day, coalesce(s.cost, 0) AS cost, d.day > ? AS after,
                   row_number() OVER (PARTITION BY d.day > ? ORDER BY abs(d.day - ?::DATE)) AS nearness
            FROM days d LEFT JOIN spend s USING (day)
        )
        SELECT after, count(*), avg(cost) FROM ranked
        WHERE nearness <= CASE WHEN after THEN ? ELSE ? END GROUP BY after
        """,
        [guild_id, provider, applied, applied - timedelta(days=BEFORE_DAYS * 4), applied + timedelta(days=AFTER_DAYS * 4),
         guild_id, provider, resource_id, applied, applied, applied, AFTER_DAYS, BEFORE_DAYS]).fetchall()
    sides = {bool(after): (int(n), round(float(avg), 4)) for after, n, avg in rows}
    before, after = sides.get(False, (0, None)), sides.get(True, (0, None))
    return Measured(before[0], before[1], after[0], after[1])


def _money(value: float, currency: str | None) -> str:
    return f"{value:,.2f} {currency or 'USD'}"


def outcome_of(row: dict[str, Any], measured: Measured | None) -> ActionOutcome:
    """One action row (ActionsRepository.actions) and, once applied, its measurement, as an outcome with its line."""
    applied_at = parse_dt(row.get("applied_at"))
    state, currency = str(row["session_state"]), row["currency"]
    promised = float(row["promised_monthly"])
    status: OutcomeStatus
    realised = None
    if applied_at is None:
        status = "not_applied" if state in _ENDED else "open"
        note = (f"deployment #{row['session_id']} ended {state.lower()} without an apply: nothing changed"
                if status == "not_applied" else
                f"deployment #{row['session_id']} is {state}; the saving is measured after it is applied")
    elif measured is None or measured.days_before < MIN_DAYS or measured.days_after < MIN_DAYS:
        status = "waiting_for_bills"
        have = (measured.days_before, measured.days_after) if measured else (0, 0)
        note = (f"applied {applied_at:%Y-%m-%d}; waiting for bills: {have[0]} billed day(s) before and {have[1]} "
                f"after (at least {MIN_DAYS} each); import the provider's costs again")
    else:
        status = "measured"
        realised = round(((measured.daily_before or 0.0) - (measured.daily_after or 0.0)) * DAYS_PER_MONTH, 2)
        note = (f"realised {_money(realised, currency)}/month of the {_money(promised, currency)} promised: "
                f"{_money(measured.daily_before or 0.0, currency)}/day over {measured.days_before} day(s) before, "
                f"{_money(measured.daily_after or 0.0, currency)}/day over {measured.days_after} after "
                f"{applied_at:%Y-%m-%d}")
    return ActionOutcome(
        recommendation_id=row["recommendation_id"], kind=row["kind"], action=row["action"],
        resource_id=row["resource_id"], resource_name=row["resource_name"], provider=row["provider"],
        session_id=int(row["session_id"]), session_state=state, acted_by=int(row["acted_by"]),
        acted_at=parse_dt(row["acted_at"]) or datetime.min, promised_monthly=promised, currency=currency,
        status=status, applied_at=applied_at, realised_monthly=realised,
        days_before=measured.days_before if measured else 0, days_after=measured.days_after if measured else 0,
        daily_before=measured.daily_before if measured else None, daily_after=measured.daily_after if measured else None,
        note=note)
